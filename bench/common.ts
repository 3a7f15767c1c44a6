/**
 * What bench/lifecycle.ts and bench/open.ts share: a throwaway stack (the
 * project's Temporal CLI dev server on free ports with a SQLite file, an
 * embedded PostgreSQL, migrations) under one temp folder; Starmap itself in
 * this process (the real worker from worker.ts, the real API from api/main.ts)
 * with real accounts (clients funded through the payment path, creators with
 * an opened offer, an operator); the HTTP steps of a lifecycle as
 * scripts/faults.ts drives them; CPU time per process from /proc; percentiles.
 *
 * Cleanup: every part registers how to stop it; they run last-in first-out at
 * the end, on an error and on Ctrl-C (SIGINT/SIGTERM/SIGHUP), and the temp
 * folder goes last. The servers run in process groups of their own, so Ctrl-C
 * reaches this process only, which stops them in order.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, openSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { FakeContentPlatform } from '../adapters/contentPlatform.js';
import { FakeNotifier } from '../adapters/notifier.js';
import { FakePaymentProvider } from '../adapters/payments.js';
import { FakePayoutProvider } from '../adapters/payouts.js';
import { createAuth, type UserActor } from '../api/auth.js';
import { pino } from 'pino';
import { startApi } from '../api/main.js';
import { createLogger } from '../ops/log.js';
import { signPlatformBody } from '../api/platform.js';
import { connect, type Database } from '../db/client.js';
import type { EmbeddedDatabase } from '../db/embedded.js';
import { MAX_TOP_UP_FEN } from '../db/ledger.js';
import { runMigrations } from '../db/migrate.js';
import { repoRoot } from '../scripts/dev.js';
import { devServerArgs } from '../temporal/devServer.js';
import { ensureSearchAttributes } from '../temporal/searchAttributes.js';
import { WORKER_NODE_FLAGS } from '../temporal/runtime.js';
import { ensureAccount, ensureCreator } from '../test/helpers/accounts.js';
import { createWorker } from '../worker.js';
import { BENCH_SIGNALS, importEmbedded } from './args.js';

// ---------------------------------------------------------------- output

const t0 = performance.now();
export const elapsed = (): string => `${((performance.now() - t0) / 1000).toFixed(1)} s`;
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** Nearest-rank percentile of unsorted values (NaN when empty). */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

// ---------------------------------------------------------------- cleanup (Ctrl-C included)

/** Run last-in first-out; `hurry` after a signal or a crash: no waiting for work in flight. */
const cleanups: Array<{ name: string; run: (hurry: boolean) => Promise<void> }> = [];
let stopping = false;
export const isStopping = () => stopping;
export function onCleanup(name: string, run: (hurry: boolean) => Promise<void>): void {
  cleanups.push({ name, run });
}
export async function cleanUp(hurry: boolean, log: (line: string) => void): Promise<void> {
  while (cleanups.length > 0) {
    const { name, run } = cleanups.pop()!;
    // each step is bounded: a part that hangs never keeps the others (or the folder) behind
    const done = await Promise.race([run(hurry).then(() => true, (err: unknown) => (log(`stopping ${name} failed: ${String(err)}`), true)), sleep(10_000).then(() => false)]);
    if (!done) log(`${name} did not stop within 10 s; going on`);
  }
}


/**
 * Runs `main` with the cleanup on every way out: its end, its error, a signal
 * (exit 130), an uncaught error. Exits non-zero only when the benchmark itself
 * failed. A second Ctrl-C kills the server groups at once. The line `main`
 * returns is printed after the cleanup, so it is the last line of the output
 * (nothing the stopping parts log comes after it).
 */
export function runBenchmark(name: string, main: () => Promise<string | void>): void {
  const log = (line: string) => console.error(`[${name}] ${line}`);
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log(`${signal} again: killing the servers now`);
      for (const pid of groups) killGroup(pid, 'SIGKILL');
      process.exit(130);
    }
    stopping = true;
    process.stdout.write('\n');
    log(`${signal}: stopping and cleaning up`);
    void cleanUp(true, log).finally(() => process.exit(130));
  };
  for (const signal of BENCH_SIGNALS) process.on(signal, onSignal);
  const onCrash = (err: unknown) => {
    if (stopping) return; // a connection dropped while stopping: expected
    stopping = true;
    log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    void cleanUp(true, log).finally(() => process.exit(1));
  };
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  main().then(
    async (lastLine) => {
      if (stopping) return;
      stopping = true;
      await cleanUp(false, log);
      if (lastLine) console.log(lastLine);
      process.exit(0);
    },
    (err: unknown) => onCrash(err),
  );
}

