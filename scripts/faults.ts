/**
 * `npm run test:faults` (issue #12): Starmap's parts as separate processes —
 * the Temporal dev server (the project's CLI, SQLite file), embedded
 * PostgreSQL, two workers (worker.ts) and two APIs (api/main.ts), each on its
 * own ports, all under one throwaway folder — driven by task lifecycles over
 * HTTP (20 at a time) while the parts are killed in turn:
 *
 *   kill -9 one worker      restarted at once
 *   kill -9 both workers    restarted at once
 *   kill -9 Temporal        down 10 s, restarted on the same file and port
 *   kill -9 PostgreSQL      the postmaster and its backends; down 10 s, restarted
 *   kill -9 one API         restarted at once
 *
 * A lifecycle is what a client, a creator, an operator and the platform do:
 * order (Idempotency-Key), accept, submit content, operator review pass, client
 * confirm, link the publication, the signed "published" callback, client
 * acceptance. Every request carries an Idempotency-Key; on an error, a 5xx or
 * no answer it is retried with the same key on the other API (after
 * Retry-After when given).
 *
 * After each fault, over that fault's lifecycles: every acknowledged order has
 * one task row and one workflow and reached the expected state; the task events
 * are exactly the lifecycle's, with no duplicates; no duplicated notification or
 * ledger transfer; ledger sum 0 and no negative balance; no process died that
 * was not killed; the service (an API answering a task's state from its
 * workflow, through a worker, and a wallet from PostgreSQL, on both APIs) is
 * back within 10 s of the part's return. Outage answers are counted: 503 with
 * Retry-After, other 5xx, no answer. `--require-503` (or
 * STARMAP_FAULTS_REQUIRE_503=1) also fails the run when an outage was answered
 * otherwise than by 503 with Retry-After (the API side of issue #12).
 *
 * `--cluster` runs the same load and checks on Starmap's Temporal cluster
 * (scripts/temporalCluster.ts: history, matching, frontend and worker services
 * as separate processes from deploy/temporal/starmap.yaml, both stores on the
 * same PostgreSQL, mTLS on the frontend) instead of the dev server, and kills in
 * turn: history, matching, the frontend (each down 10 s), one worker, PostgreSQL
 * (down 10 s). History, matching and the worker service start, and restart, on a
 * fresh loopback address each time, as an orchestrator would (LoopbackAddresses in
 * temporalCluster.ts); the frontend keeps its address. Before the load it proves
 * the frontend's mTLS: a plain connection, TLS without a client certificate and a
 * certificate of another CA are refused, the API's certificate is accepted.
 *
 *   node --import tsx scripts/faults.ts [--quick] [--require-503] [--keep] [--cluster] [--only <text>] [--bench <n>]
 *   --quick: 20 lifecycles per fault instead of 100 (CI); --keep: keep the folder
 *   --only <text>: only the faults whose name contains it, without the baseline
 *     (scripts/test.sh's cluster smoke test: --cluster --quick --only history)
 *   --bench <n>: no faults; <n> lifecycles with one worker, then <n> with two, and
 *     lifecycles per second for each (README "Scaling out")
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection, Client } from '@temporalio/client';
import { sql } from 'drizzle-orm';
import { createAuth, type UserActor } from '../api/auth.js';
import { signPlatformBody } from '../api/platform.js';
import { connect, type Database } from '../db/client.js';
import { freePort, killGroup, startEmbeddedPostgres, type EmbeddedDatabase } from '../db/embedded.js';
import { MAX_TOP_UP_FEN, paidTopUp } from '../db/ledger.js';
import { runMigrations } from '../db/migrate.js';
import { devServerArgs } from '../temporal/devServer.js';
import { ensureSearchAttributes } from '../temporal/searchAttributes.js';
import { WORKER_NODE_FLAGS } from '../temporal/runtime.js';
import {
  checkMutualTls,
  ensureClusterTools,
  ensureNamespace,
  makeCertificates,
  pgLogin,
  planCluster,
  serviceReady,
  setupTemporalSchema,
  TEMPORAL_SERVICES,
  type ClusterPlan,
  type TemporalService,
} from './temporalCluster.js';
import { ensureAccount, ensureCreator } from '../test/helpers/accounts.js';
import { repoRoot } from './dev.js';

const args = process.argv.slice(2);
const QUICK = args.includes('--quick');
const KEEP = args.includes('--keep');
const CLUSTER = args.includes('--cluster');
const argAfter = (flag: string): string | undefined => {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
};
const ONLY = argAfter('--only');
const BENCH = argAfter('--bench') === undefined ? 0 : Number(argAfter('--bench'));
const REQUIRE_503 = args.includes('--require-503') || process.env['STARMAP_FAULTS_REQUIRE_503'] === '1';
const PER_FAULT = QUICK ? 20 : 100;
const CONCURRENCY = 20;
const DOWN_MS = 10_000;
const RECOVERY_LIMIT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 20_000;
/** With --require-503: no answer during an outage may take longer (the API's bounded Temporal calls). */
const BOUNDED_ANSWER_MS = 10_000;
const STEP_DEADLINE_MS = 150_000;
/** Payouts after acceptance are effects: a killed worker's activity holds them for its timeout. */
const ESCROW_DEADLINE_MS = 120_000;
const PRICE_FEN = 120_000;
const LIFECYCLE_EVENTS = ['ordered', 'accepted', 'submitted', 'review_passed', 'client_confirmed', 'publication_linked', 'published', 'delivery_accepted'];
const FINAL_STATUS = 'in_retention';

