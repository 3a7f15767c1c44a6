/**
 * The HTTP API against the real stack: Temporal dev server (the project's CLI),
 * embedded PostgreSQL, the real worker. Errors are problem+json; bad input
 * changes nothing; a retried request never duplicates anything.
 */
import { randomUUID } from 'node:crypto';
import { count, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuth, type UserActor } from '../../api/auth.js';
import { accounts, notifications, taskEvents, taskMetrics, tasks } from '../../db/schema/index.js';
import proto from '@temporalio/proto';
import { until } from '../helpers/poll.js';
import { taskStateQuery } from '../../workflows/messages.js';
import { TASK_QUEUE } from '../../temporal/config.js';
import { startOrphanedTasks } from '../../temporal/tasks.js';
import { projectTask, unstartedTasks } from '../../db/tasks.js';
import { decide, evolve, initialState, orderedEvent } from '../../domain/index.js';
import { startApiStack, type ApiStack } from '../helpers/apiStack.js';

let api: ApiStack;
beforeAll(async () => {
  api = await startApiStack();
  await Promise.all([client, otherClient, otherCreator, operator].map((a) => api.account(a)));
  await api.creator(creator, { douyin_video: 880_000, xigua_video: 880_000, toutiao_qa: 880_000 });
  await fund(client);
  await fund(otherClient);
});

/** Tops up a client's wallet through the API, so its orders can be escrowed. */
async function fund(as: UserActor, amountFen = 1_000_000_000) {
  await api.fund(as, amountFen);
}
afterAll(async () => api?.stop());

const client: UserActor = { role: 'client', id: 'brand-a' };
const otherClient: UserActor = { role: 'client', id: 'brand-b' };
const creator: UserActor = { role: 'creator', id: 'creator-x' };
const otherCreator: UserActor = { role: 'creator', id: 'creator-y' };
const operator: UserActor = { role: 'operator', id: 'op-1' };

const orderBody = (overrides: Record<string, unknown> = {}) => ({
  creatorId: creator.id,
  taskType: 'douyin_video',
  brief: 'Unboxing video, 45-60 seconds',
  scriptRequired: false,
  priceFen: 880_000,
  ...overrides,
});
const key = () => `k-${randomUUID()}`;

async function order(as: UserActor = client, body = orderBody()) {
  const res = await api.call('POST', '/v1/tasks', { as, body, headers: { 'idempotency-key': key() } });
  expect(res.status).toBe(201);
  return res.body as { id: string };
}

const taskCount = async () => (await api.postgres.database.db.select({ n: count() }).from(tasks))[0]!.n;

function expectProblem(res: { status: number; type: string; body: any }, status: number, slug?: string) {
  expect(res.status).toBe(status);
  expect(res.type).toMatch(/^application\/problem\+json/);
  expect(res.body.status).toBe(status);
  expect(typeof res.body.title).toBe('string');
  if (slug) expect(res.body.type).toBe(`https://starmap.dev/problems/${slug}`);
}

describe('identity (401)', () => {
  it('refuses a request without a token, with a forged token, and with an expired token', async () => {
    expectProblem(await api.call('GET', '/v1/tasks'), 401, 'unauthenticated');
    const forged = await createAuth('x'.repeat(40)).sign(client);
    expectProblem(await api.call('GET', '/v1/tasks', { headers: { authorization: `Bearer ${forged}` } }), 401, 'unauthenticated');
    const expired = await api.auth.sign(client, -60);
    expectProblem(await api.call('GET', '/v1/tasks', { headers: { authorization: `Bearer ${expired}` } }), 401, 'unauthenticated');
  });
});

