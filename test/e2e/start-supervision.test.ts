/**
 * `npm start` survives its children (issue #12, item 8): starts scripts/start.ts
 * with its own ports and data folder, kill -9s its PostgreSQL and then its
 * Temporal server, and checks each is restarted (said so in the output) and the
 * API serves again, orders included (the in-process worker projects them). Then
 * it kill -9s PostgreSQL once more and presses Ctrl-C while the restart is
 * pending: everything stops within the shutdown bound and no process is left.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort } from '../../db/embedded.js';
import { repoRoot } from '../../scripts/dev.js';
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

/** Processes whose command line names this run's data folder (the servers), as "pid args". */
const processesOfThisRun = () =>
  execFileSync('ps', ['-eo', 'pid=,args='])
    .toString()
    .split('\n')
    .filter((line) => line.includes(dataDir) && !line.includes('ps -eo'));

const groupAlive = (pgid: number) => {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
};

const postmasterPid = () => Number(readFileSync(join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
const temporalPid = () => {
  const line = processesOfThisRun().find((l) => l.includes('start-dev'));
  if (!line) throw new Error(`no Temporal server found:\n${processesOfThisRun().join('\n')}`);
  return Number(line.trim().split(/\s+/)[0]);
};

async function waitFor<T>(what: string, read: () => Promise<T | undefined> | T | undefined, timeoutMs: number): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (child.exitCode !== null) throw new Error(`${what}: npm start exited (${child.exitCode}):\n${output}`);
    if (Date.now() > until) throw new Error(`${what}: not within ${timeoutMs} ms:\n${output.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'starmap-supervise-'));
  for (const name of ['PORT', 'TEMPORAL_PORT', 'TEMPORAL_UI_PORT', 'STARMAP_PG_PORT', 'WORKER_METRICS_PORT']) ports[name] = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, STARMAP_DATA_DIR: dataDir, ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])) };
  delete env['DATABASE_URL'];
  child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'scripts/start.ts')], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  await waitFor('Starmap is running', () => (output.includes('Starmap is running') ? true : undefined), 150_000);
}, 180_000);

afterAll(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  for (const line of processesOfThisRun()) process.kill(Number(line.trim().split(/\s+/)[0]), 'SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

it('restarts a killed PostgreSQL and a killed Temporal server, serves again, and stops everything on Ctrl-C even while a restart is pending', async () => {
  const base = `http://127.0.0.1:${ports['PORT']}`;
  const request = async (method: string, path: string, token: string | null, body?: unknown, headers: Record<string, string> = {}) => {
    try {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json', ...headers },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(5_000),
      });
      return { status: res.status, body: (await res.json()) as any };
    } catch (err) {
      return { status: 0, body: String(err) };
    }
  };
  const signIn = async (login: string) => (await request('POST', '/v1/sessions', null, { login, password: DEMO_PASSWORD })).body.token as string;
  const client = await signIn(DEMO_ACCOUNTS.client.login);
  expect((await request('GET', '/v1/wallets/me', client)).status).toBe(200);

  // PostgreSQL: kill -9 of the postmaster and its backends
  const pg1 = postmasterPid();
  process.kill(-pg1, 'SIGKILL');
  await waitFor('PostgreSQL restarted', () => (output.includes('PostgreSQL is running again') ? true : undefined), 30_000);
  expect(output).toContain('[start] PostgreSQL was killed (SIGKILL); restarting it in 1 s');
  expect(postmasterPid()).not.toBe(pg1);
  await waitFor('the API reads PostgreSQL again', async () => ((await request('GET', '/v1/wallets/me', client)).status === 200 ? true : undefined), 15_000);

  // Temporal: kill -9 of the dev server
  const temporal1 = temporalPid();
  process.kill(temporal1, 'SIGKILL');
  await waitFor('Temporal restarted', () => (output.includes('the Temporal dev server is running again') ? true : undefined), 60_000);
  expect(output).toContain('[start] the Temporal dev server was killed (SIGKILL); restarting it in 1 s');
  expect(temporalPid()).not.toBe(temporal1);
  // an order starts a workflow (Temporal) and the worker projects it (the task reaches the read model)
  const key = `supervise-${randomUUID()}`;
  const order = { creatorId: DEMO_ACCOUNTS.creator.id, taskType: 'douyin_video', brief: 'After a Temporal restart', scriptRequired: false, retentionDays: 15 };
  const ordered = await waitFor(
    'an order is taken after the Temporal restart',
    async () => {
      const res = await request('POST', '/v1/tasks', client, order, { 'idempotency-key': key });
      return res.status === 201 || res.status === 200 ? res.body : undefined;
    },
    30_000,
  );
  await waitFor(
    'the worker projects the order',
    async () => {
      const res = await request('GET', `/v1/tasks?status=awaiting_acceptance`, client);
      return res.status === 200 && res.body.items.some((t: { id: string }) => t.id === ordered.id) ? true : undefined;
    },
    30_000,
  );
  expect(output).not.toContain('giving up');

  // kill PostgreSQL again and press Ctrl-C while its restart is pending
  const pg2 = postmasterPid();
  const temporal2 = temporalPid();
  process.kill(-pg2, 'SIGKILL');
  await waitFor('the restart is announced', () => (output.split('PostgreSQL was killed').length === 3 ? true : undefined), 10_000);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const sent = Date.now();
  child.kill('SIGINT');
  expect(await exited).toBe(0);
  const tookMs = Date.now() - sent;
  expect(tookMs).toBeLessThan(20_000);
  expect(output).toContain('[start] stopping: SIGINT received');
  expect(output).toContain('[start] stopped');
  expect(output.split('PostgreSQL is running again').length).toBe(2); // the pending restart did not happen
  for (const port of Object.values(ports)) expect(await portOpen(port)).toBe(false);
  expect(processesOfThisRun()).toEqual([]);
  expect(groupAlive(pg2)).toBe(false);
  expect(groupAlive(temporal2)).toBe(false);
  console.log(`[supervise] Ctrl-C to exit: ${tookMs} ms`);
}, 240_000);
