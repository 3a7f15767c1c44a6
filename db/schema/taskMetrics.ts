import { bigint, bigserial, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { tasks } from './tasks.js';

/** R-RATE: post-campaign data reported by the content platform, one row per report. */
export const taskMetrics = pgTable(
  'task_metrics',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    taskId: text('task_id')
      .notNull()
      .references(() => tasks.id),
    eventId: text('event_id').notNull(),
    itemId: text('item_id').notNull(),
    plays: bigint('plays', { mode: 'number' }).notNull(),
    likes: bigint('likes', { mode: 'number' }).notNull(),
    comments: bigint('comments', { mode: 'number' }).notNull(),
    shares: bigint('shares', { mode: 'number' }).notNull(),
    observedAt: timestamp('observed_at', { withTimezone: true }).notNull(),
    recordedAt: timestamp('recorded_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('task_metrics_event').on(t.taskId, t.eventId)],
);
