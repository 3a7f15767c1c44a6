/**
 * `npm run history:save`: records histories of tasks in several states, of an
 * appeal and of a metrics workflow on the time-skipping server into
 * test/fixtures/histories (`appeal-*` files are appealWorkflow histories,
 * `metrics-*` files metricsWorkflow ones, the others taskWorkflow). The replay
 * test (test/workflows/replay.test.ts) runs the current workflow code against
 * every saved history: a change that would break running tasks fails CI and
 * must go behind patched(). Save new histories before changing the workflow.
 * Existing files are never overwritten (an old history is what running tasks
 * look like): only scenarios without a file are recorded.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { eq } from 'drizzle-orm';
import { WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import type * as ProtoUtils from '@temporalio/common/lib/proto-utils.js';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { UserActor } from '../api/auth.js';
import { fileAppeal } from '../db/appeals.js';
import { applyCreditChange } from '../db/credit.js';
import { creditEvents } from '../db/schema/index.js';
import { HOUR, DAY, MINUTE } from '../domain/index.js';
import { appealWorkflowId, startAppealWorkflow } from '../temporal/appeals.js';
import { metricsWorkflowId } from '../temporal/ids.js';
import type { appealWorkflow } from '../workflows/appeal.js';
import { appealStateQuery, decideAppealUpdate, type AppealState } from '../workflows/appealMessages.js';
import type { metricsWorkflow } from '../workflows/metrics.js';
import { ensureAccount } from '../test/helpers/accounts.js';
import { startWorkflowStack } from '../test/helpers/stack.js';
import { CLIENT, act, order, settle, toPublished, waitFor, type TaskHandle } from '../test/helpers/tasks.js';
import type { TaskOrder } from '../domain/index.js';
import { taskWorkflow, type TaskRun } from '../workflows/task.js';
import { taskWorkflowStart } from '../temporal/tasks.js';
import { repoRoot } from './dev.js';

// proto-utils is CommonJS; loaded through require it shares the SDK's protobuf root
const { historyToJSON } = createRequire(import.meta.url)('@temporalio/common/lib/proto-utils') as typeof ProtoUtils;

Runtime.install({ logger: new DefaultLogger('WARN') });

const out = join(repoRoot, 'test/fixtures/histories');
mkdirSync(out, { recursive: true });
// metrics on, as in production: an accepted task starts its metrics workflow (started by the
// projection activity, so the task's own history is the same either way)
const stack = await startWorkflowStack({ metrics: true });
const db = stack.postgres.database.db;
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until the workflow has no workflow task or activity in flight (the test server must not skip time or terminate then). */
async function settleWorkflow(h: WorkflowHandle): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const { raw } = await h.describe();
    if ((raw.pendingActivities?.length ?? 0) === 0 && raw.pendingWorkflowTask == null) return;
    await pause(25);
  }
  throw new Error(`workflow ${h.workflowId} did not settle`);
}

/** The task's metrics workflow while it runs (it exists once the task was accepted), else null. */
async function runningMetrics(taskId: string): Promise<WorkflowHandle<typeof metricsWorkflow> | null> {
  const m = stack.env.client.workflow.getHandle<typeof metricsWorkflow>(metricsWorkflowId(taskId));
  try {
    return (await m.describe()).status.name === 'RUNNING' ? m : null;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
}

/** Skips time once the task and its metrics workflow (if any) have nothing in flight. */
const sleep = async (h: TaskHandle, ms: number) => {
  await settle(db, h);
  const m = await runningMetrics(h.workflowId);
  if (m) await settleWorkflow(m);
  await stack.skip(ms);
};

/** Starts a task as the API does, with the given engine (default: the current one, workflows/task.ts ENGINE). */
const startTask = (client: typeof stack.env.client, taskQueue: string, overrides: Partial<TaskOrder>, run?: Pick<TaskRun, 'eventsPerRun' | 'orderProjected'>, engine?: number): Promise<TaskHandle> =>
  client.workflow.start(taskWorkflow, { taskQueue, ...taskWorkflowStart(order(overrides), run, engine) });

/** Polls `read` until `done` holds. */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  let last: T | undefined;
  for (let i = 0; i < 200; i++) {
    last = await read();
    if (done(last)) return last;
    await pause(50);
  }
  throw new Error(`${what}: condition not reached; last: ${JSON.stringify(last)}`);
}

