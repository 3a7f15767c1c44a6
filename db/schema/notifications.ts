import { sql } from 'drizzle-orm';
import { bigserial, index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Outbox and log of SMS messages and phone reminders. `key` (task id + event
 * sequence) is unique: a retried write finds the row and never sends twice.
 * Written only by activities/outbox.ts.
 */
export const notifications = pgTable(
  'notifications',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    key: text('key').notNull().unique(),
    taskId: text('task_id'),
    channel: text('channel').notNull(),
    recipientRole: text('recipient_role').notNull(),
    recipientId: text('recipient_id').notNull(),
    template: text('template').notNull(),
    params: jsonb('params').$type<Record<string, string | number>>().notNull(),
    attempts: integer('attempts').notNull().default(0),
    providerMessageId: text('provider_message_id'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    sentAt: timestamp('sent_at', { withTimezone: true }),
    /** The outbox dispatcher's next try of an unsent message (activities/outbox.ts); a claim moves it on by the backoff. */
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('notifications_recipient').on(t.recipientId, t.createdAt),
    // what the dispatcher scans: unsent messages by due time
    index('notifications_unsent_due').on(t.nextAttemptAt).where(sql`${t.sentAt} is null`),
    // the per-task order check: an older unsent message of the same task
    index('notifications_unsent_task').on(t.taskId, t.id).where(sql`${t.sentAt} is null`),
  ],
);

export type NotificationRow = typeof notifications.$inferSelect;
