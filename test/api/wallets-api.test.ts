/**
 * Money over HTTP on the real stack: escrow at ordering, refunds and payouts,
 * top-ups and withdrawals (a withdrawal workflow against the fake payout
 * provider), idempotency keys, statements.
 */
import { randomUUID } from 'node:crypto';
import { count, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserActor } from '../../api/auth.js';
import { account, balanceOf, holdEscrow, settleEscrow, topUp } from '../../db/ledger.js';
import { tasks } from '../../db/schema/index.js';
import { startApiStack, type ApiStack } from '../helpers/apiStack.js';
import { until } from '../helpers/poll.js';

let api: ApiStack;
beforeAll(async () => {
  api = await startApiStack();
  await api.account(operator);
  await api.creator({ role: 'creator', id: 'creator-x' }, { douyin_video: 50_000 });
});
afterAll(async () => api?.stop());

const db = () => api.postgres.database.db;
const uid = (p: string) => `${p}-${randomUUID().slice(0, 8)}`;
const key = () => `k-${randomUUID()}`;
const operator: UserActor = { role: 'operator', id: 'op-1' };

async function topUpViaApi(as: UserActor, amountFen: number, k = key()) {
  return api.call('POST', '/v1/wallets/me/top-ups', { as, body: { amountFen }, headers: { 'idempotency-key': k } });
}
const balance = async (as: UserActor) => (await api.call('GET', '/v1/wallets/me', { as })).body.balanceFen as number;
/** A creator earns `amount` the way the workflow pays: escrow, then payout. */
async function earn(creatorId: string, amountFen: number) {
  const payer = uid('payer');
  const taskId = uid('task');
  await db().transaction(async (tx) => {
    await topUp(tx, payer, amountFen, `topup:${taskId}`);
    await holdEscrow(tx, taskId, payer, amountFen);
  });
  await settleEscrow(db(), { taskId, clientId: payer, creatorId, outcome: 'payout' });
}

describe('escrow (R-ESCROW)', () => {
  it('an order without enough money is a 422 and starts no task; with money the price moves into escrow', async () => {
    const client: UserActor = { role: 'client', id: uid('brand') };
    await api.account(client);
    const body = { creatorId: 'creator-x', taskType: 'douyin_video', brief: 'b', scriptRequired: false, priceFen: 50_000 };
    const tasksBefore = (await db().select({ n: count() }).from(tasks))[0]!.n;
    const poor = await api.call('POST', '/v1/tasks', { as: client, body, headers: { 'idempotency-key': key() } });
    expect(poor.status).toBe(422);
    expect(poor.body).toMatchObject({ code: 'insufficient-funds', balanceFen: 0, neededFen: 50_000 });
    expect((await db().select({ n: count() }).from(tasks))[0]!.n).toBe(tasksBefore);

    await topUpViaApi(client, 80_000);
    const ordered = await api.call('POST', '/v1/tasks', { as: client, body, headers: { 'idempotency-key': key() } });
    expect(ordered.status).toBe(201);
    expect(await balance(client)).toBe(30_000);
    expect(await balanceOf(db(), account.escrow(ordered.body.id))).toBe(50_000);

    // cancellation refunds in full: the creator declines
    await api.call('POST', `/v1/tasks/${ordered.body.id}/decline`, { as: { role: 'creator', id: 'creator-x' }, body: { reason: 'Booked' } });
    expect(await until(() => balance(client), (b) => b === 80_000)).toBe(80_000);
    expect(await balanceOf(db(), account.escrow(ordered.body.id))).toBe(0);
    const statement = await api.call('GET', '/v1/wallets/me/transfers', { as: client });
    expect(statement.body.items.map((t: { kind: string; direction: string; taskId: string | null }) => [t.kind, t.direction, t.taskId])).toEqual([
      ['escrow_refund', 'in', ordered.body.id],
      ['escrow_hold', 'out', ordered.body.id],
      ['top_up', 'in', null],
    ]);
  });
});

describe('top-ups', () => {
  it('the same Idempotency-Key and body returns the first response and credits once; another body is a 422', async () => {
    const client: UserActor = { role: 'client', id: uid('brand') };
    await api.account(client);
    const k = key();
    const first = await topUpViaApi(client, 10_000, k);
    const again = await topUpViaApi(client, 10_000, k);
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(await balance(client)).toBe(10_000);
    const other = await topUpViaApi(client, 99, k);
    expect(other.status).toBe(422);
    expect(other.body.code).toBe('idempotency-key-reused');
    expect((await topUpViaApi(client, 10.5)).status).toBe(400);
    expect((await api.call('POST', '/v1/wallets/me/top-ups', { as: client, body: { amountFen: 5 } })).status).toBe(400); // no key
    expect((await topUpViaApi(await api.account({ role: 'creator', id: uid('k') }), 5)).status).toBe(403);
    expect(await balance(client)).toBe(10_000);
  });
});

