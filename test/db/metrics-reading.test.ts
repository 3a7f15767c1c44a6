/**
 * R-RATE post-campaign data: `collectMetrics` reads the task from the read
 * model. Should the read model be behind the workflow (the acceptance not yet in
 * it), the reading is tried again shortly, backing off, instead of ending the
 * collection for good; once the acceptance is there it reads; a task that ended
 * without one stops the collection.
 */
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { eq } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { FakeContentPlatform } from '../../adapters/contentPlatform.js';
import { FakeNotifier } from '../../adapters/notifier.js';
import { FakePayoutProvider } from '../../adapters/payouts.js';
import { createActivities } from '../../activities/index.js';
import { OutboxDispatcher } from '../../activities/outbox.js';
import { taskMetrics } from '../../db/schema/index.js';
import { projectTask } from '../../db/tasks.js';
import { decide, evolve, initialState, orderedEvent, type Actor, type TaskCommand, type TaskState } from '../../domain/index.js';
import { CLIENT, CREATOR, OPERATOR, order } from '../helpers/tasks.js';
import { usePostgres } from '../helpers/harness.js';

const { db } = usePostgres();

const T0 = Date.parse('2026-03-02T08:00:00Z');
const PLATFORM: Actor = { role: 'platform', id: 'content-platform' };

/** A Douyin video task driven by the domain rules, a minute per step; the state after each named step. */
function tasks(): { published: TaskState; accepted: TaskState; declined: TaskState } {
  const run = (commands: TaskCommand[]) => {
    const state = initialState(order({ scriptRequired: false, orderedAt: new Date(T0).toISOString() }), T0);
    evolve(state, orderedEvent(state), T0);
    commands.forEach((command, i) => evolve(state, decide(state, command, T0 + (i + 1) * 60_000), T0 + (i + 1) * 60_000));
    return state;
  };
  const toPublished: TaskCommand[] = [
    { type: 'accept', actor: CREATOR },
    { type: 'submit', stage: 'content', body: 'video v1', actor: CREATOR },
    { type: 'review', stage: 'content', decision: 'pass', actor: OPERATOR },
    { type: 'confirm', stage: 'content', decision: 'confirm', actor: CLIENT },
    { type: 'publish', platformItemId: 'item-r1', actor: CREATOR },
    { type: 'platform', eventId: 'e1', kind: 'published', itemId: 'item-r1', occurredAt: new Date(T0 + 5 * 60_000).toISOString(), actor: PLATFORM },
  ];
  const published = run(toPublished);
  const accepted = structuredClone(published);
  evolve(accepted, decide(accepted, { type: 'accept_delivery', actor: CLIENT }, T0 + 3_600_000), T0 + 3_600_000);
  return { published, accepted, declined: run([{ type: 'decline', reason: 'busy', actor: CREATOR }]) };
}

/** The real collectMetrics activity, with fakes for the outside systems. */
const collector = () => {
  const notifier = new FakeNotifier();
  const activities = createActivities({ db: db(), notifier, payouts: new FakePayoutProvider(), contentPlatform: new FakeContentPlatform(), outbox: new OutboxDispatcher({ db: db(), notifier }) });
  return { collectMetrics: (input: { taskId: string; reading: number; at: string }) => activities.collectMetrics(input) };
};

it('R-RATE: a reading that finds the acceptance not yet in the read model is tried again shortly, backing off; then it reads', async () => {
  const { published, accepted } = tasks();
  expect(published.status).toBe('awaiting_client_acceptance');
  expect(accepted.status).toBe('in_retention');
  const taskId = published.taskId;
  await projectTask(db(), published, []);
  const { collectMetrics } = collector();
  const reading = { taskId, reading: 0, at: accepted.acceptance.acceptedAt! };
  for (const [attempt, delayMs] of [[1, 1_000], [3, 4_000], [20, 60_000]] as const) {
    const failure = await new MockActivityEnvironment({ attempt }).run(collectMetrics, reading).then(
      () => null,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect((failure as ApplicationFailure).type).toBe('AcceptanceNotProjected');
    expect((failure as ApplicationFailure).nonRetryable).toBe(false);
    expect((failure as ApplicationFailure).nextRetryDelay).toBe(delayMs);
  }
  expect(await db().select().from(taskMetrics).where(eq(taskMetrics.taskId, taskId))).toHaveLength(0);

  await projectTask(db(), accepted, []);
  expect(await new MockActivityEnvironment({ attempt: 4 }).run(collectMetrics, reading)).toEqual({ collecting: true });
  const rows = await db().select().from(taskMetrics).where(eq(taskMetrics.taskId, taskId));
  expect(rows.map((r) => [r.itemId, r.observedAt.toISOString()])).toEqual([['item-r1', accepted.acceptance.acceptedAt]]);
});

it('R-RATE: a task that ended without an acceptance stops the collection at once', async () => {
  const { declined } = tasks();
  expect(declined.status).toBe('cancelled');
  await projectTask(db(), declined, []);
  const { collectMetrics } = collector();
  expect(await new MockActivityEnvironment().run(collectMetrics, { taskId: declined.taskId, reading: 0, at: new Date(T0).toISOString() })).toEqual({ collecting: false });
});
