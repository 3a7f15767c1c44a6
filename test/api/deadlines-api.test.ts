/**
 * The endpoints that give every task an exit (R-STAGE-DEADLINE's extension,
 * R-OPERATOR-RESOLVE, R-MUTUAL-CANCEL, R-TAKEDOWN) over HTTP against the real
 * stack: 400 / 403 / 404 / 409 and the happy path of each, and the order's one
 * clock (the 201 answer, the workflow, the row and the list agree to the ms).
 */
import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserActor } from '../../api/auth.js';
import { account, balanceOf } from '../../db/ledger.js';
import { tasks } from '../../db/schema/index.js';
import { TASK_QUEUE } from '../../temporal/config.js';
import { startOrphanedTasks } from '../../temporal/tasks.js';
import { startApiStack, type ApiStack } from '../helpers/apiStack.js';
import { until } from '../helpers/poll.js';

let api: ApiStack;
const client: UserActor = { role: 'client', id: 'brand-d' };
const otherClient: UserActor = { role: 'client', id: 'brand-e' };
const creator: UserActor = { role: 'creator', id: 'creator-d' };
const operator: UserActor = { role: 'operator', id: 'op-d' };
const PRICE = 500_000;

beforeAll(async () => {
  api = await startApiStack();
  await Promise.all([client, otherClient, operator].map((a) => api.account(a)));
  await api.creator(creator, { douyin_video: PRICE });
  await api.fund(client, 100_000_000);
});
afterAll(async () => api?.stop());

const key = () => ({ 'idempotency-key': `k-${randomUUID()}` });
const post = (path: string, as: UserActor, body: unknown) => api.call('POST', path, { as, body, headers: key() });
async function order(body: Record<string, unknown> = {}) {
  const res = await post('/v1/tasks', client, { creatorId: creator.id, taskType: 'douyin_video', brief: 'Unboxing', scriptRequired: false, ...body });
  expect(res.status).toBe(201);
  return res.body as { id: string; orderedAt: string; acceptDeadline: string };
}
function expectProblem(res: { status: number; type: string; body: any }, status: number, code?: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.type).toMatch(/^application\/problem\+json/);
  if (code) expect(res.body.code).toBe(code);
}

describe('one clock for the order (issue #10)', () => {
  it('R-ACCEPT-24H: the 201 answer, the workflow, the row and the list give the same orderedAt and acceptDeadline, to the millisecond', async () => {
    const placed = await order({ draftDays: 5 });
    expect(Date.parse(placed.acceptDeadline) - Date.parse(placed.orderedAt)).toBe(24 * 3600_000);
    const detail = await until(() => api.call('GET', `/v1/tasks/${placed.id}`, { as: client }), (r) => r.status === 200, 100, 50);
    expect(detail.body.task.orderedAt).toBe(placed.orderedAt);
    expect(detail.body.task.acceptDeadline).toBe(placed.acceptDeadline);
    expect(detail.body.task.draftDays).toBe(5);
    const [row] = await until(() => api.postgres.database.db.select().from(tasks).where(eq(tasks.id, placed.id)), (r) => (r[0]?.version ?? 0) > 0, 100, 50);
    expect(row!.orderedAt.toISOString()).toBe(placed.orderedAt);
    expect(row!.acceptDeadline.toISOString()).toBe(placed.acceptDeadline);
    const list = await api.call('GET', '/v1/tasks?limit=100', { as: client });
    const listed = list.body.items.find((t: { id: string }) => t.id === placed.id);
    expect(listed).toMatchObject({ orderedAt: placed.orderedAt, acceptDeadline: placed.acceptDeadline });
  });

  it('R-ACCEPT-24H: a task started late by the sweep keeps the order time and its 24-hour deadline', async () => {
    const db = api.postgres.database.db;
    const id = `tsk_${randomUUID()}`;
    const orderedAt = new Date(Date.now() - 90_000);
    await db.insert(tasks).values({
      id, type: 'douyin_video', clientId: client.id, creatorId: creator.id, status: 'awaiting_acceptance', brief: 'late start', scriptRequired: false,
      retentionDays: 30, priceFen: PRICE, orderedAt, acceptDeadline: new Date(orderedAt.getTime() + 24 * 3600_000), idempotencyKey: `late-${id}`, requestHash: 'x',
      createdAt: orderedAt,
    });
    expect(await startOrphanedTasks(db, api.env.client, TASK_QUEUE, 60_000)).toBeGreaterThanOrEqual(1);
    const detail = await until(() => api.call('GET', `/v1/tasks/${id}`, { as: client }), (r) => r.status === 200 && r.body.source === 'workflow', 100, 50);
    expect(detail.body.task.orderedAt).toBe(orderedAt.toISOString());
    expect(detail.body.task.acceptDeadline).toBe(new Date(orderedAt.getTime() + 24 * 3600_000).toISOString());
    const [row] = await until(() => db.select().from(tasks).where(eq(tasks.id, id)), (r) => (r[0]?.version ?? 0) > 0, 100, 50);
    expect(row!.orderedAt.toISOString()).toBe(orderedAt.toISOString());
  });
});

