/**
 * Creator onboarding rules, pure: eligibility to open a task type (R-OPEN-APPLY,
 * R-OPEN-XIGUA), quotes (R-QUOTE), contact details (R-CONTACT) and who can be
 * found and ordered (R-DISCOVERABLE, R-ACCEPTING-SWITCH). db/creators.ts stores
 * what these decide; api/creators.ts serves it.
 */
import { DomainError } from './errors.js';
import { RECENT_ITEMS_FOR_AVERAGE } from './rules.js';
import type { EligibilityCondition, TaskTypeDefinition } from './taskTypes.js';

/** What the content platform reports about a bound account (adapters/contentPlatform.ts). */
export interface PlatformAccountMetrics {
  fans: number;
  originalPermission: boolean;
  /** Plays of the latest items, newest first (at most RECENT_ITEMS_FOR_AVERAGE are used). */
  recentPlays: readonly number[];
}

/** Average plays of the latest 20 items, rounded down; 0 without items (design: fewer than 20 items average what there is). */
export function averageRecentPlays(recentPlays: readonly number[]): number {
  const latest = recentPlays.slice(0, RECENT_ITEMS_FOR_AVERAGE);
  if (latest.length === 0) return 0;
  return Math.floor(latest.reduce((sum, plays) => sum + plays, 0) / latest.length);
}

/** One condition the creator does not meet, with the actual and the required value. */
export interface UnmetCondition {
  condition: string;
  description: string;
  actual: number | boolean | null;
  required: number | boolean;
}

/**
 * R-OPEN-APPLY / R-OPEN-XIGUA: every unmet condition for opening `type` with the
 * creator's account on the type's platform (or null when none is bound). Empty = eligible.
 */
export function unmetConditions(type: TaskTypeDefinition, account: PlatformAccountMetrics | null): UnmetCondition[] {
  if (!account) {
    return [{ condition: 'platformAccountBound', description: `a bound ${type.platform} account`, actual: false, required: true }];
  }
  return type.eligibility.flatMap((c): UnmetCondition[] => {
    const actual = valueOf(c, account);
    if (c.metric === 'originalPermission') return actual === true ? [] : [{ condition: c.metric, description: c.description, actual, required: true }];
    return (actual as number) >= c.min ? [] : [{ condition: c.metric, description: c.description, actual, required: c.min }];
  });
}

function valueOf(c: EligibilityCondition, account: PlatformAccountMetrics): number | boolean {
  switch (c.metric) {
    case 'fans':
      return account.fans;
    case 'originalPermission':
      return account.originalPermission;
    case 'averageRecentPlays':
      return averageRecentPlays(account.recentPlays);
  }
}

/** Mainland mobile numbers (11 digits, 1[3-9]x), optionally with +86. Stored as +86XXXXXXXXXXX. */
export function normalizePhone(raw: string): string | null {
  const digits = raw.replace(/[\s-]/g, '');
  const match = /^(?:\+?86)?(1[3-9]\d{9})$/.exec(digits);
  return match ? `+86${match[1]}` : null;
}

export function normalizeEmail(raw: string): string | null {
  const email = raw.trim().toLowerCase();
  return email.length <= 254 && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) ? email : null;
}

/** R-CONTACT: a creator must give both a phone number and an email. */
export const contactComplete = (contact: { phone: string | null; email: string | null }): boolean => Boolean(contact.phone && contact.email);

/** The facts that decide whether an opened task type can be found and ordered. */
export interface OfferFacts {
  quoteFen: number | null;
  accepting: boolean;
  contactComplete: boolean;
}

/** R-DISCOVERABLE: task type opened (an offer exists), a quote set, contact complete. */
export const isDiscoverable = (offer: OfferFacts): boolean => offer.quoteFen !== null && offer.contactComplete;

/**
 * Why an order for this offer is refused, or null when it may be placed:
 * R-DISCOVERABLE first, then R-ACCEPTING-SWITCH (off = no new orders).
 */
export function orderRefusal(offer: OfferFacts | null, taskTypeId: string): DomainError | null {
  if (!offer) return new DomainError('rule_violation', `The creator has not opened ${taskTypeId}`, { code: 'task-type-not-opened' });
  if (!isDiscoverable(offer)) {
    return new DomainError('rule_violation', 'The creator cannot be ordered yet: a quote and complete contact details are needed', {
      code: 'creator-not-discoverable',
      quoteSet: offer.quoteFen !== null,
      contactComplete: offer.contactComplete,
    });
  }
  if (!offer.accepting) return new DomainError('rule_violation', `The creator is not accepting ${taskTypeId} tasks at the moment`, { code: 'creator-not-accepting' });
  return null;
}
