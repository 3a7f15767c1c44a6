/**
 * The task state machine, as pure functions:
 *
 *   decide(state, command, now)  -> TaskEvent    (or throws DomainError)
 *   evolve(state, event)          mutates state   (never refuses)
 *   nextTimer(state)              the next timer the workflow must wait for
 *   effectsOf(state, event)       notifications and credit changes an event causes
 *
 * The workflow (workflows/task.ts) owns a TaskState, runs `decide` in its update
 * validators and handlers, and projects every event to Postgres. Nothing here
 * does I/O or reads a clock, so all of it runs in workflow code and in plain
 * unit tests alike.
 */
import { DomainError } from './errors.js';
import {
  ACCEPT_REMINDER_BEFORE_MS,
  ACCEPT_WINDOW_MS,
  AUTO_ACCEPT_AFTER_MS,
  MAX_REASON_CHARS,
  MAX_SUBMISSION_CHARS,
  RETENTION_VIOLATION_POINTS,
} from './rules.js';
import { DAY, iso, ms } from './time.js';
import { taskTypeOf, type TaskTypeId } from './taskTypes.js';

// ---------------------------------------------------------------------------
// State

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
export type Visibility = 'public' | 'hidden' | 'deleted';

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
  /** Linked by the creator; goes live when the platform reports it published. */
  pendingItemId: string | null;
  /** Reported published by the platform before the creator linked it. */
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
  openedAt: string;
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

export type CancelReason = 'acceptance_expired' | 'declined' | 'complaint_upheld';
/** R-COMPLAINT: how an operator closes a complaint. */
export const COMPLAINT_OUTCOMES = ['dismissed', 'upheld_fix', 'upheld_cancel'] as const;
export type ComplaintOutcome = (typeof COMPLAINT_OUTCOMES)[number];
export type Completion = 'retention_served' | 'retention_broken';
export type TimerKind = 'remind_acceptance' | 'expire_acceptance' | 'auto_accept' | 'end_retention';

export interface TaskOrder {
  taskId: string;
  type: TaskTypeId;
  clientId: string;
  creatorId: string;
  brief: string;
  scriptRequired: boolean;
  retentionDays: number;
  priceFen: number;
}