describe('POST /v1/tasks/{id}/draft-deadline (R-STAGE-DEADLINE)', () => {
  it('400 bad days, 403 creator, 404 another client, 409 before drafting; 200 moves the deadline', async () => {
    const { id } = await order({ draftDays: 3 });
    const path = `/v1/tasks/${id}/draft-deadline`;
    expectProblem(await post(path, client, { days: 2 }), 409, 'not-drafting');
    await post(`/v1/tasks/${id}/accept`, creator, {});
    expectProblem(await post(path, client, { days: 0 }), 400);
    expectProblem(await post(path, client, {}), 400);
    expectProblem(await post(path, creator, { days: 2 }), 403);
    expectProblem(await post(path, otherClient, { days: 2 }), 404);
    const before = (await api.call('GET', `/v1/tasks/${id}`, { as: client })).body.task;
    const res = await post(path, client, { days: 2 });
    expect(res.status).toBe(200);
    expect(Date.parse(res.body.task.phase.dueAt) - Date.parse(before.phase.dueAt)).toBe(2 * 86_400_000);
  });
});

describe('POST /v1/tasks/{id}/resolution (R-OPERATOR-RESOLVE)', () => {
  it('400 bad outcome or refund, 403 client, 404 unknown; 200 cancels with a partial refund; 409 once closed', async () => {
    const { id } = await order();
    const path = `/v1/tasks/${id}/resolution`;
    expectProblem(await post(path, operator, { outcome: 'explode', reason: 'x' }), 400);
    expectProblem(await post(path, operator, { outcome: 'cancel', reason: 'x', refundFen: PRICE + 1 }), 400);
    expectProblem(await post(path, operator, { outcome: 'cancel' }), 400);
    expectProblem(await post(path, client, { outcome: 'cancel', reason: 'x' }), 403);
    expectProblem(await post(`/v1/tasks/tsk_${randomUUID()}/resolution`, operator, { outcome: 'cancel', reason: 'x' }), 404);
    const creatorBefore = await balanceOf(api.postgres.database.db, account.creator(creator.id));
    const res = await post(path, operator, { outcome: 'cancel', reason: 'Creator unreachable', refundFen: 400_000 });
    expect(res.status).toBe(200);
    expect(res.body.task).toMatchObject({ status: 'cancelled', cancellation: { reason: 'operator_cancelled' }, settlement: { refundFen: 400_000, payoutFen: 100_000 } });
    expect(await until(() => balanceOf(api.postgres.database.db, account.creator(creator.id)), (b) => b === creatorBefore + 100_000, 100, 50)).toBe(creatorBefore + 100_000);
    expect(await until(() => balanceOf(api.postgres.database.db, account.escrow(id)), (b) => b === 0, 100, 50)).toBe(0);
    expectProblem(await post(path, operator, { outcome: 'settle', reason: 'again' }), 409);
  });
});

