/**
 * Issue #15 (operations), items 1-4, on the real processes: the API in this
 * process and the worker as `worker.ts` in a child process of its own (its
 * Temporal runtime, logger and Prometheus exporter are process-wide, as in
 * production), against the Temporal dev server and PostgreSQL.
 *   1. CORS: real preflights (OPTIONS + Origin + Access-Control-Request-Method);
 *   2. /docs in headless Chromium, with nothing loaded from elsewhere;
 *   3. /metrics on the API (route templates, problems, replays, business
 *      gauges) and the worker's Temporal SDK exporter;
 *   4. JSON logs with request id, actor and task id; the worker's carry the
 *      task id through the Temporal SDK logger; secrets redacted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeContentPlatform } from '../../adapters/contentPlatform.js';
import { FakePaymentProvider } from '../../adapters/payments.js';
import { FakeTelephony } from '../../adapters/telephony.js';
import { createApp } from '../../api/app.js';
import { createAuth, type UserActor } from '../../api/auth.js';
import { ALLOWED_HEADERS, DEV_ORIGINS, EXPOSED_HEADERS, corsOrigins } from '../../api/cors.js';
import { startApi } from '../../api/main.js';
import { buildOpenApi } from '../../api/openapi.js';
import type { Db } from '../../db/client.js';
import { freePort } from '../../db/embedded.js';
import { readBusinessGauges } from '../../db/gauges.js';
import { account, finishWithdrawal, holdWithdrawal, paidTopUp } from '../../db/ledger.js';
import { notifications, tasks } from '../../db/schema/index.js';
import { REDACTED, createLogger, prettyStream } from '../../ops/log.js';
import { WORKER_NODE_FLAGS, taskIdOfWorkflow } from '../../temporal/runtime.js';
import { ensureAccount, ensureCreator, newActor } from '../helpers/accounts.js';
import { visit } from '../helpers/chromium.js';
import { startPostgres, type Postgres } from '../helpers/stack.js';
import { toolPath } from '../helpers/tools.js';

const FRONTEND = 'https://app.starmap.example';
const FOREIGN = 'https://evil.example';

let env: TestWorkflowEnvironment;
let postgres: Postgres;
let worker: ChildProcess;
let workerOut = '';
let server: Server;
let base = '';
let workerMetrics = '';
const jwtSecret = randomBytes(32).toString('hex');
const auth = createAuth(jwtSecret);

/** Polls until `ok` answers true, or fails with what it waited for. */
async function waitFor(ok: () => Promise<boolean>, options: { timeoutMs: number; intervalMs?: number }): Promise<void> {
  const until = Date.now() + options.timeoutMs;
  while (!(await ok())) {
    if (Date.now() > until) throw new Error(`not within ${options.timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 200));
  }
}
/** The API's log lines, as JSON objects. */
const apiLines: Record<string, unknown>[] = [];
const collector = (into: Record<string, unknown>[]) =>
  new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) into.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });

beforeAll(async () => {
  [env, postgres] = await Promise.all([
    TestWorkflowEnvironment.createLocal({
      server: { executable: { type: 'existing-path', path: toolPath('temporal') }, ip: '127.0.0.1', extraArgs: ['--headless', '--log-level', 'error'] },
    }),
    startPostgres(),
  ]);
  const healthPort = await freePort();
  const metricsPort = await freePort();
  workerMetrics = `http://127.0.0.1:${metricsPort}/metrics`;
  worker = spawn(process.execPath, [...WORKER_NODE_FLAGS, '--import', 'tsx', join(process.cwd(), 'worker.ts')], {
    env: {
      ...process.env,
      DATABASE_URL: postgres.pg.url,
      TEMPORAL_ADDRESS: env.address,
      HOST: '127.0.0.1',
      WORKER_HEALTH_PORT: String(healthPort),
      WORKER_METRICS_PORT: String(metricsPort),
      STARMAP_LOG_FORMAT: 'json',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  worker.stdout!.on('data', (d: Buffer) => (workerOut += d.toString()));
  worker.stderr!.on('data', (d: Buffer) => (workerOut += d.toString()));
  await waitFor(
    async () => {
      if (worker.exitCode !== null) throw new Error(`the worker exited:\n${workerOut}`);
      return (await fetch(`http://127.0.0.1:${healthPort}/readyz`).catch(() => null))?.ok === true;
    },
    { timeoutMs: 150_000, intervalMs: 500 },
  );
  process.env['STARMAP_CORS_ORIGINS'] = `${FRONTEND}, http://localhost:5173`;
  server = await startApi({
    db: postgres.database.db,
    temporal: env.client,
    port: 0,
    jwtSecret,
    platformSecret: randomBytes(16).toString('hex'),
    logger: createLogger('api', { destination: collector(apiLines), format: 'json', level: 'debug' }),
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 240_000);

afterAll(async () => {
  delete process.env['STARMAP_CORS_ORIGINS'];
  if (server) await new Promise<void>((r) => server.close(() => r()));
  if (worker && worker.exitCode === null) {
    worker.kill('SIGTERM');
    await new Promise((r) => worker.once('exit', r));
  }
  await env?.teardown();
  await postgres?.stop();
});

/** A token of a new account (tokens are honoured only for existing accounts). */
async function token(actor: UserActor): Promise<string> {
  await ensureAccount(postgres.database.db, actor);
  return auth.sign(actor);
}

const preflight = (path: string, origin: string, method = 'POST', headers = 'authorization,content-type,idempotency-key,x-request-id') =>
  fetch(`${base}${path}`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': headers } });

const corsHeaders = (res: Response) => [...res.headers.keys()].filter((k) => k.startsWith('access-control-'));

describe('1. CORS', () => {
  it("an allowed origin's preflight is answered before authentication: 204 with the methods and the headers a frontend sends", async () => {
    for (const path of ['/v1/tasks', '/v1/tasks/tsk_0190d4c8-0000-7000-8000-000000000000/accept', '/v1/wallets/me/top-ups', '/v1/sessions']) {
      const res = await preflight(path, FRONTEND);
      expect(res.status, path).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe(FRONTEND);
      expect(res.headers.get('access-control-allow-methods')).toContain('POST');
      const allowed = (res.headers.get('access-control-allow-headers') ?? '').toLowerCase().split(',');
      for (const h of ALLOWED_HEADERS) expect(allowed).toContain(h.toLowerCase());
      expect(res.headers.get('access-control-allow-credentials')).toBeNull();
      expect(res.headers.get('vary')).toMatch(/origin/i);
    }
    // the second configured origin too
    expect((await preflight('/v1/tasks', 'http://localhost:5173')).headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
  });

  it('a foreign origin gets no CORS header at all, and its preflight is never a 401', async () => {
    for (const origin of [FOREIGN, 'http://localhost:3000' /* a dev default, not configured here */, `${FRONTEND}.evil.example`]) {
      const res = await preflight('/v1/tasks', origin);
      expect(res.status, origin).toBe(204);
      expect(corsHeaders(res), origin).toEqual([]);
    }
    const actual = await fetch(`${base}/v1/task-types`, { headers: { origin: FOREIGN } });
    expect(corsHeaders(actual)).toEqual([]);
  });

  it('an actual request from an allowed origin may read Idempotent-Replayed, Retry-After, Location and X-Request-Id; one without a token is still a 401 (only the preflight skips authentication)', async () => {
    const res = await fetch(`${base}/v1/tasks`, { headers: { origin: FRONTEND, authorization: `Bearer ${await token(newActor('client'))}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(FRONTEND);
    const exposed = (res.headers.get('access-control-expose-headers') ?? '').split(',');
    expect(exposed.sort()).toEqual([...EXPOSED_HEADERS].sort());
    const anonymous = await fetch(`${base}/v1/tasks`, { headers: { origin: FRONTEND } });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('access-control-allow-origin')).toBe(FRONTEND); // so the frontend can read the 401
  });

  it('allowed origins come from STARMAP_CORS_ORIGINS: none by default in production, the local frontends in development; a malformed entry stops the start', () => {
    expect(corsOrigins({ NODE_ENV: 'production' })).toEqual([]);
    expect(corsOrigins({ NODE_ENV: 'development' })).toEqual(DEV_ORIGINS);
    expect(corsOrigins({})).toContain('http://localhost:5173');
    expect(corsOrigins({ NODE_ENV: 'production', STARMAP_CORS_ORIGINS: ' https://a.example ,https://b.example:8443' })).toEqual(['https://a.example', 'https://b.example:8443']);
    expect(corsOrigins({ NODE_ENV: 'development', STARMAP_CORS_ORIGINS: '' })).toEqual([]);
    for (const bad of ['https://a.example/', '*', 'a.example', 'https://a.example/app']) expect(() => corsOrigins({ STARMAP_CORS_ORIGINS: bad }), bad).toThrow(/not an origin/);
  });
});

describe('2. the docs page', () => {
  it('/docs renders the OpenAPI document in headless Chromium: the task operations with their summaries; kept as test-artefacts/docs.png', async () => {
    const doc = buildOpenApi() as { paths: Record<string, Record<string, { summary: string }>> };
    const accept = doc.paths['/v1/tasks/{taskId}/accept']!['post']!.summary;
    const page = await visit(`${base}/docs`, { waitFor: 'opblock', screenshot: 'docs', width: 1280, height: 1600 });
    const dom = page.dom;
    expect(dom).toContain('opblock'); // Swagger UI drew operations, not just its shell
    expect(dom).toContain(accept);
    expect(dom).toContain('/v1/tasks/{taskId}/accept');
    expect(dom).toContain(doc.paths['/v1/tasks']!['post']!.summary);
    expect(statSync(page.screenshot!).size).toBeGreaterThan(20_000);
  });

  it('/docs loads nothing from elsewhere: its CSP allows this origin only, and neither the page nor the rendered DOM names an outside script, style, image or frame', async () => {
    const res = await fetch(`${base}/docs`);
    expect(res.status).toBe(200); // public: no token
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toMatch(/https?:|\*/);
    const html = await res.text();
    const loads = (text: string) => [...text.matchAll(/<(?:script|link|img|iframe|source)\b[^>]*?\s(?:src|href)="([^"]*)"/gi)].map((m) => m[1]!);
    expect(loads(html).length).toBeGreaterThan(2);
    for (const url of loads(html)) expect(url, url).toMatch(/^\/(docs\/assets\/|openapi\.json)/);
    const { dom } = await visit(`${base}/docs`, { waitFor: 'opblock' });
    for (const url of loads(dom)) expect(url, url).not.toMatch(/^(https?:)?\/\//);
    expect(dom).not.toMatch(/url\(\s*["']?(https?:)?\/\//);
    // the assets come from node_modules
    const bundle = await fetch(`${base}/docs/assets/swagger-ui-bundle.js`);
    expect(bundle.status).toBe(200);
    expect(Buffer.from(await bundle.arrayBuffer()).equals(readFileSync(join(process.cwd(), 'node_modules/swagger-ui-dist/swagger-ui-bundle.js')))).toBe(true);
    expect((await fetch(`${base}/docs/assets/index.html`)).status).toBe(404); // the package's demo page is not served
  });
});

/** Prometheus text format as `name{labels} value` lines (comments left out). */
const samples = (text: string) => text.split('\n').filter((l) => l && !l.startsWith('#'));
const value = (text: string, series: string): number | undefined => {
  const line = samples(text).find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('3 and 4. metrics and logs of a real order', () => {
  let client: UserActor;
  let clientToken = '';
  let taskId = '';
  let declinedId = '';
  let getRequestId = '';
  const priceFen = 880_000;

  beforeAll(async () => {
    const db = postgres.database.db;
    client = newActor('client', 'brand');
    const creator = newActor('creator');
    clientToken = await token(client);
    await ensureCreator(db, creator, { douyin_video: priceFen });
    await db.transaction((tx) => paidTopUp(tx, client.id, 10_000_000, `topup-${randomUUID()}`));
    const key = `k-${randomUUID()}`;
    const send = () =>
      fetch(`${base}/v1/tasks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${clientToken}`, 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify({ creatorId: creator.id, taskType: 'douyin_video', brief: 'Unboxing video, 45-60 seconds', scriptRequired: false, priceFen }),
      });
    const first = await send();
    expect(first.status).toBe(201);
    taskId = ((await first.json()) as { id: string }).id;
    const again = await send();
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const got = await fetch(`${base}/v1/tasks/${taskId}`, { headers: { authorization: `Bearer ${clientToken}`, 'x-request-id': 'ops-test-get-1' } });
    expect(got.status).toBe(200);
    getRequestId = got.headers.get('x-request-id')!;
    expect((await fetch(`${base}/livez`, { headers: { 'x-request-id': 'ops-test-probe' } })).status).toBe(200);
    expect((await fetch(`${base}/v1/tasks/tsk_0190d4c8-0000-7000-8000-00000000dead`, { headers: { authorization: `Bearer ${clientToken}` } })).status).toBe(404);
    // the worker (the child process) ran the workflow: the creator's new-order SMS was sent
    await waitFor(async () => (await db.select().from(notifications).where(eq(notifications.taskId, taskId))).some((n) => n.sentAt !== null), { timeoutMs: 60_000 });
    // a second order, which the creator declines: since engine 6 an order's event is written by the API, so the
    // decline's projection is the local activity here; it writes the client's SMS and wakes the outbox in its context
    const second = await fetch(`${base}/v1/tasks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${clientToken}`, 'content-type': 'application/json', 'idempotency-key': `k-${randomUUID()}` },
      body: JSON.stringify({ creatorId: creator.id, taskType: 'douyin_video', brief: 'Declined at once', scriptRequired: false, priceFen }),
    });
    expect(second.status).toBe(201);
    declinedId = ((await second.json()) as { id: string }).id;
    const declined = await fetch(`${base}/v1/tasks/${declinedId}/decline`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await token(creator)}`, 'content-type': 'application/json', 'idempotency-key': `k-${randomUUID()}` },
      body: JSON.stringify({ reason: 'Fully booked this month' }),
    });
    expect(declined.status).toBe(200);
    await waitFor(async () => (await db.select().from(notifications).where(eq(notifications.taskId, declinedId))).filter((n) => n.sentAt !== null).length === 2, { timeoutMs: 60_000 });
  });

  it("the API's /metrics: requests and latency by route template and status (never a raw id), problems by type, idempotent replays, business gauges", async () => {
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(value(text, 'starmap_http_requests_total{method="POST",route="/v1/tasks",status="201"}')).toBe(2);
    expect(value(text, 'starmap_http_requests_total{method="POST",route="/v1/tasks",status="200"}')).toBe(1);
    expect(value(text, 'starmap_http_requests_total{method="GET",route="/v1/tasks/:taskId",status="200"}')).toBeGreaterThanOrEqual(1);
    expect(value(text, 'starmap_http_request_duration_seconds_count{method="GET",route="/v1/tasks/:taskId",status="200"}')).toBeGreaterThanOrEqual(1);
    expect(text).toContain('starmap_http_request_duration_seconds_bucket{le="0.1",method="POST",route="/v1/tasks",status="201"}');
    // no series per task: ids never appear in a label
    expect(text).not.toContain('tsk_');
    expect(value(text, 'starmap_problems_total{type="not-found"}')).toBeGreaterThanOrEqual(1);
    expect(value(text, 'starmap_idempotent_replays_total{route="/v1/tasks"}')).toBe(1);
    // a preflight answered by CORS matched no route
    expect(text).toMatch(/starmap_http_requests_total\{method="OPTIONS",route="unmatched",status="204"\} \d+/);
    // business gauges, read from Postgres at scrape time
    expect(value(text, 'starmap_business_metrics_up')).toBe(1);
    expect(value(text, 'starmap_tasks_open{status="awaiting_acceptance"}')).toBeGreaterThanOrEqual(1);
    expect(value(text, 'starmap_tasks_open{status="in_retention"}')).toBe(0);
    expect(value(text, 'starmap_escrow_held_fen')).toBe(priceFen);
    for (const name of ['starmap_tasks_overdue', 'starmap_tasks_escalated', 'starmap_tasks_attention{flag="effect_failed"}', 'starmap_notifications_unsent', 'starmap_notifications_oldest_unsent_seconds', 'starmap_tasks_unstarted', 'starmap_tasks_oldest_unstarted_seconds', 'starmap_projection_lag_seconds', 'starmap_escrow_stranded_fen', 'starmap_topups_pending', 'starmap_topups_oldest_pending_seconds', 'starmap_withdrawals_pending', 'starmap_withdrawals_oldest_pending_seconds']) {
      expect(value(text, name), name).toBeGreaterThanOrEqual(0);
    }
    expect(text).toContain('process_cpu_seconds_total');
  });

  it('the business gauges count what the read model holds: an open task past its deadline is overdue, an escalated review is escalated, an unsent SMS is backlog', async () => {
    const db = postgres.database.db;
    const before = await readBusinessGauges(db);
    await db.update(tasks).set({ nextDeadline: new Date(Date.now() - 3_600_000), attention: ['review_escalated'] }).where(eq(tasks.id, taskId));
    // an order of an hour ago whose workflow start was never confirmed (the API's start failed, no sweep started it;
    // a sweep meanwhile would find its workflow running: startOnce)
    const [{ createdAt } = { createdAt: new Date() }] = await db.select({ createdAt: tasks.createdAt }).from(tasks).where(eq(tasks.id, taskId));
    await db.update(tasks).set({ workflowStartedAt: null, createdAt: new Date(Date.now() - 3_600_000) }).where(eq(tasks.id, taskId));
    const unstarted = await readBusinessGauges(db);
    await db.update(tasks).set({ workflowStartedAt: new Date(), createdAt }).where(eq(tasks.id, taskId));
    expect(unstarted.unstartedTasks).toBe(before.unstartedTasks + 1);
    expect(unstarted.oldestUnstartedSeconds).toBeGreaterThanOrEqual(3_600);
    await db.insert(notifications).values({ key: `ops-test:${randomUUID()}`, taskId, channel: 'sms', recipientRole: 'client', recipientId: client.id, template: 'test', params: {} });
    const after = await readBusinessGauges(db);
    expect(after.overdueTasks).toBe(before.overdueTasks + 1);
    expect(after.attentionByFlag['review_escalated']).toBe((before.attentionByFlag['review_escalated'] ?? 0) + 1);
    expect(after.unsentNotifications).toBe(before.unsentNotifications + 1);
    expect(after.escrowHeldFen).toBe(priceFen);
    // closed tasks are not open, overdue or escalated
    await db.update(tasks).set({ closedAt: new Date() }).where(eq(tasks.id, taskId));
    const closed = await readBusinessGauges(db);
    expect(closed.overdueTasks).toBe(before.overdueTasks);
    expect(closed.attentionByFlag['review_escalated'] ?? 0).toBe(before.attentionByFlag['review_escalated'] ?? 0);
    // every fen lands: a closed task whose escrow still holds its price (a settlement the ledger refused) is stranded money
    expect(before.escrowStrandedFen).toBe(0);
    expect(closed.escrowStrandedFen).toBe(priceFen);
    await db.update(tasks).set({ closedAt: null }).where(eq(tasks.id, taskId));
    // a withdrawal that stays pending (provider away, or its ledger step failed for good) shows with its age until it ends
    const withdrawalId = `ops-test-${randomUUID()}`;
    await db.transaction((tx) => holdWithdrawal(tx, withdrawalId, account.client(client.id), 100));
    const pending = await readBusinessGauges(db);
    expect(pending.pendingWithdrawals).toBe(before.pendingWithdrawals + 1);
    expect(pending.oldestPendingWithdrawalSeconds).toBeGreaterThanOrEqual(0);
    await finishWithdrawal(db, withdrawalId, { paid: false, reason: 'ops test' });
    expect((await readBusinessGauges(db)).pendingWithdrawals).toBe(before.pendingWithdrawals);
    await db.execute(sql`delete from notifications where key like 'ops-test:%'`);
  });

  it("the worker's Temporal SDK exporter answers on WORKER_METRICS_PORT with the SDK's worker metrics", async () => {
    const res = await fetch(workerMetrics);
    expect(res.status).toBe(200);
    const text = await res.text();
    const names = new Set(samples(text).map((l) => l.split(/[{ ]/)[0]!));
    for (const name of ['temporal_worker_task_slots_available', 'temporal_workflow_task_execution_latency_bucket', 'temporal_num_pollers']) {
      expect([...names], name).toContain(name);
    }
    // the decline's projection is a local activity (engine 3 runs no regular activity for it; engine 6 none for an order)
    expect([...names].filter((n) => /^temporal_(local_)?activity_/.test(n)), 'activity metrics').not.toEqual([]);
    expect(text).toContain('task_queue="starmap-tasks"');
  });

  it('/metrics asks for the bearer token when STARMAP_METRICS_TOKEN is set, and a scrape with PostgreSQL away still answers (business_metrics_up 0)', async () => {
    const app = createApp({
      db: { execute: () => Promise.reject(new Error('connection refused')) } as unknown as Db,
      temporal: {} as Client,
      auth,
      taskQueue: 'unused',
      platformSecret: 'unused',
      contentPlatform: new FakeContentPlatform(),
      telephony: new FakeTelephony(),
      payments: new FakePaymentProvider(),
      metricsToken: 'scrape-secret-123',
      logger: createLogger('api', { level: 'silent' }),
    });
    const other = app.listen(0);
    try {
      const at = `http://127.0.0.1:${(other.address() as AddressInfo).port}/metrics`;
      expect((await fetch(at)).status).toBe(401);
      expect((await fetch(at, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
      const ok = await fetch(at, { headers: { authorization: 'Bearer scrape-secret-123' } });
      expect(ok.status).toBe(200);
      expect(value(await ok.text(), 'starmap_business_metrics_up')).toBe(0);
    } finally {
      other.close();
    }
  });

  it("the API logs one JSON line per request with time, level, request id, route template, actor and task id; health probes only at debug", () => {
    const get = apiLines.find((l) => l['reqId'] === getRequestId);
    expect(get).toMatchObject({ level: 'info', service: 'api', msg: 'request', method: 'GET', route: '/v1/tasks/:taskId', status: 200, actor: `client:${client.id}`, taskId });
    expect(new Date(String(get!['time'])).toISOString()).toBe(get!['time']);
    // the order names the task it created (from its Location)
    expect(apiLines.find((l) => l['route'] === '/v1/tasks' && l['status'] === 201)).toMatchObject({ taskId, actor: `client:${client.id}` });
    expect(apiLines.find((l) => l['status'] === 404 && String(l['route']).startsWith('/v1/tasks'))).toMatchObject({ problem: 'not-found' });
    // no line carries a token: headers are never logged
    const all = JSON.stringify(apiLines);
    expect(all).not.toContain(clientToken);
    expect(apiLines.find((l) => l['reqId'] === 'ops-test-probe')).toMatchObject({ level: 'debug', route: '/livez', status: 200 });
  });

  it("the worker's logs are JSON and carry the task id through the Temporal SDK logger (an activity's line)", async () => {
    // the SDK forwards log lines in batches (every 100 ms)
    await waitFor(() => Promise.resolve(workerOut.includes('task_cancelled')), { timeoutMs: 5_000 }).catch(() => undefined);
    const lines = workerOut
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l).toMatchObject({ service: 'worker', level: expect.any(String), time: expect.any(String) });
    const notify = lines.find((l) => l['taskId'] === declinedId && String(l['msg']).includes('[notify]') && String(l['msg']).includes('task_cancelled'));
    expect(notify, workerOut.slice(-3000)).toMatchObject({ level: 'info', workflowId: declinedId, sdkComponent: 'activity' });
    // issue #14: the production worker sets up new tasks with autoscaling pollers (worker.ts WORKFLOW_TASK_POLLERS)
    expect(lines.find((l) => String(l['msg']).startsWith('polling starmap-tasks'))).toMatchObject({ maxCachedWorkflows: 500, workflowTaskPollers: 'autoscaling' });
  });
});

describe('4. redaction and formats', () => {
  it('secrets and personal data are redacted by field, at the top level and one object down', () => {
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger('api', { destination: collector(lines), format: 'json', level: 'info' });
    logger.info(
      { password: 'hunter2hunter2', passwordHash: '$argon2id$v=19$x', phone: '+8613900001111', headers: { authorization: 'Bearer eyJabc' }, account: { email: 'ceo@brand.example', login: 'ceo@brand.example', phone: '13900001111' }, taskId: 'tsk_1' },
      'with secrets',
    );
    expect(lines[0]).toMatchObject({ password: REDACTED, passwordHash: REDACTED, phone: REDACTED, headers: { authorization: REDACTED }, account: { email: REDACTED, login: REDACTED, phone: REDACTED }, taskId: 'tsk_1' });
    for (const secret of ['hunter2', 'argon2id', '13900001111', 'eyJabc', 'ceo@brand']) expect(JSON.stringify(lines)).not.toContain(secret);
  });

  it('development output is one readable line per entry: time, level, service, message, then the fields', () => {
    let out = '';
    const pretty = prettyStream({ write: (s: string) => void (out += s) });
    pretty.write(`${JSON.stringify({ level: 'info', time: '2026-01-02T03:04:05.678Z', service: 'api', msg: 'request', route: '/v1/tasks', status: 201 })}\n`);
    expect(out).toBe('03:04:05.678 INFO  [api] request route=/v1/tasks status=201\n');
  });

  it("a workflow id names its task: the task's own and its metrics workflow's; other workflows none", () => {
    expect(taskIdOfWorkflow('tsk_0190d4c8-aaaa')).toBe('tsk_0190d4c8-aaaa');
    expect(taskIdOfWorkflow('tsk_0190d4c8-aaaa:metrics')).toBe('tsk_0190d4c8-aaaa');
    expect(taskIdOfWorkflow('appeal-1')).toBeUndefined();
    expect(taskIdOfWorkflow(undefined)).toBeUndefined();
  });
});
