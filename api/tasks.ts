/**
 * Task endpoints. Thin: validate (zod), authorise (who is acting, may they see
 * this task), then start / update / query the task workflow or read Postgres.
 * The rules themselves live in domain/ and run inside the workflow.
 */
import type { Client, WorkflowHandle } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { Router, type Request, type Response } from 'express';
import type { z } from 'zod';
import type { Db } from '../db/client.js';
import type { TaskRow } from '../db/schema/index.js';
import { eventsOf, hasEventOfUpdate, insertOrder, listTasks, markStarted, placedOrder, recordOrderEvent, taskById, taskByKey, taskPartiesById, type TaskParties } from '../db/tasks.js';
import { mcnOf, observationEndsAt, offerForOrder } from '../db/creators.js';
import { clientRatingSummaries, type RatingSummary } from '../db/ratings.js';
import { ACCEPT_WINDOW_MS, ACTION_ROLES, DomainError, orderRefusal, validateOrder, type TaskState } from '../domain/index.js';
import * as m from '../workflows/messages.js';
import { fixesAtStart, startTaskWorkflow, taskEngineFromEnv } from '../temporal/tasks.js';
import { outboxInsertsOf } from '../activities/outbox.js';
import { InsufficientFunds, holdEscrow, payoutAccountOf } from '../db/ledger.js';
import { insufficient } from './wallets.js';
import { actorOf, type UserActor, type UserRole } from './auth.js';
import { bindKeyToRequest, optionalIdempotencyKey, requireIdempotencyKey, sha256Hex, updateIdFor } from './idempotency.js';
import { newId } from './ids.js';
import { Problem, badRequest, forbidden, fromDomainError, notFound } from './problems.js';
import {
  AcceptanceBody,
  AnswerBody,
  ConfirmBody,
  CreateTaskBody,
  EmptyBody,
  ExtendDraftBody,
  ListTasksQuery,
  ProposeCancellationBody,
  PublishBody,
  ReasonBody,
  ResolveComplaintBody,
  ResolveTaskBody,
  ReviewBody,
  SubmitBody,
  TaskIdParam,
} from './schemas.js';
import { fromWorkflowError, withTemporal } from './temporalErrors.js';
import { RETRY_AFTER_SECONDS } from './outages.js';

export interface TaskRoutesDeps {
  db: Db;
  temporal: Client;
  taskQueue: string;
  /** A warning line (an order's start confirmation that could not be written). */
  log?: (line: string) => void;
  /** The engine new tasks start with (STARMAP_TASK_ENGINE when left out): from 6 the order's event is written here. */
  taskEngine?: number;
}

/** One endpoint per user action: path, who may do it, its body, and the update it sends. */
export interface TaskAction {
  path: string;
  summary: string;
  roles: UserRole[];
  body: z.ZodType;
  send(handle: WorkflowHandle, body: unknown, actor: UserActor, updateId: string | undefined): Promise<TaskState>;
}

function action<I extends m.ActorInput>(spec: {
  path: string;
  summary: string;
  /** The command's row in domain ACTION_ROLES: the route's early 403 and the workflow's check read the same data. */
  command: keyof typeof ACTION_ROLES;
  body: z.ZodType<Omit<I, 'actor'>>;
  update: UpdateDefinition<TaskState, [I]>;
}): TaskAction {
  return {
    ...spec,
    roles: [...ACTION_ROLES[spec.command]] as UserRole[],
    send: (handle, body, actor, updateId) =>
      handle.executeUpdate(spec.update, { args: [{ ...(body as Omit<I, 'actor'>), actor } as I], ...(updateId ? { updateId } : {}) }),
  };
}

