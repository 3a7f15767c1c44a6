/**
 * One operation of the OpenAPI document, declared next to what the route really
 * answers: its zod schemas (the same the route validates with), whether it takes
 * an Idempotency-Key (with the server's pattern), and the statuses it answers.
 * Every operation also gets the problem+json answers every route can give:
 * 400 (a body or query the boundary refuses, e.g. malformed JSON or a NUL),
 * 503 (PostgreSQL or Temporal away, with Retry-After), 401 when it needs a
 * token, and 413/415 when it takes a body (over 256 KiB; an unsupported charset
 * or Content-Encoding). Checked by test/api/openapi-strict.test.ts and
 * `npm run test:fuzz` (schemathesis).
 */
import type { OpenAPIRegistry, ResponseConfig, RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { IdempotencyKey, Problem } from './schemas.js';

export const PROBLEM_STATUSES = [400, 401, 403, 404, 409, 413, 415, 422, 429, 503] as const;
export type ProblemStatus = (typeof PROBLEM_STATUSES)[number];

const DEFAULT_DESCRIPTION: Record<ProblemStatus, string> = {
  400: 'The request is not valid: body, query, path or header (errors or code say what)',
  401: 'Missing, invalid or expired token, or the account is gone or disabled',
  403: 'The role may not do this',
  404: 'Not found, or not visible to the caller',
  409: 'Conflicts with the current state (code says why)',
  413: 'The body is larger than 256 KiB',
  415: "The body's charset or Content-Encoding is not supported",
  422: 'A rule refuses the request (code says why)',
  429: 'Too many requests; retry after Retry-After',
  503: 'A dependency (PostgreSQL, Temporal or an outside service) is unavailable; retry after Retry-After',
};

export const problem = (description: string): ResponseConfig => ({ description, content: { 'application/problem+json': { schema: Problem } } });
export const json = (description: string, schema: z.ZodType): ResponseConfig => ({ description, content: { 'application/json': { schema } } });

export interface RouteDoc {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** OpenAPI form: /v1/tasks/{taskId} */
  path: string;
  summary: string;
  /** No bearer token (sign-up, sign-in, signed callbacks, health). */
  public?: boolean;
  /** A bearer token or, instead, a link token in the query (`?token=`, R-EVIDENCE's printable page). */
  linkToken?: boolean;
  params?: z.ZodObject;
  query?: z.ZodObject;
  /** Other headers (the platform callback's signature). */
  headers?: z.ZodObject;
  idempotencyKey?: 'required' | 'optional';
  body?: z.ZodType;
  /** Default: required unless the body schema accepts `{}` (the route then reads a missing body as `{}`). */
  bodyRequired?: boolean;
  /** The successful answers (and any answer that is not problem+json, e.g. readiness's 503). */
  ok: Record<number, ResponseConfig>;
  /** The route's own problem statuses, each with what it means here (true: the default text; false: never answered). */
  problems?: Partial<Record<ProblemStatus, string | boolean>>;
}

export type Registrar = (doc: RouteDoc) => void;

/** A registrar of documented routes on `registry`, with the bearer scheme for non-public ones. */
export function routeRegistrar(registry: OpenAPIRegistry): Registrar {
  const bearer = registry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  const security = [{ [bearer.name]: [] }];
  const link = registry.registerComponent('securitySchemes', 'linkToken', {
    type: 'apiKey',
    in: 'query',
    name: 'token',
    description: 'A short-lived link token from GET /v1/tasks/{taskId}/evidence-link (5 minutes, one task)',
  });
  return (doc) => {
    const statuses: Partial<Record<ProblemStatus, string | boolean>> = { 400: true, ...(doc.public ? {} : { 401: true }), ...(doc.body ? { 413: true, 415: true } : {}), 503: true, ...doc.problems };
    const problems: Record<number, ResponseConfig> = {};
    for (const status of PROBLEM_STATUSES) {
      const text = statuses[status];
      if (text !== undefined && text !== false) problems[status] = problem(text === true ? DEFAULT_DESCRIPTION[status] : text);
    }
    const headers = doc.idempotencyKey
      ? z.object({ 'idempotency-key': doc.idempotencyKey === 'required' ? IdempotencyKey : IdempotencyKey.optional(), ...(doc.headers?.shape ?? {}) })
      : doc.headers;
    const request: NonNullable<RouteConfig['request']> = {
      ...(doc.params ? { params: doc.params } : {}),
      ...(doc.query ? { query: doc.query } : {}),
      ...(headers ? { headers } : {}),
      ...(doc.body ? { body: { required: doc.bodyRequired ?? !doc.body.safeParse({}).success, content: { 'application/json': { schema: doc.body } } } } : {}),
    };
    registry.registerPath({
      method: doc.method,
      path: doc.path,
      summary: doc.summary,
      ...(doc.public ? {} : { security: doc.linkToken ? [...security, { [link.name]: [] }] : security }),
      ...(Object.keys(request).length > 0 ? { request } : {}),
      responses: { ...problems, ...doc.ok },
    });
  };
}