/** Accepted, content submitted, cancelled by agreement (the client proposes, the creator agrees). */
/** Accepted by the client (payout), the content deleted in retention (credit), retention served. */
async function paidThenDeleted(h: TaskHandle, deletedEventId: string): Promise<void> {
  await toPublished(h, 'item-1');
  await act(h).acceptDelivery();
  await act(h).platform('deleted', 'item-1', deletedEventId);
  await waitFor(h, (s) => s.status === 'completed');
  await h.result();
}

async function mutualCancel(h: TaskHandle): Promise<void> {
  const a = act(h);
  await a.accept();
  await a.submitContent();
  await a.proposeCancel('brief changed', CLIENT);
  await a.answerCancel(true);
  await h.result();
}

/**
 * The rules' corrections at work (fixes 1): the platform reports the item live before the client confirmed (kept),
 * then hidden (the report dropped); linked, it goes live when restored; a cancellation proposal still open at the
 * client's acceptance lapses; a takedown request left unanswered for 48 hours is refused; retention served.
 */
async function ruleFixes(h: TaskHandle, prefix: string): Promise<void> {
  const a = act(h);
  await a.accept();
  await a.submitContent();
  await a.reviewContent('pass');
  await a.platform('published', 'early-1', `${prefix}-1`);
  await waitFor(h, (s) => s.publication.reported?.itemId === 'early-1');
  await a.confirmContent('confirm');
  await a.platform('hidden', 'early-1', `${prefix}-2`);
  await waitFor(h, (s) => s.publication.reported === null);
  await a.publish('early-1');
  await a.platform('restored', 'early-1', `${prefix}-3`);
  await waitFor(h, (s) => s.status === 'awaiting_client_acceptance');
  await a.proposeCancel('brief changed', CLIENT);
  await a.acceptDelivery();
  await a.answerCancel(true).then(
    () => Promise.reject(new Error('a lapsed proposal was agreed to')),
    () => undefined,
  );
  await a.requestTakedown('rebrand');
  await sleep(h, 2 * DAY);
  await waitFor(h, (s) => s.takedown === null);
  await sleep(h, 6 * DAY);
  await waitFor(h, (s) => s.status === 'completed');
  await h.result();
}

/** Published, then a flood of one redelivered callback until the run hands over (a low budget); the first run's handle. */
async function continuedAsNew(h: TaskHandle, eventId: string): Promise<WorkflowHandle> {
  await toPublished(h, 'item-1');
  const first = (await h.describe()).runId;
  for (let i = 0; i < 80; i++) await act(h).platform('published', 'item-1', eventId);
  await until(() => h.describe(), (d) => d.runId !== first, 'continued as new');
  return stack.env.client.workflow.getHandle(h.workflowId, first);
}

