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
import { useWorkflowStack } from '../helpers/harness.js';
import { act, toPublished, waitFor } from '../helpers/tasks.js';

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
