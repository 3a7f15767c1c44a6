/**
 * Whether Temporal is away: the one classifier the API (503 + Retry-After, api/outages.ts) and the worker's
 * start (temporal/searchAttributes.ts ensureSearchAttributesPatiently) use for Temporal's answers.
 */

const GRPC_UNAVAILABLE = 14;
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_CANCELLED = 1;
const GRPC_RESOURCE_EXHAUSTED = 8;
const GRPC_FAILED_PRECONDITION = 9;

/** Whether `err` (or its causes) says Temporal could not be reached or did not answer in time. */
export function isTemporalUnavailable(err: unknown): boolean {
  for (let e = err as { code?: unknown; cause?: unknown; name?: string; message?: string } | undefined, i = 0; e && i < 6; e = e.cause as typeof e, i++) {
    if (typeof e.code === 'number' && [GRPC_UNAVAILABLE, GRPC_DEADLINE_EXCEEDED, GRPC_CANCELLED, GRPC_RESOURCE_EXHAUSTED].includes(e.code)) return true;
    if (e.name === 'TimeoutError' || e.name === 'AbortError') return true;
    if (typeof e.message === 'string' && /deadline exceeded|UNAVAILABLE|failed to connect|Connection refused|transport error|tcp connect error/i.test(e.message)) return true;
    // no worker polls the task queue (all down, or their pollers still backing off after an outage of
    // Temporal's matching service): FAILED_PRECONDITION from a query, the "no worker answers" row of README Outages
    if (e.code === GRPC_FAILED_PRECONDITION && typeof e.message === 'string' && /no poller seen for task queue/i.test(e.message)) return true;
  }
  return false;
}
