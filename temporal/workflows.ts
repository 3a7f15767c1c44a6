/**
 * Every workflow id and the one way to start a workflow. Ids: a task's workflow
 * is its task id; the others are prefixed by their process. Starting is
 * idempotent: a running workflow with the id is reused (USE_EXISTING) and a
 * closed one is never started again (REJECT_DUPLICATE; the AlreadyStarted error
 * that Temporal answers then means "it ran": nothing to do).
 */
import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowStartOptions } from '@temporalio/client';
import type { Workflow } from '@temporalio/common';

export const taskWorkflowId = (taskId: string): string => taskId;
export const appealWorkflowId = (appealId: string): string => `appeal-${appealId}`;
export const withdrawalWorkflowId = (withdrawalId: string): string => `withdrawal-${withdrawalId}`;
export const metricsWorkflowId = (taskId: string): string => `${taskId}:metrics`;

/** Starts `workflow` once under `options.workflowId`; true when it runs now (started or found running), false when it ran and closed. */
export async function startOnce<T extends Workflow>(temporal: Client, workflow: T, options: WorkflowStartOptions<T>): Promise<boolean> {
  try {
    await temporal.workflow.start(workflow, { workflowIdConflictPolicy: 'USE_EXISTING', workflowIdReusePolicy: 'REJECT_DUPLICATE', ...options });
    return true;
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return false; // it ran and closed already
    throw err;
  }
}
