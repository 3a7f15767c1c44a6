/**
 * Issue #14 (the workflow thread's CPU): the task workflows' bundle preloads the
 * pure domain (temporal/bundle.ts starmapBundlerOptions), so the reusable V8
 * context evaluates it once and shares it, instead of once per workflow it
 * creates (each new task, each replay after an eviction). Shared modules are
 * deep-frozen by the SDK; a workflow's own modules stay its own.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, bundleWorkflowCode } from '@temporalio/worker';
import { bundleWorkflows, bundlerOptions, starmapBundlerOptions } from '../../temporal/bundle.js';
import { domainSharedWorkflow } from '../fixtures/workflows/domainShared.js';
import { toolPath } from '../helpers/tools.js';

const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
const fixture = fileURLToPath(new URL('../fixtures/workflows/domainShared.ts', import.meta.url));

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: toolPath('test-server') } } });
});
afterAll(async () => env?.teardown());

/** Runs two workflows one after the other on one worker (one workflow thread, one reusable context). */
async function runTwice(options: object) {
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: fixture, ...options, logger: quiet });
  const taskQueue = `preload-${Math.random().toString(36).slice(2)}`;
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle, reuseV8Context: true, workflowThreadPoolSize: 1 });
  return worker.runUntil(async () => {
    const first = await env.client.workflow.execute(domainSharedWorkflow, { taskQueue, workflowId: `${taskQueue}-a`, args: ['a'] });
    const second = await env.client.workflow.execute(domainSharedWorkflow, { taskQueue, workflowId: `${taskQueue}-b`, args: ['b'] });
    return [first, second];
  });
}

it("#14: with Starmap's bundle options the domain is evaluated once per context and shared (frozen); the workflows' own modules stay their own", async () => {
  const [a, b] = await runTwice(starmapBundlerOptions());
  expect(a).toEqual({ frozen: true, firstSeenBy: 'a', fortyEightWorkingHours: 48 * 3_600_000 });
  // the fixture's own module state is not carried from one workflow to the next
  expect(b).toEqual({ frozen: true, firstSeenBy: 'b', fortyEightWorkingHours: 48 * 3_600_000 });
});

it('#14: without the preload the domain is loaded by each workflow (not frozen): the check above can fail', async () => {
  const [a] = await runTwice(bundlerOptions);
  expect(a).toMatchObject({ frozen: false, firstSeenBy: 'a' });
});

it('#14: the task workflows\' bundle (bundleWorkflows, the worker and the build) preloads the domain', async () => {
  const { code } = await bundleWorkflows();
  const preload = code.slice(code.indexOf('function preloadModules'), code.indexOf('exports.importWorkflows'));
  expect(preload).toContain('"./domain/index.ts"');
});
