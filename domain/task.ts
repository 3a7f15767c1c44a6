/**
 * The task state machine, as pure functions:
 *
 *   decide(state, command, now)  -> NewEvent     (or throws DomainError)
 *   evolve(state, event, now)     mutates state   (never refuses)
 *   nextTimer(state)              the next timer the workflow must wait for
 *   effectsOf(state, event)       settlement, notifications and credit changes an event causes
 *
 * The workflow (workflows/task.ts) owns a TaskState, runs `decide` in its update
 * validators and handlers, and projects every event to Postgres. Nothing here
 * does I/O or reads a clock, so all of it runs in workflow code and in plain
 * unit tests (and the model-based property test) alike.
 *
 * Tasks run under `state.rules`: 2 gives every state a deadline and an outcome
 * (R-STAGE-DEADLINE and the rules beside it); 1 is how tasks ordered before that
 * change behave (domain/taskLegacy.ts keeps their timers, so their histories replay).
 */
import { CN_CALENDAR, addWorkingTime } from './calendar.js';
import { DomainError } from './errors.js';
import {
  ACCEPT_REMINDER_BEFORE_MS,
  AUTO_ACCEPT_AFTER_MS,
  CLIENT_CONFIRM_WINDOW_MS,
  MAX_DRAFT_EXTENSION_DAYS,
  MAX_REASON_CHARS,
  MAX_SUBMISSION_CHARS,
  MUTUAL_CANCEL_ANSWER_MS,
  MUTUAL_CANCEL_CREATOR_SHARE_PERCENT,
  NOT_PUBLIC_EXIT_MS,
  OPERATOR_ESCALATION_WORKING_MS,
  PUBLICATION_WINDOW_MS,
  REPUBLISH_GRACE_MS,
  RETENTION_VIOLATION_POINTS,
  STAGE_REMINDER_BEFORE_MS,
  TAKEDOWN_ANSWER_MS,
} from './rules.js';
import { legacyDeadlineOf, legacyDecidePlatform, legacyNextTimer } from './taskLegacy.js';
import type { NewEvent, TaskEvent } from './taskEvents.js';
import {
  COMPLAINT_OUTCOMES,
  SYSTEM,
  isTerminal,
  type Actor,
  type ActorRole,
  type CancelReason,
  type ComplaintOutcome,
  type DeadlineStage,
  type PlatformEventKind,
  type Stage,
  type TaskState,
  type TaskStatus,
  type Visibility,
} from './taskState.js';
import { DAY, iso, ms } from './time.js';
import { taskTypeOf } from './taskTypes.js';

export * from './taskEvents.js';
export * from './taskState.js';

// ---------------------------------------------------------------------------
// Commands: what actors (and timers) ask for

export type ReviewDecision = 'pass' | 'reject';
export type ClientDecision = 'confirm' | 'reject';
export type ResolveOutcome = 'cancel' | 'settle';

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
  | { type: 'resolve_complaint'; outcome: ComplaintOutcome; note: string }
  | { type: 'extend_draft_deadline'; days: number }
  | { type: 'resolve_task'; outcome: ResolveOutcome; reason: string; refundFen?: number | undefined }
  | { type: 'propose_cancellation'; reason: string; refundFen?: number | undefined }
  | { type: 'answer_cancellation'; agree: boolean; reason?: string | undefined }
  | { type: 'request_takedown'; reason: string }
  | { type: 'answer_takedown'; agree: boolean; reason?: string | undefined };

export type TimerKind =
  | 'remind_acceptance'
  | 'expire_acceptance'
  | 'auto_accept'
  | 'end_retention'
  | 'remind_deadline'
  | 'expire_draft'
  | 'escalate_review'
  | 'expire_confirmation'
  | 'expire_publication'
  | 'escalate_complaint'
  | 'republish_grace'
  | 'expire_not_public'
  | 'expire_cancellation'
  | 'expire_takedown';

export interface PlatformCommand {
  type: 'platform';
  eventId: string;
  kind: PlatformEventKind;
  itemId: string;
  /** The platform's own time of the event: a platform item's events apply in this order, each once. */
  occurredAt?: string | undefined;
  actor: Actor;
}

export type TaskCommand = (UserCommand & { actor: Actor }) | { type: 'timer'; timer: TimerKind; actor: Actor } | PlatformCommand;

/**
 * Who may issue each user command (the API's early 403 reads the same table).
 * `publish` is narrowed further by the task type's publisher (R-PUBLISH-CREATOR / R-PUBLISH-CLIENT).
 */
export const ACTION_ROLES = {
  accept: ['creator'],
  decline: ['creator'],
  submit: ['creator'],
  review: ['operator'],
  confirm: ['client'],
  publish: ['creator', 'client'],
  accept_delivery: ['client'],
  grant_modification: ['client'],
  file_complaint: ['client'],
  resolve_complaint: ['operator'],
  extend_draft_deadline: ['client'],
  resolve_task: ['operator'],
  propose_cancellation: ['client', 'creator'],
  answer_cancellation: ['client', 'creator'],
  request_takedown: ['creator'],
  answer_takedown: ['client'],
} as const satisfies Record<UserCommand['type'], readonly ActorRole[]>;

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

/** NUL and unpaired UTF-16 surrogates: Postgres stores neither in text or jsonb, so no event may carry them. */
// eslint-disable-next-line no-control-regex
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
export const isStorableText = (text: string): boolean => !UNSTORABLE.test(text);

function requireText(value: string | undefined, field: string, max: number): string {
  const text = (value ?? '').trim();
  if (!text) refuseInput(`${field}-required`, `${field} is required`);
  if (text.length > max) refuseInput(`${field}-too-long`, `${field} must be at most ${max} characters`);
  if (!isStorableText(text)) refuseInput(`${field}-invalid-characters`, `${field} must not contain NUL or unpaired surrogate characters`);
  return text;
}

/** Who may issue a command: role first (403), then ownership of this task (403). */
function authorize(state: TaskState, actor: Actor, roles: readonly ActorRole[], action: string): void {
  if (!roles.includes(actor.role)) {
    throw new DomainError('forbidden', `only the ${roles.join(' or ')} may ${action}`, { code: 'wrong-role', requiredRole: roles.join('|') });
  }
  const owner = actor.role === 'client' ? state.clientId : actor.role === 'creator' ? state.creatorId : null;
  if (owner !== null && actor.id !== owner) {
    throw new DomainError('forbidden', `only this task's ${actor.role} may ${action}`, { code: 'not-task-party' });
  }
}

function stageStatuses(stage: Stage) {
  return stage === 'script'
    ? ({ drafting: 'script_drafting', review: 'script_review', confirmation: 'script_confirmation' } as const)
    : ({ drafting: 'content_drafting', review: 'content_review', confirmation: 'content_confirmation' } as const);
}

const DRAFTING: readonly TaskStatus[] = ['script_drafting', 'content_drafting'];
const REVIEW: readonly TaskStatus[] = ['script_review', 'content_review'];
const CONFIRMATION: readonly TaskStatus[] = ['script_confirmation', 'content_confirmation'];
/** Before acceptance (R-MUTUAL-CANCEL applies), after the creator accepted the task. */
const isBeforeAcceptance = (status: TaskStatus): boolean => !isTerminal(status) && status !== 'in_retention';

