/**
 * R-APPEAL-48WH: appeals against credit deductions, and the working-day calendar
 * their deadlines are counted on.
 *
 * A creator appeals one of its own deductions (once); the answer is due 48 hours
 * later counted on working days only (weekends and holidays skipped, make-up
 * working days counted). Each appeal runs a workflow (`appeal-<id>`) that
 * escalates it to the operators when the deadline passes unanswered; an
 * operator's decision goes to the workflow as an Update, and an upheld appeal
 * restores the points. Operators see the appeals closest to their deadline and
 * maintain the calendar's holidays and make-up working days.
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { Router, type Request } from 'express';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import { appealById, appealOfCreditEvent, appealsOf, fileAppeal, openAppealsByDue, type AppealRow } from '../db/appeals.js';
import { calendarDaysOf, deleteCalendarDay, loadCalendar, setCalendarDay } from '../db/calendar.js';
import { CN_ZONE_OFFSET_MINUTES } from '../domain/calendarData.js';
import { DomainError, HOUR, MAX_REASON_CHARS, MINUTE, calendarCovers, workingTimeBetween, type WorkingCalendar } from '../domain/index.js';
import { decideAppeal, startAppealWorkflow } from '../temporal/appeals.js';
import { actorOf, type UserActor } from './auth.js';
import { idempotent, optionalIdempotencyKey, updateIdFor } from './idempotency.js';
import { newId } from './ids.js';
import { json, type Registrar } from './openapiRoute.js';
import { Problem, forbidden, fromDomainError, notFound } from './problems.js';
// schemas.ts runs extendZodWithOpenApi(z): imported before any `.openapi()` below
import { AccountId, text } from './schemas.js';
import { fromWorkflowError, withTemporal } from './temporalErrors.js';

// ---------------------------------------------------------------- schemas


export const AppealIdParam = z.object({
  appealId: z
    .string()
    .regex(/^apl_[0-9a-f-]{36}$/, 'an appeal id')
    .openapi({ example: 'apl_019a4b2c-7d1e-7f00-8a55-2f1d8f1e6a11' }),
});
export const FileAppealBody = z
  .object({
    creditEventId: z
      .number()
      .int()
      .positive()
      .max(Number.MAX_SAFE_INTEGER)
      .openapi({ description: 'The deduction (a credit event with a negative delta) appealed' }),
    reason: text(MAX_REASON_CHARS).openapi({ description: 'Why the deduction is wrong, e.g. force majeure' }),
  })
  .strict()
  .openapi('FileAppeal');
export const AppealDecisionBody = z
  .object({ outcome: z.enum(['upheld', 'rejected']).openapi({ description: 'upheld restores the points' }), note: text(MAX_REASON_CHARS) })
  .strict()
  .openapi('AppealDecision');
export const ListAppealsQuery = z
  .object({
    status: z.enum(['open', 'escalated', 'upheld', 'rejected']).optional(),
    creatorId: AccountId.optional().openapi({ description: "Operators: one creator's appeals; a creator may only give its own id" }),
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: AppealIdParam.shape.appealId.optional().openapi({ description: 'nextCursor of the previous page' }),
  })
  .strict();
export const AppealQueueQuery = z
  .object({
    dueWithinHours: z.coerce
      .number()
      .min(0)
      .max(24 * 366)
      .optional()
      .openapi({ description: 'Only appeals due within this many (wall-clock) hours; overdue ones always included' }),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .strict();
export const CalendarQuery = z
  .object({ year: z.coerce.number().int().min(1970).max(9999).optional().openapi({ description: 'Default: the current year (Asia/Shanghai)' }) })
  .strict();
/** A calendar date (YYYY-MM-DD, a day that exists: the document says format date). */
export const CalendarDayParam = z.object({ day: z.iso.date().openapi({ example: '2027-01-01' }) });
export const CalendarDayBody = z
  .object({
    kind: z.enum(['holiday', 'workday']).openapi({ description: 'holiday: a day off; workday: a make-up working day (调休), on a Saturday or Sunday only' }),
    name: text(100).openapi({ example: '元旦' }),
  })
  .strict()
  .openapi('CalendarDayEntry');

