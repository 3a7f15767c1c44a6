import { sql } from 'drizzle-orm';
import { bigint, boolean, index, integer, jsonb, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import type { TaskState } from '../../domain/index.js';
import { tstz } from './columns.js';


/**
 * The read model of every ordered task: one row per task workflow (id = workflow
 * id). Written only by db/tasks.ts: the order inserts the row (with the escrow,
 * in one transaction); the workflow's projection keeps it current, guarded by
 * `version` so a late or retried write never goes backwards. What SQL filters or
 * sorts on is a column, never a path into `snapshot`.
 */
export const tasks = pgTable(
  'tasks',
  {
    id: text('id').primaryKey(),
    type: text('type').notNull(),
    clientId: text('client_id').notNull(),
    creatorId: text('creator_id').notNull(),
    status: text('status').notNull(),
    brief: text('brief').notNull(),
    scriptRequired: boolean('script_required').notNull(),
    retentionDays: integer('retention_days').notNull(),
    /** R-ORDER-FIELDS: the price at order time, in fen. */
    priceFen: bigint('price_fen', { mode: 'number' }).notNull(),
    orderedAt: tstz('ordered_at').notNull(),
    acceptDeadline: tstz('accept_deadline').notNull(),
    acceptedAt: tstz('accepted_at'),
    publishedAt: tstz('published_at'),
    /** R-RETENTION-CLOCK: the final publication time. */
    finalPublishedAt: tstz('final_published_at'),
    republishCount: integer('republish_count').notNull().default(0),
    deliveryAcceptedAt: tstz('delivery_accepted_at'),
    retentionEndsAt: tstz('retention_ends_at'),
    nextDeadline: tstz('next_deadline'),
    closedAt: tstz('closed_at'),
    closeReason: text('close_reason'),
    /** R-STAGE-DEADLINE: when the task entered its status (operator queues sort by it: oldest = escalates first). */
    stageEnteredAt: tstz('stage_entered_at'),
    /** R-STAGE-DEADLINE: when the operator review or the open complaint escalated. */
    escalatedAt: tstz('escalated_at'),
    /** Who must act next: creator, client, operator, platform or nobody. */
    waitingFor: text('waiting_for'),
    /** Flags operators filter on (review_escalated, complaint_escalated, effect_failed). */
    attention: text('attention').array().notNull().default(sql`'{}'::text[]`),
    /** The submission under review (operator review queue). */
    currentRevision: integer('current_revision'),
    operatorRejections: integer('operator_rejections'),
    submittedAt: tstz('submitted_at'),
    /** R-COMPLAINT: the open complaint, if any (operator complaint queue). */
    complaintReason: text('complaint_reason'),
    complaintFiledAt: tstz('complaint_filed_at'),
    complaintsFiled: integer('complaints_filed').notNull().default(0),
    /** R-STAGE-DEADLINE: days per drafting round. */
    draftDays: integer('draft_days').notNull().default(7),
    /** R-PAYOUT: the ledger account paid on settlement, fixed when the escrow is held. */
    payoutAccount: text('payout_account'),
    /** The whole TaskState as of `version`, for reads after the workflow is gone. */
    snapshot: jsonb('snapshot').$type<TaskState>(),
    version: integer('version').notNull().default(0),
    /**
     * When the task's workflow was known to run: set by the API once the start
     * succeeded and by every projection of the workflow. Null = an order whose start
     * failed (or is not confirmed yet): the worker's orphan sweep starts it.
     */
    workflowStartedAt: tstz('workflow_started_at'),
    idempotencyKey: text('idempotency_key').notNull(),
    requestHash: text('request_hash').notNull(),
    createdAt: tstz('created_at').notNull().defaultNow(),
    updatedAt: tstz('updated_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('tasks_client_idempotency_key').on(t.clientId, t.idempotencyKey),
    index('tasks_client_created').on(t.clientId, t.createdAt.desc(), t.id.desc()),
    index('tasks_creator_created').on(t.creatorId, t.createdAt.desc(), t.id.desc()),
    index('tasks_status_created').on(t.status, t.createdAt.desc(), t.id.desc()),
    index('tasks_open_deadline').on(t.nextDeadline).where(sql`${t.closedAt} is null`),
    // the orphan sweep (temporal/tasks.ts startOrphanedTasks): orders whose workflow start is not confirmed
    index('tasks_unstarted').on(t.createdAt).where(sql`${t.workflowStartedAt} is null`),
    // the operators' queues (db/tasks.ts)
    index('tasks_in_review_since').on(t.stageEnteredAt, t.id).where(sql`${t.status} in ('script_review', 'content_review')`),
    index('tasks_open_complaints').on(t.complaintFiledAt, t.id).where(sql`${t.complaintFiledAt} is not null and ${t.closedAt} is null`),
  ],
);

export type TaskRow = typeof tasks.$inferSelect;