describe('placing an order', () => {
  it('R-ORDER-FIELDS: the order keeps creator, type, brief, script choice, retention and price', async () => {
    const res = await api.call('POST', '/v1/tasks', { as: client, body: orderBody({ scriptRequired: true, retentionDays: 60 }), headers: { 'idempotency-key': key() } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ type: 'douyin_video', status: 'awaiting_acceptance', clientId: client.id, creatorId: creator.id, priceFen: 880_000, retentionDays: 60, scriptRequired: true });
    const detail = await api.call('GET', `/v1/tasks/${res.body.id}`, { as: client });
    expect(detail.status).toBe(200);
    expect(detail.body.task).toMatchObject({ brief: 'Unboxing video, 45-60 seconds', retentionDays: 60, priceFen: 880_000 });
  });

  it('is idempotent: the same Idempotency-Key and body return the same task, never a second one', async () => {
    const k = key();
    const before = await taskCount();
    const attempts = await Promise.all(
      Array.from({ length: 5 }, () => api.call('POST', '/v1/tasks', { as: client, body: orderBody(), headers: { 'idempotency-key': k } })),
    );
    const ids = new Set(attempts.map((a) => a.body.id));
    expect(ids.size).toBe(1);
    expect(attempts.filter((a) => a.status === 201)).toHaveLength(1);
    expect(attempts.filter((a) => a.status === 200)).toHaveLength(4);
    expect(await taskCount()).toBe(before + 1);
    const again = await api.call('POST', '/v1/tasks', { as: client, body: orderBody(), headers: { 'idempotency-key': k } });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe([...ids][0]);
    // one workflow, one "ordered" event
    // the projection is asynchronous: wait for it, then count
    let events = await api.postgres.database.db.select().from(taskEvents).where(eq(taskEvents.taskId, again.body.id));
    for (let i = 0; i < 100 && events.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      events = await api.postgres.database.db.select().from(taskEvents).where(eq(taskEvents.taskId, again.body.id));
    }
    expect(events.filter((e) => e.type === 'ordered')).toHaveLength(1);
  });

  it('a retried order answers the first task whatever changed since: the creator stopped accepting, the quote moved', async () => {
    const seller: UserActor = { role: 'creator', id: `creator-${randomUUID().slice(0, 8)}` };
    await api.account(seller);
    await api.creator(seller, { douyin_video: 500_000 });
    const body = orderBody({ creatorId: seller.id, priceFen: 500_000 });
    const k = key();
    const first = await api.call('POST', '/v1/tasks', { as: client, body, headers: { 'idempotency-key': k } });
    expect(first.status).toBe(201);
    const closed = await api.call('PATCH', '/v1/creators/me/offers/douyin_video', { as: seller, body: { accepting: false, quoteFen: 600_000 } });
    expect(closed.status).toBe(200);
    const before = await taskCount();
    const again = await api.call('POST', '/v1/tasks', { as: client, body, headers: { 'idempotency-key': k } });
    expect(again.status).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toMatchObject({ id: first.body.id, priceFen: 500_000 });
    expect(await taskCount()).toBe(before);
    // a new key is a new order, and that one is refused now
    const fresh = await api.call('POST', '/v1/tasks', { as: client, body, headers: { 'idempotency-key': key() } });
    expect(fresh.status).toBeGreaterThanOrEqual(400);
    expect(await taskCount()).toBe(before);
  });

  it('refuses the same Idempotency-Key with a different body (422) and creates nothing', async () => {
    const k = key();
    await api.call('POST', '/v1/tasks', { as: client, body: orderBody(), headers: { 'idempotency-key': k } });
    const before = await taskCount();
    const res = await api.call('POST', '/v1/tasks', { as: client, body: orderBody({ brief: 'Another brief' }), headers: { 'idempotency-key': k } });
    expectProblem(res, 422, 'idempotency-key-reused');
    expect(await taskCount()).toBe(before);
  });

  it('400: invalid bodies are refused with the failing fields, and change nothing', async () => {
    const before = await taskCount();
    const cases: Array<[unknown, string]> = [
      [orderBody({ priceFen: 12.5 }), 'priceFen'],
      [orderBody({ priceFen: -1 }), 'priceFen'],
      [orderBody({ retentionDays: 366 }), 'retentionDays'],
      [orderBody({ retentionDays: 0 }), 'retentionDays'],
      [orderBody({ taskType: 'weibo_post' }), 'taskType'],
      [orderBody({ creatorId: undefined }), 'creatorId'],
      [orderBody({ brief: '   ' }), 'brief'],
      [orderBody({ clientId: 'someone-else' }), ''],
    ];
    for (const [body, field] of cases) {
      const res = await api.call('POST', '/v1/tasks', { as: client, body, headers: { 'idempotency-key': key() } });
      expectProblem(res, 400, 'invalid-request');
      if (field) expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(field);
    }
    expectProblem(await api.call('POST', '/v1/tasks', { as: client, body: '{"creatorId":', headers: { 'idempotency-key': key() } }), 400);
    expectProblem(await api.call('POST', '/v1/tasks', { as: client, body: orderBody() }), 400, 'invalid-request');
    expect(await taskCount()).toBe(before);
  });

  it('R-RETENTION-CHOICE: 7, 15, 30, 60 and custom days up to 365 are accepted; 30 when not given', async () => {
    for (const retentionDays of [7, 15, 30, 60, 90, 365]) {
      const res = await api.call('POST', '/v1/tasks', { as: client, body: orderBody({ retentionDays }), headers: { 'idempotency-key': key() } });
      expect(res.body.retentionDays).toBe(retentionDays);
    }
    const res = await api.call('POST', '/v1/tasks', { as: client, body: orderBody(), headers: { 'idempotency-key': key() } });
    expect(res.body.retentionDays).toBe(30);
  });

  it('403: only clients place orders; no actor id is taken from the body', async () => {
    const before = await taskCount();
    expectProblem(await api.call('POST', '/v1/tasks', { as: creator, body: orderBody(), headers: { 'idempotency-key': key() } }), 403, 'forbidden');
    expectProblem(await api.call('POST', '/v1/tasks', { as: operator, body: orderBody(), headers: { 'idempotency-key': key() } }), 403, 'forbidden');
    expect(await taskCount()).toBe(before);
  });
});

