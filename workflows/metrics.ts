/**
 * Post-campaign data for one task: `metricsWorkflow` (workflow id
 * `<taskId>:metrics`) reads the published item's counters from the content
 * platform on the schedule of domain/metrics.ts, from acceptance to the end of
 * retention, and stores each reading (activity `collectMetrics`, idempotent per
 * reading number). It stops early when the task ends otherwise (content deleted).
 *
 * Tasks started with engine 5 (workflows/task.ts) take their readings
 * themselves; this workflow serves the collections of tasks started before it.
 *
 * It is its own workflow, started when the task is accepted, so a year of
 * readings (~390 of them, each a timer and a reading) never weighs on the task's history; it
 * continues as new every 100 readings to keep its own history small.
 *
 * Engine 2 (issue #14): a reading is a local activity, run in the workflow
 * task its timer wakes, instead of an activity task of its own: per reading
 * the history records the timer, one workflow task and a marker (6 events)
 * instead of the timer, two workflow tasks and the activity's three events
 * (11), and Temporal dispatches no activity task. A failed reading is retried
 * on durable timers (30 s doubling to 1 hour, as before), never by sleeping in
 * the worker. Versioned by the start's input (temporal/metrics.ts starts every
 * new collection with `engine: 2`, a continued run carries it): runs started
 * before it have no engine and read through activities as they always did.
 */
import { continueAsNew, proxyActivities, proxyLocalActivities, sleep } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { metricsPollAt } from '../domain/metrics.js';

/** A failed reading is tried again after 30 s, doubling to 1 hour. */
const READING_RETRY = { initialInterval: '30 seconds', maximumInterval: '1 hour' } as const;
/** Engine 1 (collections started before engine 2): one activity task per reading. */
const activities = proxyActivities<Activities>({ startToCloseTimeout: '1 minute', retry: READING_RETRY });
/** Engine 2: a local activity per reading; every backoff (≥ 30 s) on a durable timer (localRetryThreshold). */
const readings = proxyLocalActivities<Activities>({ startToCloseTimeout: '1 minute', retry: READING_RETRY, localRetryThreshold: '1 second' });

/** The engine temporal/metrics.ts starts new collections with. */
export const METRICS_ENGINE = 2;

export interface MetricsInput {
  taskId: string;
  /** Acceptance (start of retention) and end of retention, ISO 8601. */
  startsAt: string;
  endsAt: string;
  /** Readings already taken by earlier runs (continue-as-new). */
  done?: number;
  /** 2: readings as local activities (METRICS_ENGINE); absent for collections started before it. */
  engine?: number;
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
    const { collectMetrics } = (input.engine ?? 1) >= 2 ? readings : activities;
    const { collecting } = await collectMetrics({ taskId: input.taskId, reading: n, at: new Date(at).toISOString() });
    if (!collecting) return { readings: n, stoppedEarly: true };
    n += 1;
  }
}
