/**
 * What happened to a task: one payload type per event (a discriminated union on
 * `type`), appended to `task_events` by the projection (db/tasks.ts) in order.
 * `evolve` (domain/task.ts) narrows on `type`, so a payload field is read with
 * its type and a renamed field is a compile error, not a silent `undefined`.
 */
import type { Actor, ComplaintOutcome, DeadlineStage, PlatformEventKind, Stage, TaskStatus, Visibility } from './taskState.js';

type Ev<T extends string, P> = { type: T; payload: P };

/** Where a platform event came from: its id and the platform's own time (absent in histories from before R-RETENTION-PENALTY's ordering). */
interface PlatformOrigin {
  eventId?: string | undefined;
  occurredAt?: string | undefined;
}

export type TaskEventBody =
  | Ev<'ordered', { type: string; creatorId: string; scriptRequired: boolean; retentionDays: number; priceFen: number; acceptDeadline: string; draftDays?: number }>
  | Ev<'acceptance_reminded', { deadline: string }>
  | Ev<'accepted', { next: TaskStatus }>
  | Ev<'declined', Record<string, never>>
  | Ev<'acceptance_expired', { deadline: string }>
  | Ev<'submitted', { stage: Stage; revision: number; body: string }>
  | Ev<'review_passed', { stage: Stage; revision: number }>
  | Ev<'review_rejected', { stage: Stage; revision: number }>
  /** `by: 'deadline'`: R-STAGE-DEADLINE deemed it confirmed after 7 days. */
  | Ev<'client_confirmed', { stage: Stage; revision: number; by?: 'client' | 'deadline' }>
  /**
   * `advances`: R-OUTLINE-3, the last allowed outline rejection moves the task on to the content.
   * `live`: R-TOUTIAO-ORDER, the client rejected published content; the rejection grants one modification.
   */
  | Ev<'client_rejected', { stage: Stage; revision: number; advances?: true; live?: true }>
  | Ev<'publication_linked', { itemId: string }>
  | Ev<'publication_reported', PlatformOrigin & { itemId: string }>
  | Ev<'published', PlatformOrigin & { itemId: string; republish: boolean; inPlace?: true; at?: string }>
  | Ev<'visibility_changed', PlatformOrigin & { itemId: string; from: Visibility | null; to: Visibility }>
  | Ev<'delivery_accepted', { by: 'client' | 'auto'; publishTime?: string | null }>
  | Ev<'modification_granted', { itemId: string | null }>
  | Ev<'complaint_filed', Record<string, never>>
  | Ev<'complaint_dismissed', { outcome: 'dismissed' }>
  | Ev<'complaint_upheld', { outcome: Exclude<ComplaintOutcome, 'dismissed'>; complaint: string }>
  /** R-RETENTION-PENALTY: one per lapse; `grace`: R-REPUBLISH-GRACE ran out after a deletion. */
  | Ev<'retention_violated', PlatformOrigin & { itemId: string; from: Visibility | null; to: Visibility; points: number; grace?: true }>
  | Ev<'retention_completed', { endsAt: string | null }>
  | Ev<'platform_event_ignored', { eventId: string; kind: PlatformEventKind; itemId: string; occurredAt?: string | undefined }>
  // R-STAGE-DEADLINE
  | Ev<'deadline_reminded', { stage: DeadlineStage; dueAt: string; recipient: 'client' | 'creator' }>
  | Ev<'draft_deadline_extended', { days: number; dueAt: string }>
  | Ev<'delivery_overdue', { stage: Stage; dueAt: string }>
  | Ev<'escalated', { subject: 'review' | 'complaint'; since: string; dueAt: string }>
  | Ev<'publication_overdue', { dueAt: string; outcome: 'cancelled' | 'settled' }>
  // R-NOT-PUBLIC-EXIT
  | Ev<'content_withdrawn', { since: string; visibility: Visibility | null }>
  // R-OPERATOR-RESOLVE
  | Ev<'operator_resolved', { outcome: 'cancel' | 'settle'; refundFen: number; payoutFen: number }>
  // R-MUTUAL-CANCEL
  | Ev<'cancellation_proposed', { by: 'client' | 'creator'; refundFen: number; payoutFen: number; answerBy: string }>
  | Ev<'cancellation_agreed', { refundFen: number; payoutFen: number }>
  | Ev<'cancellation_refused', { by: 'client' | 'creator' | 'deadline' }>
  // R-TAKEDOWN
  | Ev<'takedown_requested', { answerBy: string }>
  | Ev<'takedown_agreed', Record<string, never>>
  | Ev<'takedown_refused', { by: 'client' | 'deadline' }>
  /** An effect (settlement, credit change) failed for good: surfaced for operators instead of stopping the task. */
  | Ev<'effect_failed', { effect: string; message: string }>;

export type TaskEventType = TaskEventBody['type'];

/** An event as `decide` proposes it: `evolve` gives it its sequence number and time. */
export type NewEvent = TaskEventBody & { actor: Actor; reason?: string | null; updateId?: string | undefined };

/**
 * An event as stored: `seq` is the read model's version after it. `updateId`: the Temporal Update that
 * decided it (the workflow adds it), so a request retried with its Idempotency-Key finds what it did.
 */
export type TaskEvent = TaskEventBody & { seq: number; actor: Actor; at: string; reason: string | null; updateId?: string | undefined };

/** Every event type, for the OpenAPI document and tests that walk all of them. */
export const TASK_EVENT_TYPES = [
  'ordered',
  'acceptance_reminded',
  'accepted',
  'declined',
  'acceptance_expired',
  'submitted',
  'review_passed',
  'review_rejected',
  'client_confirmed',
  'client_rejected',
  'publication_linked',
  'publication_reported',
  'published',
  'visibility_changed',
  'delivery_accepted',
  'modification_granted',
  'complaint_filed',
  'complaint_dismissed',
  'complaint_upheld',
  'retention_violated',
  'retention_completed',
  'platform_event_ignored',
  'deadline_reminded',
  'draft_deadline_extended',
  'delivery_overdue',
  'escalated',
  'publication_overdue',
  'content_withdrawn',
  'operator_resolved',
  'cancellation_proposed',
  'cancellation_agreed',
  'cancellation_refused',
  'takedown_requested',
  'takedown_agreed',
  'takedown_refused',
  'effect_failed',
] as const satisfies readonly TaskEventType[];