/** taskWorkflow histories: a task ordered with `order` (task id `replay-<name>`), driven by `run`. */
const scenarios: Record<string, { order?: Partial<TaskOrder>; orderedNow?: boolean; engine?: number; taskRun?: Pick<TaskRun, 'eventsPerRun' | 'orderProjected'>; run: (h: TaskHandle) => Promise<void | WorkflowHandle> }> = {
  // ordered, reminded, then cancelled at 24h
  'douyin-expired': {
    order: { scriptRequired: false },
    run: async (h) => {
      await sleep(h, 25 * HOUR);
    },
  },
  // script rejected by the operator and the client, now in content production
  'douyin-script-rejections': {
    order: { scriptRequired: true },
    run: async (h) => {
      const a = act(h);
      await a.accept();
      await a.submitScript('v1');
      await a.reviewScript('reject', 'Mentions a competitor');
      await a.submitScript('v2');
      await a.reviewScript('pass');
      await a.confirmScript('reject', 'Needs a stronger hook');
      await a.submitScript('v3');
      await a.reviewScript('pass');
      await a.confirmScript('confirm');
    },
  },
  // published, hidden, complaint filed and dismissed, still awaiting acceptance
  'douyin-awaiting-acceptance': {
    order: { scriptRequired: false },
    run: async (h) => {
      await toPublished(h, 'item-1');
      await sleep(h, 2 * DAY);
      await act(h).platform('hidden', 'item-1', 'evt-1');
      await act(h).platform('restored', 'item-1', 'evt-2');
      await act(h).complain('Not what we agreed');
      await sleep(h, DAY);
      await act(h).dismissComplaint('Matches the brief');
    },
  },
  // republished, auto-accepted, a retention violation, retention served
  'douyin-retention-completed': {
    order: { scriptRequired: false },
    run: async (h) => {
      await toPublished(h, 'v0');
      await act(h).publish('v1');
      await act(h).platform('published', 'v1', 'evt-3');
      await sleep(h, 8 * DAY);
      await act(h).platform('hidden', 'v1', 'evt-4');
      await sleep(h, 40 * DAY);
    },
  },
  // after the ledger (patched 'escrow-settlement'): expiry refunds the escrow
  'douyin-escrow-refunded': {
    order: { scriptRequired: false },
    run: async (h) => {
      await sleep(h, 25 * HOUR);
    },
  },
  // after the ledger: the client accepts and the escrow is paid out
  'douyin-escrow-paid': {
    order: { scriptRequired: false, retentionDays: 7 },
    run: async (h) => {
      await toPublished(h, 'item-1');
      await act(h).acceptDelivery();
      await sleep(h, 8 * DAY);
    },
  },
  // Xigua: the client published; auto-accepted; in retention
  'xigua-in-retention': {
    order: { type: 'xigua_video', scriptRequired: false, retentionDays: 30 },
    run: async (h) => {
      const a = act(h);
      await a.accept();
      await a.submitContent('video');
      await a.reviewContent('pass');
      await a.confirmContent('confirm');
      await a.publish('xg-1', CLIENT);
      await a.platform('published', 'xg-1', 'evt-5');
      await sleep(h, 8 * DAY);
    },
  },
  // Toutiao article: outline advanced at the 3rd rejection, article rejected twice, modified with permission, settled
  'toutiao-article-settled': {
    order: { type: 'toutiao_article', scriptRequired: true, retentionDays: 7 },
    run: async (h) => {
      const a = act(h);
      await a.accept();
      for (let i = 0; i < 3; i++) {
        await a.submitScript(`outline ${i}`);
        await a.reviewScript('pass');
        await a.confirmScript('reject', 'no');
      }
      for (let i = 0; i < 2; i++) {
        await a.submitContent(`article ${i}`);
        await a.reviewContent('pass');
        await a.confirmContent('reject', 'revise');
      }
      await a.submitContent('article final');
      await a.reviewContent('pass');
      await a.confirmContent('confirm');
      await a.publish('tt-1');
      await a.platform('published', 'tt-1', 'evt-6');
      await a.grantModification();
      await a.publish('tt-2');
      await a.platform('published', 'tt-2', 'evt-7');
      await settle(db, h);
      const s = await a.state();
      await a.acceptDelivery(CLIENT, s.publication.publishedAt!);
    },
  },
  // complaint upheld with a fix: revised, reviewed, confirmed, published again, accepted by the client; in retention
  'douyin-complaint-upheld-fix': {
    order: { scriptRequired: false },
    run: async (h) => {
      const a = act(h);
      await toPublished(h, 'v1');
      await a.complain('The logo is missing');
      await a.upholdComplaint('upheld_fix', 'The brief asked for the logo');
      await a.submitContent('video v2, with logo');
      await a.reviewContent('pass');
      await a.confirmContent('confirm');
      await a.publish('v2');
      await a.platform('published', 'v2', 'evt-8');
      await waitFor(h, (t) => t.status === 'awaiting_client_acceptance' && t.publication.itemId === 'v2');
      await a.acceptDelivery();
    },
  },
  // rules 2 (R-STAGE-DEADLINE): drafting reminded, extended, then cancelled as delivery_overdue
  'v2-delivery-overdue': {
    order: { scriptRequired: true, draftDays: 2 },
    run: async (h) => {
      await act(h).accept();
      await sleep(h, 30 * HOUR);
      await act(h).extendDraft(1);
      await sleep(h, 3 * DAY);
      await waitFor(h, (t) => t.status === 'cancelled');
    },
  },
  // rules 2: review escalated, complaint escalated and dismissed, deleted and republished within the grace,
  // hidden (-25), restored, accepted, takedown refused by silence then agreed
  'v2-escalations-grace-takedown': {
    order: { scriptRequired: false, retentionDays: 60 },
    run: async (h) => {
      const a = act(h);
      await a.accept();
      await a.submitContent();
      await sleep(h, 5 * DAY);
      await a.reviewContent('pass');
      await a.confirmContent('confirm');
      await a.publish('v1');
      await a.platform('published', 'v1', 'evt-1', '2030-01-01T00:00:00.000Z');
      await waitFor(h, (t) => t.status === 'awaiting_client_acceptance');
      await a.complain('The logo is missing');
      await sleep(h, 5 * DAY);
      await a.dismissComplaint('The logo is there');
      await a.platform('deleted', 'v1', 'evt-2', '2030-01-01T01:00:00.000Z');
      await a.publish('v2');
      await a.platform('published', 'v2', 'evt-3', '2030-01-01T02:00:00.000Z');
      await a.platform('hidden', 'v2', 'evt-4', '2030-01-01T03:00:00.000Z');
      await a.platform('hidden', 'v2', 'evt-4', '2030-01-01T03:00:00.000Z');
      await a.platform('restored', 'v2', 'evt-5', '2030-01-01T04:00:00.000Z');
      await waitFor(h, (t) => t.retention.violations === 1 && t.publication.visibility === 'public');
      await a.acceptDelivery();
      await a.requestTakedown('rebrand');
      await sleep(h, 3 * DAY);
      await a.requestTakedown('rebrand again');
      await a.answerTakedown(true);
      await h.result();
    },
  },
  // rules 2: mutual cancellation after the first content submission (90/10 split)
  'v2-mutual-cancel-split': { order: { scriptRequired: false }, run: (h) => mutualCancel(h) },
  // complaint upheld with a cancellation: the task is cancelled (workflow completed)
  // after patched('decision-notify'): the client's script and video decisions each send the creator an SMS
  'v4-decision-notify': {
    order: { scriptRequired: true },
    run: async (h) => {
      const a = act(h);
      await a.accept();
      await a.submitScript('draft 1');
      await a.reviewScript('pass');
      await a.confirmScript('reject', 'Needs a stronger hook');
      await a.submitScript('draft 2');
      await a.reviewScript('pass');
      await a.confirmScript('confirm');
      await a.submitContent('video 1');
      await a.reviewContent('pass');
      await a.confirmContent('reject', 'Show the logo earlier');
    },
  },
  // after patched('toutiao-order'): the article published first, the live article rejected once, modified in
  // place, deleted and restored while revised, confirmed by the client (settled); in retention
  'v5-toutiao-order': {
    order: { type: 'toutiao_article', scriptRequired: true, retentionDays: 30 },
    run: async (h) => {
      const a = act(h);
      await a.accept();
      await a.submitScript('outline 1');
      await a.reviewScript('pass');
      await a.confirmScript('confirm');
      await a.submitContent('article 1');
      await a.publish('tt-1');
      await a.platform('published', 'tt-1', 'evt-v5-1');
      await waitFor(h, (s) => s.status === 'awaiting_client_acceptance');
      await sleep(h, DAY);
      await a.confirmContent('reject', 'The price is wrong');
      await a.platform('hidden', 'tt-1', 'evt-v5-2');
      await a.platform('restored', 'tt-1', 'evt-v5-3');
      await waitFor(h, (s) => s.publication.visibility === 'public');
      await sleep(h, DAY);
      await a.submitContent('article 2');
      await a.publish('tt-1');
      await settle(db, h);
      await a.confirmContent('confirm');
    },
  },
  // after patched('continue-as-new'): a run that handed over to the next (a low budget and a flood of
  // redelivered callbacks); the saved history is the first run's, ending in ContinuedAsNew
  'v6-continued-as-new': { order: { scriptRequired: false }, taskRun: { eventsPerRun: 100 }, run: (h) => continuedAsNew(h, 'evt-v6-redelivered') },
  // engine 3 (one patch for new tasks; the escrow settles in the projection's transaction): accepted by the
  // client (payout), content deleted in retention (credit), retention served
  'v7-engine-3-payout': { order: { scriptRequired: false, retentionDays: 7 }, run: (h) => paidThenDeleted(h, 'evt-v7-1') },
  // engine 3: a mutual cancellation (the escrow settled in the projection)
  'v7-engine-3-split': { order: { scriptRequired: false }, run: (h) => mutualCancel(h) },
  // engine 3 across continue-as-new: the first run's history, handing its engine to the next
  'v7-engine-3-continued': { order: { scriptRequired: false }, taskRun: { eventsPerRun: 100 }, run: (h) => continuedAsNew(h, 'evt-v7-redelivered') },
  // engine 4 (versioned by the start's input, no patch; the start's search attributes not upserted again):
  // the same three shapes as engine 3's, ordered with an order time as the API sends it
  'v8-engine-4-payout': { order: { scriptRequired: false, retentionDays: 7 }, orderedNow: true, engine: 4, run: (h) => paidThenDeleted(h, 'evt-v8-1') },
  'v8-engine-4-split': { order: { scriptRequired: false }, orderedNow: true, engine: 4, run: (h) => mutualCancel(h) },
  'v8-engine-4-continued': { order: { scriptRequired: false }, orderedNow: true, engine: 4, taskRun: { eventsPerRun: 100 }, run: (h) => continuedAsNew(h, 'evt-v8-redelivered') },
  // engine 5 (the task takes its own metrics readings, issue #14): accepted, every reading of a 1-day
  // retention (one failed by the platform and retried on a timer), retention served
  'v10-engine-5-readings': {
    order: { scriptRequired: false, retentionDays: 1 },
    orderedNow: true,
    engine: 5,
    run: async (h) => {
      await toPublished(h, 'item-1');
      stack.contentPlatform.failNext(1);
      await act(h).acceptDelivery();
      await sleep(h, DAY + HOUR);
      await waitFor(h, (s) => s.status === 'completed');
      await h.result();
    },
  },
  // engine 5: paid, then the content deleted in retention (collection ends with it)
  'v10-engine-5-payout': { order: { scriptRequired: false, retentionDays: 7 }, orderedNow: true, engine: 5, run: (h) => paidThenDeleted(h, 'evt-v10-1') },
  // engine 5: readings across continue-as-new (a low budget); the first run's history, handing its count over
  'v10-engine-5-continued': {
    order: { scriptRequired: false, retentionDays: 3 },
    orderedNow: true,
    engine: 5,
    taskRun: { eventsPerRun: 90 },
    run: async (h) => {
      await toPublished(h, 'item-1');
      const first = (await h.describe()).runId;
      await act(h).acceptDelivery();
      await sleep(h, 3 * DAY + HOUR);
      await waitFor(h, (s) => s.status === 'completed');
      await h.result();
      return stack.env.client.workflow.getHandle(h.workflowId, first);
    },
  },
  // engine 6 (the API records the order's event in the order's transaction, issue #14): started as the API
  // starts an order it projected (orderProjected), paid then deleted in retention; and a mutual cancellation
  'v11-engine-6-payout': { order: { scriptRequired: false, retentionDays: 7 }, orderedNow: true, engine: 6, taskRun: { orderProjected: true }, run: (h) => paidThenDeleted(h, 'evt-v11-1') },
  'v11-engine-6-split': { order: { scriptRequired: false }, orderedNow: true, engine: 6, taskRun: { orderProjected: true }, run: (h) => mutualCancel(h) },
  // engine 6 without orderProjected (a task started without the API): the workflow projects its order itself
  'v11-engine-6-unprojected': { order: { scriptRequired: false, retentionDays: 7 }, orderedNow: true, engine: 6, run: (h) => paidThenDeleted(h, 'evt-v11-2') },
  // engine 7 (the rules' corrections from the order): as engine 6's, and the corrections at work
  'v12-engine-7-payout': { order: { scriptRequired: false, retentionDays: 7 }, orderedNow: true, engine: 7, taskRun: { orderProjected: true }, run: (h) => paidThenDeleted(h, 'evt-v12-1') },
  'v12-engine-7-split': { order: { scriptRequired: false }, orderedNow: true, engine: 7, taskRun: { orderProjected: true }, run: (h) => mutualCancel(h) },
  'v12-engine-7-fixes': { order: { scriptRequired: false, retentionDays: 7 }, orderedNow: true, engine: 7, taskRun: { orderProjected: true }, run: (h) => ruleFixes(h, 'evt-v12-fixes') },
  // an engine-6 task meeting the corrections on a current worker: patched('rule-fixes-1') at its first decided event
  'v12-engine-6-rule-fixes': { order: { scriptRequired: false, retentionDays: 7 }, orderedNow: true, engine: 6, taskRun: { orderProjected: true }, run: (h) => ruleFixes(h, 'evt-v12-e6') },
  'douyin-complaint-upheld-cancel': {
    order: { scriptRequired: false },
    run: async (h) => {
      await toPublished(h, 'item-1');
      await act(h).complain('Published on the wrong account');
      await act(h).upholdComplaint('upheld_cancel', 'Verified: wrong account');
      await h.result();
    },
  },
};

