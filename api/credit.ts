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
import type { Db } from '../db/client.js';
import { cardsOf, creditHistoryOf, issueCard, type CardView } from '../db/cards.js';
import { mcnOf, observationEndsAt } from '../db/creators.js';
import { creditScoreOf } from '../db/credit.js';
import { complaintQueue, reviewQueue, type QueueCursor } from '../db/tasks.js';
import { accounts, tasks } from '../db/schema/index.js';
import { INITIAL_CREDIT_POINTS } from '../domain/index.js';
import { actorOf, type UserActor } from './auth.js';
import { decodeCursor, encodeCursor, isId } from './cursors.js';
import { idempotent, requireIdempotencyKey, type Keyed } from './idempotency.js';
import { Problem, notFound, orDomainProblem } from './problems.js';
import { CardBody, ComplaintQueueQuery, CreatorIdParam, CreditQuery, ReviewQueueQuery } from './schemas.js';

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
