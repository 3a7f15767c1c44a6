/** Test drivers for the task workflow: order a task, act as its parties, read the projection. */
import { randomUUID } from 'node:crypto';
import { asc, eq } from 'drizzle-orm';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { Db } from '../../db/client.js';
import { creditEvents, notifications, taskEvents, tasks } from '../../db/schema/index.js';
import type { Actor, TaskOrder, TaskState } from '../../domain/index.js';
import { taskWorkflow, type TaskRun } from '../../workflows/task.js';
import * as m from '../../workflows/messages.js';
import { taskWorkflowStart } from '../../temporal/tasks.js';

export const CLIENT: Actor = { role: 'client', id: 'client-1' };
export const CREATOR: Actor = { role: 'creator', id: 'creator-1' };
export const OPERATOR: Actor = { role: 'operator', id: 'operator-1' };

export function order(overrides: Partial<TaskOrder> = {}): TaskOrder {
  return {
    taskId: `task-${randomUUID()}`,
    type: 'douyin_video',
    clientId: CLIENT.id,
    creatorId: CREATOR.id,
    brief: 'A 60-second review of the new phone, shot outdoors.',
    scriptRequired: true,
    retentionDays: 30,
    priceFen: 1_500_000,
    ...overrides,
  };
}

export type TaskHandle = WorkflowHandle<typeof taskWorkflow>;

/** Starts a task as the API does (temporal/tasks.ts taskWorkflowStart: the current engine, the search attributes). */
export async function startTask(client: Client, taskQueue: string, overrides: Partial<TaskOrder> = {}, run?: Pick<TaskRun, 'eventsPerRun'>): Promise<TaskHandle> {
  return client.workflow.start(taskWorkflow, { taskQueue, ...taskWorkflowStart(order(overrides), run) });
}

/** The parties' actions, as the API sends them. */
export const act = (h: TaskHandle) => ({
  state: () => h.query(m.taskStateQuery),
  accept: (actor = CREATOR) => h.executeUpdate(m.acceptTaskUpdate, { args: [{ actor }] }),
  decline: (reason: string, actor = CREATOR) => h.executeUpdate(m.declineTaskUpdate, { args: [{ actor, reason }] }),
  submitScript: (body = 'script v', actor = CREATOR) => h.executeUpdate(m.submitScriptUpdate, { args: [{ actor, body }] }),
  reviewScript: (decision: 'pass' | 'reject', reason?: string, actor = OPERATOR) =>
    h.executeUpdate(m.reviewScriptUpdate, { args: [{ actor, decision, reason }] }),
  confirmScript: (decision: 'confirm' | 'reject', reason?: string, actor = CLIENT) =>
    h.executeUpdate(m.confirmScriptUpdate, { args: [{ actor, decision, reason }] }),
  submitContent: (body = 'video v', actor = CREATOR) => h.executeUpdate(m.submitContentUpdate, { args: [{ actor, body }] }),
  reviewContent: (decision: 'pass' | 'reject', reason?: string, actor = OPERATOR) =>
    h.executeUpdate(m.reviewContentUpdate, { args: [{ actor, decision, reason }] }),
  confirmContent: (decision: 'confirm' | 'reject', reason?: string, actor = CLIENT) =>
    h.executeUpdate(m.confirmContentUpdate, { args: [{ actor, decision, reason }] }),
  publish: (platformItemId: string, actor = CREATOR) => h.executeUpdate(m.publishContentUpdate, { args: [{ actor, platformItemId }] }),
  acceptDelivery: (actor = CLIENT, publishTime?: string) => h.executeUpdate(m.acceptDeliveryUpdate, { args: [{ actor, publishTime }] }),
  grantModification: (actor = CLIENT) => h.executeUpdate(m.grantModificationUpdate, { args: [{ actor }] }),
  complain: (reason: string, actor = CLIENT) => h.executeUpdate(m.fileComplaintUpdate, { args: [{ actor, reason }] }),
  dismissComplaint: (note: string, actor = OPERATOR) =>
    h.executeUpdate(m.resolveComplaintUpdate, { args: [{ actor, outcome: 'dismissed', note }] }),
  upholdComplaint: (outcome: 'upheld_fix' | 'upheld_cancel', note: string, actor = OPERATOR) =>
    h.executeUpdate(m.resolveComplaintUpdate, { args: [{ actor, outcome, note }] }),
  /** A platform callback: the platform's own time is now (real time), the same for a redelivered event id. */
  platform: (kind: m.PlatformEventInput['kind'], itemId: string, eventId: string = randomUUID(), occurredAt?: string) => {
    const at = occurredAt ?? platformTimes.get(eventId) ?? new Date(Date.now() + platformTimes.size).toISOString();
    platformTimes.set(eventId, at);
    return h.signal(m.platformEventSignal, { eventId, kind, itemId, occurredAt: at });
  },
  extendDraft: (days: number, actor = CLIENT) => h.executeUpdate(m.extendDraftDeadlineUpdate, { args: [{ actor, days }] }),
  resolve: (outcome: 'cancel' | 'settle', reason: string, refundFen?: number, actor = OPERATOR) => h.executeUpdate(m.resolveTaskUpdate, { args: [{ actor, outcome, reason, refundFen }] }),
  proposeCancel: (reason: string, actor: Actor = CLIENT, refundFen?: number) => h.executeUpdate(m.proposeCancellationUpdate, { args: [{ actor, reason, refundFen }] }),
  answerCancel: (agree: boolean, actor: Actor = CREATOR, reason?: string) => h.executeUpdate(m.answerCancellationUpdate, { args: [{ actor, agree, reason }] }),
  requestTakedown: (reason: string, actor = CREATOR) => h.executeUpdate(m.requestTakedownUpdate, { args: [{ actor, reason }] }),
  answerTakedown: (agree: boolean, actor = CLIENT, reason?: string) => h.executeUpdate(m.answerTakedownUpdate, { args: [{ actor, agree, reason }] }),
});
/** The platform time each event id was first sent with (a redelivery repeats it). */
const platformTimes = new Map<string, string>();

