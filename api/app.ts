/** The Express application: auth, task routes, platform callback, OpenAPI, problem+json errors. */
import type { Client } from '@temporalio/client';
import express, { type Request } from 'express';
import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { authenticate, type Auth } from './auth.js';
import { buildOpenApi } from './openapi.js';
import { platformRoutes } from './platform.js';
import { notFound, problemHandler } from './problems.js';
import { taskRoutes } from './tasks.js';
import { taskTypeRoutes } from './taskTypes.js';
import { walletRoutes } from './wallets.js';

export interface AppDeps {
  db: Db;
  temporal: Client;
  auth: Auth;
  taskQueue: string;
  platformSecret: string;
  log?: (line: string, err?: unknown) => void;
}

export function createApp(deps: AppDeps): express.Express {
  const log = deps.log ?? ((line: string, err?: unknown) => console.error(line, err ?? ''));
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
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

  const openapi = buildOpenApi();
  app.get('/openapi.json', (_req, res) => {
    res.json(openapi);
  });
  app.get('/healthz', async (_req, res) => {
    await deps.db.execute(sql`select 1`);
    res.json({ ok: true });
  });
  app.use(platformRoutes(deps));
  app.use(['/v1/tasks', '/v1/task-types', '/v1/wallets', '/v1/creators'], authenticate(deps.auth));
  app.use(taskRoutes(deps));
  app.use(walletRoutes(deps));
  app.use(taskTypeRoutes());
  app.use((req, _res, next) => next(notFound(`No route ${req.method} ${req.path}`)));
  app.use(problemHandler(log));
  return app;
}