describe('reading and listing', () => {
  it('404: an unknown task, or another party\'s task, is not found (nothing leaks)', async () => {
    const { id } = await order(client);
    expectProblem(await api.call('GET', `/v1/tasks/tsk_${randomUUID()}`, { as: client }), 404, 'not-found');
    expectProblem(await api.call('GET', `/v1/tasks/${id}`, { as: otherClient }), 404, 'not-found');
    expectProblem(await api.call('GET', `/v1/tasks/${id}`, { as: otherCreator }), 404, 'not-found');
    expectProblem(await api.call('POST', `/v1/tasks/${id}/accept`, { as: otherCreator, body: {} }), 404, 'not-found');
    expect((await api.call('GET', `/v1/tasks/${id}`, { as: creator })).status).toBe(200);
    expect((await api.call('GET', `/v1/tasks/${id}`, { as: operator })).status).toBe(200);
    expectProblem(await api.call('GET', '/v1/tasks/not-a-task-id', { as: client }), 400);
  });

  it('a request about one task checks the bearer\'s account first, with the task read in the same statement: disabled or wrong role is 401 before any 404', async () => {
    const { id } = await order(client);
    const party: UserActor = { role: 'creator', id: `creator-${randomUUID().slice(0, 8)}` };
    await api.account(party);
    const missing = `tsk_${randomUUID()}`;
    // no such account, or the role is not its own: 401 on an existing task, a missing one and below a task
    for (const as of [{ role: 'creator', id: 'creator-unknown' } as UserActor, { role: 'operator', id: client.id } as UserActor]) {
      expectProblem(await api.call('GET', `/v1/tasks/${id}`, { as }), 401);
      expectProblem(await api.call('GET', `/v1/tasks/${missing}`, { as }), 401);
      expectProblem(await api.call('POST', `/v1/tasks/${id}/accept`, { as, body: {} }), 401);
      expectProblem(await api.call('GET', `/v1/tasks/${id}/events`, { as }), 401);
    }
    // an enabled account that is not a party: 404, as for a missing task
    expectProblem(await api.call('GET', `/v1/tasks/${id}`, { as: party }), 404, 'not-found');
    expectProblem(await api.call('GET', `/v1/tasks/${missing}`, { as: party }), 404, 'not-found');
    // disabled: 401 at once, on the task routes as elsewhere
    expect((await api.call('GET', `/v1/tasks/${id}`, { as: client })).status).toBe(200);
    await api.postgres.database.db.update(accounts).set({ disabledAt: new Date() }).where(eq(accounts.id, party.id));
    expectProblem(await api.call('GET', `/v1/tasks/${id}`, { as: party }), 401);
    expectProblem(await api.call('GET', `/v1/tasks/${missing}`, { as: party }), 401);
    // the parties read with the check are the task's: the client sees and acts on its own task as before
    expect((await api.call('GET', `/v1/tasks/${id}/events`, { as: client })).status).toBe(200);
    expect((await api.call('POST', `/v1/tasks/${id}/accept`, { as: creator, body: {} })).status).toBe(200);
  });

  it('lists from Postgres: own tasks only, filtered and paginated newest first', async () => {
    const lister = await api.account({ role: 'client', id: `brand-${randomUUID().slice(0, 8)}` });
    await fund(lister);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await order(lister)).id);
    await order(otherClient);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { status: number; body: { items: { id: string; clientId: string }[]; nextCursor: string | null } } = await api.call(
        'GET',
        `/v1/tasks?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        { as: lister },
      );
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      for (const item of res.body.items) expect(item.clientId).toBe(lister.id);
      seen.push(...res.body.items.map((t) => t.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
    const filtered = await api.call('GET', `/v1/tasks?status=awaiting_acceptance&creatorId=${creator.id}`, { as: lister });
    expect(filtered.body.items.length).toBe(5);
    expectProblem(await api.call('GET', `/v1/tasks?clientId=${otherClient.id}`, { as: lister }), 403);
    expectProblem(await api.call('GET', '/v1/tasks?status=nope', { as: lister }), 400);
    const asOperator = await api.call('GET', `/v1/tasks?clientId=${lister.id}&limit=100`, { as: operator });
    expect(asOperator.body.items).toHaveLength(5);
  });
});

describe('actions', () => {
  it('403 for the wrong role, 409 when the action does not fit the state (with the state and reason)', async () => {
    const { id } = await order();
    expectProblem(await api.call('POST', `/v1/tasks/${id}/accept`, { as: client, body: {} }), 403, 'forbidden');
    expectProblem(await api.call('POST', `/v1/tasks/${id}/script/review`, { as: creator, body: { decision: 'pass' } }), 403, 'forbidden');
    const conflict = await api.call('POST', `/v1/tasks/${id}/content`, { as: creator, body: { body: 'cut 1' } });
    expectProblem(conflict, 409, 'invalid-state');
    expect(conflict.body).toMatchObject({ code: 'not-content-drafting', taskStatus: 'awaiting_acceptance' });
    const accepted = await api.call('POST', `/v1/tasks/${id}/accept`, { as: creator, body: {} });
    expect(accepted.status).toBe(200);
    expect(accepted.body.task.status).toBe('content_drafting');
    const twice = await api.call('POST', `/v1/tasks/${id}/accept`, { as: creator, body: {} });
    expectProblem(twice, 409, 'invalid-state');
    expect(twice.body.taskStatus).toBe('content_drafting');
    expectProblem(await api.call('POST', `/v1/tasks/${id}/content/review`, { as: operator, body: { decision: 'reject' } }), 400);
  });

  it('a retried action with the same Idempotency-Key is applied once', async () => {
    const { id } = await order();
    await api.call('POST', `/v1/tasks/${id}/accept`, { as: creator, body: {} });
    const headers = { 'idempotency-key': key() };
    const first = await api.call('POST', `/v1/tasks/${id}/content`, { as: creator, body: { body: 'cut 1' }, headers });
    const retry = await api.call('POST', `/v1/tasks/${id}/content`, { as: creator, body: { body: 'cut 1' }, headers });
    expect(first.status).toBe(200);
    expect(retry.status).toBe(200);
    expect(retry.body.task.content.revision).toBe(1);
    expect(retry.body.task.version).toBe(first.body.task.version);
  });

  it('a retried action whose first try closed the task answers as the first did (200, replayed), not 409; a new request is refused', async () => {
    const { id } = await order();
    const headers = { 'idempotency-key': key() };
    const declined = await api.call('POST', `/v1/tasks/${id}/decline`, { as: creator, body: { reason: 'Fully booked' }, headers });
    expect(declined.status).toBe(200);
    expect(declined.body.task.status).toBe('cancelled');
    // the workflow ends once the refund is projected; the retry then finds the event its first try decided
    const handle = api.env.client.workflow.getHandle(id);
    await handle.result();
    const retry = await api.call('POST', `/v1/tasks/${id}/decline`, { as: creator, body: { reason: 'Fully booked' }, headers });
    expect(retry.status).toBe(200);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body.task).toMatchObject({ status: 'cancelled', version: declined.body.task.version, cancellation: { reason: 'declined' } });
    // the same key with another body is still another request; a new key is a new request: refused
    expectProblem(await api.call('POST', `/v1/tasks/${id}/decline`, { as: creator, body: { reason: 'Other reason' }, headers }), 422);
    expectProblem(await api.call('POST', `/v1/tasks/${id}/decline`, { as: creator, body: { reason: 'Fully booked' }, headers: { 'idempotency-key': key() } }), 409, 'invalid-state');
    // one decline event, one refund
    const events = (await api.call('GET', `/v1/tasks/${id}/events`, { as: client })).body.items as { type: string }[];
    expect(events.filter((e) => e.type === 'declined')).toHaveLength(1);
  });

  it('a retried action meets a read model ahead of its workflow (shown closed, workflow running): the update is sent again, not refused', async () => {
    const { id } = await order();
    const headers = { 'idempotency-key': key() };
    const accepted = await api.call('POST', `/v1/tasks/${id}/accept`, { as: creator, body: {}, headers });
    expect(accepted.status).toBe(200);
    // what a projection stored by a workflow task Temporal then lost would look like
    const db = api.postgres.database.db;
    await db.update(tasks).set({ closedAt: new Date(), status: 'cancelled' }).where(eq(tasks.id, id));
    const retry = await api.call('POST', `/v1/tasks/${id}/accept`, { as: creator, body: {}, headers });
    expect(retry.status).toBe(200);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
    expect(retry.body.task).toMatchObject({ status: 'content_drafting', version: accepted.body.task.version });
    // a new request on the row shown closed is refused without asking Temporal, as before
    expectProblem(await api.call('POST', `/v1/tasks/${id}/decline`, { as: creator, body: { reason: 'late' }, headers: { 'idempotency-key': key() } }), 409, 'invalid-state');
  });

  it('409 on a closed task', async () => {
    const { id } = await order();
    const declined = await api.call('POST', `/v1/tasks/${id}/decline`, { as: creator, body: { reason: 'Fully booked' } });
    expect(declined.body.task.status).toBe('cancelled');
    const late = await api.call('POST', `/v1/tasks/${id}/accept`, { as: creator, body: {} });
    expectProblem(late, 409, 'invalid-state');
  });
});

describe('the Toutiao order over HTTP (R-TOUTIAO-ORDER, R-PUBLISH-TIME)', () => {
  it('R-TOUTIAO-ORDER: the article goes live first; the client rejects the live article, the creator modifies it in place, the client confirms and the task settles with the live publication time', async () => {
    const writer: UserActor = { role: 'creator', id: `writer-${randomUUID()}` };
    await api.creator(writer, { toutiao_article: 300_000 });
    const { id } = await order(client, { creatorId: writer.id, taskType: 'toutiao_article', brief: 'A column on green tea', scriptRequired: false, priceFen: 300_000 });
    const act = (as: UserActor, path: string, body: object = {}) => api.call('POST', `/v1/tasks/${id}/${path}`, { as, body });
    expect((await act(writer, 'accept')).status).toBe(200);
    const written = await act(writer, 'content', { body: 'Article, first version' });
    expect(written.body.task.status).toBe('awaiting_publication'); // no review before publication
    expectProblem(await act(client, 'content/decision', { decision: 'confirm' }), 409, 'invalid-state');
    expect((await act(writer, 'publication', { platformItemId: `tt-${id}` })).status).toBe(200);
    expect((await api.platform({ eventId: randomUUID(), taskId: id, itemId: `tt-${id}`, kind: 'published', occurredAt: new Date().toISOString() })).status).toBe(202);
    let live: { status: string; publication: { publishedAt: string | null } } | undefined;
    for (let i = 0; i < 100 && live?.status !== 'awaiting_client_acceptance'; i++) {
      live = (await api.call('GET', `/v1/tasks/${id}`, { as: client })).body.task;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(live?.status).toBe('awaiting_client_acceptance');
    const rejected = await act(client, 'content/decision', { decision: 'reject', reason: 'The tea is from Fujian, not Yunnan' });
    expect(rejected.status).toBe(200);
    expect(rejected.body.task).toMatchObject({ status: 'content_drafting', publication: { visibility: 'public' } });
    expect(rejected.body.task.publication.modificationGrantedAt).not.toBeNull();
    expect((await act(writer, 'content', { body: 'Article, second version' })).body.task.status).toBe('awaiting_publication');
    const modified = await act(writer, 'publication', { platformItemId: `tt-${id}` }); // edited in place in the MP back-end
    expect(modified.body.task.status).toBe('awaiting_client_acceptance');
    const settled = await act(client, 'content/decision', { decision: 'confirm' });
    expect(settled.status).toBe(200);
    expect(settled.body.task).toMatchObject({ status: 'in_retention', acceptance: { acceptedBy: 'client', publishTimeConfirmed: modified.body.task.publication.publishedAt } });
    expect(settled.body.task.settlement).toMatchObject({ refundFen: 0, payoutFen: 300_000 });
  });
});

describe('content platform callback', () => {
  it('refuses unsigned, wrongly signed and stale callbacks (401) and applies signed ones once', async () => {
    const { id } = await order();
    const event = { eventId: `e-${randomUUID()}`, taskId: id, itemId: 'item-9', kind: 'published', occurredAt: new Date().toISOString() };
    const unsigned = await fetch(`${api.baseUrl}/v1/platform/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(event) });
    expect(unsigned.status).toBe(401);
    expect((await api.platform(event, { secret: 'not-the-secret' })).status).toBe(401);
    expect((await api.platform(event, { timestamp: Math.floor(Date.now() / 1000) - 3600 })).status).toBe(401);
    expect((await api.platform({ ...event, kind: 'exploded' })).status).toBe(400);
    expect((await api.platform({ ...event, taskId: `tsk_${randomUUID()}` })).status).toBe(404);
    expect((await api.platform(event)).status).toBe(202);
    expect((await api.platform(event)).status).toBe(202); // redelivery
    const events = async () => (await api.call('GET', `/v1/tasks/${id}/events`, { as: client })).body.items as { type: string }[];
    for (let i = 0; i < 50 && !(await events()).some((e) => e.type === 'platform_event_ignored'); i++) await new Promise((r) => setTimeout(r, 100));
    expect((await events()).filter((e) => e.type === 'platform_event_ignored')).toHaveLength(1);
    // once the read model knows the event, a redelivery is answered without reaching the workflow:
    // a platform that redelivers by the thousand adds nothing to the task's history (issue #14)
    const handle = api.env.client.workflow.getHandle(id);
    const length = async () => (await handle.fetchHistory()).events!.length;
    // the read model is written inside the workflow task that records the ignored event: wait until that task is done
    let before = await length();
    for (let i = 0; i < 50; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const [now, { raw }] = await Promise.all([length(), handle.describe()]);
      if (now === before && raw.pendingWorkflowTask == null) break;
      before = now;
    }
    for (let i = 0; i < 5; i++) expect((await api.platform(event)).status).toBe(202);
    expect((await api.platform({ ...event, eventId: `older-${event.eventId}`, occurredAt: new Date(Date.parse(event.occurredAt) - 60_000).toISOString() })).status).toBe(202);
    expect(await length()).toBe(before);
  });

  it('stores metrics reports once per event id', async () => {
    const { id } = await order();
    const report = { eventId: `m-${randomUUID()}`, taskId: id, itemId: 'item-9', kind: 'metrics', metrics: { plays: 1200, likes: 80, comments: 9, shares: 4, observedAt: new Date().toISOString() } };
    expect((await api.platform(report)).status).toBe(202);
    expect((await api.platform(report)).status).toBe(202);
    const rows = await api.postgres.database.db.select().from(taskMetrics).where(eq(taskMetrics.taskId, id));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ plays: 1200, likes: 80, comments: 9, shares: 4 });
  });
});

