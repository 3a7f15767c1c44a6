import { sql } from 'drizzle-orm';
import { bigint, check, date, index, integer, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { accounts } from './accounts.js';
import { creditEvents } from './creditEvents.js';
import { tasks } from './tasks.js';
import { tstz } from './columns.js';


/**
 * R-APPEAL-48WH: a creator's appeal against one deduction (one appeal per
 * deduction). Each appeal is run by an appeal workflow (workflow id `appeal-<id>`)
 * that escalates it when `dueAt` passes unanswered.
 */
export const appeals = pgTable(
  'appeals',
  {
    id: text('id').primaryKey(),
    creatorId: text('creator_id')
      .notNull()
      .references(() => accounts.id),
    creditEventId: bigint('credit_event_id', { mode: 'number' })
      .notNull()
      .references(() => creditEvents.id),
    /** Points to restore if upheld (the deduction's size). */
    points: integer('points').notNull(),
    reason: text('reason').notNull(),
    status: text('status').notNull(), // open | escalated | upheld | rejected
    filedAt: tstz('filed_at').notNull(),
    /** 48 hours of working days after filing (Asia/Shanghai calendar). */
    dueAt: tstz('due_at').notNull(),
    escalatedAt: tstz('escalated_at'),
    decidedAt: tstz('decided_at'),
    decidedBy: text('decided_by'),
    decisionNote: text('decision_note'),
    /** Set once the appeal workflow is known to run; the worker's sweep starts the others. */
    workflowStartedAt: tstz('workflow_started_at'),
  },
  (t) => [
    uniqueIndex('appeals_credit_event').on(t.creditEventId),
    index('appeals_open_due').on(t.dueAt).where(sql`${t.status} in ('open', 'escalated')`),
    index('appeals_creator').on(t.creatorId, t.filedAt),
    check('appeals_status', sql`${t.status} in ('open', 'escalated', 'upheld', 'rejected')`),
    check('appeals_points', sql`${t.points} > 0`),
  ],
);

/**
 * Holidays and make-up working days of the Asia/Shanghai calendar (R-APPEAL-48WH),
 * as data: the built-in schedules (domain/calendarData.ts) are loaded at start;
 * operators add next year's when the State Council publishes it.
 */
export const calendarDays = pgTable(
  'calendar_days',
  {
    day: date('day', { mode: 'string' }).primaryKey(),
    kind: text('kind').notNull(), // holiday | workday
    name: text('name').notNull(),
    source: text('source').notNull(),
    updatedAt: tstz('updated_at').notNull().defaultNow(),
  },
  (t) => [check('calendar_days_kind', sql`${t.kind} in ('holiday', 'workday')`)],
);

/** R-RATE: the client's one rating of the creator for a settled task. */
/** The columns of a rating, either side (R-RATE): one per task, 1-5 stars and a comment. */
const ratingColumns = () => ({
  taskId: text('task_id')
    .primaryKey()
    .references(() => tasks.id),
  clientId: text('client_id').notNull(),
  creatorId: text('creator_id').notNull(),
  stars: integer('stars').notNull(),
  comment: text('comment').notNull(),
  ratedAt: tstz('rated_at').notNull().defaultNow(),
});

export const taskRatings = pgTable('task_ratings', ratingColumns(), (t) => [check('task_ratings_stars', sql`${t.stars} between 1 and 5`), index('task_ratings_creator').on(t.creatorId, t.ratedAt)]);

/**
 * R-RATE, the other way: after settlement the task's creator rates the client
 * once. The client's average is shown on the tasks a creator is asked to accept.
 */
export const clientRatings = pgTable('client_ratings', ratingColumns(), (t) => [check('client_ratings_stars', sql`${t.stars} between 1 and 5`), index('client_ratings_client').on(t.clientId, t.stars)]);
