/**
 * Starting a task's metrics workflow (workflows/metrics.ts). Idempotent: the
 * workflow id is `<taskId>:metrics`; a running one is reused and a finished one
 * is never started again, so a retried projection starts it once.
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { metricsWorkflow, type MetricsInput } from '../workflows/metrics.js';

export const metricsWorkflowId = (taskId: string) => `${taskId}:metrics`;

export const metricsStarter =
  (temporal: Client, taskQueue: string) =>
  async (input: MetricsInput): Promise<void> => {
    try {
      await temporal.workflow.start(metricsWorkflow, {
        taskQueue,
        workflowId: metricsWorkflowId(input.taskId),
        args: [input],
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) return;
      throw err;
    }
  };

