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
import type { z } from 'zod';
import type { Db } from '../db/client.js';
import { appealById, appealOfCreditEvent, appealsOf, fileAppeal, openAppealsByDue, type AppealRow } from '../db/appeals.js';
import { calendarDaysOf, deleteCalendarDay, loadCalendar, setCalendarDay } from '../db/calendar.js';
import { CN_ZONE_OFFSET_MINUTES } from '../domain/calendarData.js';
import { DomainError, HOUR, MINUTE, calendarCovers, workingTimeBetween, type WorkingCalendar } from '../domain/index.js';
import { decideAppeal, startAppealWorkflow } from '../temporal/appeals.js';
import { actorOf, type UserActor } from './auth.js';
import { idempotent, optionalIdempotencyKey, updateIdFor } from './idempotency.js';
import { newId } from './ids.js';
import { Problem, forbidden, fromDomainError, notFound } from './problems.js';
import { AppealDecisionBody, AppealIdParam, AppealQueueQuery, CalendarDayBody, CalendarDayParam, CalendarQuery, FileAppealBody, ListAppealsQuery, type Appeal } from './schemas.js';
import { fromWorkflowError, withTemporal } from './temporalErrors.js';
import { RETRY_AFTER_SECONDS } from './outages.js';

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
      // bounded like every Temporal call of the API (a slow Temporal is a 503, not a wait)
      await withTemporal(temporal, () => startAppealWorkflow(temporal, taskQueue, row, db));
    } catch {
      throw new Problem(503, 'temporal-unavailable', 'The appeal is filed but its deadline is not watched yet', 'Retry later (with the same Idempotency-Key): the appeal is kept', {
        code: 'temporal-unavailable',
        appealId: row.id,
        retryAfterSeconds: RETRY_AFTER_SECONDS,
      });
    }
  }

  // File an appeal against one of the caller's deductions (creators).
  router.post('/v1/appeals', async (req, res) => {
    const actor = actorOf(req, 'creator');
    const body = FileAppealBody.parse(req.body);
    // `idFor`: with an Idempotency-Key the appeal's id comes from the key, so a retry (after a 503) is known
    const file = async (idFor?: (prefix: 'apl') => string): Promise<{ status: number; body: unknown }> => {
      const filedAt = new Date();
      const id = idFor ? idFor('apl') : newId('apl', filedAt.getTime());
      let row: AppealRow;
      try {
        row = await fileAppeal(db, { id, creatorId: actor.id, creditEventId: body.creditEventId, reason: body.reason, filedAt });
      } catch (err) {
        if (err instanceof DomainError && err.details.code === 'already-appealed') {
          // the first request may have failed to start its workflow: make sure it runs (never restarts a decided one)
          const existing = await appealOfCreditEvent(db, body.creditEventId);
          // the same request retried with its key (its first try filed the appeal, then answered 503): its answer
          if (existing?.id === id) {
            if (!isDecided(existing)) await startWorkflow(existing);
            return { status: 201, body: appealView(existing) };
          }
          if (existing && !isDecided(existing)) await withTemporal(temporal, () => startAppealWorkflow(temporal, taskQueue, existing, db)).catch(() => undefined);
        }
        return domainRefusal(err);
      }
      await startWorkflow(row);
      return { status: 201, body: appealView(row) };
    };
    if (optionalIdempotencyKey(req) !== undefined) {
      await idempotent(db, req, res, actor, ({ idFor }) => file(idFor));
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
