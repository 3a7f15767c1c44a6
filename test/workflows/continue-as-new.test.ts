/**
 * Issue #14 / "every task must end": a task's history never reaches Temporal's
 * limit. A run hands over to a new one (continue-as-new) once its history is
 * long, carrying its state; the task id, queries, updates, the projection and
 * the timers go on as before. Pushed past a low budget here by a flood of
 * redelivered platform callbacks (the production budget is EVENTS_PER_RUN).
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import * as m from '../../workflows/messages.js';
import { DAY, MINUTE } from '../../domain/index.js';
import { ENGINE, EVENTS_PER_RUN } from '../../workflows/task.js';
import { useWorkflowStack } from '../helpers/harness.js';
import { CREATOR, act, projected, toPublished, waitFor } from '../helpers/tasks.js';

const { stack, db, sleep, withTask } = useWorkflowStack();

it('a task continues as new before its history grows past the budget, carrying its state; queries, updates, projection and timers go on', () =>
  withTask(
    { scriptRequired: false, retentionDays: 7 },
    async (h) => {
      const a = act(h);
      const live = await toPublished(h, 'item-1');
      const firstRun = (await h.describe()).runId;
      // a noisy platform: the same callback redelivered many times changes nothing but the history's length
      for (let i = 0; i < 80; i++) await a.platform('published', 'item-1', 'evt-published-item-1');
      const moved = await waitForNewRun(firstRun);
      const first = await stack().env.client.workflow.getHandle(h.workflowId, firstRun).fetchHistory();
      expect(first.events!.length).toBeGreaterThanOrEqual(100);
      expect(first.events!.length).toBeLessThan(100 + 100); // handed over soon after the budget
      expect(first.events!.at(-1)!.workflowExecutionContinuedAsNewEventAttributes).toBeTruthy();
      // the same task: its state, version and deadline carried over
      const s = await a.state();
      expect(s).toMatchObject({ taskId: live.taskId, status: 'awaiting_client_acceptance', publication: live.publication, nextDeadline: live.nextDeadline });
      expect(s.version).toBeGreaterThanOrEqual(live.version);
      // updates address the task, not the run; the projection follows
      const accepted = await a.acceptDelivery();
      expect(accepted.status).toBe('in_retention');
      expect((await projected(db(), h.workflowId, accepted.version)).row.status).toBe('in_retention');
      // the timers of the new run: retention ends 7 days after publication
      await sleep(7 * DAY + MINUTE);
      const done = await waitFor(h, (t) => t.status === 'completed');
      expect(done.completion?.kind).toBe('retention_served');
      expect(moved).not.toBe(firstRun);
    },
    { eventsPerRun: 100 },
  ));

it('R-RATE (engine 5): a run that hands over after its metrics collection ended carries that: the next run takes no reading', () =>
  withTask(
    { scriptRequired: false, retentionDays: 7 },
    async (h) => {
      const a = act(h);
      await toPublished(h, 'item-2');
      const accepted = await a.acceptDelivery();
      // this stack collects no metrics: the first reading answers "not collecting" and the collection ends
      await sleep(MINUTE);
      const firstRun = (await h.describe()).runId;
      const before = (await h.fetchHistory()).events ?? [];
      for (let i = 0; i < 80; i++) await a.platform('published', 'item-2', 'evt-published-item-2');
      await waitForNewRun(firstRun);
      const next = await h.fetchHistory();
      const input = next.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![1]!;
      expect(JSON.parse(Buffer.from(input.data!).toString('utf8'))).toMatchObject({ engine: ENGINE, readings: 0, readingsEnded: true });
      await sleep(7 * DAY);
      const done = await waitFor(h, (t) => t.status === 'completed');
      expect(done.completion?.kind).toBe('retention_served');
      expect(done.version).toBeGreaterThan(accepted.version);
      // the new run scheduled no reading: no local activity but the projection's
      const after = (await h.fetchHistory()).events ?? [];
      const readingTimers = after.filter((e) => e.timerStartedEventAttributes && /metrics reading/.test(summaryOf(e)));
      expect(readingTimers).toHaveLength(0);
      expect(before.filter((e) => e.timerStartedEventAttributes && /metrics reading/.test(summaryOf(e)))).toHaveLength(1);
    },
    { eventsPerRun: 100 },
  ));

it('an update retried with its id after the handover (a request retried with its Idempotency-Key) is answered with the state, not applied again', () =>
  withTask(
    { scriptRequired: false },
    async (h) => {
      const a = act(h);
      await a.accept();
      const updateId = `retried-${randomUUID()}`;
      const submit = () => h.executeUpdate(m.submitContentUpdate, { args: [{ actor: CREATOR, body: 'cut 1' }], updateId });
      const submitted = await submit();
      expect(submitted).toMatchObject({ status: 'content_review', content: { revision: 1 } });
      const firstRun = (await h.describe()).runId;
      for (let i = 0; i < 80; i++) await a.platform('published', 'item-early', 'evt-early-flood');
      await waitForNewRun(firstRun);
      // the new run: the operator sends the video back, so a submission would now be applied
      const rejected = await a.reviewContent('reject', 'Show the logo earlier');
      expect(rejected.status).toBe('content_drafting');
      const again = await submit();
      expect(again).toMatchObject({ status: 'content_drafting', version: rejected.version, content: { revision: 1 } });
      const next = await h.fetchHistory();
      const input = next.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![1]!;
      expect((JSON.parse(Buffer.from(input.data!).toString('utf8')) as { updates: string[] }).updates).toContain(updateId);
      // a new request (another id) is applied
      expect((await a.submitContent('cut 2')).content.revision).toBe(2);
    },
    { eventsPerRun: 100 },
  ));

/** A timer's summary as the Temporal UI shows it (user metadata, a JSON payload). */
function summaryOf(e: { userMetadata?: { summary?: { data?: Uint8Array | null } | null } | null }): string {
  const data = e.userMetadata?.summary?.data;
  return data ? String(JSON.parse(Buffer.from(data).toString('utf8'))) : '';
}

it('the production budget is well under Temporal\'s suggestion (4,096 events) and its limit (51,200)', () => {
  expect(EVENTS_PER_RUN).toBeLessThan(4_096);
  expect(EVENTS_PER_RUN).toBeGreaterThan(500); // a whole ordinary lifecycle fits one run
});

async function waitForNewRun(firstRun: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const { executions } = await stack().env.connection.workflowService.listOpenWorkflowExecutions({ namespace: 'default', maximumPageSize: 10 });
    const run = executions?.find((e) => e.execution?.runId && e.execution.runId !== firstRun)?.execution?.runId;
    if (run) return run;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the task did not continue as new');
}
