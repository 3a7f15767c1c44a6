/**
 * `npm run history:save`: records histories of douyin_video tasks in several
 * states on the time-skipping server into test/fixtures/histories. The replay
 * test (test/workflows/replay.test.ts) runs the current workflow code against
 * every saved history: a change that would break running tasks fails CI and
 * must go behind patched(). Save new histories before changing the workflow.
 * Existing files are never overwritten (an old history is what running tasks
 * look like): only scenarios without a file are recorded.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type * as ProtoUtils from '@temporalio/common/lib/proto-utils.js';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { HOUR, DAY } from '../domain/index.js';
import { startWorkflowStack } from '../test/helpers/stack.js';
import { CLIENT, act, settle, startTask, toPublished, type TaskHandle } from '../test/helpers/tasks.js';
import type { TaskOrder } from '../domain/index.js';
import { repoRoot } from './dev.js';

// proto-utils is CommonJS; loaded through require it shares the SDK's protobuf root
const { historyToJSON } = createRequire(import.meta.url)('@temporalio/common/lib/proto-utils') as typeof ProtoUtils;

Runtime.install({ logger: new DefaultLogger('WARN') });

const out = join(repoRoot, 'test/fixtures/histories');
mkdirSync(out, { recursive: true });
const stack = await startWorkflowStack();
const db = stack.postgres.database.db;
const sleep = async (h: TaskHandle, ms: number) => {
  await settle(db, h);
  await stack.env.sleep(ms);
};

const scenarios: Record<string, { order?: Partial<TaskOrder>; run: (h: TaskHandle) => Promise<void> }> = {
  // ordered, reminded, then cancelled at 24h
  'douyin-expired': {
    order: { scriptRequired: false },
    run: async (h) => {
      await sleep(h, 25 * HOUR);
    },
  },
  // script rejected by the operator and the client, now in content production
  'douyin-script-rejections': {
    order: { scriptRequired: true },
    run: async (h) => {
      const a = act(h);
      await a.accept();
      await a.submitScript('v1');
      await a.reviewScript('reject', 'Mentions a competitor');
      await a.submitScript('v2');
      await a.reviewScript('pass');
      await a.confirmScript('reject', 'Needs a stronger hook');
      await a.submitScript('v3');
      await a.reviewScript('pass');
      await a.confirmScript('confirm');
    },
  },
  // published, hidden, complaint filed and dismissed, still awaiting acceptance
  'douyin-awaiting-acceptance': {
    order: { scriptRequired: false },
    run: async (h) => {
      await toPublished(h, 'item-1');
      await sleep(h, 2 * DAY);
      await act(h).platform('hidden', 'item-1', 'evt-1');
      await act(h).platform('restored', 'item-1', 'evt-2');
      await act(h).complain('Not what we agreed');
      await sleep(h, DAY);
      await act(h).dismissComplaint('Matches the brief');
    },
  },
  // republished, auto-accepted, a retention violation, retention served
  'douyin-retention-completed': {
    order: { scriptRequired: false },
    run: async (h) => {
      await toPublished(h, 'v0');
      await act(h).publish('v1');
      await act(h).platform('published', 'v1', 'evt-3');
      await sleep(h, 8 * DAY);
      await act(h).platform('hidden', 'v1', 'evt-4');
      await sleep(h, 40 * DAY);
    },
  },
  // after the ledger (patched 'escrow-settlement'): expiry refunds the escrow
  'douyin-escrow-refunded': {
    order: { scriptRequired: false },
    run: async (h) => {
      await sleep(h, 25 * HOUR);
    },
  },
  // after the ledger: the client accepts and the escrow is paid out
  'douyin-escrow-paid': {
    order: { scriptRequired: false, retentionDays: 7 },
    run: async (h) => {
      await toPublished(h, 'item-1');
      await act(h).acceptDelivery();
      await sleep(h, 8 * DAY);
    },
  },
  // Xigua: the client published; auto-accepted; in retention
  'xigua-in-retention': {
    order: { type: 'xigua_video', scriptRequired: false, retentionDays: 30 },
    run: async (h) => {
      const a = act(h);
      await a.accept();
      await a.submitContent('video');
      await a.reviewContent('pass');
      await a.confirmContent('confirm');
      await a.publish('xg-1', CLIENT);
      await a.platform('published', 'xg-1', 'evt-5');
      await sleep(h, 8 * DAY);
    },
  },
  // Toutiao article: outline advanced at the 3rd rejection, article rejected twice, modified with permission, settled
  'toutiao-article-settled': {
    order: { type: 'toutiao_article', scriptRequired: true, retentionDays: 7 },
    run: async (h) => {
      const a = act(h);
      await a.accept();
      for (let i = 0; i < 3; i++) {
        await a.submitScript(`outline ${i}`);
        await a.reviewScript('pass');
        await a.confirmScript('reject', 'no');
      }
      for (let i = 0; i < 2; i++) {
        await a.submitContent(`article ${i}`);
        await a.reviewContent('pass');
        await a.confirmContent('reject', 'revise');
      }
      await a.submitContent('article final');
      await a.reviewContent('pass');
      await a.confirmContent('confirm');
      await a.publish('tt-1');
      await a.platform('published', 'tt-1', 'evt-6');
      await a.grantModification();
      await a.publish('tt-2');
      await a.platform('published', 'tt-2', 'evt-7');
      await settle(db, h);
      const s = await a.state();
      await a.acceptDelivery(CLIENT, s.publication.publishedAt!);
    },
  },
};

const { worker, taskQueue } = await stack.worker();
await worker.runUntil(async () => {
  for (const [name, scenario] of Object.entries(scenarios)) {
    const file = join(out, `${name}.json`);
    if (existsSync(file)) {
      console.log(`[history] ${name}: kept (already recorded)`);
      continue;
    }
    const h = await startTask(stack.env.client, taskQueue, { taskId: `replay-${name}`, ...scenario.order });
    await scenario.run(h);
    await settle(db, h);
    const history = await h.fetchHistory();
    writeFileSync(file, historyToJSON(history));
    console.log(`[history] ${name}: ${history.events?.length ?? 0} events`);
    await h.terminate('history saved').catch(() => undefined);
  }
});
await stack.stop();
