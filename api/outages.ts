/**
 * Outages answered honestly (issue #12, item 7): a dependency that is away is a
 * 503 problem+json with `Retry-After`, within a bounded time, never a 500 after
 * a long wait. Temporal calls run under a deadline; Postgres connection failures
 * (postgres.js codes and socket errors) are recognised wherever they surface.
 */

/** How long the API waits for Temporal on one request (updates wait for the worker to answer). */
export const TEMPORAL_DEADLINE_MS = Number(process.env['STARMAP_TEMPORAL_DEADLINE_MS'] ?? 6_000);
/** What a 503 tells the client to wait before retrying (seconds). */
export const RETRY_AFTER_SECONDS = 5;

// Temporal's side lives with the Temporal code (the worker's start waits out the same outages)
export { isTemporalUnavailable } from '../temporal/unavailable.js';

const PG_DOWN_CODES = new Set(['CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', '57P01', '57P02', '57P03', '53300', '08000', '08001', '08003', '08006']);

/** Whether `err` (or its causes) is Postgres being unreachable, shutting down or out of connections. */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e = err as { code?: unknown; cause?: unknown; errno?: unknown } | undefined, i = 0; e && i < 6; e = e.cause as typeof e, i++) {
    if (typeof e.code === 'string' && PG_DOWN_CODES.has(e.code)) return true;
  }
  return false;
}

