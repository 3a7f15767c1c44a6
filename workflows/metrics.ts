/**
 * Post-campaign data for one task: `metricsWorkflow` (workflow id
 * `<taskId>:metrics`) reads the published item's counters from the content
 * platform on the schedule of domain/metrics.ts, from acceptance to the end of
 * retention, and stores each reading (activity `collectMetrics`, idempotent per
 * reading number). It stops early when the task ends otherwise (content deleted).
 *
 * It is its own workflow, started when the task is accepted, so a year of
 * readings (~390 timers and activities) never weighs on the task's history; it
 * continues as new every 100 readings to keep its own history small.
 */
import { continueAsNew, proxyActivities, sleep } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { metricsPollAt } from '../domain/metrics.js';

const { collectMetrics } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '30 seconds', maximumInterval: '1 hour' },
});

export interface MetricsInput {
  taskId: string;
  /** Acceptance (start of retention) and end of retention, ISO 8601. */
  startsAt: string;
  endsAt: string;
  /** Readings already taken by earlier runs (continue-as-new). */
  done?: number;
}

export const READINGS_PER_RUN = 100;

export async function metricsWorkflow(input: MetricsInput): Promise<{ readings: number; stoppedEarly: boolean }> {
  const start = Date.parse(input.startsAt);
  const end = Date.parse(input.endsAt);
  let n = input.done ?? 0;
  for (let inRun = 0; ; inRun++) {
    const at = metricsPollAt(n, start, end);
    if (at === null) return { readings: n, stoppedEarly: false };
    if (inRun === READINGS_PER_RUN) return continueAsNew<typeof metricsWorkflow>({ ...input, done: n });
    const wait = at - new Date().getTime(); // workflow time, replay-safe
    if (wait > 0) await sleep(wait);
    const { collecting } = await collectMetrics({ taskId: input.taskId, reading: n, at: new Date(at).toISOString() });
    if (!collecting) return { readings: n, stoppedEarly: true };
    n += 1;
  }
}
