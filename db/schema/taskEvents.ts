import { sql } from 'drizzle-orm';
import { bigserial, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import type { TaskEvent } from '../../domain/index.js';
import { tasks } from './tasks.js';

/**
 * Append-only history of every transition: who did what, why, when. The
 * (task_id, seq) key makes a retried projection a no-op.
 */
export const taskEvents = pgTable(
  'task_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    taskId: text('task_id')
      .notNull()
      .references(() => tasks.id),
    seq: integer('seq').notNull(),
    type: text('type').notNull(),
    actorRole: text('actor_role').notNull(),
    actorId: text('actor_id').notNull(),
    reason: text('reason'),
    payload: jsonb('payload').$type<TaskEvent['payload']>().notNull(),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull(),
    recordedAt: timestamp('recorded_at', { withTimezone: true }).notNull().defaultNow(),
    /** The Temporal Update that decided the event (its id: the API's Idempotency-Key, hashed): a retried request finds it. */
    updateId: text('update_id'),
  },
  (t) => [
    uniqueIndex('task_events_task_seq').on(t.taskId, t.seq),
    index('task_events_type').on(t.type),
    index('task_events_update').on(t.taskId, t.updateId).where(sql`${t.updateId} is not null`),
  ],
);

export type TaskEventRow = typeof taskEvents.$inferSelect;
