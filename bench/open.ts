/**
 * Open-tasks benchmark (issue #14, item 2): opens N Starmap tasks through the
 * real API (POST /v1/tasks with an Idempotency-Key, `--concurrency` at a time;
 * the API records the order, holds the escrow and starts the workflow), which
 * then wait on their acceptance timers. Prints the order rate, the workflow
 * set-up rate overall and while orders arrive (task workflows whose first workflow task completed: the worker's
 * own count of task workflow tasks, from its Temporal SDK metrics; nothing else
 * runs a task's workflow task while tasks only wait), the worker's RSS (worker.ts compiled to JavaScript, in a process of its own, with
 * the prebuilt workflow bundle, as production runs it), this process's (the API
 * and the driver), the Temporal SQLite file's size and the PostgreSQL database's
 * size; then wakes a random sample (the creator accepts) and prints the
 * wake-up latency p50/p99, split by whether the task was likely evicted from
 * the worker's sticky cache (LRU of `maxCachedWorkflows`: the tasks opened
 * before the last `maxCachedWorkflows` ones).
 *
 *   npm run bench:open [-- --tasks 2000 --concurrency 20 --wake 200 --wake-concurrency 1 --max-cached N]
 *
 * --max-cached sets the worker's cache size (default: the worker's, 500 or
 * STARMAP_MAX_CACHED_WORKFLOWS), to see evictions without opening more tasks
 * than the cache holds. --worker-flags adds Node flags to the worker process
 * (after production's WORKER_NODE_FLAGS), e.g. `--worker-flags="--cpu-prof
 * --cpu-prof-dir=/tmp/prof"` for a CPU profile of each of its threads.
 * Same throwaway stack as bench:lifecycle (bench/common.ts), removed at the end
 * and on Ctrl-C. Exits non-zero only when the benchmark itself fails.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import { positiveInt } from './args.js';
import {
  elapsed,
  fmt,
  http,
  isStopping,
  must,
  order,
  percentile,
  PRICE_FEN,
  runBenchmark,
  sleep,
  StepFailed,
  sqliteBytes,
  startServers,
  startStarmap,
  type Starmap,
  treeCpuMs,
} from './common.js';
import { WORKER_NODE_FLAGS } from '../temporal/runtime.js';
import { WORKFLOW_TASK_POLLERS } from '../worker.js';

const { values: args } = parseArgs({
  options: {
    tasks: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '20' },
    clients: { type: 'string', default: '20' },
    wake: { type: 'string', default: '200' },
    'wake-concurrency': { type: 'string', default: '1' },
    'max-cached': { type: 'string' },
    'worker-flags': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  console.log('usage: npm run bench:open -- [--tasks N] [--concurrency N orders at a time] [--clients N funded clients] [--wake N sampled tasks] [--wake-concurrency N] [--max-cached N] [--worker-flags="--cpu-prof --cpu-prof-dir=DIR"]');
  process.exit(0);
}
const TASKS = positiveInt('tasks', args.tasks);
const CONCURRENCY = positiveInt('concurrency', args.concurrency);
const CLIENTS = positiveInt('clients', args.clients);
const WAKE = Math.min(TASKS, positiveInt('wake', args.wake));
const WAKE_CONCURRENCY = positiveInt('wake-concurrency', args['wake-concurrency']);
const MAX_CACHED = args['max-cached'] === undefined ? undefined : positiveInt('max-cached', args['max-cached']);
/** Node flags for the worker process after production's (to profile it, or to try V8 settings). */
const WORKER_FLAGS = args['worker-flags']?.split(/\s+/).filter(Boolean) ?? [];
/** Set-up is given this long after the last order before the benchmark stops waiting (and says so). */
const SETUP_GRACE_MS = Math.max(120_000, TASKS * 20);
const PROGRESS_MS = 5_000;

const say = (line: string) => console.log(`[open ${elapsed().padStart(7)}] ${line}`);
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** VmRSS of a process, bytes (0 when gone); `VmHWM` its peak. */
function rssOf(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  try {
    const kb = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return Number(kb ?? 0) * 1024;
  } catch {
    return 0;
  }
}

