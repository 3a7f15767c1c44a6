/**
 * Cards and observation periods, pure (R-CARDS, R-OBSERVATION-RESTART), and the
 * credit score arithmetic (R-CREDIT). db/cards.ts and db/credit.ts store what
 * these decide; api/credit.ts serves it. No I/O, no clock: callers pass times.
 */
import { DomainError } from './errors.js';
import { INITIAL_CREDIT_POINTS, MAX_REASON_CHARS } from './rules.js';
import { DAY } from './time.js';

/**
 * R-CARDS (seed 003): red = the violation directly harmed the client's or the
 * platform's rights; yellow = a violation without direct harm.
 */
export const CARD_COLORS = ['red', 'yellow'] as const;
export type CardColor = (typeof CARD_COLORS)[number];

/** R-CARDS (design bounds): the operator sets the observation length, 1 to 365 natural days. */
export const MIN_OBSERVATION_DAYS = 1;
export const MAX_OBSERVATION_DAYS = 365;
/** R-CREDIT (design bound): a card may also deduct 0 to 100 credit points (default 0: the card alone). */
export const MAX_CARD_POINTS = 100;

export interface CardRequest {
  color: string;
  reason: string;
  observationDays: number;
  points?: number | undefined;
}

export interface ValidCard {
  color: CardColor;
  reason: string;
  observationDays: number;
  /** Credit points the card deducts (0: none). */
  points: number;
}

const invalid = (code: string, message: string): never => {
  throw new DomainError('invalid_input', message, { code });
};

export const isCardColor = (value: unknown): value is CardColor => typeof value === 'string' && (CARD_COLORS as readonly string[]).includes(value);

/** R-CARDS: a card the operator may give, normalised (reason trimmed, points defaulted), or an invalid_input refusal. */
export function validateCard(req: CardRequest): ValidCard {
  if (!isCardColor(req.color)) invalid('card-color-invalid', `the card color must be one of ${CARD_COLORS.join(', ')}`);
  const reason = typeof req.reason === 'string' ? req.reason.trim() : '';
  if (!reason) invalid('reason-required', 'a card needs a reason');
  if (reason.length > MAX_REASON_CHARS) invalid('reason-too-long', `the reason must be at most ${MAX_REASON_CHARS} characters`);
  const days = req.observationDays;
  if (!Number.isInteger(days) || days < MIN_OBSERVATION_DAYS || days > MAX_OBSERVATION_DAYS) {
    invalid('observation-days-invalid', `observationDays must be a whole number from ${MIN_OBSERVATION_DAYS} to ${MAX_OBSERVATION_DAYS}`);
  }
  const points = req.points ?? 0;
  if (!Number.isInteger(points) || points < 0 || points > MAX_CARD_POINTS) {
    invalid('card-points-invalid', `points must be a whole number from 0 to ${MAX_CARD_POINTS}`);
  }
  return { color: req.color as CardColor, reason, observationDays: days, points };
}

/**
 * The end of an observation period of `days` natural days counted from `fromMs`
 * (the card, or the latest violation). Asia/Shanghai has no daylight saving, so a
 * natural day is always 24 hours: Jan 1 00:00 + 31 days = Feb 1 00:00.
 */
export function observationEnd(fromMs: number, days: number): number {
  return fromMs + days * DAY;
}

/** A card's observation period as stored (creator_cards). */
export interface ObservationPeriod {
  observationDays: number;
  /** The latest violation the period counts from (the card itself at first). */
  lastViolationAtMs: number;
  observationEndsAtMs: number;
}

/**
 * R-OBSERVATION-RESTART (seed 003): a new violation during observation restarts
 * it from that violation with the same length: yellow card Jan 1 with
 * observation to Feb 1, new violation Jan 10 → observation to Feb 10.
 * Returns the new end, or null when the violation does not restart the period:
 * it falls at or after the end (the observation is over, the warning has
 * stopped) or not after the latest violation already counted.
 * db/credit.ts `restartObservations` applies it to the running cards of a creator.
 */
export function restartedObservation(card: ObservationPeriod, violationAtMs: number): number | null {
  if (violationAtMs >= card.observationEndsAtMs) return null;
  if (violationAtMs <= card.lastViolationAtMs) return null;
  return observationEnd(violationAtMs, card.observationDays);
}

/** R-OBSERVATION-WARN: in observation while the period has not ended (the end is exclusive). */
export const inObservation = (observationEndsAtMs: number | null, nowMs: number): boolean => observationEndsAtMs !== null && nowMs < observationEndsAtMs;

/** R-CREDIT (design): the score is INITIAL_CREDIT_POINTS plus every change's delta. */
export const creditScore = (deltas: readonly number[]): number => deltas.reduce((sum, d) => sum + d, INITIAL_CREDIT_POINTS);
