/**
 * The load of bench:lifecycle: one lifecycle per variant (bare and bare+LA
 * through the Temporal client, Starmap over HTTP) and the lanes that run them
 * back to back for a round. Run by bench/driver.ts in a process of its own, so
 * the benchmark's process holds only what is measured (the API and the workers).
 */
import { performance } from 'node:perf_hooks';
import type { Client } from '@temporalio/client';
import { http, must, order, platformPublished, sleep, type Starmap } from './common.js';
import {
  bareAcceptDeliveryUpdate,
  bareAcceptUpdate,
  bareConfirmContentUpdate,
  barePlatformSignal,
  barePublishUpdate,
  bareReviewContentUpdate,
  bareStateQuery,
  bareSubmitContentUpdate,
  bareTaskWorkflow,
} from './workflows/bare.js';

export const ACTIONS = ['order', 'accept', 'content', 'review', 'confirm', 'publish', 'platform', 'acceptance'] as const;
export type Action = (typeof ACTIONS)[number];
export const ALL_VARIANTS = ['bare', 'bare+LA', 'Starmap'] as const;
/** Run only when named in `--variants`: bare+LA with Starmap's search-attribute upsert at each change (what R-STAGE-DEADLINE's upserts cost). */
export const EXTRA_VARIANTS = ['bare+LA+SA'] as const;
export type Variant = (typeof ALL_VARIANTS)[number] | (typeof EXTRA_VARIANTS)[number];
export const BARE_QUEUE = 'bench-bare';
/** How often a lifecycle looks whether the platform's callback has reached the task (the same for every variant). */
const POLL_MS = 20;
const POLL_LIMIT_MS = 60_000;

/** Told each step's time as the step completes. */
export type Steps = (action: Action, ms: number) => void;
/** One lifecycle: its task (workflow) id once ordered; each step's time is reported as it completes. */
export type Lifecycle = (lane: number, n: number, steps: Steps, onId: (id: string) => void) => Promise<void>;
/** What the driver needs of Starmap: where its API is and who acts. */
export type StarmapParties = Pick<Starmap, 'baseUrl' | 'platformSecret' | 'clients' | 'creators' | 'operator'>;

async function untilVisible(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = performance.now() + POLL_LIMIT_MS;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`${what}: not visible after ${POLL_LIMIT_MS / 1000} s`);
    await sleep(POLL_MS);
  }
}

/** Times `fn` as `action`. */
async function timed<T>(steps: Steps, action: Action, fn: () => Promise<T>): Promise<T> {
  const t = performance.now();
  const result = await fn();
  steps(action, performance.now() - t);
  return result;
}

/** The bare variants' lifecycle through the Temporal client (also bench:client's load). */
export function bareLifecycle(temporal: Client, localActivity: boolean, run: string, searchAttributes = false): Lifecycle {
  return async (lane, n, steps, onId) => {
    const taskId = `bare${localActivity ? '-la' : ''}${searchAttributes ? '-sa' : ''}-${run}-${lane}-${n}`;
    const creator = { actor: { role: 'creator', id: `creator-${lane}` } };
    const client = { actor: { role: 'client', id: `client-${lane}` } };
    const operator = { actor: { role: 'operator', id: 'operator' } };
    const handle = await timed(steps, 'order', () => temporal.workflow.start(bareTaskWorkflow, { taskQueue: BARE_QUEUE, workflowId: taskId, args: [{ taskId, localActivity, searchAttributes }] }));
    onId(taskId);
    await timed(steps, 'accept', () => handle.executeUpdate(bareAcceptUpdate, { args: [creator] }));
    await timed(steps, 'content', () => handle.executeUpdate(bareSubmitContentUpdate, { args: [{ ...creator, body: `media://video/${taskId}` }] }));
    await timed(steps, 'review', () => handle.executeUpdate(bareReviewContentUpdate, { args: [{ ...operator, decision: 'pass' }] }));
    await timed(steps, 'confirm', () => handle.executeUpdate(bareConfirmContentUpdate, { args: [{ ...client, decision: 'confirm' }] }));
    const itemId = `douyin-${taskId}`;
    await timed(steps, 'publish', () => handle.executeUpdate(barePublishUpdate, { args: [{ ...creator, platformItemId: itemId }] }));
    await timed(steps, 'platform', async () => {
      await handle.signal(barePlatformSignal, { eventId: `${taskId}-published`, kind: 'published', itemId });
      await untilVisible('published', async () => (await handle.query(bareStateQuery)).status === 'awaiting_client_acceptance');
    });
    await timed(steps, 'acceptance', () => handle.executeUpdate(bareAcceptDeliveryUpdate, { args: [client] }));
  };
}

