/**
 * Every workflow id (temporal/ids.ts) and the one way to start a workflow from
 * a client (the task workflow starts its metrics child itself). Starting is
 * idempotent: a running workflow with the id is reused (USE_EXISTING) and a
 * closed one is never started again (REJECT_DUPLICATE; the AlreadyStarted error
 * that Temporal answers then means "it ran": nothing to do).
 */
import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowStartOptions } from '@temporalio/client';
import type { Workflow } from '@temporalio/common';
import { NativeConnection } from '@temporalio/worker';

export { appealWorkflowId, metricsWorkflowId, taskWorkflowId, withdrawalWorkflowId } from './ids.js';

/**
 * Eager start: where a worker shares the client's connection (`npm start`, the worker's own activities)
 * and has a free slot, the start's answer carries the workflow's first task straight to it, without the
 * task queue's round trip; otherwise the SDK's core does not ask it and the task goes through the queue.
 * Only the Rust core's connection can ask it (grpc-js's `Connection`, as in the tests' clients, cannot).
 */
const eagerStart = (temporal: Client): boolean => temporal.connection instanceof NativeConnection;

/** Starts `workflow` once under `options.workflowId`; true when it runs now (started or found running), false when it ran and closed. */
export async function startOnce<T extends Workflow>(temporal: Client, workflow: T, options: WorkflowStartOptions<T>): Promise<boolean> {
  try {
    await temporal.workflow.start(workflow, { workflowIdConflictPolicy: 'USE_EXISTING', workflowIdReusePolicy: 'REJECT_DUPLICATE', requestEagerStart: eagerStart(temporal), ...options });
    return true;
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return false; // it ran and closed already
    throw err;
  }
}