it('an order whose workflow start failed is started by the orphan sweep, once', async () => {
  const id = `tsk_${randomUUID()}`;
  const db = api.postgres.database.db;
  await db.insert(tasks).values({
    id, type: 'douyin_video', clientId: client.id, creatorId: creator.id, status: 'awaiting_acceptance', brief: 'b', scriptRequired: false,
    retentionDays: 30, priceFen: 100, orderedAt: new Date(), acceptDeadline: new Date(Date.now() + 86_400_000),
    idempotencyKey: key(), requestHash: 'h', createdAt: new Date(Date.now() - 120_000),
  });
  expect(await startOrphanedTasks(db, api.env.client, TASK_QUEUE)).toBeGreaterThanOrEqual(1);
  let row = (await db.select().from(tasks).where(eq(tasks.id, id)))[0]!;
  for (let i = 0; i < 50 && row.version === 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
    row = (await db.select().from(tasks).where(eq(tasks.id, id)))[0]!;
  }
  expect(row.version).toBeGreaterThanOrEqual(1);
  expect((await api.call('GET', `/v1/tasks/${id}`, { as: client })).body.source).toBe('workflow');
  // the start is marked: a second sweep finds nothing left to start
  expect((await db.select().from(tasks).where(eq(tasks.id, id)))[0]!.workflowStartedAt).not.toBeNull();
  const again = await unstartedTasks(db, 60_000, 10_000);
  expect(again.map((t) => t.id)).not.toContain(id);
});