function clientRejectionLimit(state: TaskState, stage: Stage): number | null {
  const def = taskTypeOf(state.type);
  return stage === 'script' ? (def.draft?.clientRejectionLimit ?? null) : def.content.clientRejectionLimit;
}

function stageLabel(state: TaskState, stage: Stage): string {
  const def = taskTypeOf(state.type);
  return stage === 'script' ? (def.draft?.label ?? 'script') : def.content.label;
}

/** Whether the task runs under the corrections of the rules up to `level` (TaskState `fixes`). */
const fixed = (state: TaskState, level = 1): boolean => (state.fixes ?? 0) >= level;

/** R-REPUBLISH-5: at most 5 republications before acceptance. */
function refuseOverRepublishLimit(state: TaskState): void {
  const limit = taskTypeOf(state.type).maxRepublishes;
  const { republishCount } = state.publication;
  if (republishCount >= limit) refuseRule(state, 'republish-limit-reached', `the content was already republished ${limit} times`, { limit, republishCount });
}

const requireRules2 = (state: TaskState, what: string): void => {
  if (state.rules < 2) refuseRule(state, 'not-available-for-task', `${what} is not available for tasks ordered before it existed`);
};

/** R-MUTUAL-CANCEL: before the first content submission the client gets everything back; after it 90 %. */
export function defaultCancellationRefund(state: TaskState): number {
  if (state.content.revision === 0) return state.priceFen;
  return state.priceFen - Math.floor((state.priceFen * MUTUAL_CANCEL_CREATOR_SHARE_PERCENT) / 100);
}

function refundWithin(state: TaskState, refundFen: number | undefined, fallback: number, min: number): number {
  const refund = refundFen ?? fallback;
  if (!Number.isSafeInteger(refund) || refund < min || refund > state.priceFen) {
    refuseInput('refund-invalid', `refundFen must be a whole number of fen from ${min} to the price ${state.priceFen}`);
  }
  return refund;
}

/**
 * Decides what a command means for the task now, or refuses it. Pure: the same
 * state, command and time always give the same answer, so the workflow runs it
 * both in an update's validator (to refuse before anything is written to
 * history) and in its handler.
 */