function starmapLifecycle(starmap: StarmapParties, run: string): Lifecycle {
  return async (lane, n, steps, onId) => {
    const client = starmap.clients[lane % starmap.clients.length]!;
    const creator = starmap.creators[lane % starmap.creators.length]!;
    const operator = starmap.operator;
    const id = await timed(steps, 'order', () => order(starmap, client, creator, `bench-${run}-${lane}-${n}`));
    onId(id);
    const act = (action: Action, who: { token: string }, path: string, body: unknown) =>
      timed(steps, action, () => must(path, http(starmap.baseUrl, 'POST', `/v1/tasks/${id}/${path}`, who.token, body)));
    await act('accept', creator, 'accept', {});
    await act('content', creator, 'content', { body: `media://video/${id}` });
    await act('review', operator, 'content/review', { decision: 'pass' });
    await act('confirm', client, 'content/decision', { decision: 'confirm' });
    const itemId = `douyin-${id.slice(4)}`;
    await act('publish', creator, 'publication', { platformItemId: itemId });
    await timed(steps, 'platform', async () => {
      await must('platform callback', platformPublished(starmap, id, itemId));
      await untilVisible('published', async () => {
        const a = await must('GET task', http(starmap.baseUrl, 'GET', `/v1/tasks/${id}`, client.token));
        return (a.body as { task?: { status?: string } }).task?.status === 'awaiting_client_acceptance';
      });
    });
    await act('acceptance', client, 'acceptance', {});
  };
}

/** Each variant's lifecycle; `run` keeps task ids and Idempotency-Keys of one benchmark run apart from another's. */
export const lifecyclesOf = (temporal: Client, starmap: StarmapParties, run: string): Record<Variant, Lifecycle> => ({
  bare: bareLifecycle(temporal, false, run),
  'bare+LA': bareLifecycle(temporal, true, run),
  'bare+LA+SA': bareLifecycle(temporal, true, run, true),
  Starmap: starmapLifecycle(starmap, run),
});

/** What a round's lanes did (the benchmark adds what it measured around them: CPU, statements). */
export interface LanesResult {
  /** Completed lifecycles (those in flight at the end of the window finish, and count here). */
  tasks: number;
  /** Steps completed within the window, and in all (the window's in-flight lifecycles finish after it). */
  windowSteps: number;
  allSteps: number;
  wallMs: number;
  lifecycleMs: number[];
  steps: Record<Action, number[]>;
  ids: string[];
  failures: string[];
}

const emptySteps = () => Object.fromEntries(ACTIONS.map((a) => [a, []])) as unknown as Record<Action, number[]>;

/**
 * `clients` lanes run lifecycles back to back for `windowMs`; a lifecycle in
 * flight at the end finishes (its steps count for the latencies and the CPU,
 * not for the rate). `counter` numbers the lifecycles across rounds.
 */
export async function runLanes(lifecycle: Lifecycle, clients: number, windowMs: number, counter: { next: number }): Promise<LanesResult> {
  const result: LanesResult = { tasks: 0, windowSteps: 0, allSteps: 0, wallMs: 0, lifecycleMs: [], steps: emptySteps(), ids: [], failures: [] };
  const started = performance.now();
  const deadline = started + windowMs;
  const steps: Steps = (action, ms) => {
    result.steps[action].push(ms);
    result.allSteps++;
    if (performance.now() <= deadline) result.windowSteps++;
  };
  await Promise.all(
    Array.from({ length: clients }, async (_, lane) => {
      while (performance.now() < deadline) {
        let id: string | undefined;
        const t = performance.now();
        try {
          await lifecycle(lane, counter.next++, steps, (taskId) => (id = taskId));
        } catch (err) {
          result.failures.push(`${id ?? '(no task)'}: ${err instanceof Error ? err.message : String(err)}`.slice(0, 400));
          await sleep(100); // a failing stack is not hammered in a tight loop
          continue;
        }
        result.tasks++;
        result.lifecycleMs.push(performance.now() - t);
        result.ids.push(id!);
      }
    }),
  );
  result.wallMs = performance.now() - started;
  return result;
}

/** `count` untimed lifecycles, 2 at a time (JIT, the bundles loaded into the workflow sandboxes, connection pools). */
export async function warmUp(lifecycle: Lifecycle, count: number, counter: { next: number }): Promise<void> {
  let next = 0;
  await Promise.all([0, 1].map(async (lane) => {
    while (next++ < count) await lifecycle(lane, counter.next++, () => {}, () => {});
  }));
}

// ---------------------------------------------------------------- the driver process's messages

export type DriverRequest =
  | { type: 'setup'; temporalAddress: string; starmap: StarmapParties; run: string }
  | { type: 'warmup'; variant: Variant; count: number }
  | { type: 'round'; variant: Variant; clients: number; windowMs: number };

export type DriverReply = { type: 'ready' } | { type: 'warmed' } | { type: 'round'; result: LanesResult; cpuMs: number } | { type: 'error'; message: string };
