/**
 * Starting a task workflow from its row in `tasks` (the API after an order; the
 * orphan sweep after a failed start). Idempotent: the workflow id is the task
 * id, a running workflow is reused and a closed one is never started again.
 */
import { lt, sql } from 'drizzle-orm';
import type { Client } from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';
import type { Db } from '../db/client.js';
import { idempotencyKeys, type TaskRow } from '../db/schema/index.js';
import { markStarted, orderOf, unstartedTasks } from '../db/tasks.js';
import { deadlineOf, initialState, taskTypeOf, type TaskOrder, type TaskTypeId } from '../domain/index.js';
import { ENGINE, fixesAtStart, taskWorkflow, type TaskRun } from '../workflows/task.js';

export { fixesAtStart };
import { startOrphanedAppeals } from './appeals.js';
import { startOrphanedWithdrawals } from './withdrawals.js';
import { startOnce, taskWorkflowId } from './workflows.js';
import { ClientIdKey, CreatorIdKey, NextDeadlineKey, TaskStatusKey, TaskTypeKey } from '../workflows/searchAttributes.js';

export async function startTaskWorkflow(temporal: Client, taskQueue: string, row: TaskRow): Promise<void> {
  // a retried order finds the workflow it started before; a closed one is never started again
  await startOnce(temporal, taskWorkflow, {
    taskQueue,
    // engine 6: a row at version 1 or later holds the order's event already (the API's order transaction)
    ...taskWorkflowStart(orderOf(row), row.version >= 1 ? { orderProjected: true } : {}),
    // the Temporal UI's header for an operator looking at a stuck task (current details follow each step)
    staticSummary: taskSummary(row),
    staticDetails: taskDetails(row),
  });
}

/**
 * What every task workflow starts with: its id, the order, the current engine
 * (workflows/task.ts ENGINE: versioned by this input, so a new task asks no
 * patch) and the search attributes the Temporal UI finds it by from its first
 * moment, the acceptance deadline included (the workflow does not upsert what
 * the start already set). `run` adds test settings (a lower history budget).
 */
export function taskWorkflowStart(
  order: TaskOrder,
  run: Omit<TaskRun, 'engine' | 'carried'> = {},
  engine: number = taskEngineFromEnv(),
): { workflowId: string; args: [TaskOrder, TaskRun]; typedSearchAttributes: SearchAttributePair[] } {
  // the next deadline as the workflow computes it (the domain's rules, from the order's time: the
  // reminder before the acceptance deadline); without an order time the workflow sets it itself
  const next = order.orderedAt ? deadlineOf(initialState(order, Date.parse(order.orderedAt))) : null;
  return {
    workflowId: taskWorkflowId(order.taskId),
    // engine 3: no engine in the input, so the workflow asks patched('engine-3') as before engine 4
    args: [order, engine >= 4 ? { ...run, engine } : { ...run }],
    typedSearchAttributes: [
      { key: TaskStatusKey, value: 'awaiting_acceptance' },
      { key: TaskTypeKey, value: order.type },
      { key: ClientIdKey, value: order.clientId },
      { key: CreatorIdKey, value: order.creatorId },
      ...(next ? [{ key: NextDeadlineKey, value: new Date(next) }] : []),
    ],
  };
}

const yuan = (fen: number) => `¥${(fen / 100).toFixed(2)}`;

/** One line for the Temporal UI's list and header: what, for whom, how much. */
export function taskSummary(row: Pick<TaskRow, 'type' | 'clientId' | 'creatorId' | 'priceFen'>): string {
  return `${taskTypeOf(row.type as TaskTypeId).nameZh} ${row.type} · ${row.clientId} → ${row.creatorId} · ${yuan(row.priceFen)}`;
}