/**
 * Task workflows set up: workflow tasks of `taskWorkflow` the worker completed (the SDK's
 * temporal_workflow_task_execution_latency count). While tasks are only being opened each runs exactly one,
 * its first (since engine 6 it projects nothing, so the read model cannot tell: the order wrote version 1).
 */
async function setUpCount(metricsUrl: string): Promise<number> {
  const text = await (await fetch(metricsUrl, { signal: AbortSignal.timeout(5_000) })).text();
  let n = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('temporal_workflow_task_execution_latency_count{') && line.includes('workflow_type="taskWorkflow"')) n += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return n;
}

/** Order answers that were not a 201 and were retried with the same Idempotency-Key (503 under load, a reset connection). */
let retriedOrders = 0;

/** An order, retried with the same key while the answer is a 5xx or none (the API's promise: the same key never makes a second task). */
async function orderRetrying(starmap: Starmap, i: number, key: string): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await order(starmap, starmap.clients[i % CLIENTS]!, starmap.creators[i % CLIENTS]!, key);
    } catch (err) {
      const retryable = !(err instanceof StepFailed) || / 5\d\d /.test(err.message);
      if (!retryable || attempt >= 10 || isStopping()) throw err;
      retriedOrders++;
      await sleep(500 * attempt);
    }
  }
}

