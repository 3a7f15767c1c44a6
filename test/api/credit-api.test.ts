/**
 * Credit, cards, observation periods and the operator queues over HTTP on the
 * real stack (Temporal dev server, embedded PostgreSQL, the real worker), with
 * the db functions where a test needs explicit times (R-OBSERVATION-RESTART).
 */
import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeNotifier } from '../../adapters/notifier.js';
import { FakePayoutProvider } from '../../adapters/payouts.js';
import { createActivities } from '../../activities/index.js';
import type { UserActor } from '../../api/auth.js';
import { newId } from '../../api/ids.js';
import { issueCard } from '../../db/cards.js';
import { applyCreditChange, restartObservations } from '../../db/credit.js';
import { creatorCards, creditEvents, tasks } from '../../db/schema/index.js';
import { DAY } from '../../domain/index.js';
import { newActor } from '../helpers/accounts.js';
import { startApiStack, type ApiStack } from '../helpers/apiStack.js';

let api: ApiStack;
const operator = newActor('operator', 'op');
let client: UserActor;
beforeAll(async () => {
  api = await startApiStack();
  await api.account(operator);
  client = await api.account(newActor('client', 'brand'));
  await api.fund(client, 100_000_000);
});
afterAll(async () => api?.stop());

const db = () => api.postgres.database.db;
const key = () => `k-${randomUUID()}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A wall-clock time in Asia/Shanghai (UTC+8). */
const shanghai = (local: string) => new Date(`${local}+08:00`);

const creator = () => api.creator(newActor('creator'), { douyin_video: 100_000 });
const giveCard = (creatorId: string, body: Record<string, unknown>, options: { as?: UserActor; headers?: Record<string, string> } = {}) =>
  api.call('POST', `/v1/creators/${creatorId}/cards`, { as: options.as ?? operator, body, headers: options.headers ?? { 'idempotency-key': `card-${randomUUID()}` } });
/** R-CARDS through the db function, at an explicit time. */
const cardAt = (creatorId: string, color: 'red' | 'yellow', observationDays: number, issuedAt: Date, reason = 'Late delivery') =>
  issueCard(db(), { id: newId('card'), creatorId, color, reason, observationDays, issuedBy: operator.id, issuedAt });
const cardRows = (creatorId: string) => db().select().from(creatorCards).where(eq(creatorCards.creatorId, creatorId));
const creditRows = (creatorId: string) => db().select().from(creditEvents).where(eq(creditEvents.creatorId, creatorId));
const orderFrom = (creatorId: string, extra: Record<string, unknown> = {}) =>
  api.call('POST', '/v1/tasks', {
    as: client,
    body: { creatorId, taskType: 'douyin_video', brief: 'A 30 second product video', scriptRequired: false, ...extra },
    headers: { 'idempotency-key': key() },
  });

async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string): Promise<T> {
  let value = await read();
  for (let i = 0; i < 100 && !ok(value); i++) {
    await sleep(100);
    value = await read();
  }
  if (!ok(value)) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
  return value;
}

function expectProblem(res: { status: number; type: string; body: any }, status: number, code?: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.type).toMatch(/^application\/problem\+json/);
  if (code) expect(res.body.code).toBe(code);
}

describe('cards', () => {
  it('R-CARDS: a card needs an Idempotency-Key (a retried request must not give a second card) and is refused without one, writing nothing', async () => {
    const c = await api.creator(newActor('creator'), { douyin_video: 50_000 });
    const res = await giveCard(c.id, { color: 'yellow', reason: 'Late', observationDays: 10, points: 5 }, { headers: {} });
    expect(res.status).toBe(400);
    expect(res.type).toMatch(/problem\+json/);
    expect((await api.call('GET', `/v1/creators/${c.id}/cards`, { as: operator })).body.items).toEqual([]);
  });

  it('R-CARDS: an operator gives red and yellow cards with the observation length it sets; they are listed newest first', async () => {
    const c = await creator();
    const yellow = await giveCard(c.id, { color: 'yellow', reason: 'Delivered two days late', observationDays: 31 });
    expect(yellow.status).toBe(201);
    expect(yellow.body.card).toMatchObject({ color: 'yellow', reason: 'Delivered two days late', observationDays: 31, points: 0, issuedBy: operator.id });
    expect(yellow.body.card.inObservation).toBe(true);
    expect(Date.parse(yellow.body.card.observationEndsAt) - Date.parse(yellow.body.card.issuedAt)).toBe(31 * DAY);
    expect(yellow.body).toMatchObject({ restartedObservations: 0, score: 100 });

    const red = await giveCard(c.id, { color: 'red', reason: 'Deleted the content the client paid for', observationDays: 90 });
    expect(red.status).toBe(201);
    expect(Date.parse(red.body.card.observationEndsAt) - Date.parse(red.body.card.issuedAt)).toBe(90 * DAY);
    // the red card is a new violation during the yellow card's observation (R-OBSERVATION-RESTART)
    expect(red.body.restartedObservations).toBe(1);

    const list = await api.call('GET', `/v1/creators/${c.id}/cards`, { as: operator });
    expect(list.status).toBe(200);
    expect(list.body.items.map((x: { color: string; observationDays: number }) => [x.color, x.observationDays])).toEqual([
      ['red', 90],
      ['yellow', 31],
    ]);
    const restarted = list.body.items[1];
    expect(restarted.lastViolationAt).toBe(red.body.card.issuedAt);
    expect(Date.parse(restarted.observationEndsAt) - Date.parse(red.body.card.issuedAt)).toBe(31 * DAY);
  });

  it("R-CARDS: only operators give cards (403); bad bodies 400; unknown creator 404; another creator's task 422 — none writes anything", async () => {
    const c = await creator();
    const mcn = await api.account(newActor('mcn'));
    const valid = { color: 'yellow', reason: 'Late', observationDays: 30, points: 5 };
    for (const as of [client, c, mcn]) expectProblem(await giveCard(c.id, valid, { as }), 403);
    const bad: unknown[] = [
      { ...valid, color: 'green' },
      { ...valid, observationDays: 0 },
      { ...valid, observationDays: 366 },
      { ...valid, observationDays: 1.5 },
      { ...valid, points: 101 },
      { ...valid, points: -1 },
      { ...valid, reason: '   ' },
      { color: 'red', observationDays: 30 },
      { ...valid, issuedAt: '2026-01-01T00:00:00Z' },
      { ...valid, taskId: 'not-a-task' },
      'not json',
    ];
    for (const body of bad) expectProblem(await giveCard(c.id, body as Record<string, unknown>), 400);
    expectProblem(await giveCard(`creator-${randomUUID().slice(0, 8)}`, valid), 404);
    expectProblem(await giveCard(client.id, valid), 404); // not a creator
    expectProblem(await giveCard(c.id, { ...valid, taskId: `tsk_${randomUUID()}` }), 422, 'task-not-of-creator');
    expect(await cardRows(c.id)).toEqual([]);
    expect(await creditRows(c.id)).toEqual([]);
  });

  it('R-CREDIT: card points are deducted once, cause "card", actor the operator; a retry with the same Idempotency-Key gives one card', async () => {
    const c = await creator();
    const headers = { 'idempotency-key': key() };
    const body = { color: 'red', reason: 'Published without the brand mention', observationDays: 60, points: 15 };
    const first = await giveCard(c.id, body, { headers });
    const retry = await giveCard(c.id, body, { headers });
    expect(first.status).toBe(201);
    expect(retry.status).toBe(201);
    expect(retry.body.card.id).toBe(first.body.card.id);
    expect(first.body.card.points).toBe(15);
    expect(first.body.score).toBe(85);
    expectProblem(await giveCard(c.id, { ...body, points: 20 }, { headers }), 422, 'idempotency-key-reused');
    expect(await cardRows(c.id)).toHaveLength(1);
    const events = await creditRows(c.id);
    expect(events).toHaveLength(1);
    const cardId = first.body.card.id;
    expect(events[0]).toMatchObject({ key: `card:${cardId}`, delta: -15, cause: 'card', cardId, actorRole: 'operator', actorId: operator.id });

    // the db function is idempotent on the card id as well
    const id = newId('card');
    const input = { id, creatorId: c.id, color: 'yellow', reason: 'Late', observationDays: 10, points: 5, issuedBy: operator.id, issuedAt: new Date() };
    expect((await issueCard(db(), input)).created).toBe(true);
    expect((await issueCard(db(), input)).created).toBe(false);
    expect(await cardRows(c.id)).toHaveLength(2);
    expect((await creditRows(c.id)).map((e) => e.delta).sort()).toEqual([-15, -5]);
  });
});

describe('observation periods', () => {
  it('R-OBSERVATION-RESTART: yellow card 2026-01-01 (Asia/Shanghai) observed to 2026-02-01; violation 2026-01-10 → observation to 2026-02-10', async () => {
    const c = await creator();
    const yellow = await cardAt(c.id, 'yellow', 31, shanghai('2026-01-01T00:00'));
    expect(yellow.card.observationEndsAt).toEqual(shanghai('2026-02-01T00:00'));
    // a new violation on Jan 10 (another card, with its own length)
    const second = await cardAt(c.id, 'yellow', 7, shanghai('2026-01-10T00:00'), 'Late again');
    expect(second.restarted).toBe(1);
    const [row] = await db().select().from(creatorCards).where(eq(creatorCards.id, yellow.card.id));
    expect(row!.observationEndsAt).toEqual(shanghai('2026-02-10T00:00')); // the same 31 days, from the latest violation
    expect(row!.lastViolationAt).toEqual(shanghai('2026-01-10T00:00'));
    expect(second.card.observationEndsAt).toEqual(shanghai('2026-01-17T00:00'));
    // a violation after the observation ended restarts nothing
    expect(await restartObservations(db(), c.id, shanghai('2026-03-01T00:00'))).toBe(0);
    const [after] = await db().select().from(creatorCards).where(eq(creatorCards.id, yellow.card.id));
    expect(after!.observationEndsAt).toEqual(shanghai('2026-02-10T00:00'));
  });

  it('R-OBSERVATION-RESTART: the retention penalty is a new violation too — it restarts a running observation from the deletion, once', async () => {
    const c = await creator();
    const issuedAt = new Date(Date.now() - 5 * DAY);
    const card = await cardAt(c.id, 'yellow', 20, issuedAt);
    const activities = createActivities({ db: db(), notifier: new FakeNotifier(), payouts: new FakePayoutProvider() });
    const deletedAt = new Date(Date.now() - DAY);
    const penalty = {
      kind: 'credit' as const,
      key: `tsk_x:${randomUUID()}`,
      creatorId: c.id,
      delta: -25,
      cause: 'retention_violation' as const,
      reason: 'content deleted within retention',
      taskId: 'tsk_x',
      actor: { role: 'system' as const, id: 'starmap' },
      occurredAt: deletedAt.toISOString(),
    };
    await activities.recordCreditChange(penalty);
    await activities.recordCreditChange(penalty); // retried
    const [row] = await db().select().from(creatorCards).where(eq(creatorCards.id, card.card.id));
    expect(row!.lastViolationAt).toEqual(deletedAt);
    expect(row!.observationEndsAt).toEqual(new Date(deletedAt.getTime() + 20 * DAY));
    expect(await creditRows(c.id)).toHaveLength(1);
  });

  it('R-OBSERVATION-RESTART: when observation ends without a new violation, the warning stops (R-OBSERVATION-WARN at ordering)', async () => {
    const c = await creator();
    // a card whose 30 days ended 10 days ago: no warning, the order goes through
    const old = await cardAt(c.id, 'red', 30, new Date(Date.now() - 40 * DAY), 'Old violation');
    const free = await orderFrom(c.id);
    expect(free.status).toBe(201);
    expect(free.body.warnings).toEqual([]);
    const credit = await api.call('GET', `/v1/creators/${c.id}/credit`, { as: operator });
    expect(credit.body.observation).toEqual({ inObservation: false, endsAt: null });

    // a new card: in observation again; the ended card is not restarted
    const given = await giveCard(c.id, { color: 'yellow', reason: 'New violation', observationDays: 14 });
    expect(given.body.restartedObservations).toBe(0);
    const [oldRow] = await db().select().from(creatorCards).where(eq(creatorCards.id, old.card.id));
    expect(oldRow!.observationEndsAt).toEqual(old.card.observationEndsAt);
    const warned = await orderFrom(c.id);
    expectProblem(warned, 409, 'observation-warning');
    expect(warned.body.observationEndsAt).toBe(given.body.card.observationEndsAt);
    const observing = await api.call('GET', `/v1/creators/${c.id}/credit`, { as: c });
    expect(observing.body.observation).toEqual({ inObservation: true, endsAt: given.body.card.observationEndsAt });
  });
});

describe('credit', () => {
  it('R-CREDIT: score = 100 + the sum of the changes; the history is newest first with cause, reason, actor and the task, card or appeal', async () => {
    const c = await creator();
    const mcn = await api.account(newActor('mcn'));
    expect((await api.call('PUT', `/v1/creators/${c.id}/mcn`, { as: operator, body: { mcnId: mcn.id } })).status).toBe(200);
    const taskId = `tsk_${randomUUID()}`;
    await applyCreditChange(db(), {
      key: `${taskId}:7`,
      creatorId: c.id,
      delta: -25,
      cause: 'retention_violation',
      reason: 'content deleted within retention',
      actor: { role: 'system', id: 'starmap' },
      occurredAt: new Date(Date.now() - 2 * DAY),
      taskId,
    });
    const card = await giveCard(c.id, { color: 'yellow', reason: 'Late delivery', observationDays: 30, points: 10 });
    await applyCreditChange(db(), {
      key: 'appeal:apl_test',
      creatorId: c.id,
      delta: 25,
      cause: 'appeal_upheld',
      reason: 'force majeure: the platform was down',
      actor: { role: 'operator', id: operator.id },
      occurredAt: new Date(),
      appealId: 'apl_test',
    });

    const res = await api.call('GET', `/v1/creators/${c.id}/credit`, { as: c });
    expect(res.status).toBe(200);
    const opActor = { role: 'operator', id: operator.id };
    expect(res.body).toMatchObject({ creatorId: c.id, score: 90, initial: 100 });
    expect(res.body.observation).toEqual({ inObservation: true, endsAt: card.body.card.observationEndsAt });
    expect(res.body.history.nextCursor).toBeNull();
    expect(res.body.history.items).toEqual([
      expect.objectContaining({ cause: 'appeal_upheld', delta: 25, appealId: 'apl_test', taskId: null, cardId: null, actor: opActor }),
      expect.objectContaining({ cause: 'card', delta: -10, cardId: card.body.card.id, reason: 'Late delivery', actor: opActor }),
      expect.objectContaining({ cause: 'retention_violation', delta: -25, taskId, actor: { role: 'system', id: 'starmap' } }),
    ]);
    expect(res.body.history.items.map((e: { delta: number }) => e.delta).reduce((a: number, b: number) => a + b, 100)).toBe(res.body.score);

    // pages, newest first
    const first = await api.call('GET', `/v1/creators/${c.id}/credit?limit=2`, { as: operator });
    expect(first.body.history.items.map((e: { cause: string }) => e.cause)).toEqual(['appeal_upheld', 'card']);
    const second = await api.call('GET', `/v1/creators/${c.id}/credit?limit=2&cursor=${first.body.history.nextCursor}`, { as: operator });
    expect(second.body.history.items.map((e: { cause: string }) => e.cause)).toEqual(['retention_violation']);
    expect(second.body.history.nextCursor).toBeNull();
    for (const q of ['limit=0', 'limit=101', 'cursor=abc', 'cursor=-1', 'extra=1']) {
      expectProblem(await api.call('GET', `/v1/creators/${c.id}/credit?${q}`, { as: operator }), 400);
    }

    // its MCN and operators see the same
    for (const as of [mcn, operator]) {
      const seen = await api.call('GET', `/v1/creators/${c.id}/credit`, { as });
      expect(seen.status).toBe(200);
      expect(seen.body.score).toBe(90);
      expect((await api.call('GET', `/v1/creators/${c.id}/cards`, { as })).body.items).toHaveLength(1);
    }
  });

  it('R-CREDIT: another creator, another MCN and clients get 404 — the same as for a creator that does not exist', async () => {
    const c = await creator();
    await giveCard(c.id, { color: 'red', reason: 'Harm', observationDays: 30, points: 5 });
    const outsiders = [await creator(), await api.account(newActor('mcn')), client];
    const missing = `creator-${randomUUID().slice(0, 8)}`;
    for (const path of ['credit', 'cards']) {
      for (const as of outsiders) {
        const res = await api.call('GET', `/v1/creators/${c.id}/${path}`, { as });
        expectProblem(res, 404);
        expect(JSON.stringify(res.body)).not.toContain('Harm');
        const none = await api.call('GET', `/v1/creators/${missing}/${path}`, { as });
        expect({ ...res.body, detail: '', instance: '' }).toEqual({ ...none.body, detail: '', instance: '' });
      }
      expectProblem(await api.call('GET', `/v1/creators/${missing}/${path}`, { as: operator }), 404);
    }
  });
});

describe('operator queues', () => {
  const reviews = async (query = '') => (await api.call('GET', `/v1/operator/queues/reviews${query}`, { as: operator })).body;
  const complaints = async () => (await api.call('GET', '/v1/operator/queues/complaints', { as: operator })).body;
  const ids = (page: { items: { taskId: string }[] }) => page.items.map((i) => i.taskId);
  const status = async (taskId: string) => (await db().select({ status: tasks.status }).from(tasks).where(eq(tasks.id, taskId)))[0]?.status;

  async function inContentReview(creatorActor: UserActor): Promise<string> {
    const ordered = await orderFrom(creatorActor.id);
    expect(ordered.status).toBe(201);
    const id = ordered.body.id as string;
    expect((await api.call('POST', `/v1/tasks/${id}/accept`, { as: creatorActor, body: {} })).status).toBe(200);
    expect((await api.call('POST', `/v1/tasks/${id}/content`, { as: creatorActor, body: { body: 'media://video/1' } })).status).toBe(200);
    await until(() => status(id), (s) => s === 'content_review', `${id} in content_review`);
    return id;
  }

  it('only operators read the queues (403); bad queries are 400', async () => {
    const c = await creator();
    for (const as of [client, c, await api.account(newActor('mcn'))]) {
      expectProblem(await api.call('GET', '/v1/operator/queues/reviews', { as }), 403);
      expectProblem(await api.call('GET', '/v1/operator/queues/complaints', { as }), 403);
    }
    for (const q of ['stage=video', 'limit=0', 'cursor=bm90LWpzb24', 'extra=1']) {
      expectProblem(await api.call('GET', `/v1/operator/queues/reviews?${q}`, { as: operator }), 400);
    }
  });

  it('R-CONTENT-FLOW: content awaiting review is in the reviews queue, longest waiting first, until the operator reviews it', async () => {
    const c = await creator();
    const older = await inContentReview(c);
    const newer = await inContentReview(c);
    const page = await reviews();
    expect(ids(page)).toEqual(expect.arrayContaining([older, newer]));
    expect(ids(page).indexOf(older)).toBeLessThan(ids(page).indexOf(newer));
    expect(page.items.find((i: { taskId: string }) => i.taskId === older)).toMatchObject({
      taskType: 'douyin_video',
      stage: 'content',
      status: 'content_review',
      clientId: client.id,
      creatorId: c.id,
      revision: 1,
      operatorRejections: 0,
      since: expect.any(String),
    });
    expect(ids(await reviews('?stage=script'))).not.toContain(older);
    // pages of one: the older first, then the newer
    const all: string[] = [];
    let cursor: string | null = null;
    do {
      const p: { items: { taskId: string }[]; nextCursor: string | null } = await reviews(`?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      all.push(...ids(p));
      cursor = p.nextCursor;
    } while (cursor);
    expect(all).toEqual(ids(page));

    expect((await api.call('POST', `/v1/tasks/${older}/content/review`, { as: operator, body: { decision: 'pass' } })).status).toBe(200);
    await until(() => reviews(), (p) => !ids(p).includes(older), 'the reviewed task to leave the queue');
    expect(ids(await reviews())).toContain(newer);
  });

  it('R-COMPLAINT: a task with an open complaint is in the complaints queue with its reason and time, and leaves it once dismissed', async () => {
    const c = await creator();
    const id = await inContentReview(c);
    const path = (p: string) => `/v1/tasks/${id}/${p}`;
    expect((await api.call('POST', path('content/review'), { as: operator, body: { decision: 'pass' } })).status).toBe(200);
    expect((await api.call('POST', path('content/decision'), { as: client, body: { decision: 'confirm' } })).status).toBe(200);
    expect((await api.call('POST', path('publication'), { as: c, body: { platformItemId: `douyin-${id}` } })).status).toBe(200);
    expect((await api.platform({ eventId: `e-${randomUUID()}`, taskId: id, itemId: `douyin-${id}`, kind: 'published', occurredAt: new Date().toISOString() })).status).toBe(202);
    await until(() => status(id), (s) => s === 'awaiting_client_acceptance', `${id} published`);
    expect(ids(await complaints())).not.toContain(id);

    const filed = await api.call('POST', path('complaint'), { as: client, body: { reason: 'The product is not shown' } });
    expect(filed.status).toBe(200);
    const queued = await until(() => complaints(), (p) => ids(p).includes(id), 'the complaint in the queue');
    expect(queued.items.find((i: { taskId: string }) => i.taskId === id)).toMatchObject({
      taskType: 'douyin_video',
      status: 'awaiting_client_acceptance',
      clientId: client.id,
      creatorId: c.id,
      reason: 'The product is not shown',
      openedAt: filed.body.task.acceptance.complaint.openedAt,
      complaintsFiled: 1,
    });

    const dismissed = await api.call('POST', path('complaint/resolution'), { as: operator, body: { outcome: 'dismissed', note: 'The product is at 0:12' } });
    expect(dismissed.status).toBe(200);
    await until(() => complaints(), (p) => !ids(p).includes(id), 'the dismissed complaint to leave the queue');
  });
});

it('the OpenAPI document lists the credit, card and queue endpoints', async () => {
  const res = await api.call('GET', '/openapi.json');
  expect(Object.keys(res.body.paths)).toEqual(
    expect.arrayContaining([
      '/v1/creators/{creatorId}/credit', '/v1/creators/{creatorId}/cards', '/v1/operator/queues/reviews',
      '/v1/operator/queues/complaints',
    ]),
  );
  expect(res.body.paths['/v1/creators/{creatorId}/cards'].post.responses['201']).toBeDefined();
  expect(res.body.components.schemas.IssueCard.required).toEqual(expect.arrayContaining(['color', 'reason', 'observationDays']));
});
