/**
 * The API's Prometheus metrics (prom-client), served on GET /metrics:
 *   starmap_http_requests_total{method,route,status}             requests answered
 *   starmap_http_request_duration_seconds{method,route,status}   latency histogram
 *   starmap_problems_total{type}                                  problem+json answers by slug (api/problems.ts)
 *   starmap_idempotent_replays_total{route}                       answers replayed for a repeated Idempotency-Key
 * plus the business gauges (ops/businessMetrics.ts) and Node's process metrics.
 *
 * `route` is the route's template (`/v1/tasks/:taskId/accept`), never the raw
 * URL: ids would make one series per task. A request no route answered (404,
 * 405, a 401 before routing, a CORS preflight) is `route="unmatched"`.
 *
 * Each app has its own registry (tests build several apps in one process).
 * With STARMAP_METRICS_TOKEN set, /metrics asks for `Authorization: Bearer <token>`.
 */
import { timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Db } from '../db/client.js';
import { registerBusinessGauges } from '../ops/businessMetrics.js';
import { unauthorized } from './problems.js';

export interface ApiMetrics {
  registry: Registry;
  /** Times every request and counts it, its problem and its replay when the answer is sent. */
  observe: RequestHandler;
  /** GET /metrics. */
  serve: RequestHandler;
}

/** The answer's status; 499 (nginx's "client closed request") when the caller left before it was sent. */
export const statusOf = (res: Response): number => (res.writableFinished ? res.statusCode : 499);

/** The template of the route that answered, joined with where its router is mounted; `unmatched` when none did. */
export function routeTemplate(req: Request, baseUrl: string): string {
  const path = (req.route as { path?: unknown } | undefined)?.path;
  return typeof path === 'string' ? `${baseUrl}${path}` : 'unmatched';
}

export function createApiMetrics(options: { db: Db; token?: string | undefined }): ApiMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  registerBusinessGauges(registry, options.db);
  const labelNames = ['method', 'route', 'status'] as const;
  const requests = new Counter({ name: 'starmap_http_requests_total', help: 'HTTP requests answered, by route template and status', labelNames, registers: [registry] });
  const latency = new Histogram({
    name: 'starmap_http_request_duration_seconds',
    help: 'Time from the request to the end of its answer, by route template and status',
    labelNames,
    // task actions wait for a workflow update (tens to hundreds of ms); sign-in hashes a password
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const problems = new Counter({ name: 'starmap_problems_total', help: 'problem+json answers by problem type (slug)', labelNames: ['type'], registers: [registry] });
  const replays = new Counter({ name: 'starmap_idempotent_replays_total', help: 'Answers replayed for a repeated Idempotency-Key (Idempotent-Replayed: true)', labelNames: ['route'], registers: [registry] });

  const observe: RequestHandler = (req, res, next) => {
    const stop = latency.startTimer();
    // 'close' comes after the answer was sent, and also when the caller went away first (then 499)
    res.once('close', () => {
      // req.route stays the route that answered (also after it threw); its path is relative to the
      // router's mount point, which is the root for every router of this app (app.use(router))
      const route = routeTemplate(req, req.baseUrl ?? '');
      const labels = { method: req.method, route, status: String(statusOf(res)) };
      requests.inc(labels);
      stop(labels);
      const slug: unknown = res.locals['problemSlug'];
      if (typeof slug === 'string') problems.inc({ type: slug });
      if (res.getHeader('idempotent-replayed') === 'true') replays.inc({ route });
    });
    next();
  };

  const expected = options.token ? Buffer.from(`Bearer ${options.token}`) : null;
  const serve: RequestHandler = (req, res, next) => {
    if (expected && !sameBytes(Buffer.from(req.get('authorization') ?? ''), expected)) return next(unauthorized('Send Authorization: Bearer <STARMAP_METRICS_TOKEN>'));
    registry.metrics().then(
      (text) => void res.type(registry.contentType).send(text),
      (err: unknown) => next(err),
    );
  };
  return { registry, observe, serve };
}

const sameBytes = (a: Buffer, b: Buffer) => a.length === b.length && timingSafeEqual(a, b);
