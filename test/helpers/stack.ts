/**
 * The real parts a workflow test runs on: Temporal's time-skipping test server
 * (Java, from Maven Central), a throwaway embedded PostgreSQL with the
 * migrations applied, the workflow bundle, and a worker factory with the real
 * activities over that database (the SMS provider is the fake).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { FakeContentPlatform } from '../../adapters/contentPlatform.js';
import { FakeNotifier } from '../../adapters/notifier.js';
import { OutboxDispatcher } from '../../activities/outbox.js';
import { FakePayoutProvider } from '../../adapters/payouts.js';
import { createActivities } from '../../activities/index.js';
import { connect, type Database } from '../../db/client.js';
import { freePort, startEmbeddedPostgres, type EmbeddedDatabase } from '../../db/embedded.js';
import { runMigrations } from '../../db/migrate.js';
import { bundleWorkflows } from '../../temporal/bundle.js';
import { TASK_QUEUE } from '../../temporal/config.js';
import { ensureSearchAttributes } from '../../temporal/searchAttributes.js';
import { metricsStarter } from '../../temporal/metrics.js';
import type { MetricsInput } from '../../workflows/metrics.js';
import { toolPath } from './tools.js';

export interface Postgres {
  pg: EmbeddedDatabase;
  database: Database;
  stop(): Promise<void>;
}

export async function startPostgres(): Promise<Postgres> {
  const dir = mkdtempSync(join(tmpdir(), 'starmap-test-pg-'));
  const pg = await startEmbeddedPostgres({ dataDir: join(dir, 'data'), port: await freePort(), persistent: false, log: () => {} });
  await runMigrations(pg.url);
  const database = connect(pg.url, { max: 5 });
  return {
    pg,
    database,
    stop: async () => {
      await database.close();
      await pg.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface WorkflowStack {
  env: TestWorkflowEnvironment;
  postgres: Postgres;
  notifier: FakeNotifier;
  payouts: FakePayoutProvider;
  contentPlatform: FakeContentPlatform;
  bundle: WorkflowBundleWithSourceMap;
  /**
   * A workflow's result, awaited in real time with the virtual clock held. The
   * time-skipping client's `result()` unlocks time skipping while it waits: when
   * the workflow's last activity is still queued, nothing holds the clock and the
   * test server jumps to the next timer it knows, the 10-year default run timeout
   * (seen: 2026 → 2036 → 2046 within one file, after which a skip never returned).
   * Tests skip time only with `env.sleep` and wait for closing workflows with this.
   */
  resultOf<T = unknown>(workflowId: string): Promise<T>;
  /** Skips `ms` of virtual time: `env.sleep` that survives a leaked time lock (see `skipTime`). */
  skip(ms: number): Promise<void>;
  /** A fresh worker on a unique task queue; run the test inside `worker.runUntil`. */
  worker(): Promise<{ worker: Worker; taskQueue: string }>;
  stop(): Promise<void>;
}

/** See `WorkflowStack.resultOf`: a workflow's result without unlocking time skipping. */
export function resultHoldingTime<T = unknown>(env: TestWorkflowEnvironment, workflowId: string): Promise<T> {
  const client = new Client({ connection: env.connection, namespace: env.namespace ?? 'default' });
  return client.workflow.getHandle(workflowId).result() as Promise<T>;
}

/**
 * The time-skipping test server (a JVM). The SDK gives it 5 s to answer; on a
 * loaded machine a JVM can take longer to start, so a start that timed out is
 * tried again (a port it never bound is simply abandoned).
 */
async function startTestServer(attempts = 3): Promise<TestWorkflowEnvironment> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: toolPath('test-server') } } });
    } catch (err) {
      if (attempt >= attempts || !/did not start within/.test(String(err))) throw err;
      console.warn(`[test server] start attempt ${attempt} timed out; trying again`);
    }
  }
}