describe('engine 6: the order is the read model\'s event 1 from its own transaction (issue #14)', () => {
  const db = () => api.postgres.database.db;
  const rowOf = async (id: string) => (await db().select().from(tasks).where(eq(tasks.id, id)))[0]!;
  const eventsOfTask = (id: string) => db().select().from(taskEvents).where(eq(taskEvents.taskId, id)).orderBy(taskEvents.seq);
  const messagesOf = (id: string) => db().select().from(notifications).where(eq(notifications.taskId, id));
  const eventTypes = async (id: string) => {
    const history = await api.env.client.workflow.getHandle(id).fetchHistory();
    return (history.events ?? []).map((e) => proto.temporal.api.enums.v1.EventType[e.eventType ?? 0]!.replace(/^EVENT_TYPE_/, ''));
  };

  it('R-ESCROW, R-ORDER-FIELDS: the 201 finds the row at version 1 with the event, the arrival SMS and the escrow; the workflow holds the same state and projects from event 2', async () => {
    const { id } = await order();
    const row = await rowOf(id);
    // written by the order's transaction, not by the workflow
    expect(row.version).toBe(1);
    expect(row.snapshot).toMatchObject({ taskId: id, status: 'awaiting_acceptance', version: 1, priceFen: 880_000 });
    expect((await eventsOfTask(id)).map((e) => [e.seq, e.type, e.occurredAt.toISOString()])).toEqual([[1, 'ordered', row.orderedAt.toISOString()]]);
    expect((await messagesOf(id)).map((m) => [m.key, m.recipientRole, m.recipientId])).toEqual([[`${id}:1`, 'creator', creator.id]]);
    // the workflow reached the snapshot's state from the same order, without projecting it again
    const handle = api.env.client.workflow.getHandle(id);
    expect(await handle.query(taskStateQuery)).toEqual(row.snapshot);
    await until(() => rowOf(id), (r) => r.workflowStartedAt !== null, 50, 40);
    const accepted = await api.call('POST', `/v1/tasks/${id}/accept`, { as: creator, body: {}, headers: { 'idempotency-key': key() } });
    expect(accepted.status).toBe(200);
    expect((await eventsOfTask(id)).map((e) => [e.seq, e.type])).toEqual([[1, 'ordered'], [2, 'accepted']]);
    expect((await messagesOf(id)).filter((m) => m.key === `${id}:1`)).toHaveLength(1);
    expect((await rowOf(id)).version).toBe(2);
    // the first workflow task ran no local activity: the only marker of the order's task is none, the acceptance's is the first
    const types = await eventTypes(id);
    expect(types.indexOf('MARKER_RECORDED')).toBeGreaterThan(types.indexOf('WORKFLOW_EXECUTION_UPDATE_ACCEPTED'));
  });

  it('an order placed while Temporal is unreachable is recorded whole (503); a retry with its key starts it; the sweep starts one nobody retries; nothing is written twice', async () => {
    const { Client, Connection } = await import('@temporalio/client');
    const { startApi } = await import('../../api/main.js');
    const jwtSecret = 'engine-6-outage-secret-engine-6-outage';
    const server = await startApi({ db: db(), temporal: new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) }), port: 0, jwtSecret, platformSecret: api.platformSecret });
    const keys = [key(), key()];
    let placed: string[] = [];
    try {
      const token = await createAuth(jwtSecret).sign(client);
      placed = await Promise.all(
        keys.map(async (k) => {
          const res = await fetch(`http://127.0.0.1:${(server.address() as { port: number }).port}/v1/tasks`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': k },
            body: JSON.stringify(orderBody({ brief: 'ordered during an outage' })),
          });
          expect(res.status).toBe(503);
          return ((await res.json()) as { taskId: string }).taskId;
        }),
      );
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    for (const id of placed) {
      const row = await rowOf(id);
      expect(row).toMatchObject({ version: 1, status: 'awaiting_acceptance', workflowStartedAt: null });
      expect((await eventsOfTask(id)).map((e) => e.type)).toEqual(['ordered']);
      expect(await messagesOf(id)).toHaveLength(1);
    }
    // the client retries the first with its key on a healthy API: the same task, started now
    const retried = await api.call('POST', '/v1/tasks', { as: client, body: orderBody({ brief: 'ordered during an outage' }), headers: { 'idempotency-key': keys[0]! } });
    expect(retried.status).toBe(200);
    expect(retried.body.id).toBe(placed[0]);
    // nobody retries the second: the sweep starts it once it is older than the grace
    await db().update(tasks).set({ createdAt: new Date(Date.now() - 120_000) }).where(eq(tasks.id, placed[1]!));
    expect(await startOrphanedTasks(db(), api.env.client, TASK_QUEUE)).toBeGreaterThanOrEqual(1);
    for (const id of placed) {
      expect((await until(() => rowOf(id), (r) => r.workflowStartedAt !== null, 50, 40)).workflowStartedAt).not.toBeNull();
      const accepted = await api.call('POST', `/v1/tasks/${id}/accept`, { as: creator, body: {}, headers: { 'idempotency-key': key() } });
      expect(accepted.status).toBe(200);
      expect((await eventsOfTask(id)).map((e) => [e.seq, e.type])).toEqual([[1, 'ordered'], [2, 'accepted']]);
      expect(await messagesOf(id).then((ms) => ms.filter((m) => m.key === `${id}:1`))).toHaveLength(1);
      expect(await api.env.client.workflow.getHandle(id).query(taskStateQuery)).toEqual((await rowOf(id)).snapshot);
    }
    // both started, none twice: the sweep finds nothing more
    expect((await unstartedTasks(db(), 0, 10_000)).map((t) => t.id).filter((id) => placed.includes(id))).toEqual([]);
  });
});

