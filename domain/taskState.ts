/**
 * The state of one task, as the task workflow keeps it (and the read model
 * stores it as a snapshot). Pure data: domain/task.ts changes it.
 */
import { ACCEPT_WINDOW_MS, DEFAULT_DRAFT_DAYS } from './rules.js';
import { iso, ms } from './time.js';
import { taskTypeOf, type TaskTypeId } from './taskTypes.js';

export const TASK_STATUSES = [
  'awaiting_acceptance', // R-ACCEPT-24H: ordered, the creator has 24h to accept
  'script_drafting', // R-SCRIPT-FLOW: creator writes (or revises) the script
  'script_review', // operator reviews the script
  'script_confirmation', // client confirms or rejects the script
  'content_drafting', // R-CONTENT-FLOW: creator produces (or revises) the content
  'content_review', // operator reviews the content
  'content_confirmation', // client confirms or rejects the content
  'awaiting_publication', // R-PUBLISH-CREATOR: confirmed content waits to go live
  'awaiting_client_acceptance', // R-ACCEPTANCE-7D: published; client accepts or 7 days pass
  'in_retention', // accepted and settled; content must stay up (R-RETENTION-*)
  'completed',
  'cancelled',
] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const TERMINAL_STATUSES: readonly TaskStatus[] = ['completed', 'cancelled'];
export const isTerminal = (status: TaskStatus): boolean => TERMINAL_STATUSES.includes(status);

export type ActorRole = 'client' | 'creator' | 'mcn' | 'operator' | 'platform' | 'system';
export interface Actor {
  role: ActorRole;
  id: string;
}
export const SYSTEM: Actor = { role: 'system', id: 'starmap' };

export type Stage = 'script' | 'content';
export type PlatformEventKind = 'published' | 'hidden' | 'deleted' | 'restored';
export type Visibility = 'public' | 'hidden' | 'deleted';
/** The stages R-STAGE-DEADLINE gives a reminder: the creator drafting, the client confirming. */
export type DeadlineStage = 'script_drafting' | 'content_drafting' | 'script_confirmation' | 'content_confirmation';

export interface Submission {
  revision: number;
  body: string;
  submittedAt: string;
}

export interface Rejection {
  by: 'operator' | 'client';
  actorId: string;
  reason: string;
  revision: number;
  at: string;
}

export interface StageState {
  /** Number of submissions so far; the current submission's revision. */
  revision: number;
  current: Submission | null;
  operatorRejections: number;
  clientRejections: number;
  lastRejection: Rejection | null;
  confirmedAt: string | null;
}

export interface PublicationState {
  /** The live item of the content platform that carries this task's content. */
  itemId: string | null;
  /** Linked by the publisher; goes live when the platform reports it published. */
  pendingItemId: string | null;
  /** Reported published by the platform before the publisher linked it. */
  reported: { itemId: string; at: string } | null;
  firstPublishedAt: string | null;
  /** R-RETENTION-CLOCK: the final (latest) publication time. */
  publishedAt: string | null;
  visibility: Visibility | null;
  /** R-REPUBLISH-5: how many times the content was published again before acceptance. */
  republishCount: number;
  /** R-MODIFY-PERMISSION: when the client allowed the next change of the published content. */
  modificationGrantedAt: string | null;
}

export interface Complaint {
  reason: string;
  /** When the complaint's pause of the acceptance clock began (a republication moves it). */
  openedAt: string;
  /** When the client filed it (R-STAGE-DEADLINE escalation counts from it); absent in tasks from before. */
  filedAt?: string;
}

export interface AcceptanceState {
  /** Time the auto-acceptance clock stood still because of complaints (R-COMPLAINT). */
  pausedMs: number;
  complaint: Complaint | null;
  complaintsFiled: number;
  acceptedAt: string | null;
  acceptedBy: 'client' | 'auto' | null;
  /** R-PUBLISH-TIME: the publication time the client confirmed when settling. */
  publishTimeConfirmed: string | null;
}

/**
 * The current stage's clock (R-STAGE-DEADLINE): when the task entered its status,
 * the stage's deadline, whether its reminder went out and whether it escalated.
 * Reset on every status change.
 */
