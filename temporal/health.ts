/**
 * The worker's liveness and readiness over HTTP (the API has its own in
 * api/app.ts), for an orchestrator's probes:
 *   GET /livez  200 while the process answers;
 *   GET /readyz 200 when the worker is polling, PostgreSQL answers and the
 *               Temporal frontend answers, each within 2 s; otherwise 503 with
 *               Retry-After and which check failed.
 * `npm run worker` serves it on WORKER_HEALTH_PORT (default 3001).
 */
import { createServer, type Server } from 'node:http';
import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';

export interface WorkerHealthDeps {
  /** The Temporal worker's state (`Worker.getState()`): ready only while RUNNING. Absent for the API. */
  workerState?: () => string;
  db: Db;
  /** Answers when the Temporal frontend does (e.g. getSystemInfo). */
  temporalPing: () => Promise<unknown>;
}

const CHECK_TIMEOUT_MS = 2_000;

const within = (work: () => Promise<unknown>): Promise<boolean> =>
  Promise.race([
    work().then(
      () => true,
      () => false,
    ),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), CHECK_TIMEOUT_MS).unref()),
  ]);

/** Readiness of a process (the API's /readyz, the worker's): PostgreSQL and Temporal answer within 2 s, and the worker (if any) polls. */
export async function readiness(deps: WorkerHealthDeps): Promise<{ ok: boolean; checks: { worker?: string; postgres: boolean; temporal: boolean } }> {
  const [postgres, temporal] = await Promise.all([within(() => deps.db.execute(sql`select 1`)), within(deps.temporalPing)]);
  const worker = deps.workerState?.();
  const checks = { ...(worker === undefined ? {} : { worker }), postgres, temporal };
  return { ok: (worker === undefined || worker === 'RUNNING') && postgres && temporal, checks };
}

export function startWorkerHealth(deps: WorkerHealthDeps, port: number, host = '0.0.0.0'): Promise<Server> {
  const server = createServer((req, res) => {
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': status >= 400 && status !== 503 ? 'application/problem+json' : 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, { type: 'about:blank', title: 'Method not allowed', status: 405 }, { allow: 'GET, HEAD' });
    if (path === '/livez') return send(200, { ok: true });
    if (path === '/readyz' || path === '/healthz') {
      readiness(deps).then(
        (r) => send(r.ok ? 200 : 503, r, r.ok ? {} : { 'retry-after': '5' }),
        () => send(503, { ok: false }, { 'retry-after': '5' }),
      );
      return;
    }
    send(404, { type: 'about:blank', title: 'Not found', status: 404 });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