export const Appeal = z
  .object({
    id: z.string(),
    creatorId: z.string(),
    creditEventId: z.number().int(),
    points: z.number().int(),
    reason: z.string(),
    status: z.enum(['open', 'escalated', 'upheld', 'rejected']),
    filedAt: z.string(),
    dueAt: z.string().openapi({ description: 'filedAt + 48 hours counted on working days (Asia/Shanghai calendar)' }),
    escalatedAt: z.string().nullable(),
    decidedAt: z.string().nullable(),
    decidedBy: z.string().nullable(),
    decisionNote: z.string().nullable(),
  })
  .openapi('Appeal');
export const QueuedAppeal = Appeal.extend({
  workingTimeLeftMs: z.number().int().openapi({ description: 'Working-day time left until dueAt (0 when overdue)' }),
  overdue: z.boolean(),
}).openapi('QueuedAppeal');
export const CalendarDay = z
  .object({
    day: z.string(),
    kind: z.enum(['holiday', 'workday']),
    name: z.string(),
    source: z.string(),
    origin: z
      .enum(['built-in', 'database'])
      .openapi({ description: 'built-in: official data shipped with the code; database: entered by operators (overrides)' }),
  })
  .openapi('CalendarDay');

// ---------------------------------------------------------------- views

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export const appealView = (row: AppealRow) => ({
  id: row.id,
  creatorId: row.creatorId,
  creditEventId: row.creditEventId,
  points: row.points,
  reason: row.reason,
  status: row.status as z.infer<typeof Appeal>['status'],
  filedAt: row.filedAt.toISOString(),
  dueAt: row.dueAt.toISOString(),
  escalatedAt: iso(row.escalatedAt),
  decidedAt: iso(row.decidedAt),
  decidedBy: row.decidedBy,
  decisionNote: row.decisionNote,
});

const queuedView = (row: AppealRow, now: number, cal: WorkingCalendar) => ({
  ...appealView(row),
  workingTimeLeftMs: workingTimeBetween(now, row.dueAt.getTime(), cal),
  overdue: row.dueAt.getTime() <= now,
});


/** A refusal of db/appeals.ts or db/calendar.ts as problem+json; a deduction that is missing or another creator's is a 404. */
function domainRefusal(err: unknown): never {
  if (err instanceof DomainError) {
    if (err.details.code === 'credit-event-not-found') throw new Problem(404, 'not-found', 'Not found', err.message, { code: err.details.code });
    throw fromDomainError(err);
  }
  throw err;
}

const isDecided = (row: AppealRow) => row.status === 'upheld' || row.status === 'rejected';

// ---------------------------------------------------------------- routes

export interface AppealRoutesDeps {
  db: Db;
  temporal: Client;
  taskQueue: string;
}