async function main(): Promise<string | undefined> {
  say(`${fmt(TASKS)} tasks, ${CONCURRENCY} orders at a time from ${CLIENTS} clients; then wake ${WAKE} random tasks, ${WAKE_CONCURRENCY} at a time`);
  const servers = await startServers('bench-open', say);
  const perClient = Math.ceil(TASKS / CLIENTS) + 1;
  const starmap = await startStarmap(servers, { clients: CLIENTS, creators: CLIENTS, fundFenPerClient: perClient * PRICE_FEN, maxCachedWorkflows: MAX_CACHED, separateWorker: true, extraWorkerFlags: WORKER_FLAGS, log: say });
  const workerPid = starmap.workerPid!;
  const metricsUrl = starmap.workerMetricsUrl!;
  const maxCached = starmap.maxCachedWorkflows;
  const run = randomBytes(3).toString('hex');

  // ---- the empty stack's footprint, subtracted from the per-task figures
  const pgSizeSql = sql`select pg_database_size(current_database())::text as db, pg_total_relation_size('tasks')::text as tasks, pg_total_relation_size('task_events')::text as events`;
  const [pgBefore] = await servers.database.db.execute<{ db: string }>(pgSizeSql);
  const pgBaseline = Number(pgBefore?.db ?? 0);
  const sqliteBaseline = sqliteBytes(servers.temporalDbFile);

  // ---- opening
  const ids: string[] = new Array<string>(TASKS);
  const orderMs: number[] = [];
  let next = 0;
  let ordered = 0;
  const started = performance.now();
  const workerCpuBefore = treeCpuMs(workerPid);
  let lastSetUp = 0;
  const progress = setInterval(() => {
    void setUpCount(metricsUrl).then((n) => {
      lastSetUp = n;
      const s = (performance.now() - started) / 1000;
      say(`ordered ${fmt(ordered)}/${fmt(TASKS)} (${(ordered / s).toFixed(1)}/s), workflows set up ${fmt(n)}; worker RSS ${mb(rssOf(workerPid))}; Temporal SQLite ${mb(sqliteBytes(servers.temporalDbFile))}`);
    }, () => {});
  }, PROGRESS_MS);
  try {
    await Promise.all(
      Array.from({ length: Math.min(CONCURRENCY, TASKS) }, async () => {
        while (next < TASKS && !isStopping()) {
          const i = next++;
          const t = performance.now();
          ids[i] = await orderRetrying(starmap, i, `open-${run}-${i}`);
          orderMs.push(performance.now() - t);
          ordered++;
        }
      }),
    );
  } finally {
    clearInterval(progress);
  }
  if (isStopping()) return undefined;
  const openMs = performance.now() - started;
  // "workflows set up as fast as orders arrive" (#14): how many were set up by the time the last order was answered
  const setUpWhileOrdering = await setUpCount(metricsUrl).catch(() => lastSetUp);
  say(`ordered ${fmt(TASKS)} tasks in ${(openMs / 1000).toFixed(1)} s: ${(TASKS / (openMs / 1000)).toFixed(1)} orders/s; order p50 ${percentile(orderMs, 50).toFixed(0)} ms, p99 ${percentile(orderMs, 99).toFixed(0)} ms`);

  // ---- set-up: every workflow projected its first event
  let setUp = lastSetUp;
  let lastSay = performance.now();
  while ((setUp = await setUpCount(metricsUrl)) < TASKS && performance.now() - started - openMs < SETUP_GRACE_MS && !isStopping()) {
    if (performance.now() - lastSay > PROGRESS_MS) {
      say(`workflows set up ${fmt(setUp)}/${fmt(TASKS)}`);
      lastSay = performance.now();
    }
    await sleep(250);
  }
  const setUpMs = performance.now() - started;
  const workerCpuMs = treeCpuMs(workerPid) - workerCpuBefore;
  if (setUp < TASKS) say(`only ${fmt(setUp)}/${fmt(TASKS)} workflows set up ${SETUP_GRACE_MS / 1000} s after the last order; going on`);
  else say(`all ${fmt(TASKS)} workflows set up ${(setUpMs / 1000).toFixed(1)} s after the first order: ${(TASKS / (setUpMs / 1000)).toFixed(1)} workflows/s`);

  // ---- footprint, with the tasks waiting on their timers
  await sleep(2_000); // let the SQLite WAL and the worker settle
  const rss = process.memoryUsage();
  const workerRss = rssOf(workerPid);
  const workerPeak = rssOf(workerPid, 'VmHWM');
  const temporalRss = rssOf(servers.temporalPid);
  const sqliteSize = sqliteBytes(servers.temporalDbFile);
  const [pg] = await servers.database.db.execute<{ db: string; tasks: string; events: string }>(pgSizeSql);
  const pgSize = Number(pg?.db ?? 0);

  // ---- wake a random sample: the creator accepts (an Update through the API, answered by the worker)
  const sample = Array.from({ length: TASKS }, (_, i) => i).sort(() => Math.random() - 0.5).slice(0, WAKE);
  const evictedBefore = maxCached > 0 ? TASKS - maxCached : TASKS; // opened before the last maxCached: likely out of the LRU cache
  const wake: { ms: number; evicted: boolean }[] = [];
  let failures = 0;
  const wakeStarted = performance.now();
  let w = 0;
  await Promise.all(
    Array.from({ length: WAKE_CONCURRENCY }, async () => {
      while (w < sample.length && !isStopping()) {
        const i = sample[w++]!;
        const creator = starmap.creators[i % CLIENTS]!;
        const t = performance.now();
        try {
          await must('accept', http(starmap.baseUrl, 'POST', `/v1/tasks/${ids[i]}/accept`, creator.token, {}));
          wake.push({ ms: performance.now() - t, evicted: i < evictedBefore });
        } catch (err) {
          failures++;
          if (failures <= 3) say(`wake-up of ${ids[i]} failed: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    }),
  );
  if (isStopping()) return undefined;
  say(`woke ${wake.length} tasks in ${((performance.now() - wakeStarted) / 1000).toFixed(1)} s${failures ? `; ${failures} FAILED` : ''}`);

  const all = wake.map((x) => x.ms);
  const evicted = wake.filter((x) => x.evicted).map((x) => x.ms);
  const cached = wake.filter((x) => !x.evicted).map((x) => x.ms);
  const p = (values: number[]) => (values.length ? `p50 ${percentile(values, 50).toFixed(0)} ms, p99 ${percentile(values, 99).toFixed(0)} ms (n=${values.length})` : 'none');
  const ordersPerS = TASKS / (openMs / 1000);
  const sqliteGrowth = sqliteSize - sqliteBaseline;
  const pgGrowth = pgSize - pgBaseline;
  const setUpPerS = setUp / (setUpMs / 1000);
  const setUpWhileOrderingPerS = setUpWhileOrdering / (openMs / 1000);
  console.log(`
=== ${fmt(TASKS)} open tasks (waiting on their 24 h acceptance timers) ===
  orders             ${ordersPerS.toFixed(1)}/s over HTTP, ${CONCURRENCY} at a time (order p50 ${percentile(orderMs, 50).toFixed(0)} ms, p99 ${percentile(orderMs, 99).toFixed(0)} ms, retries included; ${retriedOrders} answers retried)
  workflow set-up    ${setUpPerS.toFixed(1)}/s (${fmt(setUp)} completed their first workflow task ${(setUpMs / 1000).toFixed(1)} s after the first order)
    while ordering   ${setUpWhileOrderingPerS.toFixed(1)}/s = ${(setUpWhileOrderingPerS / ordersPerS).toFixed(2)}× the order rate (${fmt(setUpWhileOrdering)} set up when the last order was answered, ${fmt(TASKS - setUpWhileOrdering)} still queued; workflow task pollers: ${WORKFLOW_TASK_POLLERS.type}, worker.ts)
  worker RSS         ${mb(workerRss)}, peak ${mb(workerPeak)} (worker.ts compiled, in its own process, prebuilt workflow bundle, maxCachedWorkflows ${maxCached}, ${WORKER_NODE_FLAGS.join(' ')})
  worker CPU         ${(workerCpuMs / setUp).toFixed(1)} ms per task set up (${(workerCpuMs / 1000).toFixed(1)} s in all)
  this process RSS   ${mb(rss.rss)} (heap used ${mb(rss.heapUsed)}): the API and the driver
  Temporal RSS       ${mb(temporalRss)} (dev server)
  Temporal SQLite    ${mb(sqliteSize)} with WAL (${mb(sqliteBaseline)} before the orders) = ${(sqliteGrowth / TASKS / 1024).toFixed(1)} KB per task
  PostgreSQL         ${mb(pgSize)} database (${mb(pgBaseline)} with the accounts, before the orders; tasks ${mb(Number(pg?.tasks ?? 0))}, task_events ${mb(Number(pg?.events ?? 0))}) = ${(pgGrowth / TASKS / 1024).toFixed(1)} KB per task
  wake-up (accept)   ${p(all)}
    likely evicted   ${p(evicted)}   (opened before the last ${fmt(maxCached)}: replayed from history)
    likely cached    ${p(cached)}
  100,000 tasks at these rates (linear extrapolation): ordering ~${(100_000 / ordersPerS / 60).toFixed(0)} min, all set up after ~${(100_000 / setUpPerS / 60).toFixed(0)} min; SQLite ~${mb(sqliteBaseline + (sqliteGrowth / TASKS) * 100_000)}, PostgreSQL ~${mb(pgBaseline + (pgGrowth / TASKS) * 100_000)}`);
  if (wake.length === 0) throw new Error('no task woke up');
  return (
    `open: tasks=${TASKS} orders_per_s=${ordersPerS.toFixed(1)} setup_per_s=${setUpPerS.toFixed(1)} setup_while_ordering=${(setUpWhileOrderingPerS / ordersPerS).toFixed(2)} worker_rss_mb=${(workerRss / 1024 / 1024).toFixed(0)} worker_peak_mb=${(workerPeak / 1024 / 1024).toFixed(0)} worker_cpu_ms_per_task=${(workerCpuMs / setUp).toFixed(1)} ` +
    `sqlite_mb=${(sqliteSize / 1024 / 1024).toFixed(1)} pg_mb=${(pgSize / 1024 / 1024).toFixed(1)} wake_p50_ms=${percentile(all, 50).toFixed(0)} wake_p99_ms=${percentile(all, 99).toFixed(0)}`
  );
}

runBenchmark('open', main);