describe('withdrawals', () => {
  it('a creator withdraws: the amount is held while the payout runs, then paid out once', async () => {
    const creator: UserActor = { role: 'creator', id: uid('creator') };
    await api.account(creator);
    await earn(creator.id, 70_000);
    const k = key();
    const res = await api.call('POST', '/v1/wallets/me/withdrawals', { as: creator, body: { amountFen: 50_000 }, headers: { 'idempotency-key': k } });
    expect(res.status).toBe(202);
    expect(await balance(creator)).toBe(20_000); // held at once
    const status = await until(
      async () => (await api.call('GET', `/v1/wallets/me/withdrawals/${res.body.withdrawalId}`, { as: creator })).body,
      (w) => w.status !== 'pending',
    );
    expect(status).toMatchObject({ status: 'paid', amountFen: 50_000 });
    const retried = await api.call('POST', '/v1/wallets/me/withdrawals', { as: creator, body: { amountFen: 50_000 }, headers: { 'idempotency-key': k } });
    expect(retried.body.withdrawalId).toBe(res.body.withdrawalId);
    expect(api.payouts.paid.filter((p) => p.idempotencyKey === res.body.withdrawalId)).toHaveLength(1);
    expect(await balance(creator)).toBe(20_000);
  });

  it('a payout the provider refuses returns the money to the wallet', async () => {
    const creator: UserActor = { role: 'creator', id: uid('creator') };
    await api.account(creator);
    await earn(creator.id, 40_000);
    api.payouts.rejectNext(1);
    const res = await api.call('POST', '/v1/wallets/me/withdrawals', { as: creator, body: { amountFen: 40_000 }, headers: { 'idempotency-key': key() } });
    expect(res.status).toBe(202);
    const status = await until(
      async () => (await api.call('GET', `/v1/wallets/me/withdrawals/${res.body.withdrawalId}`, { as: creator })).body,
      (w) => w.status !== 'pending',
    );
    expect(status).toMatchObject({ status: 'failed', failureReason: 'bank account closed' });
    expect(await balance(creator)).toBe(40_000);
  });

  it('R-PAYOUT: an MCN creator is paid into the MCN wallet and cannot withdraw; the MCN can', async () => {
    const creator: UserActor = { role: 'creator', id: uid('creator') };
    await api.account(creator);
    const mcn: UserActor = { role: 'mcn', id: uid('mcn') };
    await api.account(mcn);
    expect((await api.call('PUT', `/v1/creators/${creator.id}/mcn`, { as: creator, body: { mcnId: mcn.id } })).status).toBe(403);
    expect((await api.call('PUT', `/v1/creators/${creator.id}/mcn`, { as: operator, body: { mcnId: mcn.id } })).status).toBe(200);
    await earn(creator.id, 30_000);
    expect(await balance(creator)).toBe(0);
    expect(await balance(mcn)).toBe(30_000);
    expect((await api.call('GET', '/v1/wallets/me', { as: creator })).body.canWithdraw).toBe(false);
    const refused = await api.call('POST', '/v1/wallets/me/withdrawals', { as: creator, body: { amountFen: 1 }, headers: { 'idempotency-key': key() } });
    expect(refused.status).toBe(422);
    expect(refused.body.code).toBe('mcn-managed');
    const tooMuch = await api.call('POST', '/v1/wallets/me/withdrawals', { as: mcn, body: { amountFen: 30_001 }, headers: { 'idempotency-key': key() } });
    expect(tooMuch.status).toBe(422);
    expect(tooMuch.body.code).toBe('insufficient-funds');
    const ok = await api.call('POST', '/v1/wallets/me/withdrawals', { as: mcn, body: { amountFen: 30_000 }, headers: { 'idempotency-key': key() } });
    expect(ok.status).toBe(202);
    expect(await balance(mcn)).toBe(0);
    expect((await api.call('POST', '/v1/wallets/me/withdrawals', { as: await api.account({ role: 'client', id: uid('c') }), body: { amountFen: 1 }, headers: { 'idempotency-key': key() } })).status).toBe(403);
  });
});

it('statements page through transfers newest first', async () => {
  const client: UserActor = { role: 'client', id: uid('brand') };
  await api.account(client);
  for (let i = 1; i <= 5; i++) await topUpViaApi(client, i * 100);
  const amounts: number[] = [];
  let cursor: string | null = null;
  do {
    const res: { body: { items: { amountFen: number }[]; nextCursor: string | null } } = await api.call('GET', `/v1/wallets/me/transfers?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { as: client });
    amounts.push(...res.body.items.map((t) => t.amountFen));
    cursor = res.body.nextCursor;
  } while (cursor);
  expect(amounts).toEqual([500, 400, 300, 200, 100]);
  expect((await db().select().from(tasks).where(eq(tasks.clientId, client.id))).length).toBe(0);
});
