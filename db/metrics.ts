/**
 * R-RATE's post-campaign data: the metrics time series of a task's live item, one
 * point per reading (the metrics workflow's, `reading:<n>`) or platform callback
 * (its event id), each stored once. The only writer of task_metrics.
 */
import { asc, eq } from 'drizzle-orm';
import type { Db } from './client.js';
import { taskMetrics } from './schema/index.js';

export interface MetricsPoint {
  taskId: string;
  /** `reading:<n>` for a collected reading, else the platform's event id. */
  eventId: string;
  itemId: string;
  plays: number;
  likes: number;
  comments: number;
  shares: number;
  observedAt: Date;
}

/** Records a point once per (task, event id): a redelivered callback or a retried reading adds nothing. */
export async function recordMetricsPoint(db: Db, point: MetricsPoint): Promise<void> {
  await db.insert(taskMetrics).values(point).onConflictDoNothing({ target: [taskMetrics.taskId, taskMetrics.eventId] });
}

/** The task's series in time order. */
export function metricsSeriesOf(db: Db, taskId: string) {
  return db.select().from(taskMetrics).where(eq(taskMetrics.taskId, taskId)).orderBy(asc(taskMetrics.observedAt), asc(taskMetrics.id));
}