export const TASK_ACTIONS: TaskAction[] = [
  action({ path: 'accept', summary: 'Creator accepts the task (R-ACCEPT-24H)', command: 'accept', body: EmptyBody, update: m.acceptTaskUpdate }),
  action({ path: 'decline', summary: 'Creator declines the task (R-DECLINE)', command: 'decline', body: ReasonBody, update: m.declineTaskUpdate }),
  action({ path: 'script', summary: 'Creator submits the script (R-SCRIPT-FLOW)', command: 'submit', body: SubmitBody, update: m.submitScriptUpdate }),
  action({ path: 'script/review', summary: 'Operator passes or rejects the script', command: 'review', body: ReviewBody, update: m.reviewScriptUpdate }),
  action({ path: 'script/decision', summary: 'Client confirms or rejects the script', command: 'confirm', body: ConfirmBody, update: m.confirmScriptUpdate }),
  action({ path: 'content', summary: 'Creator submits the content (R-CONTENT-FLOW)', command: 'submit', body: SubmitBody, update: m.submitContentUpdate }),
  action({ path: 'content/review', summary: 'Operator passes or rejects the content', command: 'review', body: ReviewBody, update: m.reviewContentUpdate }),
  action({ path: 'content/decision', summary: 'Client confirms or rejects the content (R-TOUTIAO-ORDER: for Toutiao types the live content, and confirming settles)', command: 'confirm', body: ConfirmBody, update: m.confirmContentUpdate }),
  action({ path: 'publication', summary: 'The publisher (creator, or client for Xigua) links the published item (R-PUBLISH-CREATOR, R-PUBLISH-CLIENT, R-REPUBLISH-5)', command: 'publish', body: PublishBody, update: m.publishContentUpdate }),
  action({ path: 'acceptance', summary: 'Client accepts the delivery and settles (R-ACCEPTANCE-7D, R-PUBLISH-TIME)', command: 'accept_delivery', body: AcceptanceBody, update: m.acceptDeliveryUpdate }),
  action({ path: 'modification-permission', summary: 'Client allows one change of the published article (R-MODIFY-PERMISSION)', command: 'grant_modification', body: EmptyBody, update: m.grantModificationUpdate }),
  action({ path: 'complaint', summary: 'Client files a complaint before acceptance (R-COMPLAINT)', command: 'file_complaint', body: ReasonBody, update: m.fileComplaintUpdate }),
  action({ path: 'complaint/resolution', summary: 'Operator resolves the open complaint', command: 'resolve_complaint', body: ResolveComplaintBody, update: m.resolveComplaintUpdate }),
  action({ path: 'draft-deadline', summary: 'Client extends the running drafting deadline before it passes (R-STAGE-DEADLINE)', command: 'extend_draft_deadline', body: ExtendDraftBody, update: m.extendDraftDeadlineUpdate }),
  action({ path: 'resolution', summary: 'Operator ends an open task: cancel with a full or partial refund, or settle to the creator (R-OPERATOR-RESOLVE)', command: 'resolve_task', body: ResolveTaskBody, update: m.resolveTaskUpdate }),
  action({ path: 'cancellation', summary: 'Client or creator proposes cancelling by agreement before acceptance (R-MUTUAL-CANCEL)', command: 'propose_cancellation', body: ProposeCancellationBody, update: m.proposeCancellationUpdate }),
  action({ path: 'cancellation/answer', summary: 'The other party agrees to or refuses the cancellation proposal within 48 hours (R-MUTUAL-CANCEL)', command: 'answer_cancellation', body: AnswerBody, update: m.answerCancellationUpdate }),
  action({ path: 'takedown', summary: 'Creator asks the client to allow taking the content down during retention (R-TAKEDOWN)', command: 'request_takedown', body: ReasonBody, update: m.requestTakedownUpdate }),
  action({ path: 'takedown/answer', summary: 'Client agrees to or refuses the takedown within 48 hours (R-TAKEDOWN)', command: 'answer_takedown', body: AnswerBody, update: m.answerTakedownUpdate }),
];

