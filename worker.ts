/**
 * The Temporal worker: runs the task workflows and their activities.
 * `npm run worker` (production: `node dist/worker.js`) reads DATABASE_URL,
 * TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE, and optionally WORKER_HEALTH_PORT
 * (3001: /livez, /readyz), WORKER_METRICS_PORT (9464: the Temporal SDK's
 * Prometheus /metrics), LOG_LEVEL and STARMAP_LOG_FORMAT; scripts/start.ts
 * runs it in-process.
 */
import { fileURLToPath } from 'node:url';
import { Client } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions as SdkWorkerOptions } from '@temporalio/worker';
import { asyncLocalStorage as activityContext, log as activityLog } from '@temporalio/activity';
import { FakeContentPlatform, type ContentPlatform } from './adapters/contentPlatform.js';
import { FakeNotifier, type Notifier } from './adapters/notifier.js';
import { FakePayoutProvider, type PayoutProvider } from './adapters/payouts.js';
import { createActivities } from './activities/index.js';
import { OutboxDispatcher } from './activities/outbox.js';
import { checkFakes } from './adapters/fakes.js';
import { connect, type Db } from './db/client.js';
import { workflowSource, type WorkflowSource } from './temporal/bundle.js';
import { TASK_QUEUE, clientIdentity, temporalConnectionOptions, temporalNamespace } from './temporal/config.js';
import { ensureSearchAttributesPatiently } from './temporal/searchAttributes.js';
import { metricsStarter } from './temporal/metrics.js';
import { startWorkerHealth } from './temporal/health.js';
import { runOrphanSweep, taskEngineFromEnv } from './temporal/tasks.js';
import { checkCacheFitsHeap, heapLimitMiB, installTemporalRuntime } from './temporal/runtime.js';
import { createLogger, describeError, type Logger } from './ops/log.js';

export interface WorkerOptions {
  connection: NativeConnection;
  namespace: string;
  db: Db;
  notifier: Notifier;
  payouts: PayoutProvider;
  contentPlatform: ContentPlatform;
  /** Starts the metrics workflow of accepted tasks (post-campaign data). */
  temporal: Client;
  taskQueue?: string;
  /**
   * The sticky cache's size: STARMAP_MAX_CACHED_WORKFLOWS, else 500. The SDK's
   * default follows the heap (2,310 here) while a task idles for weeks between
   * actions: an evicted task replays its history (tens of events) when it wakes
   * (bench:open with WORKER_NODE_FLAGS, session 14: 100,000 open tasks, 500 cached,
   * worker RSS 386 MB at the end, 433 MB at its peak, evicted wake-up p99 64 ms).
   * Its heap must hold it (checkCacheFitsHeap).
   * bench/open.ts sets it to show evictions.
   */
  maxCachedWorkflows?: number;
  /** The workflow code: a prebuilt bundle or the sources (temporal/bundle.ts workflowSource, the default). */
  workflows?: WorkflowSource;
  /** Sends the notifications outbox (activities/outbox.ts); one is made and started when left out. */
  outbox?: OutboxDispatcher;
}

/** STARMAP_MAX_CACHED_WORKFLOWS (a whole number ≥ 1), default 500; see WorkerOptions.maxCachedWorkflows. */
export function maxCachedWorkflowsFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env['STARMAP_MAX_CACHED_WORKFLOWS'];
  if (raw === undefined || raw === '') return 500;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`STARMAP_MAX_CACHED_WORKFLOWS must be a whole number of at least 1, not "${raw}"`);
  return n;
}

/**
 * How the worker polls for workflow tasks: the SDK's autoscaling pollers
 * instead of its default fixed maximum of 10. With the fixed maximum, 20 % of
 * the pollers (`nonStickyToStickyPollRatio` 0.2: two) poll the shared queue, where
 * every new task's first workflow task waits, so while orders arrived the
 * workflows were set up at two polls' pace: bench:open, 10,000 orders from 20
 * clients, 163.9 orders/s and 94.4 set-ups/s overall but ~35/s while orders
 * came (7,500 first workflow tasks queued in Temporal when the last order was
 * answered), all set up 105.9 s after the first order. Autoscaling starts at 5
 * pollers and adds them while polls come back with work (and on the server's
 * backlog hints), down to 1 when idle: the set-up kept pace with the orders
 * (~104/s against 111.7 orders/s; ≤ 820 queued), all set up after 93.6 s,
 * worker RSS 355 against 393 MB. The orders are slower on this machine because
 * the worker's share of its 2 cores now goes to setting them up as they come.
 * An explicit minimum 4 / initial 10 did worse (~83/s while orders came).
 * bench:lifecycle (sticky queue, one task at a time per client) did not change.
 */
export const WORKFLOW_TASK_POLLERS: NonNullable<SdkWorkerOptions['workflowTaskPollerBehavior']> = { type: 'autoscaling' };

