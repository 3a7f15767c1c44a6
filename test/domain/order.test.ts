/** Pure order validation (runs in the API before anything is written, and again in the workflow). */
import { describe, expect, it } from 'vitest';
import { DomainError, validateOrder, type OrderRequest } from '../../domain/index.js';

const base: OrderRequest = {
  taskId: 'tsk_1',
  type: 'douyin_video',
  clientId: 'brand',
  creatorId: 'creator',
  brief: '  A brief  ',
  scriptRequired: true,
  priceFen: 100,
};

const refusal = (req: OrderRequest) => {
  try {
    validateOrder(req);
  } catch (err) {
    if (err instanceof DomainError) return { kind: err.kind, code: err.details.code };
  }
  throw new Error('expected a refusal');
};

describe('validateOrder', () => {
  it('R-RETENTION-CHOICE: presets and custom days up to 365 pass; 30 is the default', () => {
    for (const days of [7, 15, 30, 60, 1, 45, 365]) expect(validateOrder({ ...base, retentionDays: days }).retentionDays).toBe(days);
    expect(validateOrder(base).retentionDays).toBe(30);
  });

  it('R-RETENTION-CHOICE: zero, fractions and more than 365 days are refused', () => {
    for (const days of [0, -7, 2.5, 366, 1000]) expect(refusal({ ...base, retentionDays: days })).toEqual({ kind: 'invalid_input', code: 'retention-invalid' });
  });

  it('R-ORDER-FIELDS: keeps the snapshot of the order, trims the brief, refuses bad prices and unknown types', () => {
    expect(validateOrder(base)).toEqual({ taskId: 'tsk_1', type: 'douyin_video', clientId: 'brand', creatorId: 'creator', brief: 'A brief', scriptRequired: true, retentionDays: 30, priceFen: 100 });
    expect(refusal({ ...base, priceFen: 0 }).code).toBe('price-invalid');
    expect(refusal({ ...base, priceFen: 99.5 }).code).toBe('price-invalid');
    expect(refusal({ ...base, type: 'weibo' }).code).toBe('unknown-task-type');
    expect(refusal({ ...base, brief: ' ' }).code).toBe('brief-required');
    expect(refusal({ ...base, creatorId: 'brand' }).code).toBe('self-order');
  });
});
