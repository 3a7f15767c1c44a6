/**
 * Starting a withdrawal's workflow (workflows/withdrawal.ts), once per
 * withdrawal id (temporal/workflows.ts).
 */
import type { Client } from '@temporalio/client';
import { withdrawalWorkflow } from '../workflows/withdrawal.js';
import { startOnce, withdrawalWorkflowId } from './workflows.js';

export async function startWithdrawalWorkflow(temporal: Client, taskQueue: string, w: { withdrawalId: string; accountId: string; amountFen: number }): Promise<void> {
  await startOnce(temporal, withdrawalWorkflow, { taskQueue, workflowId: withdrawalWorkflowId(w.withdrawalId), args: [w] });
}