/** Process groups of the servers this benchmark started (killed outright by a second Ctrl-C). */
const groups = new Set<number>();

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}


// ---------------------------------------------------------------- the servers

export interface Servers {
  dir: string;
  temporalAddress: string;
  /** Process group (= pid) of the Temporal dev server. */
  temporalPid: number;
  temporalDbFile: string;
  /** The dev server's Prometheus endpoint (its requests and persistence calls by operation: `--rpcs`). */
  temporalMetricsUrl: string;
  databaseUrl: string;
  /** Process group (= pid of the postmaster) of the embedded PostgreSQL. */
  postgresPid: number;
  /** One small pool for the benchmark's own reads (not Starmap's pools). */
  database: Database;
}

/** The temp folder, the Temporal dev server and the embedded PostgreSQL (migrated), started side by side. */
export async function startServers(name: string, log: (line: string) => void): Promise<Servers> {
  // the worker's runtime: quiet, and no signal handling of its own (the cleanup above stops the worker)
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
  const dir = mkdtempSync(join(tmpdir(), `starmap-${name}-`));
  onCleanup('the temp folder', () => Promise.resolve(rmSync(dir, { recursive: true, force: true })));
  log(`temp folder ${dir}`);
  const { freePort, startEmbeddedPostgres } = await importEmbedded();
  const [temporalPort, temporalMetricsPort, pgPort] = await Promise.all([freePort(), freePort(), freePort()]);

  const startTemporal = async () => {
    const started = performance.now();
    const cli = process.env['STARMAP_TEMPORAL_CLI'] ?? execFileSync('bash', [join(repoRoot, 'scripts/tools.sh'), 'temporal'], { stdio: ['ignore', 'pipe', 'inherit'] }).toString().trim();
    const dbFile = join(dir, 'temporal.sqlite');
    const logFile = join(dir, 'temporal.log');
    const fd = openSync(logFile, 'a');
    // as scripts/start.ts runs it (SQLite file, WAL, devServerArgs), headless; its HTTP port a free port it picks itself, its metrics on ours
    const child = spawn(
      cli,
      ['server', 'start-dev', '--headless', '--ip', '127.0.0.1', '--port', String(temporalPort), '--db-filename', dbFile, '--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal', '--metrics-port', String(temporalMetricsPort), '--log-level', 'error', ...devServerArgs()],
      { detached: true, stdio: ['ignore', fd, fd] },
    );
    if (child.pid === undefined) throw new Error(`could not start ${cli}`);
    const pid = child.pid;
    groups.add(pid);
    let exited = false;
    const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
    onCleanup('the Temporal dev server', async () => {
      if (exited) return;
      killGroup(pid, 'SIGTERM');
      const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), 5_000);
      await exit;
      clearTimeout(timer);
      groups.delete(pid);
    });
    const address = `127.0.0.1:${temporalPort}`;
    for (let i = 0; ; i++) {
      try {
        const connection = await Connection.connect({ address, connectTimeout: 1000 });
        await connection.workflowService.getSystemInfo({});
        await connection.close();
        break;
      } catch (err) {
        if (exited || i > 240) throw new Error(`the Temporal dev server did not come up: ${String(err)}; ${readFileSync(logFile, 'utf8').slice(-2000)}`);
        await sleep(250);
      }
    }
    log(`Temporal dev server up on ${address} (pid ${pid}, ${dbFile}) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return { address, pid, dbFile, metricsUrl: `http://127.0.0.1:${temporalMetricsPort}/metrics` };
  };

  const startDatabase = async () => {
    const started = performance.now();
    // pg_stat_statements: the statements each variant sends per lifecycle (pgStatements), BEGIN and COMMIT included
    const pg: EmbeddedDatabase = await startEmbeddedPostgres({ dataDir: join(dir, 'postgres'), port: pgPort, persistent: false, log: () => {}, settings: { shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.track_planning': 'on' } });
    groups.add(pg.pid);
    onCleanup('PostgreSQL', async () => {
      await pg.stop(5_000);
      groups.delete(pg.pid);
    });
    await runMigrations(pg.url);
    log(`PostgreSQL up on 127.0.0.1:${pgPort} (postmaster pid ${pg.pid}), migrated, in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return pg;
  };

  const [temporal, pg] = await Promise.all([startTemporal(), startDatabase()]);
  const database = connect(pg.url, { max: 2 });
  await database.sql`create extension if not exists pg_stat_statements`;
  onCleanup('the benchmark pool', (hurry) => (hurry ? database.sql.end({ timeout: 0 }) : database.close()));
  return { dir, temporalAddress: temporal.address, temporalPid: temporal.pid, temporalDbFile: temporal.dbFile, temporalMetricsUrl: temporal.metricsUrl, databaseUrl: pg.url, postgresPid: pg.pid, database };
}

// ---------------------------------------------------------------- CPU time from /proc

let clockTicks: number | undefined;
const ticksPerSecond = (): number => (clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100);

/**
 * CPU milliseconds (user + system) of a process and all its descendants, plus
 * what they reaped (cutime + cstime: a PostgreSQL backend that ended is counted
 * by the postmaster that waited for it). By parentage, not process group:
 * PostgreSQL's backends each call setsid(), so they lead groups of their own.
 */
export function treeCpuMs(rootPid: number): number {
  const procs = new Map<number, { ppid: number; ticks: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // fields after "pid (comm)": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    procs.set(Number(entry), { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]) });
  }
  const children = new Map<number, number[]>();
  for (const [pid, { ppid }] of procs) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  let ticks = 0;
  const queue = procs.has(rootPid) ? [rootPid] : [];
  while (queue.length > 0) {
    const pid = queue.pop()!;
    ticks += procs.get(pid)!.ticks;
    queue.push(...(children.get(pid) ?? []));
  }
  return (ticks * 1000) / ticksPerSecond();
}

/**
 * CPU milliseconds of each thread of these processes, by `pid/tid name` (Linux names a thread after its
 * creator: Node's own threads — the main one, V8's platform workers for GC and compilation, a Worker such as
 * the SDK's workflow thread — are all `node`; the Temporal SDK's Rust core runs on `tokio-runtime-w`).
 * The main thread is named `main`. `bench:lifecycle --threads` prints a round's difference.
 */
export function threadCpuMs(pids: readonly number[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const pid of pids) {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const name = tid === String(pid) ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        out.set(`${pid}/${tid} ${name}`, ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond());
      } catch {
        // the thread ended meanwhile
      }
    }
  }
  return out;
}

/** This process's CPU milliseconds (user + system). */
export function ownCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

export interface CpuSample {
  node: number;
  temporal: number;
  postgres: number;
}
/** `workers`: Starmap worker processes of their own (bench:lifecycle --worker-process), counted as node. */
export const cpuNow = (servers: Servers, workers: readonly number[] = []): CpuSample => ({
  node: workers.reduce((sum, pid) => sum + treeCpuMs(pid), ownCpuMs()),
  temporal: treeCpuMs(servers.temporalPid),
  postgres: treeCpuMs(servers.postgresPid),
});
export const cpuSince = (before: CpuSample, servers: Servers, workers: readonly number[] = []): CpuSample => {
  const now = cpuNow(servers, workers);
  return { node: now.node - before.node, temporal: now.temporal - before.temporal, postgres: now.postgres - before.postgres };
};

/**
 * Statements PostgreSQL has run since it started, from every client (the API, the
 * worker, the bare worker's local activity), BEGIN and COMMIT counted as the round
 * trips they are; this reading's own statement is left out.
 */
export async function pgStatements(servers: Servers): Promise<number> {
  const [row] = await servers.database.sql<{ n: string }[]>`select coalesce(sum(calls), 0)::text as n from pg_stat_statements where query not like '%pg_stat_statements%'`;
  return Number(row!.n);
}

/** Bytes of the Temporal SQLite database with its WAL. */
export function sqliteBytes(file: string): number {
  let total = 0;
  for (const suffix of ['', '-wal', '-shm']) {
    try {
      total += statSync(file + suffix).size;
    } catch {
      // no WAL yet
    }
  }
  return total;
}

// ---------------------------------------------------------------- Starmap in this process

export const PRICE_FEN = 10_000;

export interface Actor {
  actor: UserActor;
  token: string;
}

export interface Starmap {
  baseUrl: string;
  temporal: Client;
  /** The in-process worker; absent when the worker runs as its own process (`workerPid`). */
  worker?: Worker;
  /** The worker's own process (`separateWorker`), as production runs it. */
  workerPid?: number;
  /** The worker process's Temporal SDK metrics (Prometheus text), with `workerPid`. */
  workerMetricsUrl?: string;
  maxCachedWorkflows: number;
  platformSecret: string;
  clients: Actor[];
  creators: Actor[];
  operator: Actor;
}

/**
 * The real worker (createWorker) and the real API (startApi) in this process,
 * on the servers, each with its own PostgreSQL pool as separate processes
 * would have; `clients` funded clients (top-ups through the API, paid by the
 * fake provider's signed notification), `creators` creators with a Douyin
 * video offer at PRICE_FEN, one operator.
 */
export async function startStarmap(
  servers: Servers,
  options: {
    clients: number;
    creators: number;
    fundFenPerClient: number;
    maxCachedWorkflows?: number | undefined;
    separateWorker?: boolean;
    /** `separateWorker`: V8 flags after production's WORKER_NODE_FLAGS (a repeated flag: V8 takes the last), to try others. */
    extraWorkerFlags?: readonly string[] | undefined;
    log: (line: string) => void;
  },
): Promise<Starmap> {
  const started = performance.now();
  const workerDb = connect(servers.databaseUrl);
  onCleanup("the worker's pool", (hurry) => (hurry ? workerDb.sql.end({ timeout: 0 }) : workerDb.close()));
  const apiDb = connect(servers.databaseUrl);
  onCleanup("the API's pool", (hurry) => (hurry ? apiDb.sql.end({ timeout: 0 }) : apiDb.close()));
  // as in production: the API's client on a connection of its own, the worker's activities on the worker's
  // (both the Rust core's, as api/main.ts and worker.ts connect)
  const connection = await NativeConnection.connect({ address: servers.temporalAddress });
  onCleanup("the API's connection", () => connection.close());
  await ensureSearchAttributes(connection, 'default');
  const temporal = new Client({ connection, namespace: 'default' });
  const native = await NativeConnection.connect({ address: servers.temporalAddress });
  onCleanup("the worker's connection", () => native.close());
  const workerTemporal = new Client({ connection: native, namespace: 'default' });
  const contentPlatform = new FakeContentPlatform();
  // the workflow code as production runs it: bundled ahead (npm run build:workflows, in its own process so
  // webpack's memory is not this process's), not by the worker at start
  const bundle = join(servers.dir, 'workflow-bundle.js');
  execFileSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'scripts/bundle-workflows.ts'), bundle], { cwd: repoRoot, stdio: 'ignore' });
  if (options.separateWorker) {
    const child = await startWorkerProcess(servers, bundle, compiledWorker(servers, options.log), options.maxCachedWorkflows, options.extraWorkerFlags ?? [], options.log);
    return { ...(await startApiAndActors(servers, temporal, apiDb, contentPlatform, options)), temporal, workerPid: child.pid, workerMetricsUrl: child.metricsUrl, maxCachedWorkflows: child.maxCached };
  }
  const worker = await createWorker({
    workflows: { workflowBundle: { codePath: bundle } },
    connection: native,
    namespace: 'default',
    db: workerDb.db,
    notifier: new FakeNotifier(() => {}),
    payouts: new FakePayoutProvider(),
    contentPlatform,
    temporal: workerTemporal,
    ...(options.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: options.maxCachedWorkflows } : {}),
  });
  const running = worker.run();
  onCleanup('the Starmap worker', async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running.catch(() => undefined);
  });
  options.log(`Starmap worker (worker.ts createWorker) polling, bundled in ${((performance.now() - started) / 1000).toFixed(1)} s; maxCachedWorkflows ${worker.options.maxCachedWorkflows}`);
  return { ...(await startApiAndActors(servers, temporal, apiDb, contentPlatform, options)), temporal, worker, maxCachedWorkflows: worker.options.maxCachedWorkflows };
}

/**
 * The worker compiled to JavaScript as `npm run build` and the image do
 * (tsconfig.build.json), into the temp folder: the process then holds no
 * TypeScript transpiler. Returns the path of the compiled worker.js.
 */
function compiledWorker(servers: Servers, log: (line: string) => void): string {
  const started = performance.now();
  // the real path: worker.ts runs its main() only when argv[1] is its own (real) file, and a temp folder may sit behind a symlink
  const out = join(realpathSync(servers.dir), 'build');
  try {
    execFileSync(process.execPath, [join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', join(repoRoot, 'tsconfig.build.json'), '--outDir', join(out, 'dist')], { cwd: repoRoot, stdio: 'pipe' });
  } catch (err) {
    const { stdout, stderr } = err as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(`compiling the worker failed:\n${String(stdout ?? '')}${String(stderr ?? '')}`);
  }
  // ES modules, and the project's packages, as beside the repository's own dist/
  writeFileSync(join(out, 'package.json'), JSON.stringify({ type: 'module' }));
  symlinkSync(join(repoRoot, 'node_modules'), join(out, 'node_modules'), 'dir');
  log(`worker compiled (tsconfig.build.json) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return join(out, 'dist', 'worker.js');
}

/**
 * The worker as production runs it: `worker.ts` in a process of its own, with the
 * prebuilt bundle and the fakes; ready when its /readyz answers. Its log goes to
 * the temp folder.
 */
async function startWorkerProcess(servers: Servers, bundle: string, workerJs: string, maxCached: number | undefined, extraFlags: readonly string[], log: (line: string) => void): Promise<{ pid: number; maxCached: number; metricsUrl: string }> {
  const { freePort } = await importEmbedded();
  const [health, metrics] = await Promise.all([freePort(), freePort()]);
  const out = openSync(join(servers.dir, 'worker.log'), 'a');
  const cached = maxCached ?? 500;
  const child = spawn(process.execPath, [...WORKER_NODE_FLAGS, ...extraFlags, workerJs], {
    cwd: repoRoot,
    stdio: ['ignore', out, out],
    env: {
      ...process.env,
      DATABASE_URL: servers.databaseUrl,
      TEMPORAL_ADDRESS: servers.temporalAddress,
      TEMPORAL_NAMESPACE: 'default',
      HOST: '127.0.0.1',
      WORKER_HEALTH_PORT: String(health),
      WORKER_METRICS_PORT: String(metrics),
      STARMAP_WORKFLOW_BUNDLE: bundle,
      STARMAP_MAX_CACHED_WORKFLOWS: String(cached),
      STARMAP_LOG_FORMAT: 'json',
    },
  });
  const pid = child.pid!;
  onCleanup('the worker process', async () => {
    if (child.exitCode !== null) return;
    child.kill('SIGTERM');
    await new Promise<void>((resolve) => {
      const hard = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => (clearTimeout(hard), resolve()));
    });
  });
  const started = performance.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the worker process exited (${child.exitCode}); see ${join(servers.dir, 'worker.log')}`);
    const ok = await fetch(`http://127.0.0.1:${health}/readyz`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.ok, () => false);
    if (ok) break;
    if (performance.now() - started > 60_000) throw new Error(`the worker process was not ready in 60 s; see ${join(servers.dir, 'worker.log')}`);
    await sleep(250);
  }
  log(`Starmap worker process (${workerJs}, compiled, pid ${pid}, ${[...WORKER_NODE_FLAGS, ...extraFlags].join(' ')}, prebuilt bundle, maxCachedWorkflows ${cached}) ready in ${((performance.now() - started) / 1000).toFixed(1)} s; its log in ${join(servers.dir, 'worker.log')}`);
  return { pid, maxCached: cached, metricsUrl: `http://127.0.0.1:${metrics}/metrics` };
}

/** The API in this process, and the funded clients, the creators and the operator it serves. */
async function startApiAndActors(
  servers: Servers,
  temporal: Client,
  apiDb: Database,
  contentPlatform: FakeContentPlatform,
  options: { clients: number; creators: number; fundFenPerClient: number; log: (line: string) => void },
): Promise<Omit<Starmap, 'temporal' | 'worker' | 'workerPid' | 'workerMetricsUrl' | 'maxCachedWorkflows'>> {
  const jwtSecret = randomBytes(32).toString('hex');
  const platformSecret = randomBytes(32).toString('hex');
  const payments = new FakePaymentProvider();
  // the API logs as in production (JSON, a line per request) to a file in the temp folder, as a log shipper would take it
  const logFile = join(servers.dir, 'api.log');
  const logger = createLogger('api', { format: 'json', destination: pino.destination({ dest: logFile, sync: false, mkdir: true }) });
  const server: Server = await startApi({ db: apiDb.db, temporal, port: 0, jwtSecret, platformSecret, contentPlatform, payments, logger });
  onCleanup('the API', () => new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  }));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  options.log(`Starmap API (api/main.ts startApi) on ${baseUrl}; its JSON log in ${logFile}`);

  const auth = createAuth(jwtSecret);
  const run = randomBytes(3).toString('hex');
  const withToken = async (actor: UserActor): Promise<Actor> => ({ actor, token: await auth.sign(actor, 24 * 3600) });
  const clients = await Promise.all(Array.from({ length: options.clients }, (_, i) => withToken({ role: 'client', id: `bench-client-${run}-${i + 1}` })));
  const creators = await Promise.all(Array.from({ length: options.creators }, (_, i) => withToken({ role: 'creator', id: `bench-creator-${run}-${i + 1}` })));
  const operator = await withToken({ role: 'operator', id: `bench-operator-${run}` });
  await ensureAccount(apiDb.db, operator.actor);
  for (const c of creators) await ensureCreator(apiDb.db, c.actor, { douyin_video: PRICE_FEN });
  for (const c of clients) {
    await ensureAccount(apiDb.db, c.actor);
    for (let left = options.fundFenPerClient; left > 0; left -= MAX_TOP_UP_FEN) {
      const topUp = await http(baseUrl, 'POST', '/v1/wallets/me/top-ups', c.token, { amountFen: Math.min(left, MAX_TOP_UP_FEN) }, { 'idempotency-key': `bench-fund-${randomBytes(6).toString('hex')}` });
      const id = (topUp.body as { topUpId?: string } | null)?.topUpId;
      if (topUp.status !== 201 || !id) throw new Error(`top-up refused: ${topUp.status} ${topUp.text.slice(0, 300)}`);
      const paid = payments.confirm(id);
      const notified = await fetch(`${baseUrl}/v1/payments/notifications`, { method: 'POST', headers: paid.headers, body: paid.body });
      if (notified.status !== 200) throw new Error(`payment notification refused: ${notified.status} ${await notified.text()}`);
    }
  }
  options.log(`accounts: ${clients.length} clients funded through top-ups (${fmt(options.fundFenPerClient / 100)} yuan each), ${creators.length} creators with a Douyin video offer, 1 operator`);
  return { baseUrl, platformSecret, clients, creators, operator };
}