it('a task whose workflow is gone (deleted after the namespace retention) is served from the read model, to its parties only', async () => {
  // a task the read model holds but Temporal no longer does: projected as the workflow would have, never started here
  const id = `tsk_${randomUUID()}`;
  const orderedAt = Date.now() - 3_600_000;
  const state = initialState({ taskId: id, type: 'douyin_video', clientId: client.id, creatorId: creator.id, brief: 'b', scriptRequired: false, retentionDays: 30, priceFen: 880_000, orderedAt: new Date(orderedAt).toISOString() }, orderedAt);
  const events = [evolve(state, orderedEvent(state), orderedAt)];
  events.push(evolve(state, decide(state, { type: 'accept', actor: creator }, orderedAt + 60_000), orderedAt + 60_000));
  await projectTask(api.postgres.database.db, state, events);
  const detail = await api.call('GET', `/v1/tasks/${id}`, { as: client });
  expect(detail.status).toBe(200);
  expect(detail.body.source).toBe('projection');
  expect(detail.body.task).toMatchObject({ taskId: id, status: 'content_drafting', version: 2 });
  expect(detail.body.clientRating).toBeDefined();
  expect((await api.call('GET', `/v1/tasks/${id}`, { as: creator })).body.source).toBe('projection');
  expectProblem(await api.call('GET', `/v1/tasks/${id}`, { as: otherClient }), 404);
  expectProblem(await api.call('GET', `/v1/tasks/${id}`, { as: otherCreator }), 404);
});

