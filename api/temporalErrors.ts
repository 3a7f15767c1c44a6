/** Maps what the task workflow answered into problem details. */
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { isDomainErrorKind, type DomainErrorDetails } from '../domain/index.js';
import type { Client } from '@temporalio/client';
import { Problem, TITLE, domainProblem, temporalUnavailable } from './problems.js';
import { TEMPORAL_DEADLINE_MS, isTemporalUnavailable } from './outages.js';

/** An update's refusal (validator or handler) as a problem; anything else is rethrown. */
export function fromWorkflowError(err: unknown): Problem {
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure && isDomainErrorKind(err.cause.type)) {
    const details = (err.cause.details?.[0] ?? {}) as Partial<DomainErrorDetails>;
    return domainProblem(err.cause.type, err.cause.message, details);
  }
  if (err instanceof WorkflowNotFoundError) {
    return new Problem(409, 'invalid-state', TITLE.invalid_state, 'The task is closed', { code: 'task-closed' });
  }
  throw err;
}

/**
 * Runs a Temporal call under the API's deadline; unreachable or too slow becomes a 503 with
 * Retry-After. The gRPC deadline bounds the call on a live connection; the timer also bounds a
 * connection that is still being (re)established, and aborts the call.
 */
export async function withTemporal<T>(temporal: Client, work: () => Promise<T>): Promise<T> {
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      abort.abort();
      reject(temporalUnavailable());
    }, TEMPORAL_DEADLINE_MS);
  });
  const call = temporal.withAbortSignal(abort.signal, () => temporal.withDeadline(Date.now() + TEMPORAL_DEADLINE_MS, work));
  call.catch(() => undefined); // settled after the timeout: nobody waits for it any more
  try {
    return await Promise.race([call, timeout]);
  } catch (err) {
    if (isTemporalUnavailable(err)) throw temporalUnavailable();
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
