/**
 * Starting a withdrawal's workflow (workflows/withdrawal.ts), once per
 * withdrawal id (temporal/workflows.ts).
 */
import type { Client } from '@temporalio/client';
import type { Db } from '../db/client.js';
import { pendingWithdrawals } from '../db/ledger.js';
import { withdrawalWorkflow } from '../workflows/withdrawal.js';
import { startOnce, withdrawalWorkflowId } from './workflows.js';

export async function startWithdrawalWorkflow(temporal: Client, taskQueue: string, w: { withdrawalId: string; accountId: string; amountFen: number }): Promise<void> {
  await startOnce(temporal, withdrawalWorkflow, { taskQueue, workflowId: withdrawalWorkflowId(w.withdrawalId), args: [w] });
}

/**
 * The sweep's part for withdrawals: a hold committed but whose workflow start
 * failed would be stranded. Every withdrawal still pending after `graceMs` is
 * started once more (a running one is reused, so this is a no-op for it).
 * Returns how many are running after it.
 */
export async function startOrphanedWithdrawals(db: Db, temporal: Client, taskQueue: string, graceMs = 60_000, page = 100): Promise<number> {
  let started = 0;
  // every pending one, a page at a time: more than a page of withdrawals waiting on a payout
  // provider that is down must not hide a stranded one behind them
  for (let after: string | undefined; ; ) {
    const rows = await pendingWithdrawals(db, graceMs, page, after);
    for (const w of rows) {
      if (await startOnce(temporal, withdrawalWorkflow, { taskQueue, workflowId: withdrawalWorkflowId(w.id), args: [{ withdrawalId: w.id, accountId: w.accountId, amountFen: w.amountFen }] })) {
        started += 1;
      }
    }
    if (rows.length < page) return started;
    after = rows.at(-1)!.id;
  }
}