export function decide(state: TaskState, command: TaskCommand, now: number): NewEvent {
  if (command.type === 'platform') return state.rules < 2 ? legacyDecidePlatform(state, command) : decidePlatform(state, command, now);
  const { actor } = command;
  if (isTerminal(state.status) && command.type !== 'timer') {
    refuseState(state, 'task-closed', `the task is ${state.status}`);
  }

  switch (command.type) {
    case 'timer':
      return decideTimer(state, command.timer, now);

    case 'accept':
      authorize(state, actor, ACTION_ROLES.accept, 'accept the task');
      if (state.status !== 'awaiting_acceptance') refuseState(state, 'not-awaiting-acceptance', 'the task is not waiting for acceptance');
      // R-ACCEPT-24H: the deadline is exclusive; the expiry timer also fires at it.
      if (now >= ms(state.acceptDeadline)) refuseState(state, 'acceptance-window-closed', 'the 24-hour acceptance window has closed');
      return { type: 'accepted', actor, payload: { next: state.scriptRequired ? 'script_drafting' : 'content_drafting' } };

    case 'decline': {
      authorize(state, actor, ACTION_ROLES.decline, 'decline the task');
      const reason = requireText(command.reason, 'reason', MAX_REASON_CHARS);
      if (state.status !== 'awaiting_acceptance') refuseState(state, 'not-awaiting-acceptance', 'only a task waiting for acceptance can be declined');
      return { type: 'declined', actor, reason, payload: {} };
    }

    case 'submit': {
      authorize(state, actor, ACTION_ROLES.submit, `submit the ${stageLabel(state, command.stage)}`);
      const body = requireText(command.body, 'body', MAX_SUBMISSION_CHARS);
      const s = stageStatuses(command.stage);
      if (command.stage === 'script' && !state.scriptRequired) {
        refuseRule(state, 'script-not-required', 'this order does not require a script');
      }
      if (state.status !== s.drafting) refuseState(state, `not-${command.stage}-drafting`, `the task is not waiting for a ${stageLabel(state, command.stage)}`);
      return { type: 'submitted', actor, payload: { stage: command.stage, revision: state[command.stage].revision + 1, body } };
    }

    case 'review': {
      authorize(state, actor, ACTION_ROLES.review, `review the ${stageLabel(state, command.stage)}`);
      const s = stageStatuses(command.stage);
      if (state.status !== s.review) refuseState(state, `not-${command.stage}-review`, `no ${stageLabel(state, command.stage)} is waiting for operator review`);
      if (command.decision === 'reject') {
        const reason = requireText(command.reason, 'reason', MAX_REASON_CHARS);
        return { type: 'review_rejected', actor, reason, payload: { stage: command.stage, revision: state[command.stage].revision } };
      }
      return { type: 'review_passed', actor, payload: { stage: command.stage, revision: state[command.stage].revision } };
    }

    case 'confirm': {
      authorize(state, actor, ACTION_ROLES.confirm, `confirm the ${stageLabel(state, command.stage)}`);
      if (command.stage === 'content' && state.publishFirst) return decideLiveReview(state, command, actor);
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
        return { type: 'client_rejected', actor, reason, payload: { stage: command.stage, revision: state[command.stage].revision, ...(advances ? { advances: true as const } : {}) } };
      }
      return { type: 'client_confirmed', actor, payload: { stage: command.stage, revision: state[command.stage].revision } };
    }

    case 'publish': {
      const publisher = taskTypeOf(state.type).publisher;
      authorize(state, actor, [publisher], 'publish the content');
      const itemId = requireText(command.platformItemId, 'platformItemId', 200);
      const p = state.publication;
      if (state.status === 'awaiting_publication') {
        // first publication: may re-link while the platform has not reported it live.
        // After an upheld complaint's fix the content may be edited in place: the live item, linked
        // again, is the fixed publication at once (the platform reports no new publication for it).
        if (p.itemId !== null && itemId === p.itemId) {
          // R-NOT-PUBLIC-EXIT: a deleted or hidden item linked again is not live content (restore it, or publish anew)
          if (fixed(state) && p.visibility !== 'public') {
            refuseRule(state, 'content-not-public', `the item ${itemId} is ${p.visibility ?? 'not public'}: restore it on the platform or publish a new item`, { visibility: p.visibility });
          }
          return { type: 'published', actor, payload: { itemId, republish: true, inPlace: true } };
        }
        // R-REPUBLISH-5: a new item in place of live content is a republication, as after publication
        if (fixed(state) && p.itemId !== null) refuseOverRepublishLimit(state);
      } else if (state.status === 'awaiting_client_acceptance') {
        if (itemId === p.itemId) refuseState(state, 'already-live', "this item is already the task's live content");
        refuseOverRepublishLimit(state);
        // R-MODIFY-PERMISSION: a published article changes only with the client's permission
        if (taskTypeOf(state.type).modificationNeedsPermission && !p.modificationGrantedAt) {
          refuseRule(state, 'modification-permission-required', 'the client has not granted permission to modify the published content');
        }
      } else if (state.status === 'in_retention') {
        refuseRule(state, 'content-locked', 'the content cannot be changed after acceptance');
      } else {
        refuseState(state, 'not-publishable', 'the content has not been confirmed by the client yet');
      }
      // The platform may have reported the item live before the publisher linked it.
      if (p.reported?.itemId === itemId) {
        return { type: 'published', actor, payload: { itemId, at: p.reported.at, republish: p.itemId !== null } };
      }
      return { type: 'publication_linked', actor, payload: { itemId } };
    }

    case 'accept_delivery': {
      authorize(state, actor, ACTION_ROLES.accept_delivery, 'accept the delivery');
      if (state.status !== 'awaiting_client_acceptance') refuseState(state, 'not-awaiting-client-acceptance', 'the content has not been published yet');
      return clientSettles(state, actor, command.publishTime);
    }

    case 'grant_modification':
      authorize(state, actor, ACTION_ROLES.grant_modification, 'grant modification permission');
      if (!taskTypeOf(state.type).modificationNeedsPermission) refuseRule(state, 'no-modification-permission', `${state.type} content needs no modification permission`);
      if (state.status !== 'awaiting_client_acceptance') refuseState(state, 'not-awaiting-client-acceptance', 'only published content before acceptance can be modified');
      if (state.publication.modificationGrantedAt) refuseState(state, 'modification-already-granted', 'modification permission is already granted');
      return { type: 'modification_granted', actor, payload: { itemId: state.publication.itemId } };

    case 'file_complaint': {
      authorize(state, actor, ACTION_ROLES.file_complaint, 'file a complaint');
      const reason = requireText(command.reason, 'reason', MAX_REASON_CHARS);
      if (state.status !== 'awaiting_client_acceptance') refuseState(state, 'not-awaiting-client-acceptance', 'a complaint can be filed only before acceptance');
      if (state.acceptance.complaint) refuseState(state, 'complaint-open', 'a complaint is already open');
      return { type: 'complaint_filed', actor, reason, payload: {} };
    }

    case 'resolve_complaint': {
      authorize(state, actor, ACTION_ROLES.resolve_complaint, 'resolve a complaint');
      const note = requireText(command.note, 'note', MAX_REASON_CHARS);
      const complaint = state.acceptance.complaint;
      if (!complaint) return refuseState(state, 'no-open-complaint', 'the task has no open complaint');
      if (!(COMPLAINT_OUTCOMES as readonly string[]).includes(command.outcome)) refuseInput('outcome-invalid', `outcome must be one of ${COMPLAINT_OUTCOMES.join(', ')}`);
      if (command.outcome === 'dismissed') return { type: 'complaint_dismissed', actor, reason: note, payload: { outcome: 'dismissed' } };
      // upholding reworks or cancels an unsettled delivery only (never one already paid out)
      if (state.status !== 'awaiting_client_acceptance') refuseState(state, 'not-awaiting-client-acceptance', 'only a complaint about an unaccepted delivery can be upheld');
      // upheld: the operator asks the creator to fix the content, or cancels the task with a full refund
      return { type: 'complaint_upheld', actor, reason: note, payload: { outcome: command.outcome, complaint: complaint.reason } };
    }

    case 'extend_draft_deadline': {
      // R-STAGE-DEADLINE: the client may extend a running drafting deadline before it passes
      authorize(state, actor, ACTION_ROLES.extend_draft_deadline, 'extend the drafting deadline');
      requireRules2(state, 'extending the drafting deadline');
      if (!Number.isSafeInteger(command.days) || command.days < 1 || command.days > MAX_DRAFT_EXTENSION_DAYS) {
        refuseInput('days-invalid', `days must be a whole number from 1 to ${MAX_DRAFT_EXTENSION_DAYS}`);
      }
      if (!DRAFTING.includes(state.status)) refuseState(state, 'not-drafting', 'the creator is not drafting');
      const dueAt = ms(state.phase.dueAt!);
      if (now >= dueAt) refuseState(state, 'deadline-passed', 'the drafting deadline has passed');
      return { type: 'draft_deadline_extended', actor, payload: { days: command.days, dueAt: iso(dueAt + command.days * DAY) } };
    }

    case 'resolve_task': {
      // R-OPERATOR-RESOLVE: an operator ends any open task, with a reason
      authorize(state, actor, ACTION_ROLES.resolve_task, 'resolve the task');
      const reason = requireText(command.reason, 'reason', MAX_REASON_CHARS);
      if (command.outcome !== 'cancel' && command.outcome !== 'settle') refuseInput('outcome-invalid', 'outcome must be cancel or settle');
      if (state.settlement) {
        // accepted and paid out already: only the retention watch can end
        if (command.outcome === 'cancel' || command.refundFen !== undefined) refuseState(state, 'already-settled', 'the escrow was paid out at acceptance; the task can only be closed (settle)');
        return { type: 'operator_resolved', actor, reason, payload: { outcome: 'settle', refundFen: 0, payoutFen: 0 } };
      }
      if (command.outcome === 'settle') {
        if (command.refundFen !== undefined && command.refundFen !== 0) refuseInput('refund-invalid', 'settling pays the creator in full; cancel with a refund instead');
        return { type: 'operator_resolved', actor, reason, payload: { outcome: 'settle', refundFen: 0, payoutFen: state.priceFen } };
      }
      const refundFen = refundWithin(state, command.refundFen, state.priceFen, 1);
      return { type: 'operator_resolved', actor, reason, payload: { outcome: 'cancel', refundFen, payoutFen: state.priceFen - refundFen } };
    }

    case 'propose_cancellation': {
      authorize(state, actor, ACTION_ROLES.propose_cancellation, 'propose cancelling the task');
      requireRules2(state, 'mutual cancellation');
      const reason = requireText(command.reason, 'reason', MAX_REASON_CHARS);
      if (!isBeforeAcceptance(state.status)) refuseState(state, 'not-before-acceptance', 'a task can be cancelled by agreement only before acceptance');
      if (state.status === 'awaiting_acceptance') refuseState(state, 'not-accepted-yet', 'the creator has not accepted the task: the creator declines, or the task expires');
      if (state.proposal) refuseState(state, 'proposal-open', 'a cancellation proposal is already waiting for an answer');
      const refundFen = refundWithin(state, command.refundFen, defaultCancellationRefund(state), 0);
      const by = actor.role as 'client' | 'creator';
      return { type: 'cancellation_proposed', actor, reason, payload: { by, refundFen, payoutFen: state.priceFen - refundFen, answerBy: iso(now + MUTUAL_CANCEL_ANSWER_MS) } };
    }

    case 'answer_cancellation': {
      authorize(state, actor, ACTION_ROLES.answer_cancellation, 'answer the cancellation proposal');
      const proposal = state.proposal;
      if (!proposal) return refuseState(state, 'no-open-proposal', 'no cancellation proposal is waiting for an answer');
      if (proposal.by === actor.role) refuseState(state, 'own-proposal', 'the other party answers a cancellation proposal');
      if (fixed(state)) {
        // R-MUTUAL-CANCEL: only before acceptance (a paid-out task is never cancelled), within 48 hours (silence refuses)
        if (!isBeforeAcceptance(state.status) || state.settlement) refuseState(state, 'not-before-acceptance', 'the task was accepted: the cancellation proposal has lapsed');
        if (now >= ms(proposal.answerBy)) refuseState(state, 'answer-window-closed', `the proposal had to be answered by ${proposal.answerBy}: silence refused it`);
      }
      if (command.agree) return { type: 'cancellation_agreed', actor, reason: command.reason ?? null, payload: { refundFen: proposal.refundFen, payoutFen: proposal.payoutFen } };
      const reason = requireText(command.reason, 'reason', MAX_REASON_CHARS);
      return { type: 'cancellation_refused', actor, reason, payload: { by: actor.role as 'client' | 'creator' } };
    }

    case 'request_takedown': {
      authorize(state, actor, ACTION_ROLES.request_takedown, 'ask to take the content down');
      requireRules2(state, 'a takedown request');
      const reason = requireText(command.reason, 'reason', MAX_REASON_CHARS);
      if (state.status !== 'in_retention') refuseState(state, 'not-in-retention', 'a takedown can be asked for only during retention');
      if (state.takedown) refuseState(state, 'takedown-open', 'a takedown request is already waiting for the client');
      return { type: 'takedown_requested', actor, reason, payload: { answerBy: iso(now + TAKEDOWN_ANSWER_MS) } };
    }

    case 'answer_takedown': {
      authorize(state, actor, ACTION_ROLES.answer_takedown, 'answer the takedown request');
      if (!state.takedown) return refuseState(state, 'no-open-takedown', 'no takedown request is waiting for an answer');
      // R-TAKEDOWN: within 48 hours (silence refuses)
      if (fixed(state) && now >= ms(state.takedown.answerBy)) {
        refuseState(state, 'answer-window-closed', `the takedown request had to be answered by ${state.takedown.answerBy}: silence refused it`);
      }
      if (command.agree) return { type: 'takedown_agreed', actor, reason: command.reason ?? null, payload: {} };
      const reason = requireText(command.reason, 'reason', MAX_REASON_CHARS);
      return { type: 'takedown_refused', actor, reason, payload: { by: 'client' } };
    }
  }
}

