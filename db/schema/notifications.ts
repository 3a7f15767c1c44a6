import { bigserial, index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Outbox and log of SMS messages and phone reminders. `key` (task id + event
 * sequence) is unique: a retried activity finds the row and never sends twice.
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
  },
  (t) => [index('notifications_recipient').on(t.recipientId, t.createdAt)],
);

export type NotificationRow = typeof notifications.$inferSelect;