const t0 = Date.now();
const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s`;
const say = (line: string) => console.log(`[faults ${elapsed()}] ${line}`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- processes

interface Exit {
  code: number | null;
  signal: string | null;
}

/** Deaths nobody asked for: any is a failure of the run. */
const unexpectedDeaths: string[] = [];

/** One part of the stack: how to start it, know it is ready, kill it. */
class Part {
  pid: number | undefined;
  private exited: Promise<Exit> | undefined;
  private killing = false;
  private postgres: EmbeddedDatabase | undefined;

  constructor(
    readonly name: string,
    private readonly launch: () => Promise<{ pid: number; exited: Promise<Exit>; postgres?: EmbeddedDatabase }>,
    private readonly ready: () => Promise<boolean>,
    private readonly logFile?: string,
  ) {}

  async start(): Promise<void> {
    const started = await this.launch();
    this.pid = started.pid;
    this.postgres = started.postgres;
    this.killing = false;
    const exited = started.exited;
    this.exited = exited;
    void exited.then((exit) => {
      if (this.killing || this.exited !== exited) return;
      const tail = this.logFile ? readFileSync(this.logFile, 'utf8').split('\n').slice(-15).join('\n') : '';
      const line = `${this.name} (pid ${started.pid}) died unasked: code ${exit.code}, signal ${exit.signal}${tail ? `; last log lines:\n${tail}` : ''}`;
      unexpectedDeaths.push(line);
      say(`UNEXPECTED: ${line}`);
    });
    const until = Date.now() + 120_000;
    while (!(await this.ready().catch(() => false))) {
      if (Date.now() > until) throw new Error(`${this.name} did not become ready within 120 s${this.logFile ? `; see ${this.logFile}` : ''}`);
      await sleep(200);
    }
  }

  /** kill -9 of the process and everything in its process group. */
  async kill(): Promise<void> {
    if (this.pid === undefined || !this.exited) return;
    this.killing = true;
    killGroup(this.pid, 'SIGKILL');
    await this.exited;
  }

  async stop(): Promise<void> {
    if (this.pid === undefined || !this.exited) return;
    this.killing = true;
    if (this.postgres) return this.postgres.stop(5_000);
    killGroup(this.pid, 'SIGTERM');
    const timer = setTimeout(() => this.pid !== undefined && killGroup(this.pid, 'SIGKILL'), 5_000);
    await this.exited;
    clearTimeout(timer);
  }
}

function spawnLogged(command: string, argv: string[], env: NodeJS.ProcessEnv, logFile: string): { pid: number; exited: Promise<Exit>; child: ChildProcess } {
  const fd = openSync(logFile, 'a');
  const child = spawn(command, argv, { cwd: repoRoot, env, detached: true, stdio: ['ignore', fd, fd] });
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  return { pid: child.pid, exited, child };
}

// ---------------------------------------------------------------- HTTP

/** The parts of answers the run reads. */
interface Body {
  id?: string;
  code?: string;
  task?: { status?: string };
  snapshot?: unknown;
  stale?: unknown;
  /** GET /v1/tasks/{id}: 'workflow' when answered by the workflow, otherwise a stored snapshot */
  source?: string;
}

interface Answer {
  status: number; // 0: no answer (refused, reset, timeout)
  retryAfter: string | null;
  body: Body | null;
  at: number;
  /** how long the answer took */
  ms: number;
  api: number;
  error?: string;
}

/** Every answer the lifecycles got, to count the outage answers per fault window. */
const answers: Answer[] = [];

let apiPorts: number[] = [];
async function call(api: number, method: string, path: string, token: string | null, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const at = Date.now();
  try {
    const res = await fetch(`http://127.0.0.1:${apiPorts[api]}${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await res.text();
    let parsed: Body | null = null;
    try {
      parsed = text ? (JSON.parse(text) as Body) : null;
    } catch {
      parsed = { code: `not JSON: ${text.slice(0, 100)}` };
    }
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body: parsed, at, ms: Date.now() - at, api };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    return { status: 0, retryAfter: null, body: null, at, ms: Date.now() - at, api, error: (err as Error).name === 'TimeoutError' ? 'timeout' : (cause ?? (err as Error).message) };
  }
}

const retryable = (a: Answer) => a.status === 0 || a.status >= 500 || a.status === 429 || (a.status === 409 && a.body?.code === 'request-in-progress');

class LifecycleFailure extends Error {}

