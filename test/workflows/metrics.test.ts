/**
 * Post-campaign data (R-RATE): once a task is accepted, its metrics workflow
 * reads the item's counters from the (fake) content platform every 6 hours for
 * 7 days, then daily, and once more when retention ends; it stops when the
 * content is deleted. Time-skipping server, real Postgres.
 */
import { asc, eq } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { taskMetrics } from '../../db/schema/index.js';
import { DAY, HOUR, metricsPollAt } from '../../domain/index.js';
import { metricsWorkflowId } from '../../temporal/ids.js';
import { metricsWorkflow, type MetricsInput } from '../../workflows/metrics.js';
import { useWorkflowStack } from '../helpers/harness.js';
import { act, settle, toPublished, waitFor } from '../helpers/tasks.js';

const { stack, db, sleep, withTask } = useWorkflowStack({ metrics: true });
const readings = (taskId: string) => db().select().from(taskMetrics).where(eq(taskMetrics.taskId, taskId)).orderBy(asc(taskMetrics.observedAt));

it('R-RATE: the schedule is every 6 hours for 7 days, then daily, then a last reading at the end of retention', () => {
  const start = Date.parse('2026-03-01T00:00:00Z');
  const end = start + 10 * DAY + 3 * HOUR;
  const times: number[] = [];
  for (let n = 0; ; n++) {
    const at = metricsPollAt(n, start, end);
    if (at === null) break;
    times.push(at - start);
  }
  expect(times.slice(0, 3)).toEqual([0, 6 * HOUR, 12 * HOUR]);
  expect(times.filter((t) => t < 7 * DAY)).toHaveLength(28);
  expect(times.slice(28)).toEqual([7 * DAY, 8 * DAY, 9 * DAY, 10 * DAY, 10 * DAY + 3 * HOUR]);
  // accepted only when retention was over (a short retention auto-accepted late): one reading all the same
  expect(metricsPollAt(0, start, start)).toBe(start);
  expect(metricsPollAt(1, start, start)).toBeNull();
});

it('R-RATE: during retention the metrics are collected on that schedule as a time series, and collection ends with retention', () =>
  withTask({ scriptRequired: false, retentionDays: 10 }, async (h) => {
    await toPublished(h, 'item-m1');
    await sleep(HOUR);
    const accepted = await act(h).acceptDelivery();
    expect(accepted.status).toBe('in_retention');
    await sleep(10 * DAY + HOUR);
    await waitFor(h, (t) => t.status === 'completed');
    expect(await stack().resultOf(metricsWorkflowId(h.workflowId))).toEqual({ readings: 32, stoppedEarly: false });
    const rows = await readings(h.workflowId);
    expect(rows).toHaveLength(32); // 28 in the first week, days 7, 8, 9, and the end of retention
    const acceptedAt = Date.parse(accepted.acceptance.acceptedAt!);
    expect(rows[0]!.observedAt.getTime()).toBe(acceptedAt);
    expect(rows.at(-1)!.observedAt.getTime()).toBe(Date.parse(accepted.retention.endsAt!));
    for (let i = 1; i < rows.length; i++) {
      expect(rows[i]!.plays).toBeGreaterThanOrEqual(rows[i - 1]!.plays);
      expect(rows[i]!.itemId).toBe('item-m1');
    }
    expect(rows.at(-1)!.plays).toBeGreaterThan(0);
  }));

it('R-RATE: collection stops when the content is deleted within retention', () =>
  withTask({ scriptRequired: false, retentionDays: 30 }, async (h) => {
    await toPublished(h, 'item-m2');
    await act(h).acceptDelivery();
    await sleep(2 * DAY + HOUR);
    await act(h).platform('deleted', 'item-m2');
    await waitFor(h, (t) => t.status === 'completed' && t.completion?.kind === 'retention_broken');
    await sleep(DAY);
    const result = await stack().resultOf<{ readings: number; stoppedEarly: boolean }>(metricsWorkflowId(h.workflowId));
    expect(result.stoppedEarly).toBe(true);
    expect((await readings(h.workflowId)).length).toBe(result.readings);
    expect(result.readings).toBeGreaterThanOrEqual(9); // 0h .. 48h every 6 hours
    expect(result.readings).toBeLessThanOrEqual(10);
  }));

/** What a run's history holds: activity tasks scheduled, local-activity markers, timers started. */
async function historyOf(workflowId: string) {
  const events = (await stack().env.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  return {
    activities: events.filter((e) => e.activityTaskScheduledEventAttributes).length,
    markers: events.filter((e) => e.markerRecordedEventAttributes).length,
    timers: events.filter((e) => e.timerStartedEventAttributes).length,
    total: events.length,
  };
}

it('R-RATE (issue #14, metrics engine 2): each reading is a local activity in the workflow task its timer wakes; a reading the platform fails is retried on a durable timer', () =>
  withTask({ scriptRequired: false, retentionDays: 3 }, async (h) => {
    await toPublished(h, 'item-m3');
    stack().contentPlatform.failNext(2); // the reading at acceptance fails twice
    const accepted = await act(h).acceptDelivery();
    await sleep(3 * DAY + HOUR);
    await waitFor(h, (t) => t.status === 'completed');
    const id = metricsWorkflowId(h.workflowId);
    expect(await stack().resultOf(id)).toEqual({ readings: 13, stoppedEarly: false }); // every 6 h for 3 days, then the end
    const rows = await readings(h.workflowId);
    expect(rows).toHaveLength(13);
    expect(rows[0]!.observedAt.getTime()).toBe(Date.parse(accepted.acceptance.acceptedAt!)); // retried, still the reading due then
    // no activity task: a marker per attempt (13 readings, 2 failed attempts), a timer per reading after the first and per backoff
    expect(await historyOf(id)).toMatchObject({ activities: 0, markers: 15, timers: 12 + 2 });
  }));

it('R-RATE: a collection started before engine 2 (no engine in its input) goes on reading through activity tasks', () =>
  withTask({ scriptRequired: false, retentionDays: 3 }, async (h) => {
    await toPublished(h, 'item-m4');
    const accepted = await act(h).acceptDelivery();
    await settle(db(), h);
    // as a collection started by an earlier release would be: the same input without an engine
    const input: MetricsInput = { taskId: h.workflowId, startsAt: accepted.acceptance.acceptedAt!, endsAt: accepted.retention.endsAt! };
    const { taskQueue } = await stack().env.client.workflow.getHandle(metricsWorkflowId(h.workflowId)).describe();
    const old = await stack().env.client.workflow.start(metricsWorkflow, { taskQueue, workflowId: `${h.workflowId}:metrics-engine-1`, args: [input] });
    await sleep(3 * DAY + HOUR);
    await waitFor(h, (t) => t.status === 'completed');
    expect(await stack().resultOf(old.workflowId)).toEqual({ readings: 13, stoppedEarly: false });
    expect(await historyOf(old.workflowId)).toMatchObject({ activities: 13, markers: 0 });
    expect(await readings(h.workflowId)).toHaveLength(13); // the same readings (idempotent per reading number), none twice
  }));