export interface PhaseState {
  status: TaskStatus;
  enteredAt: string;
  /** The stage's deadline (drafting, confirmation, publication); null when the status has none of its own. */
  dueAt: string | null;
  remindedAt: string | null;
  /** R-STAGE-DEADLINE: operator review escalated after 24 working hours. */
  escalatedAt: string | null;
}

/**
 * A lapse of public visibility of the live content (R-RETENTION-PENALTY): from
 * public to hidden or deleted, until it is public again. One violation at most.
 */
export interface Lapse {
  since: string;
  /** Hidden, or deleted (then R-REPUBLISH-GRACE may apply before acceptance). */
  visibility: 'hidden' | 'deleted';
  /** Whether the lapse began within retention (from the final publication). */
  withinRetention: boolean;
  violated: boolean;
}

/** How the task's escrow ended (R-ESCROW): refund + payout = price, exactly once. */
export interface Settlement {
  refundFen: number;
  payoutFen: number;
  at: string;
  /** The event that settled it. */
  seq: number;
}

export type CancelReason =
  | 'acceptance_expired'
  | 'declined'
  | 'complaint_upheld'
  | 'delivery_overdue'
  | 'publication_overdue'
  | 'content_withdrawn'
  | 'operator_cancelled'
  | 'mutually_cancelled';
/** R-COMPLAINT: how an operator closes a complaint. */
export const COMPLAINT_OUTCOMES = ['dismissed', 'upheld_fix', 'upheld_cancel'] as const;
export type ComplaintOutcome = (typeof COMPLAINT_OUTCOMES)[number];
export type Completion =
  | 'retention_served'
  | 'retention_broken'
  /** R-STAGE-DEADLINE (Xigua): the client never published delivered work; the creator is paid. */
  | 'settled_unpublished'
  /** R-OPERATOR-RESOLVE: an operator settled the task to the creator. */
  | 'operator_settled'
  /** R-TAKEDOWN: the client agreed to the content being taken down; retention ends. */
  | 'taken_down';

export interface TaskOrder {
  taskId: string;
  type: TaskTypeId;
  clientId: string;
  creatorId: string;
  brief: string;
  scriptRequired: boolean;
  retentionDays: number;
  priceFen: number;
  /** When the order was placed (the API's clock, once): every deadline counts from it. Absent in orders from before this field. */
  orderedAt?: string | undefined;
  /** R-STAGE-DEADLINE: days per drafting round (1..30, default 7). */
  draftDays?: number | undefined;
  /** R-PAYOUT: the ledger account paid on settlement (the creator's, or its MCN's), fixed when the escrow is held. */
  payoutAccount?: string | undefined;
}

export interface MutualCancelProposal {
  by: 'client' | 'creator';
  actorId: string;
  reason: string;
  refundFen: number;
  payoutFen: number;
  proposedAt: string;
  answerBy: string;
}

export interface TakedownRequest {
  reason: string;
  requestedAt: string;
  answerBy: string;
}