/** R-RATE: rows with their client's average as creators rated it (one query per page). */
async function summaries(db: Db, rows: TaskRow[]) {
  const ratings = await clientRatingSummaries(db, rows.map((r) => r.clientId));
  return rows.map((row) => summarize(row, ratings.get(row.clientId)!));
}

export function summarize(row: TaskRow, clientRating: RatingSummary) {
  const iso = (d: Date | null) => (d ? d.toISOString() : null);
  return {
    id: row.id,
    type: row.type,
    status: row.status as TaskState['status'],
    clientId: row.clientId,
    creatorId: row.creatorId,
    priceFen: row.priceFen,
    retentionDays: row.retentionDays,
    scriptRequired: row.scriptRequired,
    orderedAt: row.orderedAt.toISOString(),
    acceptDeadline: row.acceptDeadline.toISOString(),
    nextDeadline: iso(row.nextDeadline),
    finalPublishedAt: iso(row.finalPublishedAt),
    retentionEndsAt: iso(row.retentionEndsAt),
    closedAt: iso(row.closedAt),
    closeReason: row.closeReason,
    version: row.version,
    clientRating,
  };
}

/**
 * The parties who may see a task: its client, its creator, the creator's MCN
 * (read only) and operators. Others get 404: no leak.
 */
export async function canSee(db: Db, actor: UserActor, row: Pick<TaskRow, 'clientId' | 'creatorId'>): Promise<boolean> {
  if (actor.role === 'operator') return true;
  if (actor.role === 'client') return row.clientId === actor.id;
  if (actor.role === 'creator') return row.creatorId === actor.id;
  return (await mcnOf(db, row.creatorId)) === actor.id;
}

/** The task named in the path, if `actor` may see it; otherwise 404 (a task of others is not found). */
export async function visibleTaskOf(db: Db, req: Request, actor: UserActor): Promise<TaskRow> {
  const { taskId } = TaskIdParam.parse(req.params);
  const row = await taskById(db, taskId);
  if (!row || !(await canSee(db, actor, row))) throw notFound(`No task ${taskId}`);
  return row;
}

/** visibleTaskOf for an action or a read that needs no snapshot: the parties and status only (nothing to read and parse). */
export async function visibleTaskPartiesOf(db: Db, req: Request, actor: UserActor): Promise<TaskParties> {
  const { taskId } = TaskIdParam.parse(req.params);
  // read by `authenticate` with the account check when the path names this task
  const row = req.aboutTask?.taskId === taskId ? req.aboutTask.parties : await taskPartiesById(db, taskId);
  if (!row || !(await canSee(db, actor, row))) throw notFound(`No task ${taskId}`);
  return row;
}


