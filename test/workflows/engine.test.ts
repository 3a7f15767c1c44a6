/**
 * Issue #14: a new task's history carries no versioning overhead. Engine 4 is
 * chosen by the start's input (temporal/tasks.ts taskWorkflowStart), so the
 * workflow asks no patch, and the search attributes the start sets (status, next
 * deadline, type, parties) are not upserted again by the order. A task started
 * before engine 4 (no engine in its input) still asks the engine-3 patch once
 * and runs as it did (its saved histories replay in replay.test.ts).
 */
import { expect, it } from 'vitest';
import type { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { RULE_FIXES } from '../../domain/index.js';
import { bundleWorkflows } from '../../temporal/bundle.js';
import { taskEngineFromEnv, taskWorkflowStart } from '../../temporal/tasks.js';
import { ENGINE, taskWorkflow } from '../../workflows/task.js';
import { NextDeadlineKey, TaskStatusKey, TaskTypeKey } from '../../workflows/searchAttributes.js';
import { useWorkflowStack } from '../helpers/harness.js';
import { act, order, projected, settle, toPublished } from '../helpers/tasks.js';

const { stack, db, withStarted } = useWorkflowStack();

/** The search-attribute upserts of a history (one event each). */
const upserts = (events: temporal.api.history.v1.IHistoryEvent[]) => events.filter((e) => e.upsertWorkflowSearchAttributesEventAttributes);
const markers = (events: temporal.api.history.v1.IHistoryEvent[]) => events.flatMap((e) => (e.markerRecordedEventAttributes ? [e.markerRecordedEventAttributes.markerName] : []));
/** The patch ids of a history's patch markers, in order (core's `patch-data` detail: JSON with the id). */
const patchIds = (events: temporal.api.history.v1.IHistoryEvent[]) =>
  events.flatMap((e) => {
    const m = e.markerRecordedEventAttributes;
    if (m?.markerName !== 'core_patch') return [];
    const data = m.details?.['patch-data']?.payloads?.[0]?.data;
    return data ? [(JSON.parse(Buffer.from(data).toString('utf8')) as { id: string }).id] : ['?'];
  });


it(`#14: a new task (engine ${ENGINE}, from its input) asks no patch, and the order upserts none of the search attributes its start set`, () =>
  withStarted(
    async (taskQueue) => {
      const orderedAt = new Date(await stack().env.currentTimeMs()).toISOString();
      return stack().env.client.workflow.start(taskWorkflow, { taskQueue, ...taskWorkflowStart(order({ scriptRequired: false, orderedAt })) });
    },
    async (h) => {
      const a = act(h);
      const ordered = await a.state();
      await projected(db(), h.workflowId, 1);
      await settle(db(), h);
      const opening = (await h.fetchHistory()).events ?? [];
      // no patch: neither its marker nor the TemporalChangeVersion upsert; no upsert of what the start set
      expect(markers(opening)).not.toContain('core_patch');
      expect(upserts(opening)).toHaveLength(0);
      // engine 7: under the corrections of the rules from the order, without asking their patch
      expect(ordered.fixes).toBe(RULE_FIXES);
      // and yet the Temporal UI finds the task by them from its first moment
      const described = await h.describe();
      expect(described.typedSearchAttributes.get(TaskStatusKey)).toBe('awaiting_acceptance');
      expect(described.typedSearchAttributes.get(TaskTypeKey)).toBe('douyin_video');
      expect(described.typedSearchAttributes.get(NextDeadlineKey)?.toISOString()).toBe(ordered.nextDeadline);
      // the next change upserts as before
      const accepted = await a.accept();
      await settle(db(), h);
      const after = await h.describe();
      expect(after.typedSearchAttributes.get(TaskStatusKey)).toBe('content_drafting');
      expect(after.typedSearchAttributes.get(NextDeadlineKey)?.toISOString()).toBe(accepted.nextDeadline);
      expect(upserts((await h.fetchHistory()).events ?? [])).toHaveLength(1);
    },
  ));

it('#14: a task started with engine 3 (STARMAP_TASK_ENGINE=3: no engine in its input, as every task before engine 4) asks the engine-3 patch once and runs as before', () =>
  withStarted(
    async (taskQueue) => {
      const orderedAt = new Date(await stack().env.currentTimeMs()).toISOString();
      const start = taskWorkflowStart(order({ scriptRequired: false, orderedAt }), {}, taskEngineFromEnv({ STARMAP_TASK_ENGINE: '3' }));
      expect(start.args[1]).toEqual({});
      return stack().env.client.workflow.start(taskWorkflow, { taskQueue, ...start });
    },
    async (h) => {
      const accepted = await act(h).accept();
      expect(accepted.status).toBe('content_drafting');
      await projected(db(), h.workflowId, accepted.version);
      await settle(db(), h);
      const events = (await h.fetchHistory()).events ?? [];
      // engine 3's patch, then (at the first event it decides, the acceptance) the rules' corrections
      expect(patchIds(events)).toEqual(['engine-3', 'rule-fixes-1']);
      expect(accepted.fixes).toBe(RULE_FIXES);
      // each patch's TemporalChangeVersion upsert, the order's upsert (engine 3 sets them all again) and the acceptance's
      expect(upserts(events)).toHaveLength(4);
      expect((await h.describe()).typedSearchAttributes.get(TaskStatusKey)).toBe('content_drafting');
    },
  ));

it('R-MUTUAL-CANCEL: a running task of engine 6 takes the rules\' corrections at the first event it decides (one patch marker), and its history replays', () =>
  withStarted(
    async (taskQueue) => {
      const orderedAt = new Date(await stack().env.currentTimeMs()).toISOString();
      return stack().env.client.workflow.start(taskWorkflow, { taskQueue, ...taskWorkflowStart(order({ scriptRequired: false, orderedAt }), {}, 6) });
    },
    async (h) => {
      const a = act(h);
      expect((await a.state()).fixes).toBeUndefined(); // as it ran before: nothing decided yet
      expect((await a.accept()).fixes).toBe(RULE_FIXES);
      await toPublished(h, 'item-1', { accepted: true });
      // under the corrections: a proposal still open at acceptance lapses, and agreeing to it then is refused
      expect((await a.proposeCancel('changed plans')).proposal).not.toBeNull();
      const paid = await a.acceptDelivery();
      expect(paid.status).toBe('in_retention');
      expect(paid.proposal).toBeNull();
      await expect(a.answerCancel(true)).rejects.toThrow();
      expect((await a.state()).status).toBe('in_retention');
      await settle(db(), h);
      const history = await h.fetchHistory();
      expect(patchIds(history.events ?? [])).toEqual(['rule-fixes-1']);
      // the history replays on the current code (the marker where the acceptance was decided)
      await Worker.runReplayHistory({ workflowBundle: await bundleWorkflows() }, history, h.workflowId);
    },
  ));

it('STARMAP_TASK_ENGINE: 7 by default, 6, 5, 4 or 3 for a fleet that still runs workers from before engine 7, 6, 5 or 4, nothing else', () => {
  expect(ENGINE).toBe(7);
  expect(taskEngineFromEnv({})).toBe(ENGINE);
  expect(taskEngineFromEnv({ STARMAP_TASK_ENGINE: '3' })).toBe(3);
  expect(taskEngineFromEnv({ STARMAP_TASK_ENGINE: '4' })).toBe(4);
  expect(taskEngineFromEnv({ STARMAP_TASK_ENGINE: '5' })).toBe(5);
  expect(taskEngineFromEnv({ STARMAP_TASK_ENGINE: '6' })).toBe(6);
  expect(taskEngineFromEnv({ STARMAP_TASK_ENGINE: '7' })).toBe(7);
  for (const bad of ['2', '8', 'four', ' 4']) expect(() => taskEngineFromEnv({ STARMAP_TASK_ENGINE: bad })).toThrow(/STARMAP_TASK_ENGINE/);
});