describe('POST /v1/tasks/{id}/cancellation and /cancellation/answer (R-MUTUAL-CANCEL)', () => {
  it('409 before acceptance, 400 without reason, 403 operator, 404 another client; propose, 409 a second proposal, 409 answering one\'s own; the other party agrees: 100 % refund', async () => {
    const { id } = await order();
    const path = `/v1/tasks/${id}/cancellation`;
    expectProblem(await post(path, client, { reason: 'changed plans' }), 409, 'not-accepted-yet');
    await post(`/v1/tasks/${id}/accept`, creator, {});
    expectProblem(await post(path, client, {}), 400);
    expectProblem(await post(path, operator, { reason: 'x' }), 403);
    expectProblem(await post(path, otherClient, { reason: 'x' }), 404);
    expectProblem(await post(`${path}/answer`, creator, { agree: true }), 409, 'no-open-proposal');
    const proposed = await post(path, client, { reason: 'changed plans' });
    expect(proposed.status).toBe(200);
    expect(proposed.body.task.proposal).toMatchObject({ by: 'client', refundFen: PRICE, payoutFen: 0 });
    expectProblem(await post(path, creator, { reason: 'me too' }), 409, 'proposal-open');
    expectProblem(await post(`${path}/answer`, client, { agree: true }), 409, 'own-proposal');
    expectProblem(await post(`${path}/answer`, creator, { agree: false }), 400);
    const agreed = await post(`${path}/answer`, creator, { agree: true });
    expect(agreed.status).toBe(200);
    expect(agreed.body.task).toMatchObject({ status: 'cancelled', cancellation: { reason: 'mutually_cancelled' }, settlement: { refundFen: PRICE, payoutFen: 0 } });
  });
});

describe('POST /v1/tasks/{id}/takedown and /takedown/answer (R-TAKEDOWN)', () => {
  it('409 outside retention, 403 for a client asking; in retention the creator asks and the client agrees: retention ends with no violation', async () => {
    const { id } = await order();
    const path = `/v1/tasks/${id}/takedown`;
    await post(`/v1/tasks/${id}/accept`, creator, {});
    expectProblem(await post(path, creator, { reason: 'rebrand' }), 409, 'not-in-retention');
    expectProblem(await post(path, client, { reason: 'x' }), 403);
    expectProblem(await post(path, otherClient, { reason: 'x' }), 403);
    await post(`/v1/tasks/${id}/content`, creator, { body: 'video' });
    await post(`/v1/tasks/${id}/content/review`, operator, { decision: 'pass' });
    await post(`/v1/tasks/${id}/content/decision`, client, { decision: 'confirm' });
    await post(`/v1/tasks/${id}/publication`, creator, { platformItemId: `dy-${id}` });
    expect((await api.platform({ eventId: randomUUID(), taskId: id, itemId: `dy-${id}`, kind: 'published', occurredAt: new Date().toISOString() })).status).toBe(202);
    await until(() => api.call('GET', `/v1/tasks/${id}`, { as: client }), (r) => r.body.task?.status === 'awaiting_client_acceptance', 100, 50);
    expect((await post(`/v1/tasks/${id}/acceptance`, client, {})).status).toBe(200);
    expectProblem(await post(`${path}/answer`, client, { agree: true }), 409, 'no-open-takedown');
    expect((await post(path, creator, { reason: 'rebrand' })).status).toBe(200);
    expectProblem(await post(`${path}/answer`, creator, { agree: true }), 403);
    const agreed = await post(`${path}/answer`, client, { agree: true });
    expect(agreed.status).toBe(200);
    expect(agreed.body.task).toMatchObject({ status: 'completed', completion: { kind: 'taken_down' }, retention: { violations: 0 } });
  });
});