export function taskRoutes({ db, temporal, taskQueue, log, taskEngine = taskEngineFromEnv() }: TaskRoutesDeps): Router {
  const router = Router();
  // engine 6 (workflows/task.ts): the order's transaction records the order's event; before it the workflow does
  const projectsOrder = taskEngine >= 6;

  async function startWorkflow(row: TaskRow): Promise<void> {
    try {
      await withTemporal(temporal, () => startTaskWorkflow(temporal, taskQueue, row));
    } catch {
      // The order is recorded; the worker's orphan sweep starts it within a minute,
      // and a retry with the same key finds the same task.
      throw new Problem(503, 'temporal-unavailable', 'The task could not be started yet', 'Retry with the same Idempotency-Key', { taskId: row.id, retryAfterSeconds: RETRY_AFTER_SECONDS });
    }
  }

  // Place an order (R-DESIGNATED, R-ORDER-FIELDS). Same key + same body = same task.
  router.post('/v1/tasks', async (req, res) => {
    const actor = actorOf(req, 'client');
    const key = requireIdempotencyKey(req);
    const body = CreateTaskBody.parse(req.body);
    const requestHash = sha256Hex(JSON.stringify(body));
    const byKey = () => taskByKey(db, actor.id, key);

    // one clock for the order: the answer, the row, the workflow and every deadline count from it
    const orderedAtMs = Date.now();
    const taskId = newId('tsk', orderedAtMs);
    const now = new Date(orderedAtMs);
    let inserted: TaskRow | undefined;
    let warning: { code: string; observationEndsAt: string } | undefined;
    try {
      inserted = await db.transaction(async (tx) => {
        // The reads are sent together (pipelined on the transaction's connection, which runs them in this
        // order). R-DISCOVERABLE, R-ACCEPTING-SWITCH: the offer is checked under a share lock
        const [earlier, offer, observationEnd, payoutAccount] = await Promise.all([
          taskByKey(tx, actor.id, key),
          offerForOrder(tx, body.creatorId, body.taskType),
          observationEndsAt(tx, body.creatorId, now),
          // R-PAYOUT: the payout destination (creator or its MCN) is fixed when the escrow is held
          payoutAccountOf(tx, body.creatorId),
        ]);
        // a retry answers the first order, whatever changed since (quote, accepting switch): nothing is written
        if (earlier) throw new EarlierOrder(earlier);
        const refusal = orderRefusal(offer, body.taskType);
        if (refusal) throw refusal;
        const quoteFen = offer!.quoteFen!;
        if (body.priceFen !== undefined && body.priceFen !== quoteFen) {
          throw new Problem(409, 'quote-changed', 'The quote has changed', `The creator's quote is now ${quoteFen} fen`, { code: 'quote-changed', quoteFen });
        }
        // R-OBSERVATION-WARN: the client must see the warning and confirm
        if (observationEnd) {
          warning = { code: 'creator-in-observation', observationEndsAt: observationEnd.toISOString() };
          if (!body.acknowledgeObservationWarning) {
            throw new Problem(
              409,
              'observation-warning',
              "The creator's recent history is below expectations",
              'The creator is in an observation period after a violation. Send the order again with acknowledgeObservationWarning: true to go ahead.',
              { ...warning, code: 'observation-warning' },
            );
          }
        }
        // R-ORDER-FIELDS: the price is the quote at order time, kept on the task
        const order = validateOrder({ ...body, type: body.taskType, taskId, clientId: actor.id, priceFen: quoteFen, orderedAt: now.toISOString() });
        const fields = { ...order, payoutAccount, orderedAt: now.toISOString(), acceptDeadline: new Date(orderedAtMs + ACCEPT_WINDOW_MS).toISOString() };
        // engine 6: the order is the read model's event 1 from here (the workflow, started with orderProjected,
        // reaches the same state and projects from event 2)
        const placed = projectsOrder ? placedOrder(fields, fixesAtStart(taskEngine)) : undefined;
        const row = await insertOrder(tx, fields, { idempotencyKey: key, requestHash }, placed?.state);
        if (!row) return row;
        // R-ESCROW: the order and the price's move into escrow commit together, or neither does; the order's event
        // and the creator's arrival SMS (outbox) are sent beside the hold's first statement
        const written = await Promise.allSettled([
          holdEscrow(tx, row.id, row.clientId, row.priceFen),
          ...(placed ? [recordOrderEvent(tx, placed.state, placed.event, outboxInsertsOf(tx, row.id, placed.effects))] : []),
        ]);
        for (const result of written) if (result.status === 'rejected') throw result.reason;
        return row;
      });
    } catch (err) {
      if (err instanceof EarlierOrder) return replayOrder(res, err.row, requestHash, key);
      if (err instanceof InsufficientFunds) throw insufficient(err);
      if (err instanceof DomainError) throw fromDomainError(err);
      throw err;
    }
    if (!inserted) {
      const raced = await byKey(); // a concurrent request with the same key won
      if (!raced) throw new Error('order neither inserted nor found');
      return replayOrder(res, raced, requestHash, key);
    }
    // the answer's client rating is read while the workflow starts (it does not depend on it)
    const summary = summaries(db, [inserted]);
    summary.catch(() => undefined); // awaited below unless the start fails; never an unhandled rejection
    await startWorkflow(inserted);
    res
      .status(201)
      .location(`/v1/tasks/${inserted.id}`)
      .json({ ...(await summary)[0], warnings: warning ? [warning] : [] });
    markedStarted(inserted.id);
  });

  /**
   * After the answer: the start is confirmed, so the orphan sweep leaves the order alone. Lost (the process gone
   * first, PostgreSQL away), the sweep starts it again, which finds the running workflow, and marks it then.
   */
  function markedStarted(taskId: string): void {
    markStarted(db, taskId).catch((err: unknown) => log?.(`[orders] marking ${taskId} started failed (the orphan sweep will): ${String(err)}`));
  }

  async function replayOrder(res: Response, row: TaskRow, requestHash: string, key: string) {
    if (row.requestHash !== requestHash) {
      throw new Problem(422, 'idempotency-key-reused', 'Idempotency-Key reused with a different body', `Key ${key} already placed task ${row.id} with another body`, {
        code: 'idempotency-key-reused',
        taskId: row.id,
      });
    }
    // a replay never starts a second lifecycle: only an order whose start is not confirmed is started (again:
    // the workflow id is the task id, so a workflow that runs is found, not doubled)
    if (!row.workflowStartedAt) {
      await startWorkflow(row);
      markedStarted(row.id);
    }
    res.status(200).location(`/v1/tasks/${row.id}`).set({ 'Idempotent-Replayed': 'true' }).json((await summaries(db, [row]))[0]);
  }

  // List from the read model (never one Temporal query per row).
  router.get('/v1/tasks', async (req, res) => {
    const actor = actorOf(req, 'client', 'creator', 'mcn', 'operator');
    const q = ListTasksQuery.parse(req.query);
    if (actor.role === 'client' && q.clientId && q.clientId !== actor.id) throw forbidden('A client lists its own tasks only');
    if (actor.role === 'creator' && q.creatorId && q.creatorId !== actor.id) throw forbidden('A creator lists its own tasks only');
    const { items: page, more } = await listTasks(db, {
      clientId: actor.role === 'client' ? actor.id : q.clientId,
      creatorId: actor.role === 'creator' ? actor.id : q.creatorId,
      mcnId: actor.role === 'mcn' ? actor.id : undefined,
      status: q.status,
      beforeId: q.cursor ? decodeCursor(q.cursor) : undefined,
      limit: q.limit,
    });
    const nextCursor = more ? encodeCursor(page.at(-1)!.id) : null;
    res.json({ items: await summaries(db, page), nextCursor });
  });

  // One task: the live state from the workflow, or the last projection once it is gone.
  router.get('/v1/tasks/:taskId', async (req, res) => {
    const actor = actorOf(req, 'client', 'creator', 'mcn', 'operator');
    // who may see it from the parties alone: the stored snapshot is read only when the workflow cannot answer
    const parties = await visibleTaskPartiesOf(db, req, actor);
    // R-RATE: the creator asked to accept sees how creators rated this client (read beside the query)
    const rating = clientRatingSummaries(db, [parties.clientId]).then((r) => r.get(parties.clientId)!);
    rating.catch(() => undefined); // awaited below on every path; never an unhandled rejection meanwhile
    try {
      const task = await withTemporal(temporal, () => temporal.workflow.getHandle(parties.id).query(m.taskStateQuery));
      res.json({ task, source: 'workflow', clientRating: await rating });
    } catch (err) {
      const clientRating = await rating;
      const stored = err instanceof WorkflowNotFoundError || (err instanceof Problem && err.status === 503) ? await taskById(db, parties.id) : undefined;
      if (err instanceof WorkflowNotFoundError && stored?.snapshot) return void res.json({ task: stored.snapshot, source: 'projection', clientRating });
      // Temporal away (or no worker answers the query in time): the last projection, marked as such
      if (err instanceof Problem && err.status === 503 && stored?.snapshot) {
        return void res.set('Warning', '110 - "Response is a stored snapshot"').json({ task: stored.snapshot, source: 'snapshot', version: stored.version, asOf: stored.updatedAt.toISOString(), clientRating });
      }
      throw err;
    }
  });

  // The task's history (append-only task_events).
  router.get('/v1/tasks/:taskId/events', async (req, res) => {
    const actor = actorOf(req, 'client', 'creator', 'mcn', 'operator');
    const row = await visibleTaskPartiesOf(db, req, actor);
    const events = await eventsOf(db, row.id);
    res.json({
      items: events.map((e) => ({
        seq: e.seq,
        type: e.type,
        actor: { role: e.actorRole, id: e.actorId },
        reason: e.reason,
        payload: e.payload,
        at: e.occurredAt.toISOString(),
      })),
    });
  });

  for (const spec of TASK_ACTIONS) {
    router.post(`/v1/tasks/:taskId/${spec.path}`, async (req, res) => {
      const actor = actorOf(req, ...spec.roles);
      const key = optionalIdempotencyKey(req);
      const body: unknown = spec.body.parse(req.body ?? {});
      const row = await visibleTaskPartiesOf(db, req, actor);
      // the same key with another body is a 422, not the first request's answer
      const binding = key ? await bindKeyToRequest(db, req, actor, key) : null;
      // a retried request with the same key is the same update: applied once
      const updateId = key ? updateIdFor(actor, spec.path, key) : undefined;
      try {
        if (row.closedAt) {
          // A retry (its key bound by a first try that was not refused) of a task the read model shows closed.
          // The projection runs inside the workflow task, so after Temporal lost that task (killed before it
          // was stored) the read model is ahead of the workflow: while the workflow runs, the update is sent
          // again (its id makes it the same update). Once the workflow ended, a first try that decided an
          // event (task_events.update_id) is answered again, not refused: Temporal knows an update id only
          // while its run lasts.
          if (binding?.retried && updateId) {
            const running = await withTemporal(temporal, () => temporal.workflow.getHandle(row.id).describe()).then(
              (d) => d.status.name === 'RUNNING',
              (err: unknown) => {
                if (err instanceof WorkflowNotFoundError) return false;
                throw err;
              },
            );
            if (!running && (await hasEventOfUpdate(db, row.id, updateId))) {
              const stored = await taskById(db, row.id);
              if (stored?.snapshot) return void res.set('Idempotent-Replayed', 'true').json({ task: stored.snapshot });
            }
            if (!running) throw taskClosed(row);
          } else {
            throw taskClosed(row);
          }
        }
        const task = await withTemporal(temporal, () => spec.send(temporal.workflow.getHandle(row.id), body, actor, updateId));
        res.json({ task });
      } catch (err) {
        const problem = err instanceof Problem ? err : fromWorkflowError(err);
        // a refusal leaves nothing behind; after an outage the key stays bound (the update may have run)
        if (problem.status < 500) await binding?.release();
        throw problem;
      }
    });
  }

  return router;
}

const taskClosed = (row: Pick<TaskParties, 'status'>) =>
  new Problem(409, 'invalid-state', 'The action does not fit the task state', `The task is ${row.status}`, { code: 'task-closed', taskStatus: row.status });

/** Ends the order's transaction when its Idempotency-Key already placed a task: that task is the answer. */
class EarlierOrder extends Error {
  constructor(readonly row: TaskRow) {
    super(`the key already placed task ${row.id}`);
  }
}

const encodeCursor = (id: string) => Buffer.from(id).toString('base64url');
function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString();
  if (!TaskIdParam.shape.taskId.safeParse(id).success) throw badRequest('The cursor is not valid', { code: 'cursor-invalid' });
  return id;
}