/**
 * The client accepts the delivery and the escrow settles. R-PUBLISH-TIME: for types
 * whose client confirms the publication time, accepting confirms the live content's
 * time as the one the campaign counts from; nobody retypes it. A time the client
 * sends anyway is a check that it saw the current publication (a republication
 * since is a 409-style mismatch, not a silent settlement of other content).
 */
function clientSettles(state: TaskState, actor: Actor, publishTime: string | undefined): NewEvent {
  // R-NOT-PUBLIC-EXIT: content that is not public cannot be accepted
  if (state.publication.visibility !== 'public') refuseState(state, 'content-not-public', `the content is ${state.publication.visibility ?? 'not published'}`);
  const publishedAt = state.publication.publishedAt!;
  if (publishTime !== undefined) {
    if (Number.isNaN(Date.parse(publishTime))) refuseInput('publishTime-invalid', 'publishTime must be an ISO 8601 time');
    if (Date.parse(publishTime) !== ms(publishedAt)) {
      refuseRule(state, 'publish-time-mismatch', `the content went live at ${publishedAt}`, { publishedAt });
    }
  }
  if (!taskTypeOf(state.type).clientConfirmsPublishTime) return { type: 'delivery_accepted', actor, payload: { by: 'client' } };
  return { type: 'delivery_accepted', actor, payload: { by: 'client', publishTime: publishedAt } };
}

/**
 * R-TOUTIAO-ORDER: the client's decision on live content. Confirming settles
 * (R-PUBLISH-TIME); a rejection, with its reason, sends the content back to the
 * creator and grants the one modification it asks for (R-MODIFY-PERMISSION);
 * R-ARTICLE-2 limits the rejections as before publication.
 */
function decideLiveReview(state: TaskState, command: Extract<UserCommand, { type: 'confirm' }>, actor: Actor): NewEvent {
  if (state.status !== 'awaiting_client_acceptance') {
    refuseState(state, 'not-content-confirmation', `the client reviews the ${stageLabel(state, 'content')} once it is live`);
  }
  // confirming settles as accepting does (a complaint of the client's own is over with it)
  if (command.decision === 'confirm') return clientSettles(state, actor, undefined);
  if (state.acceptance.complaint) refuseState(state, 'complaint-open', 'a complaint about the content is open: an operator decides it first');
  const reason = requireText(command.reason, 'reason', MAX_REASON_CHARS);
  const limit = clientRejectionLimit(state, 'content');
  const used = state.content.clientRejections;
  if (limit !== null && used >= limit) {
    refuseRule(state, 'rejection-limit-reached', `the client has used all ${limit} rejections of the ${stageLabel(state, 'content')}; it can only confirm`, { limit, used });
  }
  return { type: 'client_rejected', actor, reason, payload: { stage: 'content', revision: state.content.revision, live: true } };
}

function decideTimer(state: TaskState, timer: TimerKind, now: number): NewEvent {
  const due = nextTimer(state);
  if (!due || due.kind !== timer || due.at > now) {
    refuseState(state, 'timer-not-due', `timer ${timer} is not due`);
  }
  const dueAt = iso(due!.at);
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
    case 'remind_deadline': {
      const stage = state.status as DeadlineStage;
      return { type: 'deadline_reminded', actor: SYSTEM, payload: { stage, dueAt: state.phase.dueAt!, recipient: DRAFTING.includes(stage) ? 'creator' : 'client' } };
    }
    case 'expire_draft':
      return { type: 'delivery_overdue', actor: SYSTEM, payload: { stage: state.status === 'script_drafting' ? 'script' : 'content', dueAt } };
    case 'escalate_review':
      return { type: 'escalated', actor: SYSTEM, payload: { subject: 'review', since: state.phase.enteredAt, dueAt } };
    case 'expire_confirmation': {
      const stage: Stage = state.status === 'script_confirmation' ? 'script' : 'content';
      return { type: 'client_confirmed', actor: SYSTEM, payload: { stage, revision: state[stage].revision, by: 'deadline' } };
    }
    case 'expire_publication':
      return { type: 'publication_overdue', actor: SYSTEM, payload: { dueAt, outcome: taskTypeOf(state.type).publisher === 'creator' ? 'cancelled' : 'settled' } };
    case 'escalate_complaint':
      return { type: 'escalated', actor: SYSTEM, payload: { subject: 'complaint', since: complaintSince(state), dueAt } };
    case 'republish_grace': {
      const p = state.publication;
      return { type: 'retention_violated', actor: SYSTEM, payload: { itemId: p.itemId!, from: 'public', to: 'deleted', points: RETENTION_VIOLATION_POINTS, grace: true } };
    }
    case 'expire_not_public':
      return { type: 'content_withdrawn', actor: SYSTEM, payload: { since: state.lapse!.since, visibility: state.publication.visibility } };
    case 'expire_cancellation':
      return { type: 'cancellation_refused', actor: SYSTEM, payload: { by: 'deadline' } };
    case 'expire_takedown':
      return { type: 'takedown_refused', actor: SYSTEM, payload: { by: 'deadline' } };
  }
}