// ---------------------------------------------------------------- HTTP

export interface Answer {
  status: number;
  body: unknown;
  text: string;
}

export async function http(baseUrl: string, method: string, path: string, token: string | null, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  return { status: res.status, body: parsed, text };
}

export class StepFailed extends Error {}

/** A request that must succeed (2xx), or the step fails with the answer. */
export async function must(what: string, answer: Promise<Answer>): Promise<Answer> {
  const a = await answer;
  if (a.status < 200 || a.status > 299) throw new StepFailed(`${what}: ${a.status} ${a.text.slice(0, 300)}`);
  return a;
}

/** Orders a Douyin video from `creator` for `client` (POST /v1/tasks with an Idempotency-Key); the task id. */
export async function order(starmap: Pick<Starmap, 'baseUrl'>, client: Actor, creator: Actor, key: string): Promise<string> {
  const answer = await must(
    'order',
    http(starmap.baseUrl, 'POST', '/v1/tasks', client.token, { creatorId: creator.actor.id, taskType: 'douyin_video', brief: `Benchmark ${key}`, scriptRequired: false, retentionDays: 30, priceFen: PRICE_FEN }, { 'idempotency-key': key }),
  );
  return (answer.body as { id: string }).id;
}

/** The platform's signed "published" callback (POST /v1/platform/events), as the content platform sends it. */
export function platformPublished(starmap: Pick<Starmap, 'baseUrl' | 'platformSecret'>, taskId: string, itemId: string): Promise<Answer> {
  const event = JSON.stringify({ eventId: `${taskId}-published`, taskId, itemId, kind: 'published', occurredAt: new Date().toISOString() });
  const ts = Math.floor(Date.now() / 1000);
  return http(starmap.baseUrl, 'POST', '/v1/platform/events', null, event, { 'x-starmap-timestamp': String(ts), 'x-starmap-signature': signPlatformBody(starmap.platformSecret, ts, event) });
}