/**
 * Drives a task to the given point through the real messages. `accepted`: the creator accepted already;
 * `client`: the task's client when it is not CLIENT.
 */
export async function toPublished(h: TaskHandle, itemId = 'item-1', from: { accepted?: boolean; client?: Actor } = {}): Promise<TaskState> {
  const a = act(h);
  if (!from.accepted) await a.accept();
  const s = await a.state();
  if (s.scriptRequired) {
    await a.submitScript();
    await a.reviewScript('pass');
    await a.confirmScript('confirm', undefined, from.client);
  }
  await a.submitContent();
  if (!s.publishFirst) {
    await a.reviewContent('pass');
    await a.confirmContent('confirm', undefined, from.client);
  }
  // R-TOUTIAO-ORDER: Toutiao content goes live first; the client reviews it in awaiting_client_acceptance
  await a.publish(itemId);
  await a.platform('published', itemId);
  return waitFor(h, (t) => t.status === 'awaiting_client_acceptance');
}

/** Polls the query until `done` holds (signals are asynchronous); fails after a few seconds. */
export async function waitFor(h: TaskHandle, done: (s: TaskState) => boolean, tries = 100): Promise<TaskState> {
  let last: TaskState | undefined;
  for (let i = 0; i < tries; i++) {
    last = await h.query(m.taskStateQuery);
    if (done(last)) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`condition not reached; last state: ${JSON.stringify(last)}`);
}

/**
 * Waits until the workflow has nothing in flight: its projection caught up and
 * no activity is pending. The time-skipping server jumps time at once; doing so
 * while a workflow task or activity is running would time it out, which real
 * time never does. Every time skip in the tests goes through this.
 */
export async function settle(db: Db, h: TaskHandle): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const state = await h.query(m.taskStateQuery);
    const [row] = await db.select({ version: tasks.version }).from(tasks).where(eq(tasks.id, h.workflowId));
    const { raw } = await h.describe();
    const busy = (raw.pendingActivities?.length ?? 0) > 0 || raw.pendingWorkflowTask != null || (await childStarting(h));
    if (row && row.version >= state.version && !busy) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  const { raw } = await h.describe();
  throw new Error(`task ${h.workflowId} did not settle: ${JSON.stringify({ activities: raw.pendingActivities?.map((a) => [a.activityType?.name, a.attempt, a.lastFailure?.message]), wft: raw.pendingWorkflowTask })}`);
}

/**
 * Whether a child workflow (the metrics child) was initiated and is not started
 * yet. The time-skipping test server starts such a child even when the parent is
 * terminated meanwhile, and then reopens the parent: an open workflow on a queue
 * no worker polls any more, which holds the clock of every later test.
 */
async function childStarting(h: TaskHandle): Promise<boolean> {
  const { events } = await h.fetchHistory();
  const initiated = new Set<string>();
  for (const e of events ?? []) {
    if (e.startChildWorkflowExecutionInitiatedEventAttributes) initiated.add(String(e.eventId));
    const done = e.childWorkflowExecutionStartedEventAttributes ?? e.startChildWorkflowExecutionFailedEventAttributes;
    if (done) initiated.delete(String(done.initiatedEventId));
  }
  return initiated.size > 0;
}

/** The projection in Postgres, once it caught up with the workflow's version. */
export async function projected(db: Db, taskId: string, version?: number) {
  for (let i = 0; i < 100; i++) {
    const [row] = await db.select().from(tasks).where(eq(tasks.id, taskId));
    if (row && (version === undefined || row.version >= version)) {
      const events = await db.select().from(taskEvents).where(eq(taskEvents.taskId, taskId)).orderBy(asc(taskEvents.seq));
      return { row, events };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`task ${taskId} not projected to version ${version}`);
}

export const notificationsOf = (db: Db, taskId: string) =>
  db.select().from(notifications).where(eq(notifications.taskId, taskId)).orderBy(asc(notifications.id));

export const creditOf = (db: Db, taskId: string) =>
  db.select().from(creditEvents).where(eq(creditEvents.taskId, taskId)).orderBy(asc(creditEvents.id));

/** Asserts that an update was refused with the given ApplicationFailure type (and code). */
export async function refusal(promise: Promise<unknown>): Promise<{ type: string; code: string; message: string }> {
  try {
    await promise;
  } catch (err) {
    const cause = (err as { cause?: { type?: string; message?: string; details?: unknown[] } }).cause;
    const details = (cause?.details?.[0] ?? {}) as { code?: string };
    return { type: cause?.type ?? 'unknown', code: details.code ?? '', message: cause?.message ?? String(err) };
  }
  throw new Error('expected the action to be refused, but it was accepted');
}