/** A platform time as comparable text (UTC, ms), or null when absent or unreadable. */
const platformTime = (at: string | undefined): string | null => {
  const t = at === undefined ? Number.NaN : ms(at);
  return Number.isNaN(t) ? null : iso(t);
};
/** The platform's order of an item's events: its time, then its id (a redelivery sorts equal, an older event before). */
const platformKey = (occurredAt: string, eventId: string): string => `${occurredAt}|${eventId}`;

/**
 * Whether a platform event was applied already or is older than one applied for
 * the same item (R-RETENTION-PENALTY: a redelivered callback never counts twice,
 * however late). Such an event changes nothing and records nothing.
 */
export function isStalePlatformEvent(state: TaskState, command: Omit<PlatformCommand, 'actor' | 'type'>): boolean {
  const at = platformTime(command.occurredAt);
  if (state.rules < 2 || at === null) return state.platformEventIds.includes(command.eventId);
  const last = state.platformClock[command.itemId];
  return last !== undefined && platformKey(at, command.eventId) <= last;
}

function decidePlatform(state: TaskState, command: PlatformCommand, now: number): NewEvent {
  const { actor, kind, itemId, eventId, occurredAt } = command;
  const p = state.publication;
  const origin = { eventId, ...(occurredAt ? { occurredAt } : {}) };
  const ignore = (why: string): NewEvent => ({ type: 'platform_event_ignored', actor, reason: why, payload: { eventId, kind, itemId, ...(occurredAt ? { occurredAt } : {}) } });
  if (actor.role !== 'platform') {
    throw new DomainError('forbidden', 'only the content platform reports publication events', { code: 'wrong-role' });
  }
  if (isTerminal(state.status)) return ignore(`the task is ${state.status}`);

  // fixes 1: an item other than the live one restored on the platform is public again, as when first published
  // (a reported item that was hidden in between, or a linked one)
  const becomesPublic = kind === 'published' || (fixed(state) && kind === 'restored' && itemId !== p.itemId);
  if (becomesPublic) {
    const publishable = state.status === 'awaiting_publication' || state.status === 'awaiting_client_acceptance';
    // R-PUBLISH-CREATOR: published before the content may be (still drafted, reviewed or confirmed): kept, so
    // the item goes live when its publisher links it (the platform will not report it again)
    // (the creator accepted the task: before that there is no content to publish)
    const drafted = isBeforeAcceptance(state.status) && state.status !== 'awaiting_acceptance';
    if (!publishable && fixed(state) && drafted && itemId !== p.itemId) return { type: 'publication_reported', actor, payload: { ...origin, itemId } };
    if (!publishable) return ignore(`nothing is waiting to be published in status ${state.status}`);
    if (itemId === p.itemId) return ignore('the item is already live');
    if (itemId === p.pendingItemId) return { type: 'published', actor, payload: { ...origin, itemId, republish: p.itemId !== null } };
    return { type: 'publication_reported', actor, payload: { ...origin, itemId } };
  }

  // fixes 1: the item the platform reported live (not linked yet) hidden or deleted: the report no longer holds
  if (fixed(state) && itemId !== p.itemId && itemId === p.reported?.itemId) return { type: 'visibility_changed', actor, payload: { ...origin, itemId, from: 'public', to: kind as Visibility } };
  if (itemId !== p.itemId) return ignore("the item is not the task's live content");
  const to: Visibility = kind === 'restored' ? 'public' : kind;
  if (p.visibility === to) return ignore(`the content is already ${to}`);
  if (p.visibility === 'deleted') return ignore('deleted content cannot change visibility');
  const from = p.visibility;
  if (to === 'public' || state.lapse) {
    // restored, or hidden -> deleted within one lapse: never a second violation
    return { type: 'visibility_changed', actor, payload: { ...origin, itemId, from, to } };
  }
  // R-RETENTION-PENALTY: public -> hidden/deleted within retention (from the final publication,
  // before acceptance as after) is one violation; R-REPUBLISH-GRACE: a deletion before acceptance
  // counts only if nothing new is public within 24 hours (the republish_grace timer decides).
  const withinRetention = now < retentionEndMs(state);
  const graced = to === 'deleted' && (state.status === 'awaiting_client_acceptance' || liveRevision(state));
  if (withinRetention && !graced) {
    return { type: 'retention_violated', actor, payload: { ...origin, itemId, from, to, points: RETENTION_VIOLATION_POINTS } };
  }
  return { type: 'visibility_changed', actor, payload: { ...origin, itemId, from, to } };
}

/** R-RETENTION-CLOCK: retention ends `retentionDays` after the final publication. */
function retentionEndMs(state: TaskState): number {
  const at = state.publication.publishedAt;
  return at ? ms(at) + state.retentionDays * DAY : Number.NEGATIVE_INFINITY;
}

const complaintSince = (state: TaskState): string => {
  const c = state.acceptance.complaint!;
  return c.filedAt ?? c.openedAt;
};

// ---------------------------------------------------------------------------
// evolve

