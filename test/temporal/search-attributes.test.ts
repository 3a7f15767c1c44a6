/**
 * A worker's start registers the task search attributes (temporal/searchAttributes.ts). A Temporal that answers
 * UNAVAILABLE for a while (restarting, overloaded: the fault test saw the dev server fail GetNamespace for ~20 s
 * after both workers were killed, and both new workers exited) is waited out with growing pauses; any other error,
 * or one that lasts past the bound, is thrown. Outages are answered honestly: no process dies because a
 * dependency was briefly away.
 */
import { expect, it } from 'vitest';
import { ensureSearchAttributesPatiently } from '../../temporal/searchAttributes.js';
import { isTemporalUnavailable } from '../../temporal/unavailable.js';
import { TASK_SEARCH_ATTRIBUTES } from '../../workflows/searchAttributes.js';

const grpcError = (code: number, message: string) => Object.assign(new Error(message), { name: 'ServiceError', code });

/** An operator service that fails `failures` times with `error` (list and add alike), then works. */
function flakyOperator(failures: number, error: Error) {
  let left = failures;
  const registered: string[][] = [];
  const calls = { list: 0, add: 0 };
  const operatorService = {
    listSearchAttributes: () => {
      calls.list++;
      return left > 0 ? Promise.reject(error) : Promise.resolve({ customAttributes: {} });
    },
    addSearchAttributes: (req: { searchAttributes: Record<string, unknown> }) => {
      calls.add++;
      if (left-- > 0) return Promise.reject(error);
      registered.push(Object.keys(req.searchAttributes));
      return Promise.resolve({});
    },
  };
  return { connection: { operatorService } as never, registered, calls };
}

it('#14/outages: a worker start waits out a Temporal answering UNAVAILABLE, with growing pauses, then registers every search attribute', async () => {
  const { connection, registered } = flakyOperator(4, grpcError(14, 'Unable to get namespace default info with error: GetNamespace operation failed. Error interrupted (9)'));
  const waits: number[] = [];
  const lines: string[] = [];
  await ensureSearchAttributesPatiently(connection, 'default', { log: (l) => lines.push(l), sleep: (ms) => (waits.push(ms), Promise.resolve()) });
  expect(waits).toEqual([500, 1000, 2000, 4000]);
  expect(lines).toHaveLength(4);
  expect(lines[0]).toMatch(/attempt 1, Temporal: Unable to get namespace default info/);
  expect(registered).toEqual([TASK_SEARCH_ATTRIBUTES.map((k) => k.name)]);
});

it('#14/outages: an error that is not a passing outage (permission denied) is thrown at once', async () => {
  const { connection, calls } = flakyOperator(1, grpcError(7, 'Request unauthorized.'));
  await expect(ensureSearchAttributesPatiently(connection, 'default', { log: () => {}, sleep: () => Promise.resolve() })).rejects.toThrow(/unauthorized/);
  expect(calls.add).toBe(1);
});

it('#14/outages: a Temporal still away after the bound is an error (the supervisor takes over)', async () => {
  const { connection } = flakyOperator(1_000, grpcError(14, 'connection refused'));
  let now = 0;
  await expect(
    ensureSearchAttributesPatiently(connection, 'default', { log: () => {}, maxWaitMs: 30_000, sleep: (ms) => ((now += ms), Promise.resolve()), now: () => now }),
  ).rejects.toThrow(/connection refused/);
  expect(now).toBeLessThanOrEqual(30_000);
  expect(now).toBeGreaterThan(20_000);
});

it('#14/outages: the start waits out what the API answers 503 for (isTemporalUnavailable), and nothing else', () => {
  expect([4, 8, 14].every((code) => isTemporalUnavailable(grpcError(code, 'x')))).toBe(true);
  expect([3, 5, 7, 9, 13, 16].some((code) => isTemporalUnavailable(grpcError(code, 'x')))).toBe(false);
  expect(isTemporalUnavailable(new Error('no code'))).toBe(false);
});
