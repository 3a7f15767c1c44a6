import { bigserial, index, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * R-CREDIT: every change of a creator's credit score with its cause and actor.
 * The score is INITIAL_CREDIT_POINTS plus the sum of deltas. `key` is unique so a
 * penalty is applied once per violation, however often the activity is retried.
 * cause: `retention_violation` (taskId), `card` (cardId), `appeal_upheld` (appealId).
 */
export const creditEvents = pgTable(
  'credit_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    key: text('key').notNull().unique(),
    creatorId: text('creator_id').notNull(),
    delta: integer('delta').notNull(),
    cause: text('cause').notNull(),
    taskId: text('task_id'),
    cardId: text('card_id'),
    appealId: text('appeal_id'),
    actorRole: text('actor_role').notNull(),
    actorId: text('actor_id').notNull(),
    reason: text('reason').notNull(),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull(),
    recordedAt: timestamp('recorded_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('credit_events_creator').on(t.creatorId, t.occurredAt), index('credit_events_creator_id').on(t.creatorId, t.id.desc())],
);

export type CreditEventRow = typeof creditEvents.$inferSelect;
