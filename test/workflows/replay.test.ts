/**
 * Replays every saved history (test/fixtures/histories, recorded by
 * `npm run history:save`) against the current workflow code. A change that
 * would break running workflows (a different command order without patched())
 * fails here. The bundle registers every workflow; a replay runs the workflow
 * type recorded in the history: `appeal-*` files are appealWorkflow histories,
 * `metrics-*` files metricsWorkflow ones, the others taskWorkflow.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, type ReplayResult, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { beforeAll, expect, it } from 'vitest';
import { bundleWorkflows } from '../../temporal/bundle.js';
import * as workflows from '../../workflows/index.js';

const dir = fileURLToPath(new URL('../fixtures/histories', import.meta.url));
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort();

interface JsonHistory {
  events: { eventType: string; workflowExecutionStartedEventAttributes?: { workflowType?: { name?: string } }; activityTaskScheduledEventAttributes?: { activityType?: { name?: string } } }[];
}
const read = (file: string): JsonHistory => JSON.parse(readFileSync(join(dir, file), 'utf8'));
const workflowIdOf = (file: string) => `replay-${file.replace(/\.json$/, '')}`;
const workflowTypeOf = (history: JsonHistory) => history.events[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name;
/** The workflow a file's name says it records. */
const expectedType = (file: string) => (file.startsWith('appeal-') ? 'appealWorkflow' : file.startsWith('metrics-') ? 'metricsWorkflow' : 'taskWorkflow');

/** Replays the histories one by one on one replay worker; one result per history, in order. */
async function replay(histories: { workflowId: string; history: unknown }[]): Promise<ReplayResult[]> {
  const results: ReplayResult[] = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle: bundle }, histories)) results.push(result);
  return results;
}

let bundle: WorkflowBundleWithSourceMap;
beforeAll(async () => {
  bundle = await bundleWorkflows();
});

it('has saved histories to replay, of every workflow that waits on timers or messages', () => {
  expect(files.length).toBeGreaterThanOrEqual(4);
  expect(new Set(files.map((f) => workflowTypeOf(read(f))))).toEqual(new Set(['taskWorkflow', 'appealWorkflow', 'metricsWorkflow']));
});

it.each(files)('%s records the workflow its name says, and the bundle registers it', (file) => {
  const type = workflowTypeOf(read(file));
  expect(type).toBe(expectedType(file));
  expect(Object.keys(workflows)).toContain(type);
});

it('replays every saved history with the current workflow code, without an error', async () => {
  const results = await replay(files.map((file) => ({ workflowId: workflowIdOf(file), history: read(file) })));
  expect(results.map((r) => r.workflowId)).toEqual(files.map(workflowIdOf)); // each file replayed, once
  const failures = results.filter((r) => r.error).map((r) => `${r.workflowId}: ${r.error?.name}: ${r.error?.message}`);
  expect(failures).toEqual([]);
});

it('control: a history that does not match the code fails its replay', async () => {
  // the appeal's escalation recorded as another activity: the code schedules escalateAppeal there
  const history = read('appeal-escalated-upheld.json');
  const scheduled = history.events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'escalateAppeal');
  expect(scheduled).toBeDefined();
  scheduled!.activityTaskScheduledEventAttributes!.activityType!.name = 'notifyOperators';
  const [result] = await replay([{ workflowId: 'replay-control', history }]);
  expect(result?.error).toBeDefined();
  expect(result?.error?.name).toBe('DeterminismViolationError');
});

/** The patch ids a history's markers record (patched() calls the workflow made). */
function patchesOf(file: string): string[] {
  const history = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
    events: { markerRecordedEventAttributes?: { markerName?: string; details?: Record<string, { payloads?: { data?: string }[] }> } }[];
  };
  return history.events.flatMap((e) => {
    const m = e.markerRecordedEventAttributes;
    const data = m?.markerName === 'core_patch' ? m.details?.['patch-data']?.payloads?.[0]?.data : undefined;
    return data ? [(JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as { id: string }).id] : [];
  });
}

it('R-TOUTIAO-ORDER: an article task from before the change replays in the order it started with, one from after it with the new order', () => {
  // both replay without error above; here: each took the branch its name says
  expect(patchesOf('toutiao-article-settled.json')).not.toContain('toutiao-order');
  expect(patchesOf('v5-toutiao-order.json')).toContain('toutiao-order');
  // a video task never asks for the patch: its history carries no marker for it
  expect(patchesOf('v4-decision-notify.json')).not.toContain('toutiao-order');
});

it('continue-as-new: a run that handed over to the next replays with the current code, and only runs past their budget asked for the patch', () => {
  // replayed without error above; here: the saved run did continue as new, behind its patch
  const history = JSON.parse(readFileSync(join(dir, 'v6-continued-as-new.json'), 'utf8')) as { events: { eventType: string }[] };
  expect(String(history.events.at(-1)?.eventType)).toMatch(/CONTINUED_AS_NEW/);
  expect(patchesOf('v6-continued-as-new.json')).toContain('continue-as-new');
  for (const file of files.filter((f) => f !== 'v6-continued-as-new.json')) expect(patchesOf(file), file).not.toContain('continue-as-new');
});

it('#14 engine 6: a task the API projected runs no local activity in its first workflow task; one started without it projects its order there', () => {
  // replayed without error above; here: the first workflow task's commands (up to the next workflow task)
  const firstTask = (file: string) => {
    const types = read(file).events.map((e) => String(e.eventType).replace(/^EVENT_TYPE_/, ''));
    const completed = types.indexOf('WORKFLOW_TASK_COMPLETED');
    const next = types.indexOf('WORKFLOW_TASK_SCHEDULED', completed);
    return types.slice(completed + 1, next);
  };
  expect(firstTask('v11-engine-6-payout.json')).toEqual(['TIMER_STARTED']);
  expect(firstTask('v11-engine-6-split.json')).toEqual(['TIMER_STARTED']);
  expect(firstTask('v11-engine-6-unprojected.json')).toEqual(['TIMER_STARTED', 'MARKER_RECORDED']);
  expect(firstTask('v10-engine-5-payout.json')).toEqual(['TIMER_STARTED', 'MARKER_RECORDED']);
});
