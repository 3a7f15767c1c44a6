/**
 * The worker's liveness and readiness endpoints (temporal/health.ts; issue #12,
 * item 7): 200 only while the worker polls and PostgreSQL and Temporal answer
 * within 2 s; otherwise 503 with Retry-After and the failing check.
 */
import type { Server } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort } from '../../db/embedded.js';
import { startWorkerHealth } from '../../temporal/health.js';
import { startPostgres, type Postgres } from '../helpers/stack.js';

let postgres: Postgres;
beforeAll(async () => {
  postgres = await startPostgres();
});
afterAll(async () => postgres?.stop());

async function serve(deps: Partial<Parameters<typeof startWorkerHealth>[0]>) {
  const port = await freePort();
  const server: Server = await startWorkerHealth(
    { workerState: () => 'RUNNING', db: postgres.database.db, temporalPing: () => Promise.resolve({}), ...deps },
    port,
    '127.0.0.1',
  );
  const get = async (path: string, method = 'GET') => {
    const started = Date.now();
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { method });
    return { status: res.status, retryAfter: res.headers.get('retry-after'), allow: res.headers.get('allow'), body: (await res.json()) as any, ms: Date.now() - started };
  };
  return { get, close: () => new Promise<void>((r) => server.close(() => r())) };
}

it('ready while the worker polls and both dependencies answer', async () => {
  const h = await serve({});
  try {
    expect(await h.get('/livez')).toMatchObject({ status: 200, body: { ok: true } });
    expect(await h.get('/readyz')).toMatchObject({ status: 200, body: { ok: true, checks: { worker: 'RUNNING', postgres: true, temporal: true } } });
    expect((await h.get('/readyz', 'POST')).status).toBe(405);
    expect((await h.get('/readyz', 'POST')).allow).toBe('GET, HEAD');
    expect((await h.get('/nowhere')).status).toBe(404);
  } finally {
    await h.close();
  }
});

it('not ready (503 + Retry-After, within the 2 s bound) when Temporal hangs, when the worker stopped polling, or when PostgreSQL is gone; live all the while', async () => {
  const hanging = await serve({ temporalPing: () => new Promise(() => {}) });
  try {
    const r = await hanging.get('/readyz');
    expect(r).toMatchObject({ status: 503, retryAfter: '5', body: { ok: false, checks: { temporal: false, postgres: true } } });
    expect(r.ms).toBeLessThan(3_000);
    expect((await hanging.get('/livez')).status).toBe(200);
  } finally {
    await hanging.close();
  }
  const draining = await serve({ workerState: () => 'DRAINING' });
  try {
    expect(await draining.get('/readyz')).toMatchObject({ status: 503, body: { checks: { worker: 'DRAINING' } } });
  } finally {
    await draining.close();
  }
  const lonely = await startPostgres();
  await lonely.pg.stop(); // the database process is gone; the pool's next query fails
  const noDb = await serve({ db: lonely.database.db });
  try {
    const r = await noDb.get('/readyz');
    expect(r).toMatchObject({ status: 503, body: { checks: { postgres: false, temporal: true } } });
    expect(r.ms).toBeLessThan(3_000);
    expect((await noDb.get('/livez')).status).toBe(200);
  } finally {
    await noDb.close();
    await lonely.stop().catch(() => undefined);
  }
});