const pause = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Whether any open workflow has a workflow task or an activity in flight (those hold the test server's clock by design). */
async function workInFlight(env: TestWorkflowEnvironment): Promise<boolean> {
  const namespace = env.namespace ?? 'default';
  const { executions } = await env.connection.workflowService.listOpenWorkflowExecutions({ namespace, maximumPageSize: 1000 });
  for (const e of executions ?? []) {
    const d = await env.client.workflow.getHandle(e.execution?.workflowId ?? '', e.execution?.runId ?? undefined).describe().catch(() => null);
    if (d && (d.raw.pendingWorkflowTask || d.raw.pendingActivities?.length)) return true;
  }
  return false;
}

/** Leaked time locks this process released (skipTime): a test can tell whether the test server's clock was moved by hand. */
let leakedLockReleases = 0;
export const leakedTimeLocksReleased = (): number => leakedLockReleases;

/**
 * `env.sleep(ms)`, made safe against a leaked lock of the test server's clock.
 *
 * The Java test server (1.38) locks time skipping while a query-only workflow
 * task is out and unlocks it when the query is answered. When something needs a
 * real workflow task meanwhile (a signal, an update, a timer), it turns the
 * query task into a real one and the query's lock is never released: from then
 * on virtual time only moves with the wall clock and the next skip of days never
 * returns (a test that polls state with queries while the workflow is busy does
 * this about once in three runs of a file). Here, while the skip is pending and
 * the clock has not jumped for two looks in a row although no workflow task or
 * activity was in flight at either, the leaked lock is released; the server
 * refuses an unlock it does not owe, so a balanced clock is never unlocked twice.
 */
export async function skipTime(env: TestWorkflowEnvironment, ms: number): Promise<void> {
  const target = (await env.currentTimeMs()) + ms;
  let done = false;
  const sleeping = env.sleep(ms).finally(() => {
    done = true;
  });
  await Promise.race([sleeping, pause(1_000)]);
  // seconds in a row the clock stood still with nothing in flight: a lock is only taken for leaked after two
  // (one look can fall between a workflow task's completion and the next one's scheduling, whose lock is owed)
  let stuck = 0;
  while (!done) {
    const before = await env.currentTimeMs();
    await Promise.race([sleeping, pause(1_000)]);
    if (done) break;
    const now = await env.currentTimeMs();
    const skipping = now - before > 10_000;
    if (now >= target || skipping || (await workInFlight(env))) {
      stuck = 0;
      continue;
    }
    if (++stuck < 2) continue;
    stuck = 0;
    const released = await env.connection.testService!.unlockTimeSkipping({}).then(
      () => true,
      () => false,
    );
    if (released) {
      leakedLockReleases++;
      console.warn(`[test server] released a leaked time lock at ${new Date(now).toISOString()} (skip of ${ms} ms was stuck)`);
    }
  }
  await sleeping;
}

/** The outbox's retry backoff in tests: 50 ms doubling, at most 1 s. */
export const TEST_OUTBOX_BACKOFF = { firstMs: 50, maxMs: 1_000 };

/**
 * `metrics`: accepted tasks collect post-campaign data, as in production (an
 * engine-5 task takes its readings, an older one starts its metrics workflow).
 * Off by default: most tests do not need the extra timers.
 */
export async function startWorkflowStack(options: { metrics?: boolean } = {}): Promise<WorkflowStack> {
  const [env, postgres, bundle] = await Promise.all([
    startTestServer(),
    startPostgres(),
    bundleWorkflows(),
  ]);
  await ensureSearchAttributes(env.connection, env.namespace ?? 'default');
  const notifier = new FakeNotifier();
  const payouts = new FakePayoutProvider();
  const contentPlatform = new FakeContentPlatform();
  let taskQueueOfWorker = TASK_QUEUE;
  // the outbox's retries at test speed: 50 ms doubling (production: 2 s doubling), every 100 ms without a wake-up
  const outbox = new OutboxDispatcher({ db: postgres.database.db, notifier, pollMs: 100, backoff: TEST_OUTBOX_BACKOFF });
  outbox.start();
  const activities = createActivities({
    db: postgres.database.db,
    outbox,
    notifier,
    payouts,
    contentPlatform,
    ...(options.metrics ? { startMetrics: (input: MetricsInput) => metricsStarter(env.client, taskQueueOfWorker)(input) } : {}),
    // engine 5: a task takes its own readings; without `metrics` it ends its collection at the first one
    collectsMetrics: options.metrics === true,
  });
  return {
    env,
    resultOf: (workflowId) => resultHoldingTime(env, workflowId),
    skip: (ms) => skipTime(env, ms),
    postgres,
    notifier,
    payouts,
    contentPlatform,
    bundle,
    async worker() {
      const taskQueue = `${TASK_QUEUE}-test-${randomUUID()}`;
      taskQueueOfWorker = taskQueue;
      const worker = await Worker.create({
        connection: env.nativeConnection,
        taskQueue,
        workflowBundle: bundle,
        activities,
      });
      return { worker, taskQueue };
    },
    async stop() {
      await outbox.stop();
      await env.teardown();
      await postgres.stop();
    },
  };
}