/** Sends until the answer is a success, retrying what is retryable with the same key on the other API. */
async function until(what: string, startApi: number, send: (api: number) => Promise<Answer>, ok: (a: Answer) => boolean): Promise<Answer> {
  let api = startApi;
  const deadline = Date.now() + STEP_DEADLINE_MS;
  for (;;) {
    const answer = await send(api);
    answers.push(answer);
    if (ok(answer)) return answer;
    if (!retryable(answer)) throw new LifecycleFailure(`${what}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
    if (Date.now() > deadline) throw new LifecycleFailure(`${what}: still failing after ${STEP_DEADLINE_MS / 1000} s (last: ${answer.status} ${answer.error ?? JSON.stringify(answer.body).slice(0, 200)})`);
    api = (api + 1) % apiPorts.length;
    const after = Number(answer.retryAfter);
    await sleep(Number.isFinite(after) && after > 0 ? Math.min(after * 1000, 2_000) : 250);
  }
}

// ---------------------------------------------------------------- lifecycles

interface Actors {
  clients: { actor: UserActor; token: string }[];
  creators: { actor: UserActor; token: string }[];
  operator: { actor: UserActor; token: string };
}

interface Lifecycle {
  fault: string;
  key: string;
  clientId: string;
  taskId?: string;
  ok: boolean;
  failure?: string;
  ms?: number;
}

let platformSecret = '';

async function lifecycle(actors: Actors, fault: string, n: number): Promise<Lifecycle> {
  const client = actors.clients[n % actors.clients.length]!;
  const creator = actors.creators[n % actors.creators.length]!;
  const operator = actors.operator;
  const key = `faults-${fault}-${n}-${randomBytes(4).toString('hex')}`;
  const lc: Lifecycle = { fault, key, clientId: client.actor.id, ok: false };
  const started = Date.now();
  const first = n % 2;
  const is2xx = (a: Answer) => a.status >= 200 && a.status < 300;
  try {
    const ordered = await until('order', first, (api) => call(api, 'POST', '/v1/tasks', client.token, { creatorId: creator.actor.id, taskType: 'douyin_video', brief: `Fault run ${fault} #${n}`, scriptRequired: false, retentionDays: 30, priceFen: PRICE_FEN }, { 'idempotency-key': key }), is2xx);
    const id = ordered.body!.id!;
    lc.taskId = id;
    const act = (who: { token: string }, path: string, body: unknown) =>
      until(path, first, (api) => call(api, 'POST', `/v1/tasks/${id}/${path}`, who.token, body, { 'idempotency-key': `${key}-${path.replace('/', '-')}` }), is2xx);
    await act(creator, 'accept', {});
    await act(creator, 'content', { body: `media://video/${id}` });
    await act(operator, 'content/review', { decision: 'pass' });
    await act(client, 'content/decision', { decision: 'confirm' });
    const itemId = `douyin-${id.slice(4)}`;
    await act(creator, 'publication', { platformItemId: itemId });
    const event = JSON.stringify({ eventId: `${key}-published`, taskId: id, itemId, kind: 'published', occurredAt: new Date().toISOString() });
    await until('platform callback', first, (api) => {
      const ts = Math.floor(Date.now() / 1000);
      return call(api, 'POST', '/v1/platform/events', null, event, { 'content-type': 'application/json', 'x-starmap-timestamp': String(ts), 'x-starmap-signature': signPlatformBody(platformSecret, ts, event) });
    }, is2xx);
    await until('published state', first, (api) => call(api, 'GET', `/v1/tasks/${id}`, client.token), (a) => {
      if (a.status === 200 && a.body?.task?.status !== 'awaiting_client_acceptance') a.status = 599; // not yet: poll again
      return a.status === 200;
    });
    await act(client, 'acceptance', {});
    lc.ok = true;
  } catch (err) {
    lc.failure = err instanceof Error ? err.message : String(err);
  }
  lc.ms = Date.now() - started;
  return lc;
}

async function runBatch(actors: Actors, fault: string, count: number, onStarted: () => void): Promise<Lifecycle[]> {
  const results: Lifecycle[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENCY, count) }, async () => {
      while (next < count) {
        const n = next++;
        if (n === Math.min(CONCURRENCY, count) - 1) onStarted();
        results.push(await lifecycle(actors, fault, n));
      }
    }),
  );
  return results;
}

// ---------------------------------------------------------------- checks

interface Row {
  fault: string;
  lifecycles: string;
  acknowledged: number;
  oneRow: string;
  oneWorkflow: string;
  expectedState: string;
  dupEvents: number;
  outOfOrder: number;
  dupNotifications: number;
  dupTransfers: number;
  ledgerSum: number;
  negative: number;
  deaths: number;
  returnAfter: string;
  backAfter: string;
  answers503: number;
  other5xx: number;
  noAnswer: number;
  slowestMs: number;
  escrowWaitMs: number;
  failures: string[];
}