const OPERATOR: UserActor = { role: 'operator', id: 'op-replay' };

/**
 * Histories of other workflows: `record` drives the workflow to the point to
 * save and returns its handle (`appeal-*`: appealWorkflow, `metrics-*`: metricsWorkflow).
 */
const otherScenarios: Record<string, (taskQueue: string) => Promise<WorkflowHandle>> = {
  // an appeal against a deduction, unanswered at its due time: escalated, then upheld (workflow completed)
  'appeal-escalated-upheld': async (taskQueue) => {
    const creator: UserActor = { role: 'creator', id: 'creator-replay-appeal' };
    await ensureAccount(db, creator);
    const nowMs = await stack.env.currentTimeMs();
    const key = 'card:replay-appeal-escalated-upheld';
    await applyCreditChange(db, { key, creatorId: creator.id, delta: -20, cause: 'card', reason: 'yellow card', actor: OPERATOR, occurredAt: new Date(nowMs - HOUR) });
    const [event] = await db.select().from(creditEvents).where(eq(creditEvents.key, key));
    const row = await fileAppeal(db, { id: 'apl-replay-escalated-upheld', creatorId: creator.id, creditEventId: event!.id, reason: 'Force majeure: the venue flooded', filedAt: new Date(nowMs) });
    await startAppealWorkflow(stack.env.client, taskQueue, row, db);
    const h = stack.env.client.workflow.getHandle<typeof appealWorkflow>(appealWorkflowId(row.id));
    await until(() => h.query(appealStateQuery), (s) => s.status === 'open', 'appeal open');
    await settleWorkflow(h);
    await stack.skip(row.dueAt.getTime() + MINUTE - (await stack.env.currentTimeMs()));
    await until(() => h.query(appealStateQuery), (s) => s.status === 'escalated', 'appeal escalated');
    await settleWorkflow(h);
    await h.executeUpdate(decideAppealUpdate, { args: [{ actor: OPERATOR, outcome: 'upheld', note: 'Flood confirmed by the venue' }] });
    const result = await stack.resultOf<AppealState>(h.workflowId);
    if (result.status !== 'upheld' || !result.escalatedAt) throw new Error(`appeal not escalated and upheld: ${JSON.stringify(result)}`);
    return h;
  },
  // the metrics workflow of a task with a 3-day retention, accepted by the client, run to completion (a task
  // of engine 4: engine 5 tasks take their own readings)
  'metrics-short-retention': (taskQueue) => metricsCollection(taskQueue, 'replay-metrics-short-retention', 'item-m1', 0),
  // engine 2 (readings as local activities): the same collection, one reading failed by the platform and retried
  'metrics-v9-local-readings': (taskQueue) => metricsCollection(taskQueue, 'replay-metrics-v9-local-readings', 'item-m9', 1),
};