export interface TaskState extends TaskOrder {
  status: TaskStatus;
  orderedAt: string;
  acceptDeadline: string;
  reminderSentAt: string | null;
  acceptedAt: string | null;
  script: StageState;
  content: StageState;
  publication: PublicationState;
  acceptance: AcceptanceState;
  retention: { endsAt: string | null; violations: number };
  cancellation: { reason: CancelReason; note: string | null; at: string } | null;
  completion: { kind: Completion; at: string } | null;
  /** The next business deadline (what an operator watches): NextDeadline search attribute. */
  nextDeadline: string | null;
  /** Last platform event ids, so a redelivered callback is applied once. */
  platformEventIds: string[];
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

export function initialState(order: TaskOrder, now: number): TaskState {
  return {
    ...order,
    status: 'awaiting_acceptance',
    orderedAt: iso(now),
    acceptDeadline: iso(now + ACCEPT_WINDOW_MS),
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
    nextDeadline: iso(now + ACCEPT_WINDOW_MS),
    platformEventIds: [],
    version: 0,
  };
}

// ---------------------------------------------------------------------------
// Commands: what actors (and timers) ask for

export type ReviewDecision = 'pass' | 'reject';
export type ClientDecision = 'confirm' | 'reject';
export type PlatformEventKind = 'published' | 'hidden' | 'deleted' | 'restored';

export type UserCommand =
  | { type: 'accept' }
  | { type: 'decline'; reason: string }
  | { type: 'submit'; stage: Stage; body: string }
  | { type: 'review'; stage: Stage; decision: ReviewDecision; reason?: string | undefined }
  | { type: 'confirm'; stage: Stage; decision: ClientDecision; reason?: string | undefined }
  | { type: 'publish'; platformItemId: string }
  | { type: 'accept_delivery'; publishTime?: string | undefined }
  | { type: 'grant_modification' }
  | { type: 'file_complaint'; reason: string }
  | { type: 'resolve_complaint'; outcome: ComplaintOutcome; note: string };

export type TaskCommand =
  | (UserCommand & { actor: Actor })
  | { type: 'timer'; timer: TimerKind; actor: Actor }
  | { type: 'platform'; eventId: string; kind: PlatformEventKind; itemId: string; actor: Actor };

// ---------------------------------------------------------------------------
// Events: what happened (appended to task_events)

export type TaskEventType =
  | 'ordered'
  | 'acceptance_reminded'
  | 'accepted'
  | 'declined'
  | 'acceptance_expired'
  | 'submitted'
  | 'review_passed'
  | 'review_rejected'
  | 'client_confirmed'
  | 'client_rejected'
  | 'publication_linked'
  | 'publication_reported'
  | 'published'
  | 'visibility_changed'
  | 'delivery_accepted'
  | 'modification_granted'
  | 'complaint_filed'
  | 'complaint_dismissed'
  | 'complaint_upheld'
  | 'retention_violated'
  | 'retention_completed'
  | 'platform_event_ignored';

export interface TaskEvent {
  seq: number;
  type: TaskEventType;
  actor: Actor;
  at: string;
  reason: string | null;
  payload: Record<string, unknown>;
}

type NewEvent = Omit<TaskEvent, 'seq' | 'at' | 'reason'> & { reason?: string | null };

// ---------------------------------------------------------------------------
// decide

const refuseState = (state: TaskState, code: string, message: string): never => {
  throw new DomainError('invalid_state', message, { code, status: state.status });
};
const refuseRule = (state: TaskState, code: string, message: string, extra: Record<string, unknown> = {}): never => {
  throw new DomainError('rule_violation', message, { code, status: state.status, ...extra });
};
const refuseInput = (code: string, message: string): never => {
  throw new DomainError('invalid_input', message, { code });
};

function requireText(value: string | undefined, field: string, max: number): string {
  const text = (value ?? '').trim();
  if (!text) refuseInput(`${field}-required`, `${field} is required`);
  if (text.length > max) refuseInput(`${field}-too-long`, `${field} must be at most ${max} characters`);
  return text;
}

/** Who may issue a command: role first (403), then ownership of this task (403). */
function authorize(state: TaskState, actor: Actor, role: ActorRole, action: string): void {
  if (actor.role !== role) {
    throw new DomainError('forbidden', `only the ${role} may ${action}`, { code: 'wrong-role', requiredRole: role });
  }
  const owner = role === 'client' ? state.clientId : role === 'creator' ? state.creatorId : null;
  if (owner !== null && actor.id !== owner) {
    throw new DomainError('forbidden', `only this task's ${role} may ${action}`, { code: 'not-task-party' });
  }
}

function stageStatuses(stage: Stage) {
  return stage === 'script'
    ? ({ drafting: 'script_drafting', review: 'script_review', confirmation: 'script_confirmation' } as const)
    : ({ drafting: 'content_drafting', review: 'content_review', confirmation: 'content_confirmation' } as const);
}

function clientRejectionLimit(state: TaskState, stage: Stage): number | null {
  const def = taskTypeOf(state.type);
  return stage === 'script' ? (def.draft?.clientRejectionLimit ?? null) : def.content.clientRejectionLimit;
}

function stageLabel(state: TaskState, stage: Stage): string {
  const def = taskTypeOf(state.type);
  return stage === 'script' ? (def.draft?.label ?? 'script') : def.content.label;
}

/**
 * Decides what a command means for the task now, or refuses it. Pure: the same
 * state, command and time always give the same answer, so the workflow runs it
 * both in an update's validator (to refuse before anything is written to
 * history) and in its handler.
 */
export function decide(state: TaskState, command: TaskCommand, now: number): NewEvent {
  const { actor } = command;
  if (command.type === 'platform') return decidePlatform(state, command);
  if (isTerminal(state.status) && command.type !== 'timer') {
    refuseState(state, 'task-closed', `the task is ${state.status}`);
  }

  switch (command.type) {
    case 'timer':
      return decideTimer(state, command.timer, now);

    case 'accept':
      authorize(state, actor, 'creator', 'accept the task');
      if (state.status !== 'awaiting_acceptance') refuseState(state, 'not-awaiting-acceptance', 'the task is not waiting for acceptance');
      // R-ACCEPT-24H: the deadline is exclusive; the expiry timer also fires at it.
      if (now >= ms(state.acceptDeadline)) refuseState(state, 'acceptance-window-closed', 'the 24-hour acceptance window has closed');
      return { type: 'accepted', actor, payload: { next: state.scriptRequired ? 'script_drafting' : 'content_drafting' } };

    case 'decline': {
      authorize(state, actor, 'creator', 'decline the task');
      const reason = requireText(command.reason, 'reason', MAX_REASON_CHARS);
      if (state.status !== 'awaiting_acceptance') refuseState(state, 'not-awaiting-acceptance', 'only a task waiting for acceptance can be declined');
      return { type: 'declined', actor, reason, payload: {} };
    }

    case 'submit': {
      authorize(state, actor, 'creator', `submit the ${stageLabel(state, command.stage)}`);
      const body = requireText(command.body, 'body', MAX_SUBMISSION_CHARS);
      const s = stageStatuses(command.stage);
      if (command.stage === 'script' && !state.scriptRequired) {
        refuseRule(state, 'script-not-required', 'this order does not require a script');
      }
      if (state.status !== s.drafting) refuseState(state, `not-${command.stage}-drafting`, `the task is not waiting for a ${stageLabel(state, command.stage)}`);
      return { type: 'submitted', actor, payload: { stage: command.stage, revision: state[command.stage].revision + 1, body } };
    }

    case 'review': {
      authorize(state, actor, 'operator', `review the ${stageLabel(state, command.stage)}`);
      const s = stageStatuses(command.stage);
      if (state.status !== s.review) refuseState(state, `not-${command.stage}-review`, `no ${stageLabel(state, command.stage)} is waiting for operator review`);
      if (command.decision === 'reject') {
        const reason = requireText(command.reason, 'reason', MAX_REASON_CHARS);
        return { type: 'review_rejected', actor, reason, payload: { stage: command.stage, revision: state[command.stage].revision } };
      }
      return { type: 'review_passed', actor, payload: { stage: command.stage, revision: state[command.stage].revision } };
    }

    case 'confirm': {
      authorize(state, actor, 'client', `confirm the ${stageLabel(state, command.stage)}`);
      const s = stageStatuses(command.stage);
      if (state.status !== s.confirmation) refuseState(state, `not-${command.stage}-confirmation`, `no ${stageLabel(state, command.stage)} is waiting for the client`);
      if (command.decision === 'reject') {
        const reason = requireText(command.reason, 'reason', MAX_REASON_CHARS);
        const limit = clientRejectionLimit(state, command.stage);
        const used = state[command.stage].clientRejections;
        if (limit !== null && command.stage === 'content' && used >= limit) {
          // R-ARTICLE-2: the client's rejections are used up; it can only confirm
          refuseRule(state, 'rejection-limit-reached', `the client has used all ${limit} rejections of the ${stageLabel(state, 'content')}; it can only confirm`, { limit, used });
        }
        // R-OUTLINE-3: the last allowed rejection of the outline moves the task on to the content
        const advances = limit !== null && command.stage === 'script' && used + 1 >= limit;
        return { type: 'client_rejected', actor, reason, payload: { stage: command.stage, revision: state[command.stage].revision, ...(advances ? { advances: true } : {}) } };
      }
      return { type: 'client_confirmed', actor, payload: { stage: command.stage, revision: state[command.stage].revision } };
    }

    case 'publish': {
      const publisher = taskTypeOf(state.type).publisher;
      authorize(state, actor, publisher, 'publish the content');
      const itemId = requireText(command.platformItemId, 'platformItemId', 200);
      const p = state.publication;
      if (state.status === 'awaiting_publication') {
        // first publication: may re-link while the platform has not reported it live.
        // After an upheld complaint's fix the content may be edited in place: the live item, linked
        // again, is the fixed publication at once (the platform reports no new publication for it).
        if (p.itemId !== null && itemId === p.itemId) return { type: 'published', actor, payload: { itemId, republish: true, inPlace: true } };
      } else if (state.status === 'awaiting_client_acceptance') {
        if (itemId === p.itemId) refuseState(state, 'already-live', 'this item is already the task\'s live content');
        // R-REPUBLISH-5: at most 5 republications before acceptance
        const limit = taskTypeOf(state.type).maxRepublishes;
        if (p.republishCount >= limit) {
          refuseRule(state, 'republish-limit-reached', `the content was already republished ${limit} times`, { limit, republishCount: p.republishCount });
        }
        // R-MODIFY-PERMISSION: a published article changes only with the client's permission
        if (taskTypeOf(state.type).modificationNeedsPermission && !p.modificationGrantedAt) {
          refuseRule(state, 'modification-permission-required', 'the client has not granted permission to modify the published content');
        }
      } else if (state.status === 'in_retention') {
        refuseRule(state, 'content-locked', 'the content cannot be changed after acceptance');
      } else {
        refuseState(state, 'not-publishable', 'the content has not been confirmed by the client yet');
      }
      // The platform may have reported the item live before the creator linked it.
      if (p.reported?.itemId === itemId) {
        return { type: 'published', actor, payload: { itemId, at: p.reported.at, republish: p.itemId !== null } };
      }
      return { type: 'publication_linked', actor, payload: { itemId } };
    }

    case 'accept_delivery': {
      authorize(state, actor, 'client', 'accept the delivery');
      if (state.status !== 'awaiting_client_acceptance') refuseState(state, 'not-awaiting-client-acceptance', 'the content has not been published yet');
      if (state.publication.visibility !== 'public') refuseState(state, 'content-not-public', `the content is ${state.publication.visibility ?? 'not published'}`);
      if (!taskTypeOf(state.type).clientConfirmsPublishTime) return { type: 'delivery_accepted', actor, payload: { by: 'client' } };
      // R-PUBLISH-TIME: the client confirms the publication time as it settles
      const publishTime = requireText(command.publishTime, 'publishTime', 40);
      const publishedAt = state.publication.publishedAt!;
      if (Number.isNaN(Date.parse(publishTime))) refuseInput('publishTime-invalid', 'publishTime must be an ISO 8601 time');
      if (Date.parse(publishTime) !== ms(publishedAt)) {
        refuseRule(state, 'publish-time-mismatch', `the content went live at ${publishedAt}`, { publishedAt });
      }
      return { type: 'delivery_accepted', actor, payload: { by: 'client', publishTime: publishedAt } };
    }

    case 'grant_modification':
      authorize(state, actor, 'client', 'grant modification permission');
      if (!taskTypeOf(state.type).modificationNeedsPermission) refuseRule(state, 'no-modification-permission', `${state.type} content needs no modification permission`);
      if (state.status !== 'awaiting_client_acceptance') refuseState(state, 'not-awaiting-client-acceptance', 'only published content before acceptance can be modified');
      if (state.publication.modificationGrantedAt) refuseState(state, 'modification-already-granted', 'modification permission is already granted');
      return { type: 'modification_granted', actor, payload: { itemId: state.publication.itemId } };

    case 'file_complaint': {
      authorize(state, actor, 'client', 'file a complaint');
      const reason = requireText(command.reason, 'reason', MAX_REASON_CHARS);
      if (state.status !== 'awaiting_client_acceptance') refuseState(state, 'not-awaiting-client-acceptance', 'a complaint can be filed only before acceptance');
      if (state.acceptance.complaint) refuseState(state, 'complaint-open', 'a complaint is already open');
      return { type: 'complaint_filed', actor, reason, payload: {} };
    }

    case 'resolve_complaint': {
      authorize(state, actor, 'operator', 'resolve a complaint');
      const note = requireText(command.note, 'note', MAX_REASON_CHARS);
      if (!state.acceptance.complaint) refuseState(state, 'no-open-complaint', 'the task has no open complaint');
      if (!(COMPLAINT_OUTCOMES as readonly string[]).includes(command.outcome)) refuseInput('outcome-invalid', `outcome must be one of ${COMPLAINT_OUTCOMES.join(', ')}`);
      if (command.outcome === 'dismissed') return { type: 'complaint_dismissed', actor, reason: note, payload: { outcome: command.outcome } };
      // upholding reworks or cancels an unsettled delivery only (never one already paid out)
      if (state.status !== 'awaiting_client_acceptance') refuseState(state, 'not-awaiting-client-acceptance', 'only a complaint about an unaccepted delivery can be upheld');
      // upheld: the operator asks the creator to fix the content, or cancels the task with a full refund
      return { type: 'complaint_upheld', actor, reason: note, payload: { outcome: command.outcome, complaint: state.acceptance.complaint!.reason } };
    }
  }
}

function decideTimer(state: TaskState, timer: TimerKind, now: number): NewEvent {
  const due = nextTimer(state);
  if (!due || due.kind !== timer || due.at > now) {
    refuseState(state, 'timer-not-due', `timer ${timer} is not due`);
  }
  switch (timer) {
    case 'remind_acceptance':
      return { type: 'acceptance_reminded', actor: SYSTEM, payload: { deadline: state.acceptDeadline } };
    case 'expire_acceptance':
      return { type: 'acceptance_expired', actor: SYSTEM, payload: { deadline: state.acceptDeadline } };
    case 'auto_accept':
      return {
        type: 'delivery_accepted',
        actor: SYSTEM,
        payload: taskTypeOf(state.type).clientConfirmsPublishTime ? { by: 'auto', publishTime: state.publication.publishedAt } : { by: 'auto' },
      };
    case 'end_retention':
      return { type: 'retention_completed', actor: SYSTEM, payload: { endsAt: state.retention.endsAt } };
  }
}

function decidePlatform(state: TaskState, command: Extract<TaskCommand, { type: 'platform' }>): NewEvent {
  const { actor, kind, itemId, eventId } = command;
  const p = state.publication;
  const ignore = (why: string): NewEvent => ({ type: 'platform_event_ignored', actor, reason: why, payload: { eventId, kind, itemId } });
  if (actor.role !== 'platform') {
    throw new DomainError('forbidden', 'only the content platform reports publication events', { code: 'wrong-role' });
  }
  if (isTerminal(state.status)) return ignore(`the task is ${state.status}`);

  if (kind === 'published') {
    const publishable = state.status === 'awaiting_publication' || state.status === 'awaiting_client_acceptance';
    if (!publishable) return ignore(`nothing is waiting to be published in status ${state.status}`);
    if (itemId === p.itemId) return ignore('the item is already live');
    if (itemId === p.pendingItemId) return { type: 'published', actor, payload: { eventId, itemId, republish: p.itemId !== null } };
    return { type: 'publication_reported', actor, payload: { eventId, itemId } };
  }

  if (itemId !== p.itemId) return ignore('the item is not the task\'s live content');
  const to: Visibility = kind === 'restored' ? 'public' : kind;
  if (p.visibility === to) return ignore(`the content is already ${to}`);
  if (p.visibility === 'deleted') return ignore('deleted content cannot change visibility');
  // R-RETENTION-PENALTY: hiding or deleting during retention is a violation.
  if (state.status === 'in_retention' && to !== 'public') {
    return { type: 'retention_violated', actor, payload: { eventId, itemId, from: p.visibility, to, points: RETENTION_VIOLATION_POINTS } };
  }
  return { type: 'visibility_changed', actor, payload: { eventId, itemId, from: p.visibility, to } };
}

// ---------------------------------------------------------------------------
// evolve

/** Applies an event decided by `decide`; assigns its sequence number and time. */
export function evolve(state: TaskState, draft: NewEvent, now: number): TaskEvent {
  const at = iso(now);
  const event: TaskEvent = { seq: state.version + 1, at, reason: draft.reason ?? null, type: draft.type, actor: draft.actor, payload: draft.payload };
  state.version = event.seq;
  const eventId = draft.payload['eventId'];
  if (typeof eventId === 'string') {
    state.platformEventIds = [...state.platformEventIds, eventId].slice(-200);
  }
  const stage = draft.payload['stage'] as Stage | undefined;

  switch (event.type) {
    case 'ordered':
    case 'platform_event_ignored':
      break;
    case 'acceptance_reminded':
      state.reminderSentAt = at;
      break;
    case 'accepted':
      state.acceptedAt = at;
      state.status = state.scriptRequired ? 'script_drafting' : 'content_drafting';
      break;
    case 'declined':
      cancel(state, 'declined', event.reason, at);
      break;
    case 'acceptance_expired':
      cancel(state, 'acceptance_expired', null, at);
      break;
    case 'submitted': {
      const st = state[stage!];
      st.revision += 1;
      st.current = { revision: st.revision, body: String(event.payload['body']), submittedAt: at };
      state.status = stageStatuses(stage!).review;
      break;
    }
    case 'review_passed':
      state.status = stageStatuses(stage!).confirmation;
      break;
    case 'review_rejected':
    case 'client_rejected': {
      const st = state[stage!];
      const by = event.type === 'review_rejected' ? 'operator' : 'client';
      if (by === 'operator') st.operatorRejections += 1;
      else st.clientRejections += 1;
      st.lastRejection = { by, actorId: event.actor.id, reason: event.reason ?? '', revision: st.revision, at };
      state.status = event.payload['advances'] === true ? 'content_drafting' : stageStatuses(stage!).drafting;
      break;
    }
    case 'client_confirmed':
      state[stage!].confirmedAt = at;
      state.status = stage === 'script' ? 'content_drafting' : 'awaiting_publication';
      break;
    case 'publication_linked':
      state.publication.pendingItemId = String(event.payload['itemId']);
      break;
    case 'publication_reported':
      state.publication.reported = { itemId: String(event.payload['itemId']), at };
      break;
    case 'published': {
      const p = state.publication;
      const liveAt = typeof event.payload['at'] === 'string' ? event.payload['at'] : at;
      if (p.itemId !== null) p.republishCount += 1;
      if (p.itemId !== null) p.modificationGrantedAt = null; // the permission covers one change
      p.itemId = String(event.payload['itemId']);
      p.pendingItemId = null;
      p.reported = null;
      p.firstPublishedAt ??= liveAt;
      p.publishedAt = liveAt; // R-RETENTION-CLOCK: the final publication counts
      p.visibility = 'public';
      // R-ACCEPTANCE-7D (design): a republication restarts the 7-day clock.
      state.acceptance.pausedMs = 0;
      if (state.acceptance.complaint) state.acceptance.complaint.openedAt = liveAt;
      state.status = 'awaiting_client_acceptance';
      break;
    }
    case 'visibility_changed':
      state.publication.visibility = event.payload['to'] as Visibility;
      break;
    case 'delivery_accepted': {
      // accepting settles the delivery: a complaint still open is over (it changes no timer in retention)
      state.acceptance.complaint = null;
      state.acceptance.acceptedAt = at;
      state.acceptance.acceptedBy = event.payload['by'] === 'auto' ? 'auto' : 'client';
      if (typeof event.payload['publishTime'] === 'string') state.acceptance.publishTimeConfirmed = event.payload['publishTime'];
      state.status = 'in_retention';
      // R-RETENTION-CLOCK: retention counts from the final publication time.
      state.retention.endsAt = iso(ms(state.publication.publishedAt!) + state.retentionDays * DAY);
      break;
    }
    case 'modification_granted':
      state.publication.modificationGrantedAt = at;
      break;
    case 'complaint_filed':
      state.acceptance.complaint = { reason: event.reason ?? '', openedAt: at };
      state.acceptance.complaintsFiled += 1;
      break;
    case 'complaint_dismissed': {
      const c = state.acceptance.complaint!;
      // R-COMPLAINT: the acceptance clock goes on from where it stopped.
      state.acceptance.pausedMs += Math.max(0, now - ms(c.openedAt));
      state.acceptance.complaint = null;
      break;
    }
    case 'complaint_upheld': {
      const c = state.acceptance.complaint!;
      state.acceptance.pausedMs += Math.max(0, now - ms(c.openedAt));
      state.acceptance.complaint = null;
      if (event.payload['outcome'] === 'upheld_cancel') {
        cancel(state, 'complaint_upheld', event.reason, at);
      } else {
        // the creator revises the content; it goes through review and the client again, then is
        // published again (a republication: R-REPUBLISH-5 counts it, the 7-day clock restarts)
        state.content.lastRejection = { by: 'operator', actorId: event.actor.id, reason: `complaint upheld: ${c.reason} (${event.reason ?? ''})`, revision: state.content.revision, at };
        state.content.confirmedAt = null;
        state.status = 'content_drafting';
      }
      break;
    }
    case 'retention_violated': {
      const to = event.payload['to'] as Visibility;
      state.publication.visibility = to;
      state.retention.violations += 1;
      if (to === 'deleted') state.completion = { kind: 'retention_broken', at };
      if (to === 'deleted') state.status = 'completed';
      break;
    }
    case 'retention_completed':
      state.completion = { kind: 'retention_served', at };
      state.status = 'completed';
      break;
  }
  state.nextDeadline = deadlineOf(state);
  return event;
}

function cancel(state: TaskState, reason: CancelReason, note: string | null, at: string): void {
  state.cancellation = { reason, note, at };
  state.status = 'cancelled';
}

/** The `ordered` event that opens every task's history. */
export function orderedEvent(state: TaskState): NewEvent {
  return {
    type: 'ordered',
    actor: { role: 'client', id: state.clientId },
    payload: {
      type: state.type,
      creatorId: state.creatorId,
      scriptRequired: state.scriptRequired,
      retentionDays: state.retentionDays,
      priceFen: state.priceFen,
      acceptDeadline: state.acceptDeadline,
    },
  };
}

// ---------------------------------------------------------------------------
// Timers and deadlines

/** When the 7-day auto-acceptance falls due, ignoring whether it can happen now. */
export function autoAcceptDueAt(state: TaskState): number | null {
  const publishedAt = state.publication.publishedAt;
  if (!publishedAt) return null;
  return ms(publishedAt) + AUTO_ACCEPT_AFTER_MS + state.acceptance.pausedMs;
}

/**
 * The one timer the workflow waits for in this state, or null to wait for a
 * message only. R-ACCEPTANCE-7D: no auto-acceptance while a complaint is open
 * or the content is not public; the timer comes back when that changes.
 */
export function nextTimer(state: TaskState): { kind: TimerKind; at: number } | null {
  switch (state.status) {
    case 'awaiting_acceptance': {
      const deadline = ms(state.acceptDeadline);
      if (!state.reminderSentAt) return { kind: 'remind_acceptance', at: deadline - ACCEPT_REMINDER_BEFORE_MS };
      return { kind: 'expire_acceptance', at: deadline };
    }
    case 'awaiting_client_acceptance': {
      if (state.acceptance.complaint || state.publication.visibility !== 'public') return null;
      const at = autoAcceptDueAt(state);
      return at === null ? null : { kind: 'auto_accept', at };
    }
    case 'in_retention':
      return { kind: 'end_retention', at: ms(state.retention.endsAt!) };
    default:
      return null;
  }
}

/** The business deadline an operator watches (NextDeadline); null when none runs. */
export function deadlineOf(state: TaskState): string | null {
  switch (state.status) {
    case 'awaiting_acceptance':
      return state.acceptDeadline;
    case 'awaiting_client_acceptance': {
      if (state.acceptance.complaint) return null;
      const at = autoAcceptDueAt(state);
      return at === null ? null : iso(at);
    }
    case 'in_retention':
      return state.retention.endsAt;
    default:
      return null;
  }
}

// ---------------------------------------------------------------------------
// Effects: what an event asks the outside world to do

export type NotificationChannel = 'sms' | 'phone_call';

export type Effect =
  | {
      kind: 'notify';
      key: string;
      channel: NotificationChannel;
      recipient: Actor;
      template: 'task_arrived' | 'acceptance_expiring' | 'task_cancelled' | 'content_fix_requested';
      params: Record<string, string | number>;
    }
  | {
      /** R-ESCROW / R-PAYOUT: empty the task's escrow, back to the client or to the creator (or its MCN); once per task (db/ledger.ts). */
      kind: 'settle';
      outcome: 'refund' | 'payout';
    }
  | {
      kind: 'credit';
      key: string;
      creatorId: string;
      delta: number;
      cause: 'retention_violation';
      reason: string;
      /** When the violation happened (the event's time): R-OBSERVATION-RESTART counts from it. */
      occurredAt?: string;
    };

export function effectsOf(state: TaskState, event: TaskEvent): Effect[] {
  const key = `${state.taskId}:${event.seq}`;
  const creator: Actor = { role: 'creator', id: state.creatorId };
  const client: Actor = { role: 'client', id: state.clientId };
  switch (event.type) {
    case 'ordered': // R-ACCEPT-NOTIFY: SMS when the task arrives
      return [{ kind: 'notify', key, channel: 'sms', recipient: creator, template: 'task_arrived', params: { taskId: state.taskId, priceFen: state.priceFen, acceptDeadline: state.acceptDeadline } }];
    case 'acceptance_reminded': // R-ACCEPT-NOTIFY: phone reminder close to expiry
      return [{ kind: 'notify', key, channel: 'phone_call', recipient: creator, template: 'acceptance_expiring', params: { taskId: state.taskId, acceptDeadline: state.acceptDeadline } }];
    case 'declined':
    case 'acceptance_expired':
      return [
        { kind: 'settle', outcome: 'refund' },
        { kind: 'notify', key, channel: 'sms', recipient: client, template: 'task_cancelled', params: { taskId: state.taskId, reason: event.type } },
      ];
    case 'delivery_accepted': // R-PAYOUT: the money reaches the creator at once
      return [{ kind: 'settle', outcome: 'payout' }];
    case 'complaint_upheld': // R-COMPLAINT: the creator is told; a cancellation refunds the client in full
      return event.payload['outcome'] === 'upheld_cancel'
        ? [
            { kind: 'settle', outcome: 'refund' },
            { kind: 'notify', key, channel: 'sms', recipient: creator, template: 'task_cancelled', params: { taskId: state.taskId, reason: 'complaint_upheld' } },
            { kind: 'notify', key: `${key}:client`, channel: 'sms', recipient: client, template: 'task_cancelled', params: { taskId: state.taskId, reason: 'complaint_upheld' } },
          ]
        : [{ kind: 'notify', key, channel: 'sms', recipient: creator, template: 'content_fix_requested', params: { taskId: state.taskId } }];
    case 'retention_violated': // R-RETENTION-PENALTY
      return [
        {
          kind: 'credit',
          key,
          creatorId: state.creatorId,
          delta: -RETENTION_VIOLATION_POINTS,
          cause: 'retention_violation',
          reason: `content ${String(event.payload['to'])} within retention of task ${state.taskId}`,
          occurredAt: event.at,
        },
      ];
    default:
      return [];
  }
}