export async function createWorker(options: WorkerOptions): Promise<Worker> {
  const maxCachedWorkflows = options.maxCachedWorkflows ?? maxCachedWorkflowsFromEnv();
  checkCacheFitsHeap(maxCachedWorkflows);
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue ?? TASK_QUEUE,
    // A workflow task (or query) on a dead worker's sticky queue moves to the
    // shared queue after this long; the default 10 s kept tasks and queries of a
    // killed worker waiting 10 s (measured by the fault test).
    stickyQueueScheduleToStartTimeout: '3s',
    maxCachedWorkflows,
    workflowTaskPollerBehavior: WORKFLOW_TASK_POLLERS,
    ...(options.workflows ?? workflowSource()),
    activities: createActivities({
      db: options.db,
      notifier: options.notifier,
      outbox: options.outbox ?? startedOutbox(options.db, options.notifier),
      payouts: options.payouts,
      contentPlatform: options.contentPlatform,
      startMetrics: metricsStarter(options.temporal, options.taskQueue ?? TASK_QUEUE),
    }),
  });
}

/** An outbox dispatcher, started: messages left unsent by an earlier process go out now. */
export function startedOutbox(db: Db, notifier: Notifier, log?: (line: string) => void): OutboxDispatcher {
  const outbox = new OutboxDispatcher({ db, notifier, ...(log ? { log } : {}) });
  outbox.start();
  outbox.wake();
  return outbox;
}

/**
 * Where the fake notifier's lines go: inside an activity, the activity's logger (its line
 * carries the workflow id and so the task id, temporal/runtime.ts); elsewhere the process's.
 */
export const notifierLog =
  (logger: Logger) =>
  (line: string): void => {
    if (activityContext.getStore()) activityLog.info(line);
    else logger.info(line);
  };

async function main(logger: Logger): Promise<void> {
  const host = process.env['HOST'] ?? '0.0.0.0';
  const metricsPort = Number(process.env['WORKER_METRICS_PORT'] ?? 9464);
  // before any native connection or worker: the runtime is made once, with its logger and exporter
  installTemporalRuntime({ logger, metricsBindAddress: `${host}:${metricsPort}` });
  // No SMS, payout or content-platform contract yet: the fakes stand in for them (refused in production unless allowed)
  const fakes = checkFakes(['SMS/phone notifier', 'payout provider', 'content platform']);
  if (fakes) logger.warn(fakes);
  const url = process.env['DATABASE_URL'];
  if (!url) throw new Error('DATABASE_URL is not set');
  taskEngineFromEnv(); // the orphan sweep starts tasks too: a wrong STARMAP_TASK_ENGINE stops the start here
  const temporalOptions = temporalConnectionOptions();
  const address = temporalOptions.address;
  const namespace = temporalNamespace();
  const database = connect(url);
  // one connection (the Rust core's) for the worker and the client its activities and orphan sweep use
  const connection = await NativeConnection.connect(temporalOptions);
  // a Temporal that is briefly away (restarting, overloaded) is waited out, not a reason to exit
  await ensureSearchAttributesPatiently(connection, namespace, { log: (line) => logger.warn(line) });
  const client = new Client({ connection, namespace, identity: clientIdentity('worker') });
  const sweep = runOrphanSweep(database.db, client, TASK_QUEUE, (l) => logger.info(l));
  // No SMS, payout or content-platform contract yet: the fakes stand in for them.
  const notifier = new FakeNotifier(notifierLog(logger));
  const outbox = startedOutbox(database.db, notifier, (line) => logger.warn(line));
  const worker = await createWorker({
    connection,
    namespace,
    db: database.db,
    outbox,
    notifier,
    payouts: new FakePayoutProvider(),
    contentPlatform: new FakeContentPlatform(),
    temporal: client,
  });
  const healthPort = Number(process.env['WORKER_HEALTH_PORT'] ?? 3001);
  const health = await startWorkerHealth(
    { workerState: () => worker.getState(), db: database.db, temporalPing: () => connection.withDeadline(Date.now() + 2_000, () => connection.workflowService.getSystemInfo({})) },
    healthPort,
    host,
  );
  const heapMiB = heapLimitMiB();
  logger.info(
    {
      taskQueue: TASK_QUEUE,
      address,
      namespace,
      healthPort,
      metricsPort,
      maxCachedWorkflows: worker.options.maxCachedWorkflows,
      heapLimitMiB: heapMiB,
      workflowTaskPollers: worker.options.workflowTaskPollerBehavior.type,
    },
    `polling ${TASK_QUEUE} on ${address} (namespace ${namespace}); health on :${healthPort} (/livez, /readyz), metrics on :${metricsPort}/metrics; ` +
      `${worker.options.maxCachedWorkflows} cached workflows, heap limit ${heapMiB} MiB per isolate, ${worker.options.workflowTaskPollerBehavior.type} workflow task pollers`,
  );
  await worker.run(); // SIGINT/SIGTERM shut it down gracefully
  await outbox.stop();
  health.close();
  sweep.stop();
  await connection.close();
  await database.close();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const logger = createLogger('worker');
  main(logger).catch((err: unknown) => {
    logger.fatal({ error: describeError(err) }, 'failed');
    process.exit(1);
  });
}
