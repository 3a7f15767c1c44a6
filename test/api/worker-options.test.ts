/** The worker's cache size setting (README, Operations): memory follows the sticky cache. */
import { expect, it } from 'vitest';
import { maxCachedWorkflowsFromEnv } from '../../worker.js';

it('STARMAP_MAX_CACHED_WORKFLOWS: 500 by default, a whole number when set, refused otherwise', () => {
  expect(maxCachedWorkflowsFromEnv({})).toBe(500);
  expect(maxCachedWorkflowsFromEnv({ STARMAP_MAX_CACHED_WORKFLOWS: '' })).toBe(500);
  expect(maxCachedWorkflowsFromEnv({ STARMAP_MAX_CACHED_WORKFLOWS: '2000' })).toBe(2000);
  for (const bad of ['0', '-5', '1.5', 'many']) expect(() => maxCachedWorkflowsFromEnv({ STARMAP_MAX_CACHED_WORKFLOWS: bad })).toThrow(/whole number/);
});
