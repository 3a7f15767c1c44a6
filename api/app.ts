/**
 * The Express application: request id, request log and metrics, CORS (so a
 * preflight never meets authentication), public routes (the service's own:
 * OpenAPI, docs, metrics, health; sign-up, sign-in, signed callbacks), then
 * authentication, then every /v1 route; problem+json errors.
 */
import type { Client } from '@temporalio/client';
import type { ContentPlatform } from '../adapters/contentPlatform.js';
import type { PaymentProvider } from '../adapters/payments.js';
import type { Telephony } from '../adapters/telephony.js';
import { randomUUID } from 'node:crypto';
import express, { type Request } from 'express';
import type { Db } from '../db/client.js';
import { accountRoutes, meRoutes } from './accounts.js';
import { appealRoutes } from './appeals.js';
import { authenticate, type Auth } from './auth.js';
import { campaignRoutes } from './campaign.js';
import { creatorRoutes } from './creators.js';
import { creditRoutes } from './credit.js';
import { evidencePageRoutes, evidenceRoutes } from './evidence.js';
import { corsMiddleware, corsOrigins } from './cors.js';
import { docsAssets, docsPage } from './docs.js';
import { createApiMetrics } from './metrics.js';
import { requestLog } from './requestLog.js';
import { createLogger, type Logger } from '../ops/log.js';
import { readiness } from '../temporal/health.js';
import { buildOpenApi } from './openapi.js';
import { platformRoutes } from './platform.js';
import { Problem, badRequest, notFound, problemHandler } from './problems.js';
import { isStorableText } from '../domain/index.js';
import type { AuthLimits } from './rateLimit.js';
import { taskRoutes } from './tasks.js';
import { taskTypeRoutes } from './taskTypes.js';
import { paymentRoutes, walletRoutes } from './wallets.js';

export interface AppDeps {
  db: Db;
  temporal: Client;
  auth: Auth;
  taskQueue: string;
  platformSecret: string;
  contentPlatform: ContentPlatform;
  telephony: Telephony;
  payments: PaymentProvider;
  /** Sign-up and sign-in limits (api/rateLimit.ts); production defaults when left out. */
  authLimits?: AuthLimits;
  /** One line for a 500 (class, code, first line of the message, route, request id; never the error object). */
  log?: (line: string, err?: unknown) => void;
  /** Request lines and the 500 line go here (ops/log.ts); a new `api` logger when left out. */
  logger?: Logger;
  /** Origins allowed by CORS; STARMAP_CORS_ORIGINS (or the development defaults) when left out. */
  corsOrigins?: readonly string[];
  /** When set, GET /metrics asks for `Authorization: Bearer <token>` (STARMAP_METRICS_TOKEN). */
  metricsToken?: string;
}