async function check(db: Database, temporal: Client, fault: string, batch: Lifecycle[], window: { from: number; to: number }, times: { returnMs: number | null; backMs: number | null }, deathsBefore: number): Promise<Row> {
  const failures: string[] = [];
  const acked = batch.filter((l) => l.taskId);
  const ids = acked.map((l) => l.taskId!);
  const keys = batch.map((l) => l.key);
  for (const l of batch.filter((x) => !x.ok)) failures.push(`lifecycle ${l.key}${l.taskId ? ` (${l.taskId})` : ''}: ${l.failure}`);

  // one task row per key, the acknowledged one
  const rows = await db.db.execute<{ idempotency_key: string; id: string; status: string; n: number }>(sql`
    select idempotency_key, min(id) as id, min(status) as status, count(*)::int as n from tasks
    where idempotency_key in ${sql.raw(`(${keys.map((k) => `'${k}'`).join(',')})`)} group by idempotency_key`);
  const byKey = new Map(rows.map((r) => [r.idempotency_key, r]));
  let oneRow = 0;
  for (const l of acked) {
    const r = byKey.get(l.key);
    if (r && r.n === 1 && r.id === l.taskId) oneRow++;
    else failures.push(`order ${l.key}: ${r ? `${r.n} rows (${r.id})` : 'no row'} for acknowledged task ${l.taskId}`);
  }
  const unacknowledgedRows = batch.filter((l) => !l.taskId && byKey.has(l.key)).length;
  if (unacknowledgedRows) failures.push(`${unacknowledgedRows} orders never acknowledged left a task row`);

  // one workflow per task, in the expected state (the projection caught up: the workflow waits for it before it answers)
  let oneWorkflow = 0;
  let expectedState = 0;
  for (const id of ids) {
    const { count: n } = await temporal.workflow.count(`WorkflowId = '${id}'`);
    if (n === 1) oneWorkflow++;
    else failures.push(`task ${id}: ${n} workflow executions`);
  }
  const deadline = Date.now() + 30_000;
  let states = new Map<string, string>();
  for (;;) {
    const found = await db.db.execute<{ id: string; status: string }>(sql`select id, status from tasks where id in ${sql.raw(`(${ids.map((i) => `'${i}'`).join(',') || "''"})`)}`);
    states = new Map(found.map((r) => [r.id, r.status]));
    const okIds = batch.filter((l) => l.ok && states.get(l.taskId!) === FINAL_STATUS);
    if (okIds.length === batch.filter((l) => l.ok).length || Date.now() > deadline) break;
    await sleep(500);
  }
  for (const l of acked) {
    const status = states.get(l.taskId!);
    if (l.ok && status === FINAL_STATUS) expectedState++;
    else if (l.ok) failures.push(`task ${l.taskId}: ${status} in the read model, expected ${FINAL_STATUS}`);
  }

  // exactly the lifecycle's events, no duplicates
  const events = await db.db.execute<{ task_id: string; types: string[] }>(sql`
    select task_id, array_agg(type order by seq) as types from task_events
    where task_id in ${sql.raw(`(${ids.map((i) => `'${i}'`).join(',') || "''"})`)} group by task_id`);
  // the lifecycle's events, each once; their order is reported (see "events out of order" in the README)
  let dupEvents = 0;
  let outOfOrder = 0;
  const expected = [...LIFECYCLE_EVENTS].sort().join(',');
  for (const e of events) {
    const lc = acked.find((l) => l.taskId === e.task_id)!;
    dupEvents += e.types.length - new Set(e.types).size;
    if (lc.ok && [...e.types].sort().join(',') !== expected) failures.push(`task ${e.task_id}: events ${e.types.join(',')}`);
    else if (lc.ok && e.types.join(',') !== LIFECYCLE_EVENTS.join(',')) outOfOrder++;
  }
  if (dupEvents) failures.push(`${dupEvents} duplicated task events`);
  const inList = sql.raw(`(${ids.map((i) => `'${i}'`).join(',') || "''"})`);
  const [notif] = await db.db.execute<{ n: number }>(sql`
    select coalesce(sum(n - 1), 0)::int as n from (select count(*) as n from notifications where task_id in ${inList}
    group by task_id, recipient_id, template, params::text having count(*) > 1) d`);
  const [transfers] = await db.db.execute<{ n: number }>(sql`
    select coalesce(sum(n - 1), 0)::int as n from (select count(*) as n from ledger_transfers where task_id in ${inList}
    group by task_id, kind having count(*) > 1) d`);
  const [money] = await db.db.execute<{ total: string; negative: number }>(sql`
    select coalesce(sum(balance_fen), 0)::text as total, count(*) filter (where kind <> 'external' and balance_fen < 0)::int as negative from ledger_accounts`);
  // every accepted task's escrow is paid out (an effect activity after acceptance: it may
  // wait for a killed worker's activity timeout, so poll up to ESCROW_DEADLINE_MS)
  const settledIds = acked.filter((l) => l.ok).map((l) => `'escrow:${l.taskId}'`);
  const settleStarted = Date.now();
  let escrows: { id: string; balance_fen: number }[] = [];
  for (;;) {
    escrows = await db.db.execute<{ id: string; balance_fen: number }>(sql`
      select id, balance_fen from ledger_accounts where id in ${sql.raw(`(${settledIds.join(',') || "''"})`)} and balance_fen <> 0`);
    if (escrows.length === 0 || Date.now() - settleStarted > ESCROW_DEADLINE_MS) break;
    await sleep(500);
  }
  const escrowWaitMs = Date.now() - settleStarted;
  for (const e of escrows) failures.push(`${e.id}: ${e.balance_fen} fen still in escrow ${ESCROW_DEADLINE_MS / 1000} s after the lifecycles ended`);
  if (notif!.n) failures.push(`${notif!.n} duplicated notifications`);
  if (transfers!.n) failures.push(`${transfers!.n} duplicated ledger transfers`);
  if (Number(money!.total) !== 0) failures.push(`ledger sum ${money!.total}`);
  if (money!.negative) failures.push(`${money!.negative} negative balances`);
  const deaths = unexpectedDeaths.length - deathsBefore;
  if (deaths) failures.push(...unexpectedDeaths.slice(deathsBefore));
  if (times.backMs === null || (times.returnMs !== null && times.backMs - times.returnMs > RECOVERY_LIMIT_MS)) {
    failures.push(`service not back within ${RECOVERY_LIMIT_MS / 1000} s of the part's return`);
  }

  const during = answers.filter((a) => a.at >= window.from && a.at <= window.to);
  const answers503 = during.filter((a) => a.status === 503 && a.retryAfter !== null).length;
  const other5xx = during.filter((a) => a.status >= 500 && a.status !== 599 && !(a.status === 503 && a.retryAfter !== null)).length;
  const noAnswer = during.filter((a) => a.status === 0).length;
  const slowestMs = Math.max(0, ...during.map((a) => a.ms));
  if (REQUIRE_503 && other5xx) failures.push(`${other5xx} outage answers were not 503 with Retry-After`);
  if (REQUIRE_503 && slowestMs > BOUNDED_ANSWER_MS) failures.push(`an answer during the outage took ${(slowestMs / 1000).toFixed(1)} s (bound ${BOUNDED_ANSWER_MS / 1000} s)`);

  const ok = batch.filter((l) => l.ok).length;
  const fmt = (ms: number | null) => (ms === null ? '-' : `${(ms / 1000).toFixed(1)} s`);
  return {
    fault,
    lifecycles: `${ok}/${batch.length}`,
    acknowledged: acked.length,
    oneRow: `${oneRow}/${acked.length}`,
    oneWorkflow: `${oneWorkflow}/${acked.length}`,
    expectedState: `${expectedState}/${acked.length}`,
    dupEvents,
    outOfOrder,
    dupNotifications: notif!.n,
    dupTransfers: transfers!.n,
    ledgerSum: Number(money!.total),
    negative: money!.negative,
    deaths,
    returnAfter: fmt(times.returnMs),
    backAfter: times.backMs === null ? 'never' : fmt(times.returnMs === null ? times.backMs : times.backMs - times.returnMs),
    answers503,
    other5xx,
    noAnswer,
    slowestMs,
    escrowWaitMs,
    failures,
  };
}

