/**
 * Credit, cards and the operator queues.
 *
 * R-CREDIT: a creator's score and its auditable history (cause, delta, reason,
 * actor, task/card/appeal) — visible to the creator itself, its MCN and
 * operators; anyone else gets the 404 a missing creator gets.
 * R-CARDS / R-OBSERVATION-RESTART: operators give red or yellow cards with an
 * observation period (db/cards.ts); the order endpoint warns while it runs
 * (R-OBSERVATION-WARN, api/tasks.ts).
 * Operator queues: scripts and content awaiting review, open complaints, oldest
 * first (db/queues.ts). The appeals queue is served with the appeals.
 */
import { and, eq } from 'drizzle-orm';
import { Router } from 'express';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import { cardsOf, creditHistoryOf, issueCard, type CardView } from '../db/cards.js';
import { mcnOf, observationEndsAt } from '../db/creators.js';
import { creditScoreOf } from '../db/credit.js';
import { complaintQueue, reviewQueue, type QueueCursor } from '../db/tasks.js';
import { accounts, tasks } from '../db/schema/index.js';
import {
  CARD_COLORS,
  INITIAL_CREDIT_POINTS,
  MAX_CARD_POINTS,
  MAX_OBSERVATION_DAYS,
  MAX_REASON_CHARS,
  MIN_OBSERVATION_DAYS,
} from '../domain/index.js';
import { actorOf, type UserActor } from './auth.js';
import { decodeCursor, encodeCursor, isId } from './cursors.js';
import { idempotent, requireIdempotencyKey, type Keyed } from './idempotency.js';
import { json, type Registrar } from './openapiRoute.js';
import { Problem, notFound, orDomainProblem } from './problems.js';
import { CreatorIdParam, TaskIdParam, text } from './schemas.js'; // schemas.ts also enables .openapi() on zod


// ---------------------------------------------------------------- schemas

export const CardBody = z
  .object({
    color: z.enum(CARD_COLORS).openapi({ description: 'R-CARDS: red = direct harm to the client or the platform; yellow = a violation without direct harm' }),
    reason: text(MAX_REASON_CHARS),
    observationDays: z
      .number()
      .int()
      .min(MIN_OBSERVATION_DAYS)
      .max(MAX_OBSERVATION_DAYS)
      .openapi({
        description: 'Length of the observation period in natural days, counted from now; a later violation during it restarts it (R-OBSERVATION-RESTART)',
      }),
    points: z.number().int().min(0).max(MAX_CARD_POINTS).optional().openapi({ description: 'R-CREDIT: credit points the card deducts; default 0' }),
    taskId: TaskIdParam.shape.taskId.optional().openapi({ description: "The creator's task the violation happened on" }),
  })
  .strict()
  .openapi('IssueCard');

const Card = z
  .object({
    id: z.string(),
    creatorId: z.string(),
    color: z.enum(CARD_COLORS),
    reason: z.string(),
    observationDays: z.number().int(),
    points: z.number().int(),
    issuedBy: z.string(),
    issuedAt: z.string(),
    lastViolationAt: z.string().openapi({ description: 'The violation the observation currently counts from' }),
    observationEndsAt: z.string(),
    inObservation: z.boolean(),
  })
  .openapi('Card');

const CreditEvent = z
  .object({
    id: z.number().int(),
    cause: z.enum(['retention_violation', 'card', 'appeal_upheld']),
    delta: z.number().int(),
    reason: z.string(),
    actor: z.object({ role: z.string(), id: z.string() }),
    taskId: z.string().nullable(),
    cardId: z.string().nullable(),
    appealId: z.string().nullable(),
    occurredAt: z.string(),
    recordedAt: z.string(),
  })
  .openapi('CreditEvent');

const Credit = z
  .object({
    creatorId: z.string(),
    score: z.number().int(),
    initial: z.number().int().openapi({ description: 'Every creator starts here (design: 100); score = initial + the sum of the deltas' }),
    observation: z.object({ inObservation: z.boolean(), endsAt: z.string().nullable() }),
    history: z.object({ items: z.array(CreditEvent), nextCursor: z.string().nullable() }).openapi({ description: 'Newest first' }),
  })
  .openapi('Credit');

export const CreditQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: z
      .string()
      .regex(/^[1-9]\d{0,15}$/, 'nextCursor of the previous page')
      .transform(Number)
      .optional(),
  })
  .strict();

const queueQuery = {
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().max(300).optional().openapi({ description: 'nextCursor of the previous page' }),
};
export const ReviewQueueQuery = z.object({ stage: z.enum(['script', 'content']).optional(), ...queueQuery }).strict();
export const ComplaintQueueQuery = z.object(queueQuery).strict();

