/** Workflow bundle entry point: everything the worker registers. */
export { taskWorkflow } from './task.js';
export { withdrawalWorkflow } from './withdrawal.js';
export { appealWorkflow } from './appeal.js';
export { metricsWorkflow } from './metrics.js';