/** The order as the Temporal UI shows it (markdown): fixed for the task's life. */
export function taskDetails(row: Pick<TaskRow, 'id' | 'type' | 'clientId' | 'creatorId' | 'priceFen' | 'retentionDays' | 'scriptRequired' | 'orderedAt' | 'acceptDeadline'>): string {
  const def = taskTypeOf(row.type as TaskTypeId);
  return [
    `**${def.name}** (${def.nameZh}) · task \`${row.id}\``,
    `client \`${row.clientId}\` → creator \`${row.creatorId}\``,
    `price ${row.priceFen} fen (${yuan(row.priceFen)}) held in escrow · retention ${row.retentionDays} days · ${def.draft ? `${def.draft.kind} ${row.scriptRequired ? 'required' : 'skipped'}` : 'no draft stage'} · client reviews ${def.clientReviews.replace('_', ' ')}`,
    `ordered ${row.orderedAt.toISOString()} · accept by ${row.acceptDeadline.toISOString()}`,
  ].join('\n\n');
}

/**
 * STARMAP_TASK_ENGINE: the engine new tasks start with, 7 (the default,
 * workflows/task.ts ENGINE), 6, 5, 4 or 3. From engine 6 the API records the order's
 * event itself (api/tasks.ts); with 5 or lower the workflow does. A worker from before engine 4 would run an
 * engine-4 start as engine 3 and record a patch the current code does not ask
 * for; a worker from before engine 5 would run an engine-5 task without its
 * metrics readings (and start a metrics workflow), and a current worker could
 * then not replay it; a worker from before engine 6 would project an engine-6
 * task's order again (harmless: the same version, event and message keys) but
 * its history would then not replay on a current worker; a worker from before engine 7 would run an engine-7
 * task under the old rules, without the patch marker a current worker replays engine 6's correction by. A fleet that still has such workers sets the older engine
 * on the API until every worker is upgraded.
 */
export const TASK_ENGINES = [3, 4, 5, 6, ENGINE] as const;
export function taskEngineFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env['STARMAP_TASK_ENGINE'];
  if (raw === undefined || raw === '') return ENGINE;
  if (!TASK_ENGINES.some((e) => String(e) === raw)) throw new Error(`STARMAP_TASK_ENGINE must be one of ${TASK_ENGINES.join(', ')}, not "${raw}"`);
  return Number(raw);
}

/**
 * Starts the workflows of orders that were recorded but whose start failed
 * (Temporal unreachable when the API answered 503): rows whose start was never
 * confirmed, older than `graceMs`; each is marked once its start succeeded.
 * Returns how many it started.
 */
export async function startOrphanedTasks(db: Db, temporal: Client, taskQueue: string, graceMs = 60_000): Promise<number> {
  const orphans = await unstartedTasks(db, graceMs);
  for (const row of orphans) {
    await startTaskWorkflow(temporal, taskQueue, row);
    await markStarted(db, row.id);
  }
  return orphans.length;
}

/** Runs the orphan sweep every `intervalMs` until stopped. */
export function runOrphanSweep(db: Db, temporal: Client, taskQueue: string, log: (line: string) => void, intervalMs = 30_000): { stop(): void } {
  const timer = setInterval(() => {
    // idempotency keys are kept 24 hours (api/idempotency.ts)
    db.delete(idempotencyKeys).where(lt(idempotencyKeys.expiresAt, sql`now()`)).catch((err: unknown) => log(`[sweep] expiring idempotency keys failed: ${String(err)}`));
    startOrphanedTasks(db, temporal, taskQueue).then(
      (n) => n > 0 && log(`[sweep] started ${n} task workflow(s) whose start had failed`),
      (err: unknown) => log(`[sweep] failed: ${String(err)}`),
    );
    startOrphanedWithdrawals(db, temporal, taskQueue).then(
      (n) => n > 0 && log(`[sweep] ${n} pending withdrawal workflow(s) ensured running`),
      (err: unknown) => log(`[sweep] withdrawals failed: ${String(err)}`),
    );
    startOrphanedAppeals(db, temporal, taskQueue).then(
      (n) => n > 0 && log(`[sweep] started ${n} appeal workflow(s) whose start had failed`),
      (err: unknown) => log(`[sweep] appeals failed: ${String(err)}`),
    );
  }, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
