/**
 * Issue #15 item 5: the Temporal UI explains each task. A task ordered over
 * HTTP on the dev server (with its UI on): the static summary and details set
 * at start, the current details after each step, descriptions on every handler
 * (the `__temporal_workflow_metadata` query), `temporal workflow describe`, and
 * the task's page in the Temporal UI rendered in headless Chromium (its
 * screenshot is kept in test-artefacts/temporal-ui-task.png, shown in the README).
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { UserActor } from '../../api/auth.js';
import { visit } from '../helpers/chromium.js';
import { startApiStack, type ApiStack } from '../helpers/apiStack.js';
import { toolPath } from '../helpers/tools.js';

let api: ApiStack;
const client: UserActor = { role: 'client', id: 'ui-brand' };
const creator: UserActor = { role: 'creator', id: 'ui-creator' };

beforeAll(async () => {
  api = await startApiStack({ ui: true });
  await api.account(client);
  await api.creator(creator, { douyin_video: 128_800 });
  await api.fund(client, 10_000_000);
});
afterAll(async () => api?.stop());

interface Metadata {
  definition?: { type?: string; queryDefinitions?: { name?: string; description?: string }[]; signalDefinitions?: { name?: string; description?: string }[]; updateDefinitions?: { name?: string; description?: string }[] };
  currentDetails?: string;
}

it('a task\'s workflow carries a summary and details from its order, current details after each step, and a description on every handler', async () => {
  const ordered = await api.call('POST', '/v1/tasks', {
    as: client,
    body: { creatorId: creator.id, taskType: 'douyin_video', brief: 'A tea review', scriptRequired: false, retentionDays: 30 },
    headers: { 'idempotency-key': randomUUID() },
  });
  expect(ordered.status).toBe(201);
  const id = ordered.body.id as string;
  const handle = api.env.client.workflow.getHandle(id);

  const described = await handle.describe();
  expect(await described.staticSummary()).toBe(`抖音传播任务 douyin_video · ${client.id} → ${creator.id} · ¥1288.00`);
  const details = await described.staticDetails();
  expect(details).toContain('128800 fen');
  expect(details).toContain('retention 30 days');
  expect(details).toContain(`accept by ${ordered.body.acceptDeadline}`);

  const before = await handle.query<Metadata>('__temporal_workflow_metadata');
  expect(before.currentDetails).toContain('status: **awaiting_acceptance** · waiting for: creator');
  expect(before.currentDetails).toContain('next: phone reminder 2 h before the 24 h acceptance deadline');
  const defs = before.definition!;
  expect(defs.type).toBe('taskWorkflow');
  for (const d of [...defs.updateDefinitions!, ...defs.signalDefinitions!]) expect(d.description, d.name).toMatch(/\w{4,}/);
  expect(defs.updateDefinitions!.map((d) => d.name)).toContain('acceptTask');
  expect(defs.queryDefinitions!.find((q) => q.name === 'taskState')?.description).toMatch(/task state/);

  expect((await api.call('POST', `/v1/tasks/${id}/accept`, { as: creator, body: {} })).status).toBe(200);
  const after = await handle.query<Metadata>('__temporal_workflow_metadata');
  expect(after.currentDetails).toContain('status: **content_drafting** · waiting for: creator');
  expect(after.currentDetails).toContain('next: reminder 24 h before the stage deadline');

  // what an operator's CLI shows
  const { stdout } = await promisify(execFile)(toolPath('temporal'), ['workflow', 'describe', '--workflow-id', id, '--address', api.env.address, '--output', 'json']);
  expect(stdout).toContain('抖音传播任务 douyin_video');

  // the task's page in the Temporal UI
  const url = `${api.uiUrl}/namespaces/default/workflows/${encodeURIComponent(id)}/${described.runId}/history`;
  // the history shows the summaries of timers and activities
  const history = await visit(url, { waitFor: 'reminder 24 h before the stage deadline', screenshot: 'temporal-ui-task-history', width: 1400, height: 1000 });
  // (engine 6: the order's event and its SMS were written by the API, so the first projection is the acceptance's)
  expect(history.dom).toContain('project events 2–2 to the read model');
  // the user metadata: the summary and details from the order, the current details
  const metadata = await visit(url, { click: 'User Metadata', waitFor: 'content_drafting', screenshot: 'temporal-ui-task', width: 1400, height: 1000 });
  expect(metadata.dom).toContain(`抖音传播任务 douyin_video · ${client.id} → ${creator.id}`);
  expect(metadata.dom).toContain('retention 30 days');
});