export function appealRoutes({ db, temporal, taskQueue }: AppealRoutesDeps): Router {
  const router = Router();

  /** The appeal if the actor may see it (its creator, operators); 404 otherwise: no leak. */
  async function visibleAppeal(req: Request, actor: UserActor): Promise<AppealRow> {
    const { appealId } = AppealIdParam.parse(req.params);
    const row = await appealById(db, appealId);
    if (!row || (actor.role !== 'operator' && row.creatorId !== actor.id)) throw notFound(`No appeal ${appealId}`);
    return row;
  }

  async function startWorkflow(row: AppealRow): Promise<void> {
    try {
      await startAppealWorkflow(temporal, taskQueue, row, db);
    } catch {
      throw new Problem(503, 'temporal-unavailable', 'The appeal is filed but its deadline is not watched yet', 'Retry later: the appeal is kept', {
        code: 'temporal-unavailable',
        appealId: row.id,
      });
    }
  }

  // File an appeal against one of the caller's deductions (creators).
  router.post('/v1/appeals', async (req, res) => {
    const actor = actorOf(req, 'creator');
    const body = FileAppealBody.parse(req.body);
    const file = async (): Promise<{ status: number; body: unknown }> => {
      const filedAt = new Date();
      let row: AppealRow;
      try {
        const id = newId('apl', filedAt.getTime());
        row = await fileAppeal(db, { id, creatorId: actor.id, creditEventId: body.creditEventId, reason: body.reason, filedAt });
      } catch (err) {
        if (err instanceof DomainError && err.details.code === 'already-appealed') {
          // the first request may have failed to start its workflow: make sure it runs (never restarts a decided one)
          const existing = await appealOfCreditEvent(db, body.creditEventId);
          if (existing && !isDecided(existing)) await startAppealWorkflow(temporal, taskQueue, existing, db).catch(() => undefined);
        }
        return domainRefusal(err);
      }
      await startWorkflow(row);
      return { status: 201, body: appealView(row) };
    };
    if (optionalIdempotencyKey(req) !== undefined) {
      await idempotent(db, req, res, actor, file);
      return;
    }
    const result = await file();
    const view = result.body as ReturnType<typeof appealView>;
    res.status(result.status).location(`/v1/appeals/${view.id}`).json(view);
  });

  // A creator's own appeals; operators: all (filter by status, creator).
  router.get('/v1/appeals', async (req, res) => {
    const actor = actorOf(req, 'creator', 'operator');
    const q = ListAppealsQuery.parse(req.query);
    if (actor.role === 'creator' && q.creatorId && q.creatorId !== actor.id) throw forbidden('A creator lists its own appeals only');
    const creatorId = actor.role === 'creator' ? actor.id : q.creatorId;
    const { items, more } = await appealsOf(db, { creatorId, status: q.status, limit: q.limit, beforeId: q.cursor });
    res.json({ items: items.map(appealView), nextCursor: more ? items.at(-1)!.id : null });
  });

  router.get('/v1/appeals/:appealId', async (req, res) => {
    const actor = actorOf(req, 'creator', 'operator');
    res.json(appealView(await visibleAppeal(req, actor)));
  });

  // The operator's decision, through the workflow (it refuses a second decision); upheld restores the points.
  router.post('/v1/appeals/:appealId/decision', async (req, res) => {
    const actor = actorOf(req, 'operator');
    const body = AppealDecisionBody.parse(req.body);
    const key = optionalIdempotencyKey(req);
    const row = await visibleAppeal(req, actor);
    const decidedBy = `${actor.role}:${actor.id}`;
    const sameDecision = (r: AppealRow) => r.status === body.outcome && r.decidedBy === decidedBy && r.decisionNote === body.note;
    const answer = async () => {
      const after = await appealById(db, row.id);
      if (!after) throw notFound(`No appeal ${row.id}`);
      res.json(appealView(after));
    };
    const alreadyDecided = (r: AppealRow) =>
      new Problem(409, 'invalid-state', 'The appeal is already decided', `The appeal is ${r.status}`, { code: 'already-decided', appealStatus: r.status });
    if (isDecided(row)) {
      // a retry of the very same decision answers it again; any other decision is refused
      if (sameDecision(row)) return void res.set('Idempotent-Replayed', 'true').json(appealView(row));
      throw alreadyDecided(row);
    }
    const updateId = key ? updateIdFor(actor, `appeal-decision:${row.id}`, key) : undefined;
    try {
      // update-with-start: an appeal whose workflow never started (Temporal was down at filing) is started and decided at once
      await withTemporal(temporal, () => decideAppeal(temporal, taskQueue, row, { actor, outcome: body.outcome, note: body.note }, updateId));
    } catch (err) {
      if (err instanceof Problem) throw err;
      if (!(err instanceof WorkflowExecutionAlreadyStartedError) && !(err instanceof WorkflowNotFoundError)) throw fromWorkflowError(err);
      // its workflow closed: decided meanwhile
      const now = await appealById(db, row.id);
      if (now && isDecided(now)) {
        if (sameDecision(now)) return answer();
        throw alreadyDecided(now);
      }
      throw fromWorkflowError(err);
    }
    await answer();
  });

  // Operators: open and escalated appeals, closest deadline first, with the working time left.
  router.get('/v1/operator/appeals', async (req, res) => {
    actorOf(req, 'operator');
    const q = AppealQueueQuery.parse(req.query);
    const now = Date.now();
    const [rows, cal] = await Promise.all([
      openAppealsByDue(db, { now: new Date(now), dueWithinMs: q.dueWithinHours === undefined ? undefined : q.dueWithinHours * HOUR, limit: q.limit }),
      loadCalendar(db),
    ]);
    res.json({ items: rows.map((r) => queuedView(r, now, cal)) });
  });

  // The working-day calendar of a year: built-in official data and operators' entries.
  router.get('/v1/operator/calendar', async (req, res) => {
    actorOf(req, 'operator');
    const q = CalendarQuery.parse(req.query);
    const year = q.year ?? new Date(Date.now() + CN_ZONE_OFFSET_MINUTES * MINUTE).getUTCFullYear();
    const [items, cal] = await Promise.all([calendarDaysOf(db, year), loadCalendar(db)]);
    res.json({ year, zone: 'Asia/Shanghai', hasData: calendarCovers(Date.UTC(year, 6, 1), cal), items });
  });

  router.put('/v1/operator/calendar/:day', async (req, res) => {
    const actor = actorOf(req, 'operator');
    const { day } = CalendarDayParam.parse(req.params);
    const body = CalendarDayBody.parse(req.body);
    const saved = await setCalendarDay(db, day, { ...body, source: `operator:${actor.id}` }).catch(domainRefusal);
    res.json(saved);
  });

  router.delete('/v1/operator/calendar/:day', async (req, res) => {
    actorOf(req, 'operator');
    const { day } = CalendarDayParam.parse(req.params);
    const deleted = await deleteCalendarDay(db, day).catch(domainRefusal);
    if (!deleted) throw notFound(`No calendar entry of ${day} in the database (built-in entries cannot be deleted; override them with PUT)`);
    res.status(204).end();
  });

  return router;
}

