/** Maps what the task workflow answered into problem details. */
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { DomainError, isDomainErrorKind, type DomainErrorDetails, type DomainErrorKind } from '../domain/index.js';
import type { Client } from '@temporalio/client';
import { Problem, temporalUnavailable } from './problems.js';
import { TEMPORAL_DEADLINE_MS, isTemporalUnavailable } from './outages.js';

const STATUS: Record<DomainErrorKind, number> = { invalid_input: 400, forbidden: 403, invalid_state: 409, rule_violation: 422 };
const TITLE: Record<DomainErrorKind, string> = {
  invalid_input: 'The request is not valid',
  forbidden: 'Not allowed',
  invalid_state: 'The action does not fit the task state',
  rule_violation: 'A rule refuses the action',
};

/** One slug per kind of refusal: a domain's invalid input is the same `invalid-request` as the boundary's 400. */
const SLUG: Record<DomainErrorKind, string> = { invalid_input: 'invalid-request', forbidden: 'forbidden', invalid_state: 'invalid-state', rule_violation: 'rule-violation' };

export function domainProblem(kind: DomainErrorKind, message: string, details: Partial<DomainErrorDetails> = {}): Problem {
  const { code, status, ...rest } = details;
  return new Problem(STATUS[kind], SLUG[kind], TITLE[kind], message, {
    ...(code ? { code } : {}),
    ...(status ? { taskStatus: status } : {}),
    ...rest,
  });
}

export function fromDomainError(err: DomainError): Problem {
  return domainProblem(err.kind, err.message, err.details);
}

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

/** Runs `work`; a domain refusal from db/ code becomes its problem+json. */
export async function orDomainProblem<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof DomainError) throw fromDomainError(err);
    throw err;
  }
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
