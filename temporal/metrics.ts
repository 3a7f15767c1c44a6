/**
 * Starting a task's metrics workflow (workflows/metrics.ts), on the current
 * engine. Idempotent (temporal/workflows.ts): a retried projection starts it once.
 */
import type { Client } from '@temporalio/client';
import { METRICS_ENGINE, metricsWorkflow, type MetricsInput } from '../workflows/metrics.js';
import { metricsWorkflowId, startOnce } from './workflows.js';

export { metricsWorkflowId };

export const metricsStarter =
  (temporal: Client, taskQueue: string) =>
  async (input: MetricsInput): Promise<void> => {
    // engine 2 (workflows/metrics.ts): readings as local activities
    await startOnce(temporal, metricsWorkflow, { taskQueue, workflowId: metricsWorkflowId(input.taskId), args: [{ ...input, engine: METRICS_ENGINE }] });
  };
