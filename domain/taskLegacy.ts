/**
 * Rules 1: how tasks ordered before R-STAGE-DEADLINE keep running. Their
 * histories were written by these timers and this platform logic, so replaying
 * them must give the same commands: the functions below are the earlier ones,
 * unchanged. New tasks run under rules 2 (domain/task.ts). Operators end a
 * rules-1 task that waits with no deadline through R-OPERATOR-RESOLVE.
 */
import { DomainError } from './errors.js';
import { ACCEPT_REMINDER_BEFORE_MS, AUTO_ACCEPT_AFTER_MS, RETENTION_VIOLATION_POINTS } from './rules.js';
import type { NewEvent } from './taskEvents.js';
import { isTerminal, type Actor, type TaskState, type Visibility } from './taskState.js';
import { iso, ms } from './time.js';

type LegacyTimer = { kind: 'remind_acceptance' | 'expire_acceptance' | 'auto_accept' | 'end_retention'; at: number };

const autoAcceptAt = (state: TaskState): number | null =>
  state.publication.publishedAt ? ms(state.publication.publishedAt) + AUTO_ACCEPT_AFTER_MS + state.acceptance.pausedMs : null;

export function legacyNextTimer(state: TaskState): LegacyTimer | null {
  switch (state.status) {
    case 'awaiting_acceptance': {
      const deadline = ms(state.acceptDeadline);
      if (!state.reminderSentAt) return { kind: 'remind_acceptance', at: deadline - ACCEPT_REMINDER_BEFORE_MS };
      return { kind: 'expire_acceptance', at: deadline };
    }
    case 'awaiting_client_acceptance': {
      if (state.acceptance.complaint || state.publication.visibility !== 'public') return null;
      const at = autoAcceptAt(state);
      return at === null ? null : { kind: 'auto_accept', at };
    }
    case 'in_retention':
      return { kind: 'end_retention', at: ms(state.retention.endsAt!) };
    default:
      return null;
  }
}

export function legacyDeadlineOf(state: TaskState): string | null {
  switch (state.status) {
    case 'awaiting_acceptance':
      return state.acceptDeadline;
    case 'awaiting_client_acceptance': {
      if (state.acceptance.complaint) return null;
      const at = autoAcceptAt(state);
      return at === null ? null : iso(at);
    }
    case 'in_retention':
      return state.retention.endsAt;
    default:
      return null;
  }
}

export function legacyDecidePlatform(state: TaskState, command: { eventId: string; kind: 'published' | 'hidden' | 'deleted' | 'restored'; itemId: string; actor: Actor }): NewEvent {
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

  if (itemId !== p.itemId) return ignore("the item is not the task's live content");
  const to: Visibility = kind === 'restored' ? 'public' : kind;
  if (p.visibility === to) return ignore(`the content is already ${to}`);
  if (p.visibility === 'deleted') return ignore('deleted content cannot change visibility');
  if (state.status === 'in_retention' && to !== 'public') {
    return { type: 'retention_violated', actor, payload: { eventId, itemId, from: p.visibility, to, points: RETENTION_VIOLATION_POINTS } };
  }
  return { type: 'visibility_changed', actor, payload: { eventId, itemId, from: p.visibility, to } };
}