export function createApp(deps: AppDeps): express.Express {
  const logger = deps.logger ?? createLogger('api');
  // the line only: problemHandler never passes the error object (it may carry a query's parameters)
  const log = deps.log ?? ((line: string) => logger.error(line));
  const metrics = createApiMetrics({ db: deps.db, token: deps.metricsToken ?? process.env['STARMAP_METRICS_TOKEN'] });
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  // every answer names its request: the caller's X-Request-Id when it is a sane token (a gateway's),
  // else a new one; a 500's log line carries it, so a report can be matched to the log
  app.use((req, res, next) => {
    const given = req.get('x-request-id');
    const id = given && /^[A-Za-z0-9._:-]{1,128}$/.test(given) ? given : randomUUID();
    res.locals['requestId'] = id;
    res.set('X-Request-Id', id);
    next();
  });
  app.use(requestLog(logger), metrics.observe);
  // before authentication and before the body is read: a preflight carries neither token nor body
  app.use(corsMiddleware(deps.corsOrigins ?? corsOrigins()));
  app.use(
    express.json({
      limit: '256kb',
      type: ['application/json', 'application/*+json'],
      // the platform callback's signature covers the raw bytes
      verify: (req, _res, buf) => {
        (req as Request & { rawBody?: Buffer }).rawBody = buf;
      },
    }),
  );

  // Postgres stores no NUL and no unpaired surrogate in text or jsonb: such input is refused
  // here, before anything is written or sent to a workflow (one bad byte must not stop a task)
  app.use((req, _res, next) => {
    const bad = unstorablePath(req.body, 'body') ?? unstorablePath(req.query, 'query');
    if (bad) return next(badRequest(`${bad} contains a NUL or unpaired surrogate character`, { code: 'invalid-characters', field: bad }));
    next();
  });

  const openapi = buildOpenApi();
  app.get('/openapi.json', (_req, res) => {
    res.json(openapi);
  });
  // the document as a page (Swagger UI from node_modules) and the Prometheus scrape
  app.get('/docs', docsPage);
  app.use('/docs/assets', docsAssets);
  app.get('/metrics', metrics.serve);
  // liveness: the process answers; readiness: Postgres and Temporal answer within 2 s each (503 + Retry-After otherwise)
  app.get('/livez', (_req, res) => {
    res.json({ ok: true });
  });
  const ready = async (_req: Request, res: express.Response) => {
    const { ok, checks } = await readiness({
      db: deps.db,
      temporalPing: () => deps.temporal.withDeadline(Date.now() + 2_000, () => deps.temporal.connection.workflowService.getSystemInfo({})),
    });
    if (!ok) res.status(503).set('Retry-After', '5');
    res.json({ ok, checks });
  };
  app.get('/readyz', ready);
  app.get('/healthz', ready);
  // public: the platform callback (HMAC-signed), sign-up and sign-in
  app.use(platformRoutes(deps));
  // a refused payment notification is worth a warning line (its message names no payer data)
  app.use(paymentRoutes({ ...deps, log: deps.log ?? ((line: string) => logger.warn(line)) }));
  app.use(accountRoutes(deps));
  // R-EVIDENCE's printable page takes a bearer token or a short-lived link's token (it authenticates either itself)
  app.use(evidencePageRoutes(deps));
  // everything else under /v1 knows who is acting
  app.use('/v1', authenticate(deps.auth, deps.db));
  app.use(meRoutes(deps));
  app.use(taskRoutes({ ...deps, log: (line) => logger.warn(line) }));
  app.use(walletRoutes(deps));
  app.use(creatorRoutes(deps));
  app.use(campaignRoutes(deps));
  app.use(evidenceRoutes(deps));
  app.use(creditRoutes(deps));
  app.use(appealRoutes(deps));
  app.use(taskTypeRoutes());
  // a known path with another method: 405 with Allow (RFC 9110 §15.5.6); an unknown path: 404
  app.use((req, res, next) => {
    const allowed = allowedMethods((app as unknown as { router: { stack: RouteLayer[] } }).router.stack, req.path);
    if (allowed.length === 0) return next(notFound(`No route ${req.method} ${req.path}`));
    res.set('Allow', allowed.join(', '));
    next(new Problem(405, 'method-not-allowed', 'Method not allowed', `${req.path} answers ${allowed.join(', ')}`, { allow: allowed }));
  });
  app.use(problemHandler(log));
  return app;
}

/** The path of the first string (key or value) in `value` that Postgres cannot store, or null. */
function unstorablePath(value: unknown, path: string, depth = 0): string | null {
  if (typeof value === 'string') return isStorableText(value) ? null : path;
  if (depth > 32 || value === null || typeof value !== 'object') return null;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (!isStorableText(k)) return `${path}.<key>`;
    const found = unstorablePath(v, `${path}.${k}`, depth + 1);
    if (found) return found;
  }
  return null;
}

interface RouteLayer {
  route?: { methods: Record<string, boolean> };
  handle?: { stack?: RouteLayer[] };
  match(path: string): boolean;
}

/** The methods the app's routes answer for `path` (HEAD with GET), from Express's own route table. */
function allowedMethods(stack: RouteLayer[], path: string): string[] {
  const methods = new Set<string>();
  for (const layer of stack) {
    if (layer.route) {
      if (layer.match(path)) for (const m of Object.keys(layer.route.methods)) if (m !== '_all') methods.add(m.toUpperCase());
    } else if (layer.handle?.stack && layer.match(path)) {
      for (const m of allowedMethods(layer.handle.stack, path)) methods.add(m);
    }
  }
  if (methods.has('GET')) methods.add('HEAD');
  return [...methods].sort();
}