const ReviewQueueItem = z
  .object({
    taskId: z.string(),
    taskType: z.string(),
    stage: z.enum(['script', 'content']),
    status: z.string(),
    clientId: z.string(),
    creatorId: z.string(),
    revision: z.number().int().nullable(),
    operatorRejections: z.number().int().nullable(),
    submittedAt: z.string().nullable(),
    since: z.string().openapi({ description: 'When the task entered review (the read model last changed)' }),
  })
  .openapi('ReviewQueueItem');
const ComplaintQueueItem = z
  .object({
    taskId: z.string(),
    taskType: z.string(),
    status: z.string(),
    clientId: z.string(),
    creatorId: z.string(),
    reason: z.string(),
    openedAt: z.string(),
    complaintsFiled: z.number().int().nullable(),
  })
  .openapi('ComplaintQueueItem');

// ---------------------------------------------------------------- routes

const domain = orDomainProblem;

const cardView = (c: CardView, now: number) => ({
  id: c.id,
  creatorId: c.creatorId,
  color: c.color,
  reason: c.reason,
  observationDays: c.observationDays,
  points: c.points,
  issuedBy: c.issuedBy,
  issuedAt: c.issuedAt.toISOString(),
  lastViolationAt: c.lastViolationAt.toISOString(),
  observationEndsAt: c.observationEndsAt.toISOString(),
  inObservation: now < c.observationEndsAt.getTime(),
});

const PG_TIME = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}(:?\d{2}){0,2})$/;
function decodeQueueCursor(cursor: string | undefined): QueueCursor | undefined {
  if (cursor === undefined) return undefined;
  return decodeCursor(cursor, ({ t, i }) => {
    if (typeof t !== 'string' || !PG_TIME.test(t) || !isId(i)) return null;
    // Postgres writes `2026-11-22 03:04:06.123456+00`; as ISO 8601 for JS: `T`, and the offset with minutes
    const iso = t.replace(' ', 'T').replace(/([+-]\d{2})$/, '$1:00');
    const parsed = Date.parse(iso);
    if (Number.isNaN(parsed)) return null;
    // an impossible date (Feb 30) rolls over in JS: the calendar date of a UTC cursor must survive the round trip
    const utc = !/[+-]\d{2}(:?\d{2})?$/.test(iso) || /[+-]00(:?00)?$/.test(iso);
    return !utc || new Date(parsed).toISOString().slice(0, 10) === t.slice(0, 10) ? { t, i } : null;
  });
}

