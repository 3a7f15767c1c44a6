/**
 * End to end: starts Starmap exactly as `npm start` does (scripts/start.ts: the
 * Temporal dev server from the project's CLI, embedded PostgreSQL, migrations,
 * the demo marketplace seeded, worker, API), signs in as the demo accounts,
 * finds the demo creator in the plaza and walks a Douyin task over HTTP from the
 * order to the client's acceptance, runs `npm run seed` against the running
 * stack, then stops it with SIGINT and checks nothing is left behind.
 * Long deadlines are proven by the time-skipping workflow tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { signPlatformBody } from '../../api/platform.js';
import { freePort } from '../../db/embedded.js';
import { devSecrets, repoRoot } from '../../scripts/dev.js';
import { metricsWorkflowId, taskWorkflowId } from '../../temporal/ids.js';

import { DEMO_ACCOUNTS, DEMO_PASSWORD } from '../../scripts/seed.js';

let child: ChildProcess;
let output = '';
let dataDir: string;
const ports: Record<string, number> = {};

const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = netConnect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'starmap-e2e-'));
  for (const name of ['PORT', 'TEMPORAL_PORT', 'TEMPORAL_UI_PORT', 'STARMAP_PG_PORT', 'WORKER_METRICS_PORT']) ports[name] = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, STARMAP_DATA_DIR: dataDir, ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])) };
  delete env['DATABASE_URL'];
  child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'scripts/start.ts')], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const started = Date.now();
  while (!output.includes('Starmap is running')) {
    if (child.exitCode !== null) throw new Error(`start exited early:\n${output}`);
    if (Date.now() - started > 150_000) throw new Error(`start did not come up:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}, 180_000);

afterAll(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

it('prints where everything is, walks a Douyin task from order to acceptance over HTTP, and stops cleanly on Ctrl-C', async () => {
  const base = `http://127.0.0.1:${ports['PORT']}`;
  expect(output).toContain(`API         ${base}`);
  expect(output).toContain(`${base}/openapi.json`);
  expect(output).toContain(`Temporal UI http://127.0.0.1:${ports['TEMPORAL_UI_PORT']}`);
  // the printout names the docs page and both metrics endpoints, and they answer
  expect(output).toContain(`Docs        ${base}/docs`);
  expect(output).toContain(`Metrics     ${base}/metrics (API and business), http://127.0.0.1:${ports['WORKER_METRICS_PORT']}/metrics`);
  expect((await fetch(`${base}/docs`)).status).toBe(200);
  expect(await (await fetch(`${base}/metrics`)).text()).toContain('starmap_tasks_open');
  expect(await (await fetch(`http://127.0.0.1:${ports['WORKER_METRICS_PORT']}/metrics`)).text()).toMatch(/^temporal_/m);

  expect(output).toMatch(/\[start\] seeding creators.* 120\/120/);
  const secrets = devSecrets(dataDir);
  type As = { token: string };
  const call = async (as: As | null, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { ...(as ? { authorization: `Bearer ${as.token}` } : {}), 'content-type': 'application/json', ...headers },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const json = (await res.json()) as any;
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  // the demo accounts sign in with the documented password
  const signIn = async (login: string): Promise<As> => ({ token: (await call(null, 'POST', '/v1/sessions', { login, password: DEMO_PASSWORD })).token as string });
  const client = await signIn(DEMO_ACCOUNTS.client.login);
  const creator = await signIn(DEMO_ACCOUNTS.creator.login);
  const operator = await signIn(DEMO_ACCOUNTS.operator.login);

  // the demo creator is in the plaza with a Douyin quote; the order takes that quote as its price
  const plaza = await call(client, 'GET', '/v1/plaza/creators?taskType=douyin_video&sort=fans_desc&limit=50');
  expect(plaza.items.length).toBeGreaterThan(5);
  const profile = await call(client, 'GET', `/v1/creators/${DEMO_ACCOUNTS.creator.id}`);
  const quoteFen = profile.offers.find((o: { taskType: string }) => o.taskType === 'douyin_video').quoteFen as number;
  const balanceBefore = (await call(client, 'GET', '/v1/wallets/me')).balanceFen as number;

  const ordered = await call(client, 'POST', '/v1/tasks', { creatorId: DEMO_ACCOUNTS.creator.id, taskType: 'douyin_video', brief: 'Outdoor phone review', scriptRequired: true, retentionDays: 15 }, { 'idempotency-key': `e2e-${randomUUID()}` });
  expect(ordered.priceFen).toBe(quoteFen);
  const id = ordered.id as string;
  const path = (p: string) => `/v1/tasks/${id}/${p}`;
  await call(creator, 'POST', path('accept'), {});
  await call(creator, 'POST', path('script'), { body: 'Scene 1: unboxing. Scene 2: camera test.' });
  await call(operator, 'POST', path('script/review'), { decision: 'pass' });
  await call(client, 'POST', path('script/decision'), { decision: 'reject', reason: 'Add a battery test' });
  await call(creator, 'POST', path('script'), { body: 'Scene 1: unboxing. Scene 2: camera. Scene 3: battery.' });
  await call(operator, 'POST', path('script/review'), { decision: 'pass' });
  await call(client, 'POST', path('script/decision'), { decision: 'confirm' });
  await call(creator, 'POST', path('content'), { body: 'media://video/1' });
  await call(operator, 'POST', path('content/review'), { decision: 'pass' });
  await call(client, 'POST', path('content/decision'), { decision: 'confirm' });
  await call(creator, 'POST', path('publication'), { platformItemId: 'douyin-7300001' });

  const event = JSON.stringify({ eventId: randomUUID(), taskId: id, itemId: 'douyin-7300001', kind: 'published', occurredAt: new Date().toISOString() });
  const ts = Math.floor(Date.now() / 1000);
  const callback = await fetch(`${base}/v1/platform/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-starmap-timestamp': String(ts), 'x-starmap-signature': signPlatformBody(secrets.platformSecret, ts, event) },
    body: event,
  });
  expect(callback.status).toBe(202);
  let task = (await call(client, 'GET', `/v1/tasks/${id}`)).task;
  for (let i = 0; i < 50 && task.status !== 'awaiting_client_acceptance'; i++) {
    await new Promise((r) => setTimeout(r, 100));
    task = (await call(client, 'GET', `/v1/tasks/${id}`)).task;
  }
  expect(task.status).toBe('awaiting_client_acceptance');
  const accepted = (await call(client, 'POST', path('acceptance'), {})).task;
  expect(accepted.status).toBe('in_retention');
  expect(accepted.acceptance.acceptedBy).toBe('client');
  // R-PAYOUT: the demo creator belongs to the demo MCN, so the MCN's wallet receives it
  const mcn = await signIn(DEMO_ACCOUNTS.mcn.login);
  let mcnWallet = await call(mcn, 'GET', '/v1/wallets/me');
  for (let i = 0; i < 50 && mcnWallet.balanceFen === 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
    mcnWallet = await call(mcn, 'GET', '/v1/wallets/me');
  }
  expect(mcnWallet.balanceFen).toBe(quoteFen);
  expect((await call(creator, 'GET', '/v1/wallets/me')).balanceFen).toBe(0);
  expect((await call(client, 'GET', '/v1/wallets/me')).balanceFen).toBe(balanceBefore - quoteFen);
  expect(Date.parse(accepted.retention.endsAt) - Date.parse(accepted.publication.publishedAt)).toBe(15 * 24 * 3600_000);

  // the read model caught up: list and history come from Postgres
  let listed = (await call(client, 'GET', `/v1/tasks?status=in_retention`)).items as { id: string }[];
  for (let i = 0; i < 50 && !listed.some((t) => t.id === id); i++) {
    await new Promise((r) => setTimeout(r, 100));
    listed = (await call(client, 'GET', `/v1/tasks?status=in_retention`)).items;
  }
  expect(listed.map((t) => t.id)).toContain(id);
  const history = (await call(client, 'GET', `/v1/tasks/${id}/events`)).items.map((e: { type: string }) => e.type);
  expect(history).toEqual([
    'ordered', 'accepted',
    'submitted', 'review_passed', 'client_rejected', 'submitted', 'review_passed', 'client_confirmed',
    'submitted', 'review_passed', 'client_confirmed',
    'publication_linked', 'published', 'delivery_accepted',
  ]);

  // R-RATE: the task takes its first metrics reading shortly after the acceptance (engine 5: in its own workflow)
  let metrics = await call(client, 'GET', `/v1/tasks/${id}/metrics`);
  for (let i = 0; i < 50 && metrics.series.length === 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
    metrics = await call(client, 'GET', `/v1/tasks/${id}/metrics`);
  }
  expect(metrics.series[0]).toMatchObject({ at: accepted.acceptance.acceptedAt, source: 'collected' });

  // eager start (temporal/workflows.ts): the API and the worker share one connection here, so the order's
  // workflow got its first task with the start's answer: started under the starting client's identity, not
  // polled by the worker (whose identity is pid@host). No metrics workflow: the task reads its own.
  const temporal = await Connection.connect({ address: `127.0.0.1:${ports['TEMPORAL_PORT']}` });
  try {
    const workflows = new Client({ connection: temporal }).workflow;
    const { events } = await workflows.getHandle(taskWorkflowId(id)).fetchHistory();
    const starter = events!.find((e) => e.workflowExecutionStartedEventAttributes)?.workflowExecutionStartedEventAttributes?.identity;
    const firstTask = events!.find((e) => e.workflowTaskStartedEventAttributes)?.workflowTaskStartedEventAttributes?.identity;
    expect(starter).toMatch(/^starmap-npm-start \d+@/);
    expect(firstTask).toBe(starter);
    await expect(workflows.getHandle(metricsWorkflowId(id)).describe()).rejects.toThrow(/not found/i);
  } finally {
    await temporal.close();
  }

  // npm run seed finds the running stack (runtime.json) and adds creators up to the number asked
  const seedOut = await new Promise<string>((resolve, reject) => {
    const seed = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'scripts/seed.ts'), '--creators', '130'], {
      cwd: repoRoot,
      env: { ...process.env, STARMAP_DATA_DIR: dataDir, DATABASE_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    seed.stdout.on('data', (d: Buffer) => (out += d.toString()));
    seed.stderr.on('data', (d: Buffer) => (out += d.toString()));
    seed.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`seed exited ${code}:\n${out}`))));
  });
  expect(seedOut).toContain('120 creators present; adding 10');
  expect(seedOut).toMatch(/\[seed\] creators .*10\/10/);
  expect(seedOut).toMatch(/operator +demo-operator +eyJ/);

  // Ctrl-C: everything stops, nothing keeps listening
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGINT');
  expect(await exited).toBe(0);
  expect(output).toContain('[start] stopped');
  for (const port of Object.values(ports)) expect(await portOpen(port)).toBe(false);
}, 180_000);
