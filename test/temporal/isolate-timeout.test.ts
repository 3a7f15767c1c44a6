/**
 * The worker's SDK patch (patches/@temporalio+worker+1.24.0.patch) calls
 * `concludeActivation` into the workflow context without the isolate execution
 * timeout, and only that call: workflow code that never yields must still be
 * stopped, whether it runs in a handler (the `activate` call) or in a
 * condition's function (`tryUnblockConditions`). The workflow task fails with
 * the timeout, and the other workflows on the same worker go on. (A loop after
 * an await runs as a microtask; the timeout stops it too, but Node then aborts
 * the process: nodejs/node#38503, temporalio/sdk-typescript#939, patched or not.)
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { WorkflowHandle } from '@temporalio/client';
import { aliveQuery, releaseSignal, spinSignal, spinWorkflow } from '../fixtures/workflows/spin.js';
import type { temporal } from '@temporalio/proto';
import { until } from '../helpers/poll.js';
import { toolPath } from '../helpers/tools.js';

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
beforeAll(async () => {
  env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: toolPath('test-server') } } });
  bundle = await bundleWorkflowCode({ workflowsPath: fileURLToPath(new URL('../fixtures/workflows/spin.ts', import.meta.url)), logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } });
});
afterAll(async () => env?.teardown());

/** The first failed workflow task's message, once the history has one ('' if none came). */
async function failedTaskMessage(h: WorkflowHandle): Promise<string> {
  const failed = (events: temporal.api.history.v1.IHistoryEvent[]) => events.find((e) => e.workflowTaskFailedEventAttributes);
  const events = await until(async () => (await h.fetchHistory()).events ?? [], (e) => failed(e) !== undefined);
  return failed(events)?.workflowTaskFailedEventAttributes?.failure?.message ?? '';
}

for (const where of ['handler', 'condition'] as const) {
  it(`#14: workflow code that never yields (in a ${where === 'handler' ? 'signal handler: activate' : "condition's function: tryUnblockConditions"}) is stopped by the isolate execution timeout; the worker goes on`, async () => {
    const taskQueue = `spin-${where}-${Date.now()}`;
    // isolateExecutionTimeout (default 5 s) is read by the worker but not in the public WorkerOptions type
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, ...({ isolateExecutionTimeout: '1 second' } as object) });
    await worker.runUntil(async () => {
      const stuck = await env.client.workflow.start(spinWorkflow, { taskQueue, workflowId: `stuck-${taskQueue}`, args: [where] });
      const healthy = await env.client.workflow.start(spinWorkflow, { taskQueue, workflowId: `healthy-${taskQueue}`, args: ['never'] });
      expect(await healthy.query(aliveQuery)).toBe('alive');
      await (where === 'handler' ? stuck.signal(spinSignal) : stuck.signal(releaseSignal));
      expect(await failedTaskMessage(stuck)).toMatch(/Script execution timed out after 1000ms/);
      // the workflow thread is free: the other workflow answers and completes
      expect(await healthy.query(aliveQuery)).toBe('alive');
      await healthy.signal(releaseSignal);
      expect(await healthy.result()).toBe('done (never)');
      await stuck.terminate('test finished');
    });
  });
}