export function creditRoutes({ db }: { db: Db }): Router {
  const router = Router();

  /** The creator, when `actor` may read its credit and cards: itself, its MCN, operators. Everyone else: 404, as for no creator. */
  async function visibleCreator(actor: UserActor, creatorId: string): Promise<void> {
    const [account] = await db
      .select({ id: accounts.id })
      .from(accounts)
      .where(and(eq(accounts.id, creatorId), eq(accounts.role, 'creator')));
    const allowed =
      account !== undefined &&
      (actor.role === 'operator' ||
        (actor.role === 'creator' && actor.id === creatorId) ||
        (actor.role === 'mcn' && (await mcnOf(db, creatorId)) === actor.id));
    if (!allowed) throw notFound(`No creator ${creatorId}`);
  }

  // R-CREDIT: score, observation and the history of every change
  router.get('/v1/creators/:creatorId/credit', async (req, res) => {
    const actor = actorOf(req);
    const { creatorId } = CreatorIdParam.parse(req.params);
    const q = CreditQuery.parse(req.query);
    await visibleCreator(actor, creatorId);
    const now = new Date();
    const [score, endsAt, history] = await Promise.all([
      creditScoreOf(db, creatorId),
      observationEndsAt(db, creatorId, now),
      creditHistoryOf(db, creatorId, { limit: q.limit, cursor: q.cursor }),
    ]);
    res.json({
      creatorId,
      score,
      initial: INITIAL_CREDIT_POINTS,
      observation: { inObservation: endsAt !== null, endsAt: endsAt?.toISOString() ?? null },
      history: {
        items: history.items.map((e) => ({ ...e, occurredAt: e.occurredAt.toISOString(), recordedAt: e.recordedAt.toISOString() })),
        nextCursor: history.nextCursor === null ? null : String(history.nextCursor),
      },
    });
  });

  // R-CARDS: the creator's cards, newest first
  router.get('/v1/creators/:creatorId/cards', async (req, res) => {
    const actor = actorOf(req);
    const { creatorId } = CreatorIdParam.parse(req.params);
    await visibleCreator(actor, creatorId);
    const now = Date.now();
    res.json({ items: (await cardsOf(db, creatorId)).map((c) => cardView(c, now)) });
  });

  // R-CARDS / R-OBSERVATION-RESTART / R-CREDIT: an operator gives a card; the required Idempotency-Key makes a retry give it once
  router.post('/v1/creators/:creatorId/cards', async (req, res) => {
    const actor = actorOf(req, 'operator');
    const { creatorId } = CreatorIdParam.parse(req.params);
    const body = CardBody.parse(req.body);
    await visibleCreator(actor, creatorId);
    if (body.taskId) {
      const [task] = await db
        .select({ id: tasks.id })
        .from(tasks)
        .where(and(eq(tasks.id, body.taskId), eq(tasks.creatorId, creatorId)));
      if (!task) {
        throw new Problem(422, 'rule-violation', 'A rule refuses the action', `${body.taskId} is not a task of ${creatorId}`, { code: 'task-not-of-creator' });
      }
    }
    const issue = async ({ idFor }: Keyed) => {
      const issuedAt = new Date();
      const id = idFor('card'); // a retry after a crash finds this card: one card per key
      const { card, restarted } = await domain(() => issueCard(db, { id, creatorId, ...body, issuedBy: actor.id, issuedAt }));
      const score = await creditScoreOf(db, creatorId);
      return { status: 201, body: { card: cardView(card, issuedAt.getTime()), restartedObservations: restarted, score } };
    };
    res.location(`/v1/creators/${creatorId}/cards`);
    // a card deducts points and restarts observations: a retried request must never give a second one
    requireIdempotencyKey(req);
    return idempotent(db, req, res, actor, issue);
  });

  // ------------------------------------------------------------ operator queues

  router.get('/v1/operator/queues/reviews', async (req, res) => {
    actorOf(req, 'operator');
    const q = ReviewQueueQuery.parse(req.query);
    const { items, next } = await reviewQueue(db, { stage: q.stage, limit: q.limit, after: decodeQueueCursor(q.cursor) });
    res.json({ items, nextCursor: encodeCursor(next) });
  });

  router.get('/v1/operator/queues/complaints', async (req, res) => {
    actorOf(req, 'operator');
    const q = ComplaintQueueQuery.parse(req.query);
    const { items, next } = await complaintQueue(db, { limit: q.limit, after: decodeQueueCursor(q.cursor) });
    res.json({ items, nextCursor: encodeCursor(next) });
  });

  return router;
}

// ---------------------------------------------------------------- OpenAPI (called by api/openapi.ts)

export function registerCreditPaths(route: Registrar): void {
  const hidden = 'No such creator, or not visible to the caller (only the creator, its MCN and operators see it)';
  const params = CreatorIdParam;
  route({
    method: 'get',
    path: '/v1/creators/{creatorId}/credit',
    summary: "R-CREDIT: a creator's credit score, observation period and history of changes, newest first (the creator, its MCN, operators)",
    params,
    query: CreditQuery,
    ok: { 200: json('Score and a page of history', Credit) },
    problems: { 404: hidden },
  });
  route({
    method: 'get',
    path: '/v1/creators/{creatorId}/cards',
    summary: "R-CARDS: a creator's red and yellow cards with their observation periods, newest first (the creator, its MCN, operators)",
    params,
    ok: { 200: json('Cards', z.object({ items: z.array(Card) })) },
    problems: { 404: hidden },
  });
  route({
    method: 'post',
    path: '/v1/creators/{creatorId}/cards',
    summary:
      'R-CARDS: give a red or yellow card with an observation period and optional points (operators; Idempotency-Key required); restarts running observations (R-OBSERVATION-RESTART)',
    params,
    idempotencyKey: 'required',
    body: CardBody,
    ok: { 201: json('Card given', z.object({ card: Card, restartedObservations: z.number().int(), score: z.number().int() })) },
    problems: {
      403: 'Operators only',
      404: 'No such creator',
      409: 'The first request with this Idempotency-Key is still running (Retry-After)',
      422: "The task is not the creator's, or the Idempotency-Key was used with another body",
    },
  });
  route({
    method: 'get',
    path: '/v1/operator/queues/reviews',
    summary: 'Scripts and content awaiting operator review, longest waiting first (operators)',
    query: ReviewQueueQuery,
    ok: { 200: json('A page', z.object({ items: z.array(ReviewQueueItem), nextCursor: z.string().nullable() })) },
    problems: { 403: 'Operators only' },
  });
  route({
    method: 'get',
    path: '/v1/operator/queues/complaints',
    summary: 'Tasks with an open client complaint (R-COMPLAINT), oldest complaint first (operators)',
    query: ComplaintQueueQuery,
    ok: { 200: json('A page', z.object({ items: z.array(ComplaintQueueItem), nextCursor: z.string().nullable() })) },
    problems: { 403: 'Operators only' },
  });
}