describe('one bad byte cannot stop a task (issue #12, item 1)', () => {
  it('NUL and unpaired surrogates in any body or query string → 400 problem+json, and nothing changes; the workflow refuses them too', async () => {
    const { id } = await order({ scriptRequired: true });
    await post(`/v1/tasks/${id}/accept`, creator, {});
    const before = (await api.call('GET', `/v1/tasks/${id}`, { as: client })).body.task.version;
    for (const bad of ['a\u0000', 'x\uD800', '\uDC00y']) {
      expectProblem(await post(`/v1/tasks/${id}/script`, creator, { body: bad }), 400, 'invalid-characters');
      expectProblem(await post(`/v1/tasks/${id}/cancellation`, client, { reason: bad }), 400, 'invalid-characters');
    }
    expectProblem(await api.call('GET', '/v1/tasks?status=a%00', { as: client }), 400, 'invalid-characters');
    expectProblem(await post('/v1/tasks', client, { creatorId: creator.id, taskType: 'douyin_video', brief: 'a\u0000b', scriptRequired: false }), 400, 'invalid-characters');
    // a paired surrogate (an emoji) is fine
    expect((await post(`/v1/tasks/${id}/script`, creator, { body: 'script 🎬' })).status).toBe(200);
    const after = (await api.call('GET', `/v1/tasks/${id}`, { as: client })).body.task;
    expect(after.version).toBe(before + 1);
    // the workflow's own validator refuses such text (defence in depth: nothing reaches history)
    const refused = await api.env.client.workflow
      .getHandle(id)
      .executeUpdate('submitScript', { args: [{ actor: creator, body: 'b\u0000' }] })
      .then(() => null, (err: { cause?: { type?: string } }) => err.cause?.type);
    expect(refused).toBe('invalid_input');
  });
});

