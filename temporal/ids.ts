/**
 * Every workflow id. Pure (no imports): the workflow code that starts the
 * metrics child and the client code in temporal/workflows.ts both read it.
 * A task's workflow is its task id; the others are prefixed by their process.
 */
export const taskWorkflowId = (taskId: string): string => taskId;
export const appealWorkflowId = (appealId: string): string => `appeal-${appealId}`;
export const withdrawalWorkflowId = (withdrawalId: string): string => `withdrawal-${withdrawalId}`;
export const metricsWorkflowId = (taskId: string): string => `${taskId}:metrics`;
