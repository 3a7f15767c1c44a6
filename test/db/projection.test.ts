/**
 * The task read model's projection (db/tasks.ts) on a real PostgreSQL. Most
 * events move no money; the projection activity writes those in one statement
 * (the row's upsert, the events' insert and their messages' insert into the
 * outbox as CTEs, no transaction). The guarantees are those of the transaction it replaces: never
 * backwards, a retry adds nothing, and the row and its events land together or
 * not at all.
 */
import { asc, eq } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { projectTask, taskById, taskColumns } from '../../db/tasks.js';
import { notifications, taskEvents } from '../../db/schema/index.js';
import { notificationsInsert, type QueuedMessage } from '../../activities/outbox.js';
import { DAY, SYSTEM, decide, evolve, initialState, orderedEvent, type TaskCommand, type TaskEvent, type TaskState } from '../../domain/index.js';
import { CLIENT, CREATOR, OPERATOR, order } from '../helpers/tasks.js';
import { usePostgres } from '../helpers/harness.js';

const { db } = usePostgres();

const T0 = Date.parse('2026-03-02T08:00:00Z');

/** A task as the workflow holds it, with the events of each step (a copy of the state after each). */
function lifecycle(): Array<{ state: TaskState; events: TaskEvent[] }> {
  const state = initialState(order({ scriptRequired: false, orderedAt: new Date(T0).toISOString() }), T0);
  const steps: Array<{ state: TaskState; events: TaskEvent[] }> = [];
  const step = (draft: ReturnType<typeof decide>, at: number) => {
    const event = evolve(state, draft, at);
    steps.push({ state: structuredClone(state), events: [event] });
  };
  step(orderedEvent(state), T0);
  const act = (command: TaskCommand, at: number) => step(decide(state, command, at), at);
  act({ type: 'accept', actor: CREATOR }, T0 + 60_000);
  act({ type: 'submit', stage: 'content', body: 'video v1', actor: CREATOR }, T0 + 120_000);
  return steps;
}

const eventsOfTask = (taskId: string) => db().select().from(taskEvents).where(eq(taskEvents.taskId, taskId)).orderBy(asc(taskEvents.seq));

it('one statement writes the row and the events; a retry adds nothing and an older state never overwrites a newer one', async () => {
  const [ordered, accepted, submitted] = lifecycle();
  const taskId = ordered!.state.taskId;
  await projectTask(db(), ordered!.state, ordered!.events);
  await projectTask(db(), accepted!.state, accepted!.events);
  expect((await taskById(db(), taskId))).toMatchObject({ status: 'content_drafting', version: 2 });
  expect((await eventsOfTask(taskId)).map((e) => e.type)).toEqual(['ordered', 'accepted']);

  // a retried projection of the same step: the same row, no second event
  await projectTask(db(), accepted!.state, accepted!.events);
  expect((await eventsOfTask(taskId)).map((e) => e.seq)).toEqual([1, 2]);

  await projectTask(db(), submitted!.state, submitted!.events);
  // a late write of an older state (a retry that lost a race) leaves the newer row as it is
  await projectTask(db(), accepted!.state, accepted!.events);
  const row = await taskById(db(), taskId);
  expect(row).toMatchObject({ status: 'content_review', version: 3 });
  expect(row!.snapshot?.version).toBe(3);
  expect((await eventsOfTask(taskId)).map((e) => e.type)).toEqual(['ordered', 'accepted', 'submitted']);

  // in a caller's transaction (beside a settlement) it writes the same thing
  const [o2, a2] = lifecycle();
  await db().transaction((tx) => projectTask(tx, o2!.state, o2!.events));
  await projectTask(db(), a2!.state, a2!.events);
  expect(await taskById(db(), o2!.state.taskId)).toMatchObject({ status: 'content_drafting', version: 2 });
  expect((await eventsOfTask(o2!.state.taskId)).map((e) => e.type)).toEqual(['ordered', 'accepted']);
});

it('the row and its events land together or not at all: an event Postgres refuses leaves the row as it was', async () => {
  const [ordered, accepted] = lifecycle();
  const taskId = ordered!.state.taskId;
  await projectTask(db(), ordered!.state, ordered!.events);
  // jsonb refuses \u0000: the events' insert fails, and with it the row's upsert in the same statement
  const bad = { ...accepted!.events[0]!, payload: { note: 'bad\u0000byte' } } as unknown as TaskEvent;
  await expect(projectTask(db(), accepted!.state, [bad])).rejects.toThrow();
  expect(await taskById(db(), taskId)).toMatchObject({ status: 'awaiting_acceptance', version: 1 });
  expect((await eventsOfTask(taskId)).map((e) => e.type)).toEqual(['ordered']);
});