describe('outages are answered honestly (issue #12, item 7)', () => {
  it('with Temporal unreachable: actions and orders answer 503 + Retry-After within the deadline, GET task serves the stored snapshot, /readyz is 503 and /livez 200', async () => {
    const { id } = await order();
    await until(() => api.call('GET', `/v1/tasks/${id}`, { as: client }), (r) => r.body?.task?.version >= 1, 100, 50);
    // a second API over the same database whose Temporal is a closed port
    const { Client, Connection } = await import('@temporalio/client');
    const { startApi } = await import('../../api/main.js');
    const { createAuth } = await import('../../api/auth.js');
    const connection = Connection.lazy({ address: '127.0.0.1:1' });
    const jwtSecret = 'outage-test-secret-outage-test-secret';
    const server = await startApi({ db: api.postgres.database.db, temporal: new Client({ connection }), port: 0, jwtSecret, platformSecret: api.platformSecret });
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const auth = createAuth(jwtSecret);
    const call = async (method: string, path: string, as: UserActor | null, body?: unknown) => {
      const started = Date.now();
      const res = await fetch(`${base}${path}`, {
        method,
        headers: { ...(as ? { authorization: `Bearer ${await auth.sign(as)}` } : {}), 'content-type': 'application/json', 'idempotency-key': `o-${randomUUID()}` },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      return { status: res.status, retryAfter: res.headers.get('retry-after'), type: res.headers.get('content-type') ?? '', body: (await res.json()) as any, ms: Date.now() - started };
    };
    try {
      const accept = await call('POST', `/v1/tasks/${id}/accept`, creator, {});
      expect(accept.status).toBe(503);
      expect(accept.type).toMatch(/problem\+json/);
      expect(accept.retryAfter).toBe('5');
      expect(accept.ms).toBeLessThan(10_000);
      const placed = await call('POST', '/v1/tasks', client, { creatorId: creator.id, taskType: 'douyin_video', brief: 'during the outage', scriptRequired: false });
      expect(placed.status).toBe(503);
      expect(placed.retryAfter).toBe('5');
      const detail = await call('GET', `/v1/tasks/${id}`, client);
      expect(detail.status).toBe(200);
      expect(detail.body.source).toBe('snapshot');
      expect(detail.body.task.taskId).toBe(id);
      expect(detail.ms).toBeLessThan(10_000);
      const ready = await call('GET', '/readyz', null);
      expect(ready.status).toBe(503);
      expect(ready.retryAfter).toBe('5');
      expect(ready.body.checks).toEqual({ postgres: true, temporal: false });
      expect((await call('GET', '/livez', null)).status).toBe(200);
      // the real API is ready
      expect((await api.call('GET', '/readyz')).status).toBe(200);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      // the connection is left to its deadline: closing it under a pending gRPC retry throws from a timer
      void connection;
    }
  });
});

describe('money and appeals while Temporal is away', () => {
  it('a withdrawal and an appeal answer 503 + Retry-After within the deadline, keep what they recorded, and a retry with the key completes them once', async () => {
    const db = api.postgres.database.db;
    const { holdEscrow, paidTopUp, settleEscrow } = await import('../../db/ledger.js');
    const { applyCreditChange } = await import('../../db/credit.js');
    const { creditEvents, withdrawals, appeals } = await import('../../db/schema/index.js');
    const earner: UserActor = { role: 'creator', id: `creator-o-${randomUUID().slice(0, 8)}` };
    await api.creator(earner, { douyin_video: PRICE });
    const taskId = `task-o-${randomUUID()}`;
    await db.transaction(async (tx) => {
      await paidTopUp(tx, 'payer-o', 50_000, `topup:${taskId}`);
      await holdEscrow(tx, taskId, 'payer-o', 50_000);
    });
    await settleEscrow(db, { taskId, clientId: 'payer-o', creatorId: earner.id, outcome: 'payout' });
    const creditKey = `card:outage-${randomUUID()}`;
    await applyCreditChange(db, { key: creditKey, creatorId: earner.id, delta: -20, cause: 'card', reason: 'yellow card', actor: operator, occurredAt: new Date() });
    const [deduction] = await db.select().from(creditEvents).where(eq(creditEvents.key, creditKey));

    const { Client, Connection } = await import('@temporalio/client');
    const { startApi } = await import('../../api/main.js');
    const { createAuth } = await import('../../api/auth.js');
    const connection = Connection.lazy({ address: '127.0.0.1:1' });
    const jwtSecret = 'outage-test-secret-outage-test-secret';
    const server = await startApi({ db, temporal: new Client({ connection }), port: 0, jwtSecret, platformSecret: api.platformSecret });
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const auth = createAuth(jwtSecret);
    const during = async (path: string, body: unknown, idempotencyKey: string) => {
      const started = Date.now();
      const res = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await auth.sign(earner)}`, 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
        body: JSON.stringify(body),
      });
      return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as any, ms: Date.now() - started };
    };
    const withdrawalKey = `w-${randomUUID()}`;
    const appealKey = `a-${randomUUID()}`;
    const appealBody = { creditEventId: deduction!.id, reason: 'Force majeure: the venue flooded' };
    try {
      const withdrawal = await during('/v1/wallets/me/withdrawals', { amountFen: 30_000 }, withdrawalKey);
      expect(withdrawal).toMatchObject({ status: 503, retryAfter: '5', body: { code: 'temporal-unavailable' } });
      expect(withdrawal.ms).toBeLessThan(10_000);
      expect(withdrawal.body.withdrawalId).toEqual(expect.any(String));
      const appeal = await during('/v1/appeals', appealBody, appealKey);
      expect(appeal).toMatchObject({ status: 503, retryAfter: '5', body: { code: 'temporal-unavailable' } });
      expect(appeal.ms).toBeLessThan(10_000);
      // recorded: the hold and the appeal are kept
      expect((await db.select().from(withdrawals).where(eq(withdrawals.id, withdrawal.body.withdrawalId))).length).toBe(1);
      expect((await db.select().from(appeals).where(eq(appeals.id, appeal.body.appealId))).length).toBe(1);
      expect(await balanceOf(db, account.creator(earner.id))).toBe(20_000);

      // Temporal back (the real API): the same requests with their keys complete, once
      const again = await api.call('POST', '/v1/wallets/me/withdrawals', { as: earner, body: { amountFen: 30_000 }, headers: { 'idempotency-key': withdrawalKey } });
      expect(again.status).toBe(202);
      expect(again.body.withdrawalId).toBe(withdrawal.body.withdrawalId);
      expect(await balanceOf(db, account.creator(earner.id))).toBe(20_000);
      const filed = await api.call('POST', '/v1/appeals', { as: earner, body: appealBody, headers: { 'idempotency-key': appealKey } });
      expect(filed.status).toBe(201);
      expect(filed.body.id).toBe(appeal.body.appealId);
      const paid = await until(
        async () => (await api.call('GET', `/v1/wallets/me/withdrawals/${withdrawal.body.withdrawalId}`, { as: earner })).body,
        (w) => w.status !== 'pending',
      );
      expect(paid.status).toBe('paid');
      // another request for the same deduction, with another key, is still refused
      const second = await api.call('POST', '/v1/appeals', { as: earner, body: appealBody, headers: { 'idempotency-key': `a-${randomUUID()}` } });
      expect(second.status).toBe(409);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      void connection;
    }
  });
});

describe('a withdrawal hold is never stranded (issue #12, item 3)', () => {
  it('a hold committed while its workflow never started is paid out by the sweep, once', async () => {
    const db = api.postgres.database.db;
    const { EXTERNAL, holdWithdrawal, transfer } = await import('../../db/ledger.js');
    const { withdrawals } = await import('../../db/schema/index.js');
    const { startOrphanedWithdrawals } = await import('../../temporal/withdrawals.js');
    const wallet = account.creator(`creator-wd-${randomUUID().slice(0, 8)}`);
    const id = `wd_${randomUUID()}`;
    await db.transaction(async (tx) => {
      await transfer(tx, { id: `earned:${id}`, from: EXTERNAL, to: wallet, amountFen: 30_000, kind: 'top_up' });
      await holdWithdrawal(tx, id, wallet, 30_000);
    });
    await db.update(withdrawals).set({ createdAt: new Date(Date.now() - 120_000) }).where(eq(withdrawals.id, id));
    expect(await startOrphanedWithdrawals(db, api.env.client, TASK_QUEUE, 60_000)).toBeGreaterThanOrEqual(1);
    const paid = await until(() => db.select().from(withdrawals).where(eq(withdrawals.id, id)), (r) => r[0]?.status === 'paid', 200, 50);
    expect(paid[0]!.status).toBe('paid');
    await startOrphanedWithdrawals(db, api.env.client, TASK_QUEUE, 60_000); // a second sweep changes nothing
    expect(await balanceOf(db, wallet)).toBe(0);
    expect(api.payouts.paid.filter((p: { idempotencyKey: string }) => p.idempotencyKey === id)).toHaveLength(1);
  });

  it('the sweep walks every pending withdrawal, a page at a time: a stranded one behind a full page is started too', async () => {
    const db = api.postgres.database.db;
    const { EXTERNAL, holdWithdrawal, transfer } = await import('../../db/ledger.js');
    const { withdrawals } = await import('../../db/schema/index.js');
    const { startOrphanedWithdrawals } = await import('../../temporal/withdrawals.js');
    const { newId } = await import('../../api/ids.js');
    const wallet = account.creator(`creator-wp-${randomUUID().slice(0, 8)}`);
    const ids = [1, 2, 3, 4, 5].map((i) => newId('wd', Date.now() - 300_000 + i));
    await db.transaction(async (tx) => {
      await transfer(tx, { id: `earned:${ids[0]}`, from: EXTERNAL, to: wallet, amountFen: 5 * 1_000, kind: 'top_up' });
      for (const id of ids) await holdWithdrawal(tx, id, wallet, 1_000);
    });
    for (const id of ids) await db.update(withdrawals).set({ createdAt: new Date(Date.now() - 120_000) }).where(eq(withdrawals.id, id));
    // pages of 2: five pending withdrawals of this wallet (and any other test's) all started
    await startOrphanedWithdrawals(db, api.env.client, TASK_QUEUE, 60_000, 2);
    const done = await until(
      () => db.select().from(withdrawals).where(eq(withdrawals.accountId, wallet)),
      (rows) => rows.length === 5 && rows.every((r) => r.status === 'paid'),
      200,
      50,
    );
    expect(done.map((r) => r.status)).toEqual(['paid', 'paid', 'paid', 'paid', 'paid']);
    for (const id of ids) expect(api.payouts.paid.filter((p: { idempotencyKey: string }) => p.idempotencyKey === id)).toHaveLength(1);
  });
});
