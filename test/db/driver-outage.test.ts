/**
 * No process dies from a PostgreSQL outage (issue #12, item 2).
 *
 * postgres.js 3.4.9 throws `TypeError: Cannot read properties of null (reading
 * 'write')` from a setImmediate in `connection.js` `nextWrite` when a query is
 * written to a connection whose socket has closed (porsager/postgres#1154,
 * #1208): a transaction's ROLLBACK after its connection died does it. The
 * throw has no caller, so it kills the process. patches/postgres+3.4.9.patch
 * fixes it in the driver; these tests fail without the patch.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startEmbeddedPostgres, type EmbeddedDatabase } from '../../db/embedded.js';

interface Counts {
  ok: number;
  failed: number;
  errors: Record<string, number>;
  done?: boolean;
}

let dir: string;
let port: number;
let pg: EmbeddedDatabase;
let up = false;
async function start(): Promise<EmbeddedDatabase> {
  const server = await startEmbeddedPostgres({ dataDir: join(dir, 'data'), port, log: () => {} });
  up = true;
  void server.exited.then(() => (up = false));
  return server;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'starmap-driver-outage-'));
  port = await freePort();
  pg = await start();
});

afterAll(async () => {
  await pg?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The load process, its latest counts, and its exit (with what it printed on stderr). */
function startLoad(url: string) {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/pgLoad.ts', url, '8'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let latest: Counts = { ok: 0, failed: 0, errors: {} };
  let stderr = '';
  let buffer = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop()!;
    for (const line of lines) if (line.startsWith('{')) latest = JSON.parse(line) as Counts;
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, counts: () => latest, stderr: () => stderr, exit };
}

async function waitFor(what: string, ok: () => boolean, timeoutMs: number, dead?: () => string | null): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!ok()) {
    const why = dead?.();
    if (why) throw new Error(`${what}: ${why}`);
    if (Date.now() > until) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('PostgreSQL outage', () => {
  it('kill -9 of PostgreSQL under a transaction load: the client process survives, its queries fail, then succeed once PostgreSQL is back', async () => {
    const load = startLoad(pg.url);
    let exited: string | null = null;
    void load.exit.then(({ code, signal }) => (exited = `the load process exited (code ${code}, signal ${signal}): ${load.stderr().slice(-1500)}`));
    const dead = () => exited;
    try {
      await waitFor('queries run', () => load.counts().ok > 50, 30_000, dead);
      for (let round = 1; round <= 3; round++) {
        process.kill(-pg.pid, 'SIGKILL'); // the postmaster and every backend, as a crash would
        await pg.exited;
        const failedBefore = load.counts().failed;
        // the queries in flight fail (CONNECTION_CLOSED); later ones wait for a connection or fail (ECONNREFUSED)
        await waitFor(`round ${round}: queries fail while PostgreSQL is down`, () => load.counts().failed > failedBefore, 10_000, dead);
        await new Promise((r) => setTimeout(r, 3_000)); // the pool keeps retrying against the dead port
        expect(exited).toBeNull();
        pg = await start();
        const okBefore = load.counts().ok;
        // db/client.ts caps the reconnect backoff at 1 s (postgres.js's default grows to 20 s)
        await waitFor(`round ${round}: queries succeed again after the restart`, () => load.counts().ok > okBefore + 50, 5_000, dead);
      }
      load.child.kill('SIGTERM');
      const { code } = await load.exit;
      expect(load.stderr()).not.toContain('TypeError');
      expect(code, load.stderr()).toBe(0);
      const final = load.counts();
      expect(final.done).toBe(true);
      // the outage was seen, as errors the caller can catch
      expect(final.failed).toBeGreaterThan(0);
    } finally {
      if (load.child.exitCode === null) load.child.kill('SIGKILL');
    }
  });

  it('a transaction or a reserved connection whose backend was terminated rejects its later queries with CONNECTION_CLOSED; the pool serves the next query (porsager/postgres#1208)', async () => {
    if (!up) pg = await start();
    // in a child: without the fix a later query kills the process that runs it, or never settles
    const script = `
      import postgres from 'postgres';
      const pool = () => postgres(process.argv[1], { max: 2, onnotice: () => {} });
      const killer = pool();
      const code = (p) => p.then(() => 'ok', (e) => e.code);
      // as the project's transactions run: the connection dies between two statements
      const a = pool();
      const transaction = await code(a.begin(async (tx) => {
        const [{ pid }] = await tx\`select pg_backend_pid() as pid\`;
        await killer\`select pg_terminate_backend(\${pid})\`;
        await tx\`select 1\`;
      }));
      const [{ one }] = await a\`select 1 as one\`;
      // porsager/postgres#1208, as reported
      const b = pool();
      const reserved = await b.reserve();
      const [{ pid }] = await reserved\`select pg_backend_pid() as pid\`;
      await killer\`select pg_terminate_backend(\${pid})\`;
      const later = [];
      for (let i = 0; i < 3; i++) later.push(await code(reserved\`select 1\`));
      console.log(JSON.stringify({ transaction, later, one }));
      await Promise.all([a, b, killer].map((sql) => sql.end({ timeout: 1 })));
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, pg.url], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const hung = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const exit = await new Promise<{ code: number | null; signal: string | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    clearTimeout(hung);
    expect(err).not.toContain('TypeError');
    expect(exit, err).toEqual({ code: 0, signal: null });
    const result = JSON.parse(out);
    // the statement in flight may see the reset (ECONNRESET) or the close; every later one is refused at once
    expect(['ECONNRESET', 'CONNECTION_CLOSED', '57P01']).toContain(result.transaction);
    expect(['ECONNRESET', 'CONNECTION_CLOSED', '57P01']).toContain(result.later[0]);
    expect(result.later.slice(1)).toEqual(['CONNECTION_CLOSED', 'CONNECTION_CLOSED']);
    expect(result.one).toBe(1);
  });
});