describe('task types', () => {
  it('serves the catalogue of every task type with its stages and limits (authenticated)', async () => {
    expectProblem(await api.call('GET', '/v1/task-types'), 401);
    const res = await api.call('GET', '/v1/task-types', { as: creator });
    expect(res.status).toBe(200);
    const byId = Object.fromEntries(res.body.items.map((t: { id: string }) => [t.id, t]));
    expect(Object.keys(byId).sort()).toEqual(['douyin_video', 'toutiao_article', 'toutiao_direct_article', 'toutiao_micro_post', 'toutiao_qa', 'xigua_video']);
    expect(byId.xigua_video).toMatchObject({ publisher: 'client', retention: { min: 30, presets: [30, 60], default: 30 } });
    expect(byId.toutiao_article).toMatchObject({ draft: { kind: 'outline', clientRejectionLimit: 3 }, content: { clientRejectionLimit: 2 }, clientConfirmsPublishTime: true });
    expect(byId.toutiao_article.stages).toContain('client_confirms_publish_time_and_settles');
  });

  it('R-RETENTION-XIGUA: a Xigua order with less than 30 days of retention is refused (422) and creates nothing', async () => {
    const before = await taskCount();
    const res = await api.call('POST', '/v1/tasks', { as: client, body: orderBody({ taskType: 'xigua_video', retentionDays: 15 }), headers: { 'idempotency-key': key() } });
    expectProblem(res, 422, 'rule-violation');
    expect(res.body).toMatchObject({ code: 'retention-below-minimum', minimum: 30 });
    expect(await taskCount()).toBe(before);
    const ok = await api.call('POST', '/v1/tasks', { as: client, body: orderBody({ taskType: 'xigua_video' }), headers: { 'idempotency-key': key() } });
    expect(ok.body).toMatchObject({ type: 'xigua_video', retentionDays: 30 });
  });

  it('R-SCRIPT-FLOW: ordering an outline for a type without one is a 400', async () => {
    const res = await api.call('POST', '/v1/tasks', { as: client, body: orderBody({ taskType: 'toutiao_qa', scriptRequired: true }), headers: { 'idempotency-key': key() } });
    expectProblem(res, 400);
    expect(res.body.code).toBe('no-draft-stage');
  });
});

it('serves the OpenAPI 3.1 document generated from the schemas', async () => {
  const res = await api.call('GET', '/openapi.json');
  expect(res.status).toBe(200);
  expect(res.body.openapi).toBe('3.1.0');
  expect(Object.keys(res.body.paths)).toEqual(expect.arrayContaining(['/v1/tasks', '/v1/tasks/{taskId}', '/v1/tasks/{taskId}/accept', '/v1/platform/events', '/v1/task-types', '/v1/wallets/me', '/v1/wallets/me/top-ups', '/v1/wallets/me/withdrawals']));
  expect(res.body.components.schemas.CreateTask.required).toEqual(expect.arrayContaining(['creatorId', 'taskType', 'brief', 'scriptRequired']));
  expectProblem(await api.call('GET', '/nowhere'), 404, 'not-found');
});