// ---------------------------------------------------------------- OpenAPI

/** Registers the appeal and calendar paths on the API's OpenAPI document (api/openapi.ts). */
export function registerAppealPaths(route: Registrar): void {
  const operators = { 403: 'Operators only' } as const;
  route({
    method: 'post',
    path: '/v1/appeals',
    summary: 'Appeal one of your deductions (creators; R-APPEAL-48WH: answered within 48 working hours)',
    idempotencyKey: 'optional',
    body: FileAppealBody,
    ok: { 201: json('Filed; dueAt is 48 hours later counted on working days', Appeal) },
    problems: {
      400: 'Invalid request, or no such credit event of this creator',
      403: 'Creators only',
      404: 'No such deduction of the caller',
      409: 'The deduction has already been appealed (appealId says which), or the first request with this key is still running',
      422: 'Not a deduction, or the Idempotency-Key was used with another body',
      503: 'Temporal unavailable: the appeal is kept',
    },
  });
  route({
    method: 'get',
    path: '/v1/appeals',
    summary: "Appeals, newest first: a creator's own; operators all",
    query: ListAppealsQuery,
    ok: { 200: json('A page', z.object({ items: z.array(Appeal), nextCursor: z.string().nullable() })) },
    problems: { 403: 'Creators and operators only; a creator lists its own appeals only' },
  });
  route({
    method: 'get',
    path: '/v1/appeals/{appealId}',
    summary: 'One appeal (its creator, operators)',
    params: AppealIdParam,
    ok: { 200: json('The appeal', Appeal) },
    problems: { 403: 'Creators and operators only', 404: 'No such appeal, or not visible to the caller' },
  });
  route({
    method: 'post',
    path: '/v1/appeals/{appealId}/decision',
    summary: 'Decide an appeal (operators): upheld restores the points, rejected keeps the deduction',
    params: AppealIdParam,
    idempotencyKey: 'optional',
    body: AppealDecisionBody,
    ok: { 200: json('The decided appeal', Appeal) },
    problems: { ...operators, 404: 'No such appeal', 409: 'Already decided', 422: 'A rule refuses the decision', 503: true },
  });
  route({
    method: 'get',
    path: '/v1/operator/appeals',
    summary: 'Operators: open and escalated appeals, closest deadline first, with the working time left',
    query: AppealQueueQuery,
    ok: { 200: json('The queue', z.object({ items: z.array(QueuedAppeal) })) },
    problems: operators,
  });
  route({
    method: 'get',
    path: '/v1/operator/calendar',
    summary: "Operators: a year's holidays and make-up working days (built-in and entered)",
    query: CalendarQuery,
    ok: { 200: json('The calendar', z.object({ year: z.number().int(), zone: z.string(), hasData: z.boolean(), items: z.array(CalendarDay) })) },
    problems: operators,
  });
  route({
    method: 'put',
    path: '/v1/operator/calendar/{day}',
    summary: 'Operators: set a holiday or a make-up working day (applies to appeals filed afterwards)',
    params: CalendarDayParam,
    body: CalendarDayBody,
    ok: { 200: json('Saved', CalendarDay) },
    problems: { ...operators, 422: 'The calendar rules refuse it (e.g. a make-up working day on a weekday)' },
  });
  route({
    method: 'delete',
    path: '/v1/operator/calendar/{day}',
    summary: "Operators: remove a date's database entry (the built-in entry, if any, applies again)",
    params: CalendarDayParam,
    ok: { 204: { description: 'Removed' } },
    problems: { ...operators, 404: 'No database entry of that date' },
  });
}
