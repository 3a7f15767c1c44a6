/**
 * The notifications outbox (activities/outbox.ts) on a real PostgreSQL: what the
 * task projection writes is sent once, in each task's order, by any number of
 * dispatchers, and retried until it goes out (R-ACCEPT-NOTIFY, R-DECISION-NOTIFY
 * deliver through it for tasks of engine 3).
 */
import { randomUUID } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { FakeNotifier, type Notifier, type OutboundMessage } from '../../adapters/notifier.js';
import { OutboxDispatcher, notificationsInsert, notifyOnce, type QueuedMessage } from '../../activities/outbox.js';
import { notifications } from '../../db/schema/index.js';
import { until } from '../helpers/poll.js';
import { usePostgres } from '../helpers/harness.js';

const { db } = usePostgres();
const fast = { pollMs: 50, backoff: { firstMs: 30, maxMs: 200 }, leaseMs: 2_000 };

const message = (taskId: string, seq: number, template = `t${seq}`): QueuedMessage => ({
  idempotencyKey: `${taskId}:${seq}`,
  taskId,
  channel: 'sms',
  recipient: { role: 'creator', id: 'creator-1' },
  template,
  params: { seq },
});
const rowsOf = (taskId: string) => db().select().from(notifications).where(eq(notifications.taskId, taskId)).orderBy(notifications.id);

it('R-ACCEPT-NOTIFY: messages written with the events go out once each, even with three dispatchers racing for them', async () => {
  const notifier = new FakeNotifier();
  const tasks = Array.from({ length: 10 }, () => `task-${randomUUID()}`);
  await db().transaction(async (tx) => {
    for (const t of tasks) await notificationsInsert(tx, [message(t, 1), message(t, 2), message(t, 3)]);
    await notificationsInsert(tx, [message(tasks[0]!, 1)]); // a retried projection writes the same key again: nothing new
  });
  const dispatchers = [1, 2, 3].map(() => new OutboxDispatcher({ db: db(), notifier, ...fast }));
  for (const d of dispatchers) d.wake();
  try {
    await until(async () => (await db().execute<{ n: number }>(sql`select count(*)::int as n from notifications where task_id like 'task-%' and sent_at is null`))[0]!.n, (n) => n === 0, 200, 50);
  } finally {
    await Promise.all(dispatchers.map((d) => d.stop()));
  }
  const mine = notifier.delivered.filter((m) => tasks.some((t) => m.idempotencyKey.startsWith(t)));
  expect(mine).toHaveLength(30);
  expect(new Set(mine.map((m) => m.idempotencyKey)).size).toBe(30);
  for (const t of tasks) {
    // each task's messages in the order of its events
    expect(mine.filter((m) => m.idempotencyKey.startsWith(t)).map((m) => m.template)).toEqual(['t1', 't2', 't3']);
    expect((await rowsOf(t)).map((r) => r.attempts)).toEqual([1, 1, 1]);
  }
});

it('R-DECISION-NOTIFY: a provider that is down delays a task\'s later messages behind the failed one, then all go out in order, once', async () => {
  const notifier = new FakeNotifier();
  notifier.failNext(3);
  const taskId = `task-${randomUUID()}`;
  await db().transaction((tx) => notificationsInsert(tx, [message(taskId, 1, 'script_rejected'), message(taskId, 2, 'script_confirmed')]));
  const outbox = new OutboxDispatcher({ db: db(), notifier, ...fast });
  outbox.wake();
  try {
    await until(() => rowsOf(taskId), (rows) => rows.every((r) => r.sentAt !== null), 200, 50);
  } finally {
    await outbox.stop();
  }
  expect(notifier.delivered.filter((m) => m.idempotencyKey.startsWith(taskId)).map((m) => m.template)).toEqual(['script_rejected', 'script_confirmed']);
  expect((await rowsOf(taskId)).map((r) => r.attempts)).toEqual([4, 1]);
});

it('a message claimed by a dispatcher that died before sending is sent again once its lease ended; activity-owned rows are left to their activity', async () => {
  const taskId = `task-${randomUUID()}`;
  await db().transaction((tx) => notificationsInsert(tx, [message(taskId, 1)]));
  // a dispatcher claimed it (attempt counted, next try in the future) and died: the provider never got it
  await db().update(notifications).set({ attempts: 1, nextAttemptAt: sql`now() + interval '300 milliseconds'` }).where(eq(notifications.taskId, taskId));
  // an older task's sendNotification activity whose provider call fails keeps retrying on its own
  const down: Notifier = { send: (_m: OutboundMessage) => Promise.reject(new Error('provider down')) };
  const activityTask = `task-${randomUUID()}`;
  await expect(notifyOnce(db(), down, message(activityTask, 1))).rejects.toThrow('provider down');
  const notifier = new FakeNotifier();
  const outbox = new OutboxDispatcher({ db: db(), notifier, ...fast });
  outbox.wake();
  try {
    expect(notifier.delivered.filter((m) => m.idempotencyKey.startsWith(taskId))).toHaveLength(0); // not due yet
    await until(() => rowsOf(taskId), (rows) => rows[0]?.sentAt != null, 200, 50);
    await new Promise((r) => setTimeout(r, 300));
  } finally {
    await outbox.stop();
  }
  expect((await rowsOf(taskId))[0]!.attempts).toBe(2);
  expect(notifier.delivered.filter((m) => m.idempotencyKey.startsWith(activityTask))).toHaveLength(0);
  expect((await rowsOf(activityTask))[0]!.sentAt).toBeNull();
});
