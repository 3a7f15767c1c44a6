import { expect, it } from 'vitest';
import { ratingRefusal } from '../../domain/index.js';

it('R-RATE: a task is rated only after settlement (its delivery accepted)', () => {
  expect(ratingRefusal({ status: 'awaiting_client_acceptance', deliveryAcceptedAt: null })?.details).toMatchObject({ code: 'not-settled' });
  expect(ratingRefusal({ status: 'cancelled', deliveryAcceptedAt: null })?.kind).toBe('invalid_state');
  expect(ratingRefusal({ status: 'in_retention', deliveryAcceptedAt: new Date() })).toBeNull();
  expect(ratingRefusal({ status: 'completed', deliveryAcceptedAt: '2026-12-01T00:00:00.000Z' })).toBeNull();
});
