/** Cards, observation periods and the credit score, pure (domain/credit.ts). */
import { describe, expect, it } from 'vitest';
import {
  DomainError,
  INITIAL_CREDIT_POINTS,
  creditScore,
  inObservation,
  observationEnd,
  restartedObservation,
  validateCard,
  type CardRequest,
} from '../../domain/index.js';

/** A wall-clock time in Asia/Shanghai (UTC+8, no daylight saving). */
const shanghai = (local: string): number => Date.parse(`${local}+08:00`);

const refusal = (req: CardRequest) => {
  try {
    validateCard(req);
  } catch (err) {
    if (err instanceof DomainError) return { kind: err.kind, code: err.details.code };
  }
  throw new Error('expected a refusal');
};

describe('observation periods', () => {
  it('R-OBSERVATION-RESTART: yellow card on Jan 1 with observation to Feb 1, violation on Jan 10 → observation to Feb 10', () => {
    const issuedAt = shanghai('2026-01-01T00:00');
    const endsAt = observationEnd(issuedAt, 31);
    expect(endsAt).toBe(shanghai('2026-02-01T00:00'));
    const card = { observationDays: 31, lastViolationAtMs: issuedAt, observationEndsAtMs: endsAt };
    expect(restartedObservation(card, shanghai('2026-01-10T00:00'))).toBe(shanghai('2026-02-10T00:00'));
    // the time of day of the latest violation counts too
    expect(restartedObservation(card, shanghai('2026-01-10T15:30'))).toBe(shanghai('2026-02-10T15:30'));
  });

  it('R-OBSERVATION-RESTART: the restart counts from the latest violation, each with the same length', () => {
    const first = { observationDays: 31, lastViolationAtMs: shanghai('2026-01-01T00:00'), observationEndsAtMs: shanghai('2026-02-01T00:00') };
    const jan10 = shanghai('2026-01-10T00:00');
    const second = { ...first, lastViolationAtMs: jan10, observationEndsAtMs: restartedObservation(first, jan10)! };
    expect(restartedObservation(second, shanghai('2026-02-05T00:00'))).toBe(shanghai('2026-03-08T00:00'));
    // a violation no later than the one already counted restarts nothing
    expect(restartedObservation(second, shanghai('2026-01-10T00:00'))).toBeNull();
    expect(restartedObservation(second, shanghai('2026-01-05T00:00'))).toBeNull();
  });

  it('R-OBSERVATION-RESTART: a violation after the observation ended does not restart it (the end is exclusive)', () => {
    const card = { observationDays: 31, lastViolationAtMs: shanghai('2026-01-01T00:00'), observationEndsAtMs: shanghai('2026-02-01T00:00') };
    expect(restartedObservation(card, shanghai('2026-02-01T00:00'))).toBeNull();
    expect(restartedObservation(card, shanghai('2026-02-15T00:00'))).toBeNull();
  });

  it('R-OBSERVATION-RESTART: when observation ends without a new violation, the warning stops', () => {
    const endsAt = shanghai('2026-02-01T00:00');
    expect(inObservation(endsAt, shanghai('2026-01-31T23:59'))).toBe(true);
    expect(inObservation(endsAt, endsAt)).toBe(false);
    expect(inObservation(null, shanghai('2026-01-15T00:00'))).toBe(false);
  });
});

describe('validateCard', () => {
  it('R-CARDS: red and yellow cards with an observation length the operator sets (1..365 days); points default to 0', () => {
    const yellow = validateCard({ color: 'yellow', reason: '  Late delivery  ', observationDays: 31 });
    expect(yellow).toEqual({ color: 'yellow', reason: 'Late delivery', observationDays: 31, points: 0 });
    const red = validateCard({ color: 'red', reason: 'Deleted the content', observationDays: 365, points: 100 });
    expect(red).toMatchObject({ color: 'red', observationDays: 365, points: 100 });
    expect(validateCard({ color: 'red', reason: 'x', observationDays: 1, points: 0 }).observationDays).toBe(1);
  });

  it('R-CARDS: an unknown color, a missing reason, an observation outside 1..365 days and points outside 0..100 are refused', () => {
    const ok: CardRequest = { color: 'yellow', reason: 'Late', observationDays: 30 };
    expect(refusal({ ...ok, color: 'green' })).toEqual({ kind: 'invalid_input', code: 'card-color-invalid' });
    expect(refusal({ ...ok, reason: '   ' })).toEqual({ kind: 'invalid_input', code: 'reason-required' });
    expect(refusal({ ...ok, reason: 'x'.repeat(1_001) })).toEqual({ kind: 'invalid_input', code: 'reason-too-long' });
    for (const days of [0, -1, 366, 1.5, Number.NaN]) expect(refusal({ ...ok, observationDays: days }).code).toBe('observation-days-invalid');
    for (const points of [-1, 101, 2.5]) expect(refusal({ ...ok, points }).code).toBe('card-points-invalid');
  });
});

describe('credit score', () => {
  it('R-CREDIT: the score starts at 100 and is the initial points plus every delta', () => {
    expect(INITIAL_CREDIT_POINTS).toBe(100);
    expect(creditScore([])).toBe(100);
    expect(creditScore([-25, -10, 25])).toBe(90);
  });
});
