/**
 * R-APPEAL-48WH: starting an appeal's workflow from its row (workflow id `appeal-<id>`).
 * Idempotent: a running workflow is reused, a closed one is never started again.
 */
import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import { and, eq, inArray, isNull, lt, sql } from 'drizzle-orm';
import type { AppealRow } from '../db/appeals.js';
import type { Db } from '../db/client.js';
import { appeals } from '../db/schema/index.js';
import { appealWorkflow } from '../workflows/appeal.js';
import { decideAppealUpdate, type AppealDecisionInput, type AppealInput, type AppealState } from '../workflows/appealMessages.js';
import { AppealStatusKey, CreatorIdKey, NextDeadlineKey } from '../workflows/searchAttributes.js';
import { appealWorkflowId, startOnce } from './workflows.js';

export { appealWorkflowId };

export const appealInputOf = (row: AppealRow): AppealInput => ({
  appealId: row.id,
  creatorId: row.creatorId,
  points: row.points,
  filedAt: row.filedAt.toISOString(),
  dueAt: row.dueAt.toISOString(),
});

/** Starts (or finds) the appeal's workflow and records that it runs. */
export async function startAppealWorkflow(temporal: Client, taskQueue: string, row: AppealRow, db?: Db): Promise<void> {
  await start(temporal, taskQueue, row);
  if (db) await db.update(appeals).set({ workflowStartedAt: sql`now()` }).where(eq(appeals.id, row.id));
}

/**
 * Appeals filed while Temporal was unreachable (the API answered 503 but kept
 * the appeal): undecided, never marked started, older than `graceMs`.
 */
export async function startOrphanedAppeals(db: Db, temporal: Client, taskQueue: string, graceMs = 60_000): Promise<number> {
  const orphans = await db
    .select()
    .from(appeals)
    .where(and(inArray(appeals.status, ['open', 'escalated']), isNull(appeals.workflowStartedAt), lt(appeals.filedAt, sql`now() - make_interval(secs => ${graceMs / 1000})`)))
    .limit(100);
  for (const row of orphans) await startAppealWorkflow(temporal, taskQueue, row, db);
  return orphans.length;
}

const startOptions = (taskQueue: string, row: AppealRow) => ({
  taskQueue,
  workflowId: appealWorkflowId(row.id),
  args: [appealInputOf(row)] as [AppealInput],
  typedSearchAttributes: [
    { key: AppealStatusKey, value: row.status },
    { key: CreatorIdKey, value: row.creatorId },
    { key: NextDeadlineKey, value: row.dueAt },
  ],
});

async function start(temporal: Client, taskQueue: string, row: AppealRow): Promise<void> {
  await startOnce(temporal, appealWorkflow, startOptions(taskQueue, row));
}

/**
 * The operator's decision: an Update of the appeal's workflow, started first if
 * it never ran (Temporal was down when the appeal was filed) — one call
 * (update-with-start). A closed workflow is never started again: that fails
 * with WorkflowExecutionAlreadyStartedError (it was decided meanwhile).
 */
export async function decideAppeal(temporal: Client, taskQueue: string, row: AppealRow, decision: AppealDecisionInput, updateId?: string): Promise<AppealState> {
  const startWorkflowOperation = new WithStartWorkflowOperation(appealWorkflow, {
    ...startOptions(taskQueue, row),
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
  });
  return temporal.workflow.executeUpdateWithStart(decideAppealUpdate, { args: [decision], startWorkflowOperation, ...(updateId ? { updateId } : {}) });
}