export interface TaskState extends TaskOrder {
  /**
   * Which rules the task runs under: 1 = ordered before R-STAGE-DEADLINE (its
   * timers stay as they were, so its history replays); 2 = every state has a deadline.
   */
  rules: 1 | 2;
  /**
   * R-DECISION-NOTIFY: the creator gets an SMS for each client decision on a
   * script or a rejected article/video. False for tasks ordered before the rule
   * (patched 'decision-notify'), so their histories replay with the effects they had.
   */
  decisionSms?: boolean;
  /**
   * R-TOUTIAO-ORDER: the client reviews the content after it went live (the type's
   * `clientReviews`). False for tasks ordered before the rule (patched 'toutiao-order'):
   * they keep the order they started with.
   */
  publishFirst?: boolean;
  /**
   * Corrections of the rules made while tasks were running (`RULE_FIXES`): 1 = a
   * cancellation proposal lapses at acceptance and is answered only before its
   * deadline (R-MUTUAL-CANCEL), so is a takedown request (R-TAKEDOWN); linking
   * again an item that is not public is refused (R-NOT-PUBLIC-EXIT); a platform's
   * publication report before the content may be published is kept, not ignored
   * (R-PUBLISH-CREATOR); live content being revised keeps R-REPUBLISH-GRACE and
   * R-NOT-PUBLIC-EXIT whatever the type; R-REPUBLISH-5 counts a new item linked
   * while awaiting publication too. Absent on tasks that had not met them: their
   * histories replay as they ran (workflows/task.ts asks patched('rule-fixes-1')
   * before the first event it decides under them; engine 7 starts with them).
   */
  fixes?: number;
  status: TaskStatus;
  orderedAt: string;
  acceptDeadline: string;
  draftDays: number;
  reminderSentAt: string | null;
  acceptedAt: string | null;
  script: StageState;
  content: StageState;
  publication: PublicationState;
  acceptance: AcceptanceState;
  retention: { endsAt: string | null; violations: number };
  cancellation: { reason: CancelReason; note: string | null; at: string } | null;
  completion: { kind: Completion; at: string } | null;
  phase: PhaseState;
  lapse: Lapse | null;
  /** R-COMPLAINT + R-STAGE-DEADLINE: when the open complaint escalated. */
  complaintEscalatedAt: string | null;
  proposal: MutualCancelProposal | null;
  takedown: TakedownRequest | null;
  settlement: Settlement | null;
  /** Effects that failed for good, for operators (effect_failed events). */
  failedEffects: number;
  /** The next business deadline (what an operator watches): NextDeadline search attribute. */
  nextDeadline: string | null;
  /** Last platform event ids (rules 1 only: a bounded window; rules 2 orders events by the platform's time). */
  platformEventIds: string[];
  /** R-RETENTION-PENALTY: per platform item, the platform time and id of the last event applied. */
  platformClock: Record<string, string>;
  /** Sequence number of the last event: the read model's version. */
  version: number;
}

const emptyStage = (): StageState => ({
  revision: 0,
  current: null,
  operatorRejections: 0,
  clientRejections: 0,
  lastRejection: null,
  confirmedAt: null,
});

/**
 * The state of a new task. `now` is the workflow's start; the order's own
 * `orderedAt` wins when present, so the answer to the order, the workflow and
 * the read model agree to the millisecond, also for a task started late.
 */
/** The newest correction of the rules (TaskState `fixes`): what a new task runs under. */
export const RULE_FIXES = 1;

export function initialState(
  order: TaskOrder,
  now: number,
  rules: 1 | 2 = 2,
  decisionSms = rules >= 2,
  toutiaoOrder = rules >= 2,
  fixes = rules >= 2 ? RULE_FIXES : 0,
): TaskState {
  const orderedAtMs = order.orderedAt ? ms(order.orderedAt) : now;
  const orderedAt = iso(orderedAtMs);
  const acceptDeadline = iso(orderedAtMs + ACCEPT_WINDOW_MS);
  return {
    ...order,
    rules,
    decisionSms,
    publishFirst: toutiaoOrder && taskTypeOf(order.type).clientReviews === 'after_publication',
    ...(fixes > 0 ? { fixes } : {}),
    status: 'awaiting_acceptance',
    orderedAt,
    acceptDeadline,
    draftDays: order.draftDays ?? DEFAULT_DRAFT_DAYS,
    reminderSentAt: null,
    acceptedAt: null,
    script: emptyStage(),
    content: emptyStage(),
    publication: {
      itemId: null,
      pendingItemId: null,
      reported: null,
      firstPublishedAt: null,
      publishedAt: null,
      visibility: null,
      republishCount: 0,
      modificationGrantedAt: null,
    },
    acceptance: { pausedMs: 0, complaint: null, complaintsFiled: 0, acceptedAt: null, acceptedBy: null, publishTimeConfirmed: null },
    retention: { endsAt: null, violations: 0 },
    cancellation: null,
    completion: null,
    phase: { status: 'awaiting_acceptance', enteredAt: orderedAt, dueAt: acceptDeadline, remindedAt: null, escalatedAt: null },
    lapse: null,
    complaintEscalatedAt: null,
    proposal: null,
    takedown: null,
    settlement: null,
    failedEffects: 0,
    nextDeadline: acceptDeadline,
    platformEventIds: [],
    platformClock: {},
    version: 0,
  };
}