/** An engine-4 task accepted with a 3-day retention (`failures`: platform reads failed first); its metrics workflow, run to the end. */
async function metricsCollection(taskQueue: string, taskId: string, itemId: string, failures: number): Promise<WorkflowHandle> {
  const h = await startTask(stack.env.client, taskQueue, { taskId, scriptRequired: false, retentionDays: 3 }, undefined, 4);
  await toPublished(h, itemId);
  if (failures > 0) stack.contentPlatform.failNext(failures);
  await act(h).acceptDelivery();
  await settle(db, h);
  const m = await until(() => runningMetrics(h.workflowId), (r) => r !== null, 'metrics workflow started');
  await sleep(h, 3 * DAY + HOUR);
  await stack.resultOf(h.workflowId);
  const result = await stack.resultOf<{ readings: number; stoppedEarly: boolean }>(m!.workflowId);
  if (result.stoppedEarly || result.readings < 2) throw new Error(`metrics did not run to the end of retention: ${JSON.stringify(result)}`);
  return m!;
}

const save = async (name: string, file: string, h: WorkflowHandle) => {
  const history = await h.fetchHistory();
  writeFileSync(file, historyToJSON(history));
  console.log(`[history] ${name}: ${history.events?.length ?? 0} events`);
};
const missing = (name: string): string | null => {
  const file = join(out, `${name}.json`);
  if (!existsSync(file)) return file;
  console.log(`[history] ${name}: kept (already recorded)`);
  return null;
};

const { worker, taskQueue } = await stack.worker();
await worker.runUntil(async () => {
  for (const [name, scenario] of Object.entries(scenarios)) {
    const file = missing(name);
    if (!file) continue;
    const orderedAt = scenario.orderedNow ? { orderedAt: new Date(await stack.env.currentTimeMs()).toISOString() } : {};
    const h = await startTask(stack.env.client, taskQueue, { taskId: `replay-${name}`, ...orderedAt, ...scenario.order }, scenario.taskRun, scenario.engine);
    const recorded = await scenario.run(h);
    await settle(db, h);
    await save(name, file, recorded ?? h); // the task's own history (or the run the scenario names), never its metrics workflow's
    await h.terminate('history saved').catch(() => undefined);
    // an accepted task left its metrics workflow running: stopped too, once settled, so it fires no timers later
    const m = await runningMetrics(h.workflowId);
    if (m) {
      await settleWorkflow(m);
      await m.terminate('history saved').catch(() => undefined);
    }
  }
  for (const [name, record] of Object.entries(otherScenarios)) {
    const file = missing(name);
    if (!file) continue;
    const h = await record(taskQueue);
    await settleWorkflow(h);
    await save(name, file, h);
  }
});
await stack.stop();