it("R-ACCEPT-NOTIFY: an event's messages go into the outbox in the projection's statement, and not at all when the statement fails", async () => {
  const [ordered, accepted] = lifecycle();
  const taskId = ordered!.state.taskId;
  const sms = (seq: number): QueuedMessage => ({ idempotencyKey: `${taskId}:${seq}`, taskId, channel: 'sms', recipient: { role: 'creator', id: CREATOR.id }, template: 'task_arrived', params: { taskId } });
  const queued = () => db().select().from(notifications).where(eq(notifications.taskId, taskId));
  await projectTask(db(), ordered!.state, ordered!.events, [notificationsInsert(db(), [sms(1)])]);
  expect(await taskById(db(), taskId)).toMatchObject({ version: 1 });
  expect((await queued()).map((n) => n.key)).toEqual([`${taskId}:1`]);
  // retried: nothing twice
  await projectTask(db(), ordered!.state, ordered!.events, [notificationsInsert(db(), [sms(1)])]);
  expect(await queued()).toHaveLength(1);
  // the events' insert fails: neither the row nor the message is written
  const bad = { ...accepted!.events[0]!, payload: { note: 'bad\u0000byte' } } as unknown as TaskEvent;
  await expect(projectTask(db(), accepted!.state, [bad], [notificationsInsert(db(), [sms(2)])])).rejects.toThrow();
  expect(await taskById(db(), taskId)).toMatchObject({ version: 1 });
  expect((await queued()).map((n) => n.key)).toEqual([`${taskId}:1`]);
});

it('every column the projection writes is what taskColumns derives from the state (reviews, escalation, complaint, publication, a closed task)', async () => {
  const state = initialState(order({ scriptRequired: false, orderedAt: new Date(T0).toISOString() }), T0);
  const states: Array<{ state: TaskState; events: TaskEvent[] }> = [];
  let at = T0;
  const step = (draft: ReturnType<typeof decide>) => {
    const event = evolve(state, draft, at);
    states.push({ state: structuredClone(state), events: [event] });
  };
  const act = (command: TaskCommand, after = 60_000) => {
    at += after;
    step(decide(state, command, at));
  };
  step(orderedEvent(state));
  act({ type: 'accept', actor: CREATOR });
  act({ type: 'submit', stage: 'content', body: 'video v1', actor: CREATOR });
  act({ type: 'review', stage: 'content', decision: 'reject', reason: 'logo too small', actor: OPERATOR });
  act({ type: 'submit', stage: 'content', body: 'video v2', actor: CREATOR });
  act({ type: 'timer', timer: 'escalate_review', actor: SYSTEM }, 3 * DAY); // attention: review_escalated, escalated_at
  act({ type: 'review', stage: 'content', decision: 'pass', actor: OPERATOR });
  act({ type: 'confirm', stage: 'content', decision: 'confirm', actor: CLIENT });
  act({ type: 'publish', platformItemId: 'dy-item-1', actor: CREATOR });
  act({ type: 'platform', eventId: 'p-1', kind: 'published', itemId: 'dy-item-1', occurredAt: new Date(at + 30_000).toISOString(), actor: { role: 'platform', id: 'content-platform' } });
  act({ type: 'file_complaint', reason: 'the brand name is misspelt', actor: CLIENT });
  act({ type: 'resolve_complaint', outcome: 'dismissed', note: 'spelt as the brief says', actor: OPERATOR });
  act({ type: 'accept_delivery', actor: CLIENT });
  act({ type: 'timer', timer: 'end_retention', actor: SYSTEM }, Date.parse(state.retention.endsAt!) - at + 1_000); // closed_at, close_reason
  const taskId = state.taskId;
  for (const { state: s, events } of states) {
    await projectTask(db(), s, events);
    const row = (await taskById(db(), taskId))!;
    const expected = taskColumns(s);
    for (const [key, value] of Object.entries(expected)) {
      const actual = (row as Record<string, unknown>)[key];
      const seen = actual instanceof Date ? actual.toISOString() : actual;
      const want = value instanceof Date ? value.toISOString() : value;
      expect(seen, `${key} after ${events[0]!.type} (version ${s.version})`).toEqual(want);
    }
  }
  // the path went through the columns that are null on a plain task
  const written = states.map(({ state: s }) => taskColumns(s));
  for (const key of ['escalatedAt', 'currentRevision', 'submittedAt', 'complaintReason', 'publishedAt', 'deliveryAcceptedAt', 'closedAt'] as const) {
    expect(written.some((c) => c[key] !== null), key).toBe(true);
  }
  expect(written.some((c) => c.attention.length > 0)).toBe(true);
  expect((await eventsOfTask(taskId)).map((e) => e.seq)).toEqual(states.map((s) => s.events[0]!.seq));
});
