/** Per-file harness for workflow tests: one stack, a fresh worker and task per test, time skips that settle first. */
import { afterAll, beforeAll } from 'vitest';
import { startPostgres, startWorkflowStack, type Postgres, type WorkflowStack } from './stack.js';
import { isTerminal } from '../../domain/index.js';
import { metricsWorkflowId } from '../../temporal/ids.js';
import { act, settle, startTask, type TaskHandle } from './tasks.js';

/** Per-file harness for database tests: one migrated PostgreSQL for the file, stopped after it. */
export function usePostgres() {
  let pg: Postgres;
  beforeAll(async () => {
    pg = await startPostgres();
  }, 60_000);
  afterAll(async () => pg?.stop());
  return { postgres: () => pg, db: () => pg.database.db };
}

export function useWorkflowStack(options: Parameters<typeof startWorkflowStack>[0] = {}) {
  let stack: WorkflowStack;
  let current: TaskHandle;
  let skipped = 0;
  beforeAll(async () => {
    stack = await startWorkflowStack(options);
  });
  afterAll(async () => stack?.stop());

  const db = () => stack.postgres.database.db;
  return {
    stack: () => stack,
    db,
    /** Skips time once the current task has nothing in flight (see settle). */
    sleep: async (ms: number): Promise<void> => {
      await settle(db(), current);
      await stack.skip(ms);
      skipped += ms;
    },
    /**
     * Runs `body` on a fresh worker with a task started by `start` (another
     * engine, a start of its own); `skip` skips time once that task is settled.
     * The task, and a metrics workflow of its (tasks before engine 5), are
     * terminated after it.
     */
    withStarted: async (start: (taskQueue: string) => Promise<TaskHandle>, body: (h: TaskHandle, skip: (ms: number) => Promise<void>) => Promise<void>): Promise<void> => {
      const { worker, taskQueue } = await stack.worker();
      await worker.runUntil(async () => {
        const h = await start(taskQueue);
        const skip = async (ms: number) => {
          await settle(db(), h);
          await stack.skip(ms);
        };
        try {
          await body(h, skip);
        } finally {
          await settle(db(), h).catch(() => undefined);
          await h.terminate('test finished').catch(() => undefined);
          await stack.env.client.workflow.getHandle(metricsWorkflowId(h.workflowId)).terminate('test finished').catch(() => undefined);
        }
      });
    },
    /** Runs `body` with a fresh worker and a freshly ordered task. */
    withTask: async (overrides: Parameters<typeof startTask>[2], body: (h: TaskHandle) => Promise<void>, run?: Parameters<typeof startTask>[3]): Promise<void> => {
      const { worker, taskQueue } = await stack.worker();
      const startedAt = { wall: Date.now(), virtual: await stack.env.currentTimeMs() };
      skipped = 0;
      await worker.runUntil(async () => {
        current = await startTask(stack.env.client, taskQueue, overrides, run);
        try {
          await body(current);
        } finally {
          // A task left open would fire timers on a queue with no worker, and the
          // time-skipping server holds time still while a workflow task is pending
          // (also one cut short by terminate): a closing task is awaited, an open
          // one settled, then terminated.
          const state = await act(current).state().catch(() => null);
          if (state && isTerminal(state.status)) {
            await stack.resultOf(current.workflowId).catch(() => undefined);
          } else {
            await settle(db(), current).catch((err: unknown) => console.error(String(err)));
            await current.terminate('test finished').catch(() => undefined);
          }
          // a task's metrics workflow outlives it (started by the projection): its timers would fire on a
          // queue with no worker once this test's worker is gone, and hold the test server's clock
          const metrics = stack.env.client.workflow.getHandle(metricsWorkflowId(current.workflowId));
          for (let i = 0; i < 200; i++) {
            const d = await metrics.describe().catch(() => null);
            if (d?.status.name !== 'RUNNING') break;
            if (!d.raw.pendingWorkflowTask && !d.raw.pendingActivities?.length) {
              await metrics.terminate('test finished').catch(() => undefined);
              break;
            }
            await new Promise((r) => setTimeout(r, 25));
          }
        }
      });
      await closeLeftovers(stack);
      // The virtual clock moves only by `sleep` (and with the wall clock): a jump means
      // something unlocked time skipping (see WorkflowStack.resultOf) and later tests would
      // run years ahead, so it fails here rather than as a hang further on.
      const moved = (await stack.env.currentTimeMs()) - startedAt.virtual;
      const allowed = skipped + (Date.now() - startedAt.wall) + 60_000;
      if (moved > allowed) throw new Error(`the test server's clock jumped: ${moved} ms passed, ${skipped} ms were skipped by sleep`);
    },
  };
}

/**
 * Every workflow still open once a test finished (none should be: the test's task
 * was closed or terminated above) is logged and terminated, so its timers cannot
 * hold the clock of the tests after it.
 */
async function closeLeftovers(stack: WorkflowStack): Promise<void> {
  const { executions } = await stack.env.connection.workflowService.listOpenWorkflowExecutions({ namespace: stack.env.namespace ?? 'default', maximumPageSize: 100 });
  for (const e of executions ?? []) {
    const id = e.execution?.workflowId ?? '?';
    console.error(`[harness] ${e.type?.name} ${id} was still open after the test: terminated`);
    await stack.env.client.workflow.getHandle(id).terminate('left open by a test').catch(() => undefined);
  }
}
