/**
 * RFC 9457 problem details. Every error the API returns is
 * `application/problem+json` with a stable `type` a frontend can switch on.
 */
import type { ErrorRequestHandler, Response } from 'express';
import { ZodError } from 'zod';
import { DomainError, type DomainErrorDetails, type DomainErrorKind } from '../domain/index.js';
import { describeError } from '../ops/log.js';
import { RETRY_AFTER_SECONDS, isDatabaseUnavailable, isTemporalUnavailable } from './outages.js';

export const PROBLEM_BASE = 'https://starmap.dev/problems/';

export class Problem extends Error {
  constructor(
    readonly status: number,
    /** stable slug, e.g. `invalid-state`; becomes `${PROBLEM_BASE}${slug}` */
    readonly slug: string,
    readonly title: string,
    readonly detail?: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(detail ?? title);
  }
}

export const badRequest = (detail: string, ext?: Record<string, unknown>) => new Problem(400, 'invalid-request', 'The request is not valid', detail, ext);
export const unauthorized = (detail: string) => new Problem(401, 'unauthenticated', 'Authentication required', detail);
export const forbidden = (detail: string, ext?: Record<string, unknown>) => new Problem(403, 'forbidden', 'Not allowed', detail, ext);
export const notFound = (detail: string) => new Problem(404, 'not-found', 'Not found', detail);
export const temporalUnavailable = (detail = 'The workflow service did not answer in time; retry with the same Idempotency-Key') =>
  new Problem(503, 'temporal-unavailable', 'The task service is unavailable', detail, { retryAfterSeconds: RETRY_AFTER_SECONDS });
export const databaseUnavailable = () =>
  new Problem(503, 'database-unavailable', 'The database is unavailable', 'Retry shortly; nothing was lost', { retryAfterSeconds: RETRY_AFTER_SECONDS });

export function sendProblem(res: Response, problem: Problem, instance?: string): void {
  // counted by type in /metrics (api/metrics.ts)
  res.locals['problemSlug'] = problem.slug;
  // an outage says when to come back (RFC 9110 Retry-After)
  if (problem.status === 503 || problem.extensions['retryAfterSeconds'] !== undefined) res.set('Retry-After', String(Number(problem.extensions['retryAfterSeconds'] ?? 5)));
  res
    .status(problem.status)
    .type('application/problem+json')
    .json({
      type: `${PROBLEM_BASE}${problem.slug}`,
      title: problem.title,
      status: problem.status,
      ...(problem.detail ? { detail: problem.detail } : {}),
      ...(instance ? { instance } : {}),
      ...problem.extensions,
    });
}

export function fromZod(err: ZodError): Problem {
  return badRequest('The request does not match the schema', {
    errors: err.issues.map((i) => ({ path: i.path.join('.'), message: i.message, code: i.code })),
  });
}

// ------------------------------------------------------------ domain refusals: the one mapping

const STATUS: Record<DomainErrorKind, number> = { invalid_input: 400, forbidden: 403, invalid_state: 409, rule_violation: 422 };
export const TITLE: Record<DomainErrorKind, string> = {
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

/** Runs `work`; a domain refusal from db/ code becomes its problem+json. */
export async function orDomainProblem<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof DomainError) throw fromDomainError(err);
    throw err;
  }
}

/** The last middleware: anything thrown becomes problem+json; unknown errors are logged, not leaked. */
export const problemHandler =
  (log: (line: string, err?: unknown) => void): ErrorRequestHandler =>
  (err: unknown, req, res, _next) => {
    if (err instanceof Problem) return sendProblem(res, err, req.originalUrl);
    if (err instanceof ZodError) return sendProblem(res, fromZod(err), req.originalUrl);
    if (err instanceof DomainError) return sendProblem(res, fromDomainError(err), req.originalUrl);
    const e = err as { type?: string; status?: number; expose?: boolean; message?: string };
    if (e?.type === 'entity.parse.failed') return sendProblem(res, badRequest('The body is not valid JSON'), req.originalUrl);
    if (e?.type === 'entity.too.large') return sendProblem(res, new Problem(413, 'too-large', 'The body is too large'), req.originalUrl);
    // Express's own 4xx (e.g. a path parameter with malformed %-encoding: URIError, status 400)
    if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
      return sendProblem(res, new Problem(e.status, 'invalid-request', 'The request is not valid', e.status === 400 ? 'The request (path or body) cannot be decoded' : 'The request is not valid'), req.originalUrl);
    }
    if (err instanceof URIError) return sendProblem(res, badRequest('The path has malformed %-encoding'), req.originalUrl);
    // a dependency that is away is a 503 with Retry-After, not a 500
    if (isDatabaseUnavailable(err)) return sendProblem(res, databaseUnavailable(), req.originalUrl);
    if (isTemporalUnavailable(err)) return sendProblem(res, temporalUnavailable(), req.originalUrl);
    // never the error object itself: a database error carries the query's parameters
    // (password hashes, e-mails, phone numbers); class, code and message suffice
    const requestId = String(res.locals['requestId'] ?? '');
    log(`[api] ${requestId ? `${requestId} ` : ''}${req.method} ${(req.route as { path?: string } | undefined)?.path ?? req.path} failed: ${describeError(err)}`);
    sendProblem(res, new Problem(500, 'internal', 'Internal error', 'The error was logged under this request id', requestId ? { requestId } : {}), req.originalUrl);
  };

/** An error as one log line without its data (ops/log.ts; the worker's logger uses it too). */
export { describeError } from '../ops/log.js';