function printTable(rows: Row[]): void {
  const columns: [string, (r: Row) => string | number][] = [
    ['fault', (r) => r.fault],
    ['lifecycles ok', (r) => r.lifecycles],
    ['1 row', (r) => r.oneRow],
    ['1 workflow', (r) => r.oneWorkflow],
    ['expected state', (r) => r.expectedState],
    ['dup events', (r) => r.dupEvents],
    ['events out of order (reported)', (r) => r.outOfOrder],
    ['dup notif.', (r) => r.dupNotifications],
    ['dup transfers', (r) => r.dupTransfers],
    ['escrows paid out after', (r) => `${(r.escrowWaitMs / 1000).toFixed(1)} s`],
    ['ledger sum', (r) => r.ledgerSum],
    ['neg. bal.', (r) => r.negative],
    ['unasked deaths', (r) => r.deaths],
    ['part back after', (r) => r.returnAfter],
    ['service back after', (r) => r.backAfter],
    [`503+Retry-After`, (r) => r.answers503],
    [`other 5xx${REQUIRE_503 ? '' : ' (reported)'}`, (r) => r.other5xx],
    ['no answer', (r) => r.noAnswer],
    ['slowest answer', (r) => `${(r.slowestMs / 1000).toFixed(1)} s`],
    ['result', (r) => (r.failures.length ? 'FAIL' : 'ok')],
  ];
  const cells = rows.map((r) => columns.map(([, f]) => String(f(r))));
  const widths = columns.map(([h], i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (values: string[]) => `| ${values.map((v, i) => v.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(line(columns.map(([h]) => h)));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const c of cells) console.log(line(c));
}

// ---------------------------------------------------------------- throughput

/**
 * --bench <n>: after a warm-up batch, <n> lifecycles (20 at a time) with the
 * second worker stopped, then <n> with both; each batch is checked as a fault's
 * is (every lifecycle complete, nothing duplicated) and timed: lifecycles per
 * second is <n> over the batch's wall time.
 */
async function bench(actors: Actors, workers: Part[], startSecond: () => Promise<void>, db: Database, temporal: Client): Promise<void> {
  say(`bench: warm-up, ${CONCURRENCY} lifecycles`);
  await runBatch(actors, 'bench-warmup', CONCURRENCY, () => {});
  await workers[1]!.stop();
  const rows: { workers: number; ok: string; seconds: number; rate: number; p50: number; load: string; failures: string[] }[] = [];
  for (const n of [1, 2]) {
    if (n === 2) await startSecond();
    say(`bench: ${BENCH} lifecycles, ${CONCURRENCY} at a time, with ${n} worker${n > 1 ? 's' : ''}`);
    const started = Date.now();
    const loadBefore = loadavg()[0]!;
    const lifecycles = await runBatch(actors, `bench-${n}w`, BENCH, () => {});
    // the machine's 1-minute load average before and after: other work on it skews a short run
    const load = `${loadBefore.toFixed(1)} → ${loadavg()[0]!.toFixed(1)}`;
    const seconds = (Date.now() - started) / 1000;
    const row = await check(db, temporal, `bench, ${n} worker(s)`, lifecycles, { from: 0, to: 0 }, { returnMs: null, backMs: 0 }, unexpectedDeaths.length);
    rows.push({ workers: n, ok: row.lifecycles, seconds, rate: BENCH / seconds, p50: percentile(lifecycles.map((l) => l.ms ?? 0), 0.5) / 1000, load, failures: row.failures });
  }
  console.log(`\nThroughput on ${CLUSTER ? 'the Temporal cluster' : 'the dev server'} (2 APIs, ${CONCURRENCY} lifecycles at a time):`);
  console.log(`| workers | lifecycles ok | seconds | lifecycles/s | lifecycle p50 | load average (${cpus().length} cores) |`);
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.workers} | ${r.ok} | ${r.seconds.toFixed(1)} | ${r.rate.toFixed(2)} | ${r.p50.toFixed(1)} s | ${r.load} |`);
  const failures = rows.flatMap((r) => r.failures);
  for (const f of failures.slice(0, 20)) console.log(`  FAIL ${f}`);
  if (failures.length) throw new Error(`${failures.length} checks failed during the bench`);
}

// ---------------------------------------------------------------- the run

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'starmap-faults-'));
  const temporalCli = CLUSTER ? '' : (process.env['STARMAP_TEMPORAL_CLI'] ?? execFileSync('bash', [join(repoRoot, 'scripts/tools.sh'), 'temporal'], { stdio: ['ignore', 'pipe', 'inherit'] }).toString().trim());
  const clusterTools = CLUSTER ? ensureClusterTools() : null;
  const [pgPort, temporalPort, api1, api2, health1, health2, metrics1, metrics2] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort(), freePort(), freePort(), freePort()]);
  const workerHealthPorts = [health1, health2];
  // each worker's Temporal SDK exporter needs a port of its own (its default, 9464, is one for the machine)
  const workerMetricsPorts = [metrics1, metrics2];
  apiPorts = [api1, api2];
  const jwtSecret = randomBytes(32).toString('hex');
  platformSecret = randomBytes(32).toString('hex');
  const temporalAddress = `127.0.0.1:${temporalPort}`;
  say(`${CLUSTER ? 'on the Temporal cluster; ' : ''}folder ${dir}; ${QUICK ? 'quick mode, ' : ''}${PER_FAULT} lifecycles per fault at ${CONCURRENCY} concurrent${REQUIRE_503 ? '; outages must be answered 503 + Retry-After' : ''}`);

  let databaseUrl = '';
  const postgres = new Part(
    'PostgreSQL',
    async () => {
      const pg = await startEmbeddedPostgres({ dataDir: join(dir, 'postgres'), port: pgPort, log: () => {} });
      databaseUrl = pg.url;
      return { pid: pg.pid, exited: pg.exited, postgres: pg };
    },
    () => Promise.resolve(true),
  );
  const temporalLog = join(dir, 'temporal.log');
  const temporalServer = new Part(
    'Temporal',
    () =>
      Promise.resolve(
        spawnLogged(temporalCli, ['server', 'start-dev', '--headless', '--ip', '127.0.0.1', '--port', String(temporalPort), '--db-filename', join(dir, 'temporal.sqlite'), '--sqlite-pragma', 'journal_mode=wal', '--log-level', 'error', ...devServerArgs()], process.env, temporalLog),
      ),
    async () => {
      const connection = await Connection.connect({ address: temporalAddress, connectTimeout: 1000 });
      try {
        await connection.workflowService.getSystemInfo({});
        return true;
      } finally {
        await connection.close();
      }
    },
    temporalLog,
  );
  // --cluster: Temporal's four services, each a part of its own, from the one template;
  // every start of history, matching or worker is on a fresh loopback address (plan.startEnv)
  let plan: ClusterPlan | undefined;
  const clusterPart = (service: TemporalService) => {
    const log = join(dir, `temporal-${service}.log`);
    return new Part(
      `Temporal ${service}`,
      () => {
        const env = plan!.startEnv(service);
        say(`starting Temporal ${service} on ${plan!.ip(service)}`);
        return Promise.resolve(spawnLogged(clusterTools!.server, plan!.serverArgs(service), env, log));
      },
      () => serviceReady(plan!, service),
      log,
    );
  };
  const cluster = CLUSTER ? Object.fromEntries(TEMPORAL_SERVICES.map((service) => [service, clusterPart(service)])) as Record<TemporalService, Part> : null;
  const temporalParts = cluster ? TEMPORAL_SERVICES.map((service) => cluster[service]) : [temporalServer];
  const parts: Part[] = [postgres, ...temporalParts];
  const stopAll = async () => {
    for (const part of [...parts].reverse()) await part.stop().catch(() => undefined);
  };
  process.on('SIGINT', () => void stopAll().then(() => process.exit(130)));
  try {
    let connection: Connection;
    if (cluster) {
      const tlsDir = join(dir, 'tls');
      await makeCertificates(tlsDir);
      await makeCertificates(join(dir, 'rogue-tls')); // another CA, for the refusal check
      await postgres.start();
      await setupTemporalSchema(clusterTools!, pgLogin(databaseUrl));
      plan = await planCluster({ tlsDir, db: pgLogin(databaseUrl), logLevel: 'warn' });
      for (const part of temporalParts) await part.start();
      connection = await plan.connect('worker');
      await ensureNamespace(connection, 'default');
      const checks = await checkMutualTls(plan, join(dir, 'rogue-tls'));
      const expected = (c: { what: string }) => !c.what.startsWith("the API's");
      for (const c of checks) say(`mTLS: ${c.what}: ${c.refused ? 'refused' : 'accepted'}${c.refused === expected(c) ? '' : ' (WRONG)'} — ${c.detail}`);
      if (checks.some((c) => c.refused !== expected(c))) throw new Error("the frontend's mTLS did not refuse and accept as it must (lines above)");
    } else {
      await Promise.all([postgres.start(), temporalServer.start()]);
      connection = await Connection.connect({ address: temporalAddress });
    }
    await runMigrations(databaseUrl);
    const db = connect(databaseUrl, { max: 4 });
    await ensureSearchAttributes(connection, 'default');
    const temporal = new Client({ connection, namespace: 'default' });

    // accounts: 4 funded brands, 10 creators with a Douyin quote, an operator
    const auth = createAuth(jwtSecret);
    const withToken = async (actor: UserActor) => ({ actor, token: await auth.sign(actor, 4 * 3600) });
    const clients = await Promise.all([1, 2, 3, 4].map((i) => withToken({ role: 'client', id: `faults-client-${i}` })));
    const creators = await Promise.all(Array.from({ length: 10 }, (_, i) => withToken({ role: 'creator', id: `faults-creator-${i + 1}` })));
    const operator = await withToken({ role: 'operator', id: 'faults-operator' });
    for (const c of clients) {
      await ensureAccount(db.db, c.actor);
      // 100 paid top-ups of the most one may bring
      for (let i = 0; i < 100; i++) await db.db.transaction((tx) => paidTopUp(tx, c.actor.id, MAX_TOP_UP_FEN, `faults-fund-${c.actor.id}-${i}`));
    }
    for (const c of creators) await ensureCreator(db.db, c.actor, { douyin_video: PRICE_FEN });
    await ensureAccount(db.db, operator.actor);
    const actors: Actors = { clients, creators, operator };

    const baseEnv = { ...process.env, DATABASE_URL: databaseUrl, TEMPORAL_ADDRESS: temporalAddress, TEMPORAL_NAMESPACE: 'default', NODE_ENV: 'development' };
    // on the cluster: the frontend's address and each role's client certificate
    const temporalEnv = (role: 'api' | 'worker') => (plan ? plan.clientEnv(role) : {});
    // a worker is ready when its readiness endpoint says so (polling, PostgreSQL and Temporal answer)
    const worker = (n: number) => {
      const log = join(dir, `worker-${n}.log`);
      const healthPort = workerHealthPorts[n - 1]!;
      return new Part(
        `worker ${n}`,
        () => {
          appendFileSync(log, `[faults] starting worker ${n}\n`);
          return Promise.resolve(spawnLogged(process.execPath, [...WORKER_NODE_FLAGS, '--import', 'tsx', 'worker.ts'], { ...baseEnv, ...temporalEnv('worker'), WORKER_HEALTH_PORT: String(healthPort), WORKER_METRICS_PORT: String(workerMetricsPorts[n - 1]!), HOST: '127.0.0.1' }, log));
        },
        async () => (await fetch(`http://127.0.0.1:${healthPort}/readyz`, { signal: AbortSignal.timeout(3_000) }).catch(() => null))?.status === 200,
        log,
      );
    };
    const workers = [worker(1), worker(2)];
    const api = (n: number) => {
      const log = join(dir, `api-${n}.log`);
      return new Part(
        `API ${n}`,
        () => Promise.resolve(spawnLogged(process.execPath, ['--import', 'tsx', 'api/main.ts'], { ...baseEnv, ...temporalEnv('api'), PORT: String(apiPorts[n - 1]), HOST: '127.0.0.1', STARMAP_JWT_SECRET: jwtSecret, STARMAP_PLATFORM_SECRET: platformSecret }, log)),
        async () => (await call(n - 1, 'GET', '/livez', null)).status === 200,
        log,
      );
    };
    const apis = [api(1), api(2)];
    const startWorker = (i: number) => workers[i]!.start();
    parts.push(...workers, ...apis);
    await Promise.all([startWorker(0), startWorker(1), ...apis.map((a) => a.start())]);
    say(`stack up: ${cluster ? "Temporal's four services" : 'Temporal'}, PostgreSQL, 2 workers, 2 APIs`);

    // the probe: a task's state from its workflow (API -> Temporal -> a worker) and a wallet (PostgreSQL), on both APIs
    const probeTask = await lifecycleOrder(actors);
    const serviceUp = async () => {
      for (let i = 0; i < apiPorts.length; i++) {
        const [task, wallet] = await Promise.all([call(i, 'GET', `/v1/tasks/${probeTask}`, clients[0]!.token), call(i, 'GET', '/v1/wallets/me', clients[0]!.token)]);
        if (task.status !== 200 || !task.body?.task || task.body.source !== 'workflow' || task.body.snapshot || task.body.stale || wallet.status !== 200) return false;
      }
      return true;
    };
    async function lifecycleOrder(a: Actors): Promise<string> {
      const res = await until('probe order', 0, (i) => call(i, 'POST', '/v1/tasks', a.clients[0]!.token, { creatorId: a.creators[0]!.actor.id, taskType: 'douyin_video', brief: 'Probe', scriptRequired: false, retentionDays: 30, priceFen: PRICE_FEN }, { 'idempotency-key': `faults-probe-${randomBytes(4).toString('hex')}` }), (x) => x.status === 201);
      return res.body!.id!;
    }

    const down = (part: Part) => () => part.kill().then(() => sleep(DOWN_MS));
    const allFaults: { name: string; inject: () => Promise<void>; restore: () => Promise<void> }[] = cluster
      ? [
          { name: 'none (baseline)', inject: async () => {}, restore: async () => {} },
          { name: 'kill -9 Temporal history (10 s)', inject: down(cluster.history), restore: () => cluster.history.start() },
          { name: 'kill -9 Temporal matching (10 s)', inject: down(cluster.matching), restore: () => cluster.matching.start() },
          { name: 'kill -9 Temporal frontend (10 s)', inject: down(cluster.frontend), restore: () => cluster.frontend.start() },
          { name: 'kill -9 one worker', inject: () => workers[0]!.kill(), restore: () => startWorker(0) },
          { name: 'kill -9 PostgreSQL (10 s)', inject: down(postgres), restore: () => postgres.start() },
        ]
      : [
          { name: 'none (baseline)', inject: async () => {}, restore: async () => {} },
          { name: 'kill -9 one worker', inject: () => workers[0]!.kill(), restore: () => startWorker(0) },
          { name: 'kill -9 both workers', inject: async () => void (await Promise.all(workers.map((w) => w.kill()))), restore: async () => void (await Promise.all([startWorker(0), startWorker(1)])) },
          { name: 'kill -9 Temporal (10 s)', inject: () => temporalServer.kill().then(() => sleep(DOWN_MS)), restore: () => temporalServer.start() },
          { name: 'kill -9 PostgreSQL (10 s)', inject: () => postgres.kill().then(() => sleep(DOWN_MS)), restore: () => postgres.start() },
          { name: 'kill -9 one API', inject: () => apis[0]!.kill(), restore: () => apis[0]!.start() },
        ];
    const faults = ONLY ? allFaults.filter((f) => !f.name.startsWith('none') && f.name.includes(ONLY)) : allFaults;
    if (faults.length === 0) throw new Error(`--only ${ONLY}: no fault's name contains it (${allFaults.map((f) => f.name).join('; ')})`);
    if (BENCH > 0) {
      await bench(actors, workers, () => startWorker(1), db, temporal);
      await db.close();
      await connection.close();
      await stopAll();
      if (!KEEP) rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    }
    const table: Row[] = [];
    for (const fault of faults) {
      const count = fault.name.startsWith('none') ? Math.min(PER_FAULT, CONCURRENCY) : PER_FAULT;
      say(`${fault.name}: ${count} lifecycles`);
      const deathsBefore = unexpectedDeaths.length;
      let injectedAt = 0;
      let injected!: () => void;
      const allStarted = new Promise<void>((r) => (injected = r));
      const times = { returnMs: null as number | null, backMs: null as number | null };
      const batch = runBatch(actors, fault.name.split(' ')[0] === 'none' ? 'baseline' : fault.name.replace(/[^a-z0-9]+/gi, '-'), count, () => injected());
      const faultDone = (async () => {
        await allStarted;
        await sleep(1_500); // lifecycles in flight at every step
        injectedAt = Date.now();
        say(`${fault.name}: injecting`);
        await fault.inject();
        await fault.restore();
        times.returnMs = Date.now() - injectedAt;
        say(`${fault.name}: the part is back after ${(times.returnMs / 1000).toFixed(1)} s`);
        const deadline = Date.now() + 60_000;
        while (Date.now() < deadline) {
          if (await serviceUp().catch(() => false)) {
            times.backMs = Date.now() - injectedAt;
            break;
          }
          await sleep(100);
        }
        say(`${fault.name}: service back ${times.backMs === null ? 'NEVER (60 s)' : `${((times.backMs - times.returnMs) / 1000).toFixed(1)} s after the part`}`);
      })();
      const [lifecycles] = await Promise.all([batch, faultDone]);
      const row = await check(db, temporal, fault.name, lifecycles, { from: injectedAt, to: injectedAt + (times.backMs ?? 60_000) }, times, deathsBefore);
      table.push(row);
      printTable([row]);
      for (const failure of row.failures.slice(0, 20)) console.log(`  FAIL ${failure}`);
      if (row.failures.length > 20) console.log(`  ... and ${row.failures.length - 20} more`);
      const slowest = Math.max(...lifecycles.map((l) => l.ms ?? 0));
      say(`${fault.name}: lifecycle time p50 ${(percentile(lifecycles.map((l) => l.ms ?? 0), 0.5) / 1000).toFixed(1)} s, max ${(slowest / 1000).toFixed(1)} s`);
    }
    console.log(`\nFault test, ${QUICK ? 'quick' : 'full'} mode: ${table.reduce((n, r) => n + Number(r.lifecycles.split('/')[1]), 0)} lifecycles in ${elapsed().trim()}`);
    printTable(table);
    const failed = table.filter((r) => r.failures.length);
    await db.close();
    await connection.close();
    await stopAll();
    if (!KEEP) rmSync(dir, { recursive: true, force: true });
    if (failed.length) {
      console.log(`\nFAILED: ${failed.map((r) => r.fault).join(', ')}${KEEP ? `; logs in ${dir}` : ''}`);
      process.exit(1);
    }
    console.log(REQUIRE_503 ? '\nall checks passed' : '\nall checks passed (outage answers reported, not required: run with --require-503 once the API answers 503 + Retry-After)');
    process.exit(0);
  } catch (err) {
    console.error('[faults] the run failed:', err);
    await stopAll();
    console.error(`[faults] logs kept in ${dir}`);
    process.exit(1);
  }
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
};

void main();