/** Applies an event decided by `decide`; assigns its sequence number and time. */
export function evolve(state: TaskState, draft: NewEvent, now: number): TaskEvent {
  const at = iso(now);
  const event = { ...draft, seq: state.version + 1, at, reason: draft.reason ?? null };
  state.version = event.seq;
  recordPlatformOrigin(state, event);

  switch (event.type) {
    case 'ordered':
    case 'platform_event_ignored':
    case 'effect_failed':
      if (event.type === 'effect_failed') state.failedEffects += 1;
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
      const { stage, body } = event.payload;
      const st = state[stage];
      st.revision += 1;
      st.current = { revision: st.revision, body, submittedAt: at };
      // R-TOUTIAO-ORDER: published first (the platform's back-end reviews it), then the client
      state.status = stage === 'content' && state.publishFirst ? 'awaiting_publication' : stageStatuses(stage).review;
      break;
    }
    case 'review_passed':
      state.status = stageStatuses(event.payload.stage).confirmation;
      break;
    case 'review_rejected':
    case 'client_rejected': {
      const stage = event.payload.stage;
      const st = state[stage];
      const by = event.type === 'review_rejected' ? 'operator' : 'client';
      if (by === 'operator') st.operatorRejections += 1;
      else st.clientRejections += 1;
      st.lastRejection = { by, actorId: event.actor.id, reason: event.reason ?? '', revision: st.revision, at };
      const advances = event.type === 'client_rejected' && event.payload.advances === true;
      state.status = advances ? 'content_drafting' : stageStatuses(stage).drafting;
      // R-TOUTIAO-ORDER + R-MODIFY-PERMISSION: rejecting live content grants the one modification it asks for
      if (event.type === 'client_rejected' && event.payload.live === true) state.publication.modificationGrantedAt = at;
      break;
    }
    case 'client_confirmed': {
      const stage = event.payload.stage;
      state[stage].confirmedAt = at;
      state.status = stage === 'script' ? 'content_drafting' : 'awaiting_publication';
      break;
    }
    case 'publication_linked':
      state.publication.pendingItemId = event.payload.itemId;
      break;
    case 'publication_reported':
      state.publication.reported = { itemId: event.payload.itemId, at };
      break;
    case 'published': {
      const p = state.publication;
      const liveAt = event.payload.at ?? at;
      if (p.itemId !== null) p.republishCount += 1;
      if (p.itemId !== null) p.modificationGrantedAt = null; // the permission covers one change
      p.itemId = event.payload.itemId;
      p.pendingItemId = null;
      p.reported = null;
      p.firstPublishedAt ??= liveAt;
      p.publishedAt = liveAt; // R-RETENTION-CLOCK: the final publication counts
      p.visibility = 'public';
      state.lapse = null; // R-REPUBLISH-GRACE: public again
      // R-ACCEPTANCE-7D (design): a republication restarts the 7-day clock.
      state.acceptance.pausedMs = 0;
      if (state.acceptance.complaint) state.acceptance.complaint.openedAt = liveAt;
      state.status = 'awaiting_client_acceptance';
      break;
    }
    case 'visibility_changed':
    case 'retention_violated': {
      const to = event.payload.to;
      // fixes 1: a reported item that is not the live content no longer public: it is not reported live any more
      if (fixed(state) && event.payload.itemId !== state.publication.itemId) {
        if (to !== 'public' && state.publication.reported?.itemId === event.payload.itemId) state.publication.reported = null;
        break;
      }
      state.publication.visibility = to;
      if (to === 'public') {
        state.lapse = null;
      } else {
        state.lapse ??= { since: at, visibility: to, withinRetention: now < retentionEndMs(state), violated: false };
        state.lapse.visibility = to;
      }
      if (event.type === 'retention_violated') {
        state.retention.violations += 1;
        if (state.lapse) state.lapse.violated = true;
      }
      // deleted within retention after acceptance: nothing is left to keep up
      if (to === 'deleted' && state.status === 'in_retention') {
        if (fixed(state)) complete(state, 'retention_broken', at); // a takedown request still open ends with the task
        else {
          state.completion = { kind: 'retention_broken', at };
          state.status = 'completed';
        }
      }
      break;
    }
    case 'delivery_accepted': {
      // accepting settles the delivery: a complaint still open is over (it changes no timer in retention)
      state.acceptance.complaint = null;
      state.complaintEscalatedAt = null;
      // R-MUTUAL-CANCEL: a proposal still waiting lapses (only a task before acceptance is cancelled by agreement)
      if (fixed(state)) state.proposal = null;
      state.acceptance.acceptedAt = at;
      state.acceptance.acceptedBy = event.payload.by;
      if (typeof event.payload.publishTime === 'string') state.acceptance.publishTimeConfirmed = event.payload.publishTime;
      state.status = 'in_retention';
      settle(state, event.seq, 0, state.priceFen, at);
      // R-RETENTION-CLOCK: retention counts from the final publication time.
      state.retention.endsAt = iso(retentionEndMs(state));
      break;
    }
    case 'modification_granted':
      state.publication.modificationGrantedAt = at;
      break;
    case 'complaint_filed':
      state.acceptance.complaint = { reason: event.reason ?? '', openedAt: at, filedAt: at };
      state.acceptance.complaintsFiled += 1;
      break;
    case 'complaint_dismissed': {
      const c = state.acceptance.complaint!;
      // R-COMPLAINT: the acceptance clock goes on from where it stopped.
      state.acceptance.pausedMs += Math.max(0, now - ms(c.openedAt));
      state.acceptance.complaint = null;
      state.complaintEscalatedAt = null;
      break;
    }
    case 'complaint_upheld': {
      const c = state.acceptance.complaint!;
      state.acceptance.pausedMs += Math.max(0, now - ms(c.openedAt));
      state.acceptance.complaint = null;
      state.complaintEscalatedAt = null;
      if (event.payload.outcome === 'upheld_cancel') {
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
    case 'retention_completed':
      if (fixed(state)) complete(state, 'retention_served', at); // a takedown request still open ends with the task
      else {
        state.completion = { kind: 'retention_served', at };
        state.status = 'completed';
      }
      break;
    case 'deadline_reminded':
      state.phase.remindedAt = at;
      break;
    case 'draft_deadline_extended':
      state.phase.dueAt = event.payload.dueAt;
      // the reminder is due again 24 hours before the new deadline
      if (ms(event.payload.dueAt) - STAGE_REMINDER_BEFORE_MS > now) state.phase.remindedAt = null;
      break;
    case 'delivery_overdue':
      cancel(state, 'delivery_overdue', null, at);
      break;
    case 'escalated':
      if (event.payload.subject === 'review') state.phase.escalatedAt = at;
      else state.complaintEscalatedAt = at;
      break;
    case 'publication_overdue':
      if (event.payload.outcome === 'cancelled') {
        cancel(state, 'publication_overdue', null, at);
      } else {
        settle(state, event.seq, 0, state.priceFen, at);
        complete(state, 'settled_unpublished', at);
      }
      break;
    case 'content_withdrawn':
      cancel(state, 'content_withdrawn', null, at);
      break;
    case 'operator_resolved': {
      const { outcome, refundFen, payoutFen } = event.payload;
      if (outcome === 'cancel') {
        settle(state, event.seq, refundFen, payoutFen, at);
        state.cancellation = { reason: 'operator_cancelled', note: event.reason, at };
        state.status = 'cancelled';
        if (fixed(state)) state.proposal = null; // a proposal still open ends with the task
      } else {
        settle(state, event.seq, refundFen, payoutFen, at);
        complete(state, 'operator_settled', at);
      }
      break;
    }
    case 'cancellation_proposed':
      state.proposal = {
        by: event.payload.by,
        actorId: event.actor.id,
        reason: event.reason ?? '',
        refundFen: event.payload.refundFen,
        payoutFen: event.payload.payoutFen,
        proposedAt: at,
        answerBy: event.payload.answerBy,
      };
      break;
    case 'cancellation_agreed':
      settle(state, event.seq, event.payload.refundFen, event.payload.payoutFen, at);
      state.proposal = null;
      state.cancellation = { reason: 'mutually_cancelled', note: event.reason, at };
      state.status = 'cancelled';
      break;
    case 'cancellation_refused':
      state.proposal = null;
      break;
    case 'takedown_requested':
      state.takedown = { reason: event.reason ?? '', requestedAt: at, answerBy: event.payload.answerBy };
      break;
    case 'takedown_agreed':
      state.takedown = null;
      complete(state, 'taken_down', at);
      break;
    case 'takedown_refused':
      state.takedown = null;
      break;
  }
  enterPhase(state, at);
  state.nextDeadline = deadlineOf(state);
  return event;
}

/** R-ESCROW: the one settlement of the task's escrow (refund + payout = price); never a second. */
function settle(state: TaskState, seq: number, refundFen: number, payoutFen: number, at: string): void {
  state.settlement ??= { refundFen, payoutFen, at, seq };
}

/** Cancellations before acceptance refund the escrow in full, unless the event split it (settled first). */
function cancel(state: TaskState, reason: CancelReason, note: string | null, at: string): void {
  settle(state, state.version, state.priceFen, 0, at);
  state.cancellation = { reason, note, at };
  state.status = 'cancelled';
  state.proposal = null;
}

function complete(state: TaskState, kind: NonNullable<TaskState['completion']>['kind'], at: string): void {
  state.completion = { kind, at };
  state.status = 'completed';
  state.proposal = null;
  state.takedown = null;
}

/** R-STAGE-DEADLINE: a new status starts its own clock (each drafting round anew). */
function enterPhase(state: TaskState, at: string): void {
  if (state.phase.status === state.status) return;
  const t = ms(at);
  let dueAt: string | null = null;
  if (state.status === 'awaiting_acceptance') dueAt = state.acceptDeadline;
  else if (DRAFTING.includes(state.status)) dueAt = iso(t + state.draftDays * DAY);
  else if (CONFIRMATION.includes(state.status)) dueAt = iso(t + CLIENT_CONFIRM_WINDOW_MS);
  else if (state.status === 'awaiting_publication') dueAt = iso(t + PUBLICATION_WINDOW_MS);
  state.phase = { status: state.status, enteredAt: at, dueAt, remindedAt: null, escalatedAt: null };
}

/** Remembers the platform's order of an item's events (R-RETENTION-PENALTY), and (rules 1) the recent ids. */
function recordPlatformOrigin(state: TaskState, event: TaskEvent): void {
  const payload = event.payload as { eventId?: string; occurredAt?: string; itemId?: string };
  if (typeof payload.eventId !== 'string') return;
  const at = platformTime(payload.occurredAt);
  if (at !== null && typeof payload.itemId === 'string' && state.rules >= 2) {
    state.platformClock[payload.itemId] = platformKey(at, payload.eventId);
    return;
  }
  state.platformEventIds = [...state.platformEventIds, payload.eventId].slice(-200);
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
      ...(state.rules >= 2 ? { draftDays: state.draftDays } : {}),
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

export interface DueTimer {
  kind: TimerKind;
  at: number;
}

/**
 * Every timer that runs in this state (R-STAGE-DEADLINE's table, R-REPUBLISH-GRACE,
 * R-NOT-PUBLIC-EXIT, R-MUTUAL-CANCEL, R-TAKEDOWN), in a fixed order.
 */
export function runningTimers(state: TaskState): DueTimer[] {
  const timers: DueTimer[] = [];
  const phase = state.phase;
  const due = phase.dueAt ? ms(phase.dueAt) : null;
  const s = state.status;
  if (s === 'awaiting_acceptance') {
    const deadline = ms(state.acceptDeadline);
    if (!state.reminderSentAt) timers.push({ kind: 'remind_acceptance', at: deadline - ACCEPT_REMINDER_BEFORE_MS });
    timers.push({ kind: 'expire_acceptance', at: deadline });
  } else if (DRAFTING.includes(s) && due !== null) {
    if (!phase.remindedAt) timers.push({ kind: 'remind_deadline', at: due - STAGE_REMINDER_BEFORE_MS });
    timers.push({ kind: 'expire_draft', at: due });
  } else if (REVIEW.includes(s)) {
    if (!phase.escalatedAt) timers.push({ kind: 'escalate_review', at: addWorkingTime(ms(phase.enteredAt), OPERATOR_ESCALATION_WORKING_MS, CN_CALENDAR) });
  } else if (CONFIRMATION.includes(s) && due !== null) {
    if (!phase.remindedAt) timers.push({ kind: 'remind_deadline', at: due - STAGE_REMINDER_BEFORE_MS });
    timers.push({ kind: 'expire_confirmation', at: due });
  } else if (s === 'awaiting_publication' && due !== null) {
    timers.push({ kind: 'expire_publication', at: due });
  } else if (s === 'awaiting_client_acceptance') {
    const complaint = state.acceptance.complaint;
    if (!complaint && state.publication.visibility === 'public') {
      const at = autoAcceptDueAt(state);
      if (at !== null) timers.push({ kind: 'auto_accept', at });
    }
    if (complaint && !state.complaintEscalatedAt) {
      timers.push({ kind: 'escalate_complaint', at: addWorkingTime(ms(complaintSince(state)), OPERATOR_ESCALATION_WORKING_MS, CN_CALENDAR) });
    }
    timers.push(...lapseTimers(state));
  } else if (s === 'in_retention') {
    timers.push({ kind: 'end_retention', at: ms(state.retention.endsAt!) });
    if (state.takedown) timers.push({ kind: 'expire_takedown', at: ms(state.takedown.answerBy) });
  }
  // live content under revision keeps R-REPUBLISH-GRACE and R-NOT-PUBLIC-EXIT
  if (liveRevision(state)) timers.push(...lapseTimers(state));
  if (state.proposal && isBeforeAcceptance(s)) timers.push({ kind: 'expire_cancellation', at: ms(state.proposal.answerBy) });
  return timers;
}

/** R-REPUBLISH-GRACE and R-NOT-PUBLIC-EXIT: the timers of a lapse of public visibility before acceptance. */
function lapseTimers(state: TaskState): DueTimer[] {
  const lapse = state.lapse;
  if (!lapse) return [];
  const timers: DueTimer[] = [];
  if (lapse.visibility === 'deleted' && lapse.withinRetention && !lapse.violated) timers.push({ kind: 'republish_grace', at: ms(lapse.since) + REPUBLISH_GRACE_MS });
  timers.push({ kind: 'expire_not_public', at: ms(lapse.since) + NOT_PUBLIC_EXIT_MS });
  return timers;
}

/**
 * Published content sent back before acceptance and being revised (it stays live
 * meanwhile): R-TOUTIAO-ORDER's live rejection, and (fixes 1) any type's complaint
 * upheld with a fix. R-REPUBLISH-GRACE and R-NOT-PUBLIC-EXIT keep running for it.
 */
function liveRevision(state: TaskState): boolean {
  if (state.publication.itemId === null) return false;
  // any type: content sent back after publication (a live rejection, a complaint upheld with a fix) until it is live again
  if (fixed(state)) return isBeforeAcceptance(state.status) && state.status !== 'awaiting_client_acceptance';
  return state.publishFirst === true && (state.status === 'content_drafting' || state.status === 'awaiting_publication');
}

/**
 * The one timer the workflow waits for in this state (the earliest that runs),
 * or null to wait for a message only: under rules 2 that happens only while an
 * operator must act and the escalation has already fired.
 */
export function nextTimer(state: TaskState): DueTimer | null {
  if (state.rules < 2) return legacyNextTimer(state);
  if (isTerminal(state.status)) return null;
  let next: DueTimer | null = null;
  for (const timer of runningTimers(state)) if (!next || timer.at < next.at) next = timer;
  return next;
}

/** The deadline an operator watches (NextDeadline): the real next timer or escalation; null when none runs. */
export function deadlineOf(state: TaskState): string | null {
  if (state.rules < 2) return legacyDeadlineOf(state);
  const timer = nextTimer(state);
  return timer ? iso(timer.at) : null;
}

/** What a task waits for now: the party who must act, for frontends and the Temporal UI. */
export function waitingFor(state: TaskState): 'creator' | 'client' | 'operator' | 'platform' | 'nobody' {
  switch (state.status) {
    case 'awaiting_acceptance':
    case 'script_drafting':
    case 'content_drafting':
      return 'creator';
    case 'script_review':
    case 'content_review':
      return 'operator';
    case 'script_confirmation':
    case 'content_confirmation':
      return 'client';
    case 'awaiting_publication':
      return taskTypeOf(state.type).publisher;
    case 'awaiting_client_acceptance':
      if (state.acceptance.complaint) return 'operator';
      return state.publication.visibility === 'public' ? 'client' : 'creator';
    case 'in_retention':
      return state.takedown ? 'client' : 'platform';
    default:
      return 'nobody';
  }
}

/** Flags an operator filters on (TaskAttention search attribute, operator queues). */
export function attentionOf(state: TaskState): string[] {
  const flags: string[] = [];
  if (REVIEW.includes(state.status) && state.phase.escalatedAt) flags.push('review_escalated');
  if (state.acceptance.complaint && state.complaintEscalatedAt) flags.push('complaint_escalated');
  if (state.failedEffects > 0) flags.push('effect_failed');
  return flags;
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
      template: string;
      params: Record<string, string | number>;
    }
  | {
      /**
       * R-ESCROW / R-PAYOUT: empty the task's escrow: `refundFen` back to the client, `payoutFen` to the creator (or
       * its MCN); refund + payout = price; once per task (db/ledger.ts). `outcome` names a whole refund or payout.
       */
      kind: 'settle';
      outcome: 'refund' | 'payout' | 'split';
      refundFen: number;
      payoutFen: number;
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

/** Who is told about an escalation: the operators' on-call group (as for appeals). */
export const OPERATORS: Actor = { role: 'operator', id: 'operators' };

export function effectsOf(state: TaskState, event: TaskEvent): Effect[] {
  const key = `${state.taskId}:${event.seq}`;
  const creator: Actor = { role: 'creator', id: state.creatorId };
  const client: Actor = { role: 'client', id: state.clientId };
  const effects: Effect[] = [];
  const s = state.settlement;
  if (s && s.seq === event.seq && s.refundFen + s.payoutFen > 0) {
    effects.push({ kind: 'settle', outcome: s.payoutFen === 0 ? 'refund' : s.refundFen === 0 ? 'payout' : 'split', refundFen: s.refundFen, payoutFen: s.payoutFen });
  }
  const sms = (recipient: Actor, template: string, params: Record<string, string | number> = {}, suffix = ''): Effect => ({
    kind: 'notify',
    key: `${key}${suffix}`,
    channel: 'sms',
    recipient,
    template,
    params: { taskId: state.taskId, ...params },
  });
  /** Rules 2: every new action and outcome reaches both parties, once each. */
  const both = (template: string, params: Record<string, string | number> = {}): Effect[] => [sms(client, template, params, ':client'), sms(creator, template, params, ':creator')];

  switch (event.type) {
    case 'ordered': // R-ACCEPT-NOTIFY: SMS when the task arrives
      effects.push({ kind: 'notify', key, channel: 'sms', recipient: creator, template: 'task_arrived', params: { taskId: state.taskId, priceFen: state.priceFen, acceptDeadline: state.acceptDeadline } });
      break;
    case 'acceptance_reminded': // R-ACCEPT-NOTIFY: phone reminder close to expiry
      effects.push({ kind: 'notify', key, channel: 'phone_call', recipient: creator, template: 'acceptance_expiring', params: { taskId: state.taskId, acceptDeadline: state.acceptDeadline } });
      break;
    case 'declined':
    case 'acceptance_expired':
      effects.push(sms(client, 'task_cancelled', { reason: event.type }));
      break;
    case 'complaint_upheld': // R-COMPLAINT: the creator is told; a cancellation refunds the client in full
      if (event.payload.outcome === 'upheld_cancel') {
        effects.push(sms(creator, 'task_cancelled', { reason: 'complaint_upheld' }), sms(client, 'task_cancelled', { reason: 'complaint_upheld' }, ':client'));
      } else {
        effects.push(sms(creator, 'content_fix_requested'));
      }
      break;
    case 'retention_violated': // R-RETENTION-PENALTY
      if (event.payload.points > 0) {
        effects.push({
          kind: 'credit',
          key,
          creatorId: state.creatorId,
          delta: -event.payload.points,
          cause: 'retention_violation',
          reason: `content ${event.payload.to} within retention of task ${state.taskId}`,
          occurredAt: event.at,
        });
      }
      if (state.rules >= 2) effects.push(sms(creator, 'retention_violated', { points: event.payload.points, visibility: event.payload.to }, ':creator'));
      break;
    case 'deadline_reminded':
      effects.push(sms(event.payload.recipient === 'client' ? client : creator, 'deadline_reminder', { stage: event.payload.stage, dueAt: event.payload.dueAt }, `:${event.payload.recipient}`));
      break;
    case 'escalated':
      effects.push({ kind: 'notify', key: `${key}:operators`, channel: 'sms', recipient: OPERATORS, template: `${event.payload.subject}_escalated`, params: { taskId: state.taskId, since: event.payload.since } });
      break;
    case 'delivery_overdue':
    case 'publication_overdue':
    case 'content_withdrawn':
    case 'operator_resolved':
    case 'cancellation_proposed':
    case 'cancellation_agreed':
    case 'cancellation_refused':
    case 'takedown_requested':
    case 'takedown_agreed':
    case 'takedown_refused':
    case 'draft_deadline_extended':
      effects.push(...both(event.type, s && s.seq === event.seq ? { refundFen: s.refundFen, payoutFen: s.payoutFen } : {}));
      break;
    case 'client_confirmed':
      if (event.payload.by === 'deadline') effects.push(...both('deemed_confirmed', { stage: event.payload.stage }));
      // R-DECISION-NOTIFY: 「提纲确认后,创作者将收到短信提醒」
      else if (state.decisionSms && event.payload.stage === 'script') effects.push(sms(creator, 'script_confirmed', { revision: event.payload.revision }, ':creator'));
      break;
    case 'client_rejected':
      // R-DECISION-NOTIFY: 「如大纲被驳回 / 如文章被驳回,将收到短信提醒」, with the client's reason
      if (state.decisionSms) effects.push(sms(creator, `${event.payload.stage}_rejected`, { revision: event.payload.revision, reason: event.reason ?? '' }, ':creator'));
      break;
    case 'delivery_accepted':
      if (state.rules >= 2 && event.payload.by === 'auto') effects.push(...both('auto_accepted'));
      break;
    default:
      break;
  }
  return effects;
}
