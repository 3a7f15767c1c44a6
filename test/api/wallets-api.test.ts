/**
 * Money over HTTP on the real stack: escrow at ordering, refunds and payouts,
 * top-ups and withdrawals (a withdrawal workflow against the fake payout
 * provider), idempotency keys, statements.
 */
import { createHash, randomUUID } from 'node:crypto';
import { and, count, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserActor } from '../../api/auth.js';
import type { Tx } from '../../db/client.js';
import { readBusinessGauges } from '../../db/gauges.js';
import { account, balanceOf, holdEscrow, openTopUp, settleEscrow, paidTopUp, transfer } from '../../db/ledger.js';
import { reconcileTopUps } from '../../api/wallets.js';
import { escrowReleases, idempotencyKeys, ledgerTransfers, tasks, topUps, withdrawals } from '../../db/schema/index.js';
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
async function withdrawViaApi(as: UserActor, amountFen: number, k = key()) {
  return api.call('POST', '/v1/wallets/me/withdrawals', { as, body: { amountFen }, headers: { 'idempotency-key': k } });
}
const balance = async (as: UserActor) => (await api.call('GET', '/v1/wallets/me', { as })).body.balanceFen as number;
/** A creator earns `amount` the way the workflow pays: escrow, then payout. */
async function earn(creatorId: string, amountFen: number) {
  const payer = uid('payer');
  const taskId = uid('task');
  await db().transaction(async (tx) => {
    await paidTopUp(tx, payer, amountFen, `topup:${taskId}`);
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

    await api.fund(client, 80_000);
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

describe('top-ups: money enters only through a confirmed payment (R-ESCROW funds)', () => {
  const newClient = async () => api.account({ role: 'client', id: uid('brand') });
  const topUpRow = async (id: string) => (await db().select().from(topUps).where(eq(topUps.id, id)))[0];

  it('a top-up opens a payment and credits nothing until the provider confirms it; the confirmation credits once, however often it is delivered', async () => {
    const client = await newClient();
    const opened = await topUpViaApi(client, 10_000);
    expect(opened.status).toBe(201);
    expect(opened.body).toMatchObject({ amountFen: 10_000, status: 'pending', payUrl: expect.stringMatching(/^https:\/\//) });
    expect(await balance(client)).toBe(0);
    expect((await api.call('GET', `/v1/wallets/me/top-ups/${opened.body.topUpId}`, { as: client })).body.status).toBe('pending');

    const notification = api.payments.confirm(opened.body.topUpId);
    const paid = await api.notifyPayment(notification);
    expect(paid).toMatchObject({ status: 200, body: { status: 'succeeded', credited: true } });
    expect(await balance(client)).toBe(10_000);
    // providers redeliver until answered; concurrent redeliveries too
    const again = await Promise.all([1, 2, 3].map(() => api.notifyPayment(notification)));
    expect(again.map((r) => [r.status, r.body.credited])).toEqual([[200, false], [200, false], [200, false]]);
    expect(await balance(client)).toBe(10_000);
    const seen = await api.call('GET', `/v1/wallets/me/top-ups/${opened.body.topUpId}`, { as: client });
    expect(seen.body).toMatchObject({ status: 'succeeded', amountFen: 10_000, settledAt: expect.any(String) });
    const credits = await db().select().from(ledgerTransfers).where(eq(ledgerTransfers.toAccount, account.client(client.id)));
    expect(credits.map((t) => [t.id, t.kind, t.amountFen])).toEqual([[`topup:${opened.body.topUpId}`, 'top_up', 10_000]]);
  });

  it('a forged, altered or mismatched notification changes nothing: 401 for a bad signature, 409 for another amount or payment, 404 for an unknown top-up', async () => {
    const client = await newClient();
    const opened = (await topUpViaApi(client, 5_000)).body;
    const genuine = JSON.parse(api.payments.confirm(opened.topUpId).body);
    expect((await api.notifyPayment(api.payments.sign(genuine, 'not-the-providers-secret'))).status).toBe(401);
    const tampered = api.payments.confirm(opened.topUpId);
    expect((await api.notifyPayment({ headers: tampered.headers, body: tampered.body.replace('5000', '9000000') })).status).toBe(401);
    expect((await api.notifyPayment({ headers: { 'content-type': 'application/json' }, body: tampered.body })).status).toBe(401);
    const moreMoney = await api.notifyPayment(api.payments.sign({ ...genuine, amountFen: 90_000_000 }));
    expect(moreMoney.status).toBe(409);
    expect(moreMoney.body.code).toBe('payment-mismatch');
    expect((await api.notifyPayment(api.payments.sign({ ...genuine, providerPaymentId: 'someone-elses-payment' }))).status).toBe(409);
    expect((await api.notifyPayment(api.payments.sign({ ...genuine, reference: 'tu_000000000000000000000000' }))).status).toBe(404);
    expect(await balance(client)).toBe(0);
    expect((await topUpRow(opened.topUpId))!.status).toBe('pending');
    // the genuine one still lands
    expect((await api.notifyPayment(api.payments.confirm(opened.topUpId))).status).toBe(200);
    expect(await balance(client)).toBe(5_000);
  });

  it('a failed payment credits nothing, and a later success for it is refused', async () => {
    const client = await newClient();
    const opened = (await topUpViaApi(client, 7_000)).body;
    const failed = await api.notifyPayment(api.payments.fail(opened.topUpId, 'card declined'));
    expect(failed.body).toMatchObject({ status: 'failed', credited: false });
    expect((await api.call('GET', `/v1/wallets/me/top-ups/${opened.topUpId}`, { as: client })).body).toMatchObject({ status: 'failed', failureReason: 'card declined' });
    expect((await api.notifyPayment(api.payments.confirm(opened.topUpId))).status).toBe(409);
    expect(await balance(client)).toBe(0);
  });

  it('amounts are capped (at most 100,000,000 fen a top-up): a huge amount is a 400 and opens nothing', async () => {
    const client = await newClient();
    for (const amountFen of [100_000_001, 9_000_000_000_000_000, 0, -5, 10.5]) {
      const res = await topUpViaApi(client, amountFen);
      expect(res.status, String(amountFen)).toBe(400);
      expect(res.type).toMatch(/problem\+json/);
    }
    expect((await topUpViaApi(client, 100_000_000)).status).toBe(201);
    expect(await db().select().from(topUps).where(eq(topUps.clientId, client.id))).toHaveLength(1);
  });

  it('the same Idempotency-Key and body returns the same top-up and opens one payment; another body is a 422; only the client may top up or read it', async () => {
    const client = await newClient();
    const k = key();
    const first = await topUpViaApi(client, 10_000, k);
    const again = await topUpViaApi(client, 10_000, k);
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(await db().select().from(topUps).where(eq(topUps.clientId, client.id))).toHaveLength(1);
    const other = await topUpViaApi(client, 99, k);
    expect(other.status).toBe(422);
    expect(other.body.code).toBe('idempotency-key-reused');
    expect((await api.call('POST', '/v1/wallets/me/top-ups', { as: client, body: { amountFen: 5 } })).status).toBe(400); // no key
    expect((await topUpViaApi(await api.account({ role: 'creator', id: uid('k') }), 5)).status).toBe(403);
    const outsider = await newClient();
    expect((await api.call('GET', `/v1/wallets/me/top-ups/${first.body.topUpId}`, { as: outsider })).status).toBe(404);
    expect(await balance(client)).toBe(0);
  });
});

describe('withdrawals', () => {
  it('a creator withdraws: the amount is held while the payout runs, then paid out once', async () => {
    const creator: UserActor = { role: 'creator', id: uid('creator') };
    await api.account(creator);
    await earn(creator.id, 70_000);
    const k = key();
    const res = await withdrawViaApi(creator, 50_000, k);
    expect(res.status).toBe(202);
    expect(await balance(creator)).toBe(20_000); // held at once
    const status = await until(
      async () => (await api.call('GET', `/v1/wallets/me/withdrawals/${res.body.withdrawalId}`, { as: creator })).body,
      (w) => w.status !== 'pending',
    );
    expect(status).toMatchObject({ status: 'paid', amountFen: 50_000 });
    const retried = await withdrawViaApi(creator, 50_000, k);
    expect(retried.body.withdrawalId).toBe(res.body.withdrawalId);
    expect(api.payouts.paid.filter((p) => p.idempotencyKey === res.body.withdrawalId)).toHaveLength(1);
    expect(await balance(creator)).toBe(20_000);
  });

  it('a payout the provider refuses returns the money to the wallet', async () => {
    const creator: UserActor = { role: 'creator', id: uid('creator') };
    await api.account(creator);
    await earn(creator.id, 40_000);
    api.payouts.rejectNext(1);
    const res = await withdrawViaApi(creator, 40_000);
    expect(res.status).toBe(202);
    const status = await until(
      async () => (await api.call('GET', `/v1/wallets/me/withdrawals/${res.body.withdrawalId}`, { as: creator })).body,
      (w) => w.status !== 'pending',
    );
    expect(status).toMatchObject({ status: 'failed', failureReason: 'bank account closed' });
    expect(await balance(creator)).toBe(40_000);
  });

  it('R-PAYOUT: a payout fixed before the creator joined an MCN is the creator\'s to withdraw (never stranded); the MCN gets the rest', async () => {
    const creator: UserActor = { role: 'creator', id: uid('creator') };
    await api.account(creator);
    const mcn: UserActor = { role: 'mcn', id: uid('mcn') };
    await api.account(mcn);
    // ordered while the creator had no MCN: the order fixed its payout account (api/tasks.ts), settled after it joined
    const payer = uid('payer');
    const taskId = uid('task');
    await db().transaction(async (tx) => {
      await paidTopUp(tx, payer, 20_000, `topup:${taskId}`);
      await holdEscrow(tx, taskId, payer, 20_000);
    });
    expect((await api.call('PUT', `/v1/creators/${creator.id}/mcn`, { as: operator, body: { mcnId: mcn.id } })).status).toBe(200);
    await settleEscrow(db(), { taskId, clientId: payer, creatorId: creator.id, outcome: 'payout', payoutAccount: account.creator(creator.id) });
    await earn(creator.id, 30_000); // ordered after it joined: to the MCN
    expect(await balance(creator)).toBe(20_000);
    expect(await balance(mcn)).toBe(30_000);
    expect((await api.call('GET', '/v1/wallets/me', { as: creator })).body.canWithdraw).toBe(true);
    const tooMuch = await withdrawViaApi(creator, 20_001);
    expect(tooMuch.status).toBe(422);
    expect(tooMuch.body.code).toBe('insufficient-funds');
    const ok = await withdrawViaApi(creator, 20_000);
    expect(ok.status).toBe(202);
    expect(await balance(creator)).toBe(0);
    // nothing of its own left: the MCN's earnings are the MCN's to withdraw
    expect((await api.call('GET', '/v1/wallets/me', { as: creator })).body.canWithdraw).toBe(false);
    const refused = await withdrawViaApi(creator, 1);
    expect(refused.body.code).toBe('mcn-managed');
  });

  it('a payment provider that is down is a 503 with Retry-After, never a 500; a retry with the key opens the same top-up once', async () => {
    const client: UserActor = { role: 'client', id: uid('brand') };
    await api.account(client);
    const k = key();
    api.payments.failNext(1);
    const down = await topUpViaApi(client, 12_345, k);
    expect(down.status).toBe(503);
    expect(down.headers['retry-after']).toBe('5');
    expect(down.body).toMatchObject({ code: 'payment-provider-unavailable' });
    const again = await topUpViaApi(client, 12_345, k);
    expect(again.status).toBe(201);
    expect(again.body.topUpId).toBe(down.body.topUpId);
    expect((await api.notifyPayment(api.payments.confirm(again.body.topUpId))).status).toBe(200);
    expect((await api.notifyPayment(api.payments.confirm(again.body.topUpId))).status).toBe(200); // redelivered
    expect(await balance(client)).toBe(12_345);
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
    const refused = await withdrawViaApi(creator, 1);
    expect(refused.status).toBe(422);
    expect(refused.body.code).toBe('mcn-managed');
    const tooMuch = await withdrawViaApi(mcn, 30_001);
    expect(tooMuch.status).toBe(422);
    expect(tooMuch.body.code).toBe('insufficient-funds');
    const ok = await withdrawViaApi(mcn, 30_000);
    expect(ok.status).toBe(202);
    expect(await balance(mcn)).toBe(0);
    expect((await withdrawViaApi(await api.account({ role: 'client', id: uid('c') }), 1)).status).toBe(403);
  });
});

describe('idempotency keys survive crashes (issue #12, item 3)', () => {
  const who = (a: UserActor) => `${a.role}:${a.id}`;

  it('a key held by a request whose process died answers 409 + Retry-After while its lease runs, then a retry takes it over and runs once', async () => {
    const client = await api.account({ role: 'client', id: uid('brand') });
    const k = key();
    const body = { amountFen: 3_000 };
    // the holder claimed the key with this body and died before answering
    const hash = createHash('sha256').update(`POST /v1/wallets/me/top-ups ${JSON.stringify(body)}`).digest('hex');
    await db().insert(idempotencyKeys).values({ actor: who(client), key: k, requestHash: hash, lockedUntil: new Date(Date.now() + 20_000), expiresAt: new Date(Date.now() + 86_400_000) });
    const busy = await topUpViaApi(client, 3_000, k);
    expect(busy.status).toBe(409);
    expect(busy.body.code).toBe('request-in-progress');
    expect(Number(busy.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(busy.headers['retry-after'])).toBeLessThanOrEqual(30);
    // the lease runs out (30 s in production; moved here) and the retry takes the key over
    await db().update(idempotencyKeys).set({ lockedUntil: new Date(Date.now() - 1) }).where(and(eq(idempotencyKeys.actor, who(client)), eq(idempotencyKeys.key, k)));
    const taken = await topUpViaApi(client, 3_000, k);
    expect(taken.status).toBe(201);
    const replay = await topUpViaApi(client, 3_000, k);
    expect(replay.body).toEqual(taken.body);
    expect(await db().select().from(topUps).where(eq(topUps.clientId, client.id))).toHaveLength(1);
  });

  it('a withdrawal whose workflow start failed after the hold committed: the retry with the same key finds the same withdrawal and holds nothing more', async () => {
    const creator = await api.account({ role: 'creator', id: uid('wd-crash') });
    await earn(creator.id, 60_000);
    const k = key();
    // an API over the same database whose Temporal is a closed port: the hold commits, the start fails
    const { Client, Connection } = await import('@temporalio/client');
    const { startApi } = await import('../../api/main.js');
    const { createAuth } = await import('../../api/auth.js');
    const jwtSecret = 'crash-test-secret-crash-test-secret';
    const server = await startApi({ db: db(), temporal: new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) }), port: 0, jwtSecret, platformSecret: api.platformSecret });
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as { port: number }).port}/v1/wallets/me/withdrawals`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await createAuth(jwtSecret).sign(creator)}`, 'content-type': 'application/json', 'idempotency-key': k },
        body: JSON.stringify({ amountFen: 25_000 }),
      });
      expect(res.status).toBe(503);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    expect(await balance(creator)).toBe(35_000); // held
    const [stranded] = await db().select().from(withdrawals).where(eq(withdrawals.accountId, account.creator(creator.id)));
    expect(stranded!.status).toBe('pending');
    // the client retries at once with the same key on a healthy API
    const retried = await withdrawViaApi(creator, 25_000, k);
    expect(retried.status).toBe(202);
    expect(retried.body.withdrawalId).toBe(stranded!.id);
    expect(await until(() => api.call('GET', `/v1/wallets/me/withdrawals/${stranded!.id}`, { as: creator }), (r) => r.body.status === 'paid')).toBeTruthy();
    expect(await balance(creator)).toBe(35_000);
    expect(await db().select().from(withdrawals).where(eq(withdrawals.accountId, account.creator(creator.id)))).toHaveLength(1);
  });

  it('a task action: the same key with another body is a 422 and changes nothing; the same body is the same update; a refusal binds nothing', async () => {
    const client = await api.account({ role: 'client', id: uid('brand') });
    await api.fund(client, 100_000);
    const ordered = await api.call('POST', '/v1/tasks', { as: client, body: { creatorId: 'creator-x', taskType: 'douyin_video', brief: 'Key test', scriptRequired: false }, headers: { 'idempotency-key': key() } });
    expect(ordered.status).toBe(201);
    const creator: UserActor = { role: 'creator', id: 'creator-x' };
    const k = key();
    const accepted = await api.call('POST', `/v1/tasks/${ordered.body.id}/accept`, { as: creator, body: {}, headers: { 'idempotency-key': k } });
    expect(accepted.status).toBe(200);
    const again = await api.call('POST', `/v1/tasks/${ordered.body.id}/accept`, { as: creator, body: {}, headers: { 'idempotency-key': k } });
    expect(again.status).toBe(200);
    expect(again.body.task.version).toBe(accepted.body.task.version);
    // the key is bound to the accept: another request with it is a 422, not the accept's answer
    const other = await api.call('POST', `/v1/tasks/${ordered.body.id}/decline`, { as: creator, body: { reason: 'Something else' }, headers: { 'idempotency-key': k } });
    expect(other.status).toBe(422);
    expect(other.body.code).toBe('idempotency-key-reused');
    // a refused request leaves its key free: the same key may then carry another request
    const k2 = key();
    expect((await api.call('POST', `/v1/tasks/${ordered.body.id}/decline`, { as: creator, body: { reason: 'Booked' }, headers: { 'idempotency-key': k2 } })).status).toBe(409); // accepted: nothing to decline
    expect((await api.call('POST', `/v1/tasks/${ordered.body.id}/decline`, { as: creator, body: { reason: 'Other' }, headers: { 'idempotency-key': k2 } })).status).toBe(409);
    const state = await api.call('GET', `/v1/tasks/${ordered.body.id}`, { as: client });
    expect(state.body.task.status).toBe('content_drafting');
  });
});

it('statements page through transfers newest first', async () => {
  const client: UserActor = { role: 'client', id: uid('brand') };
  await api.account(client);
  for (let i = 1; i <= 5; i++) await api.fund(client, i * 100);
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

describe('every fen lands: a stranded escrow and its release (R-ESCROW, R-OPERATOR-RESOLVE)', () => {
  const PRICE = 50_000;
  async function orderTask(client: UserActor) {
    const res = await api.call('POST', '/v1/tasks', {
      as: client,
      body: { creatorId: 'creator-x', taskType: 'douyin_video', brief: 'b', scriptRequired: false, priceFen: PRICE },
      headers: { 'idempotency-key': key() },
    });
    expect(res.status).toBe(201);
    return res.body.id as string;
  }
  const act = (as: UserActor, taskId: string, path: string, body: object) => api.call('POST', `/v1/tasks/${taskId}/${path}`, { as, body, headers: { 'idempotency-key': key() } });
  const taskOf = async (taskId: string) => (await api.call('GET', `/v1/tasks/${taskId}`, { as: operator })).body.task;
  const release = (taskId: string, note: string, as: UserActor = operator) => api.call('POST', `/v1/operator/escrows/${taskId}/release`, { as, body: { note } });
  const stranded = async () => (await api.call('GET', '/v1/operator/escrows/stranded?limit=100', { as: operator })).body.items as any[];
  const creatorAccount = account.creator('creator-x');

  it('a split the ledger refused is listed and counted; a release refused until the ledger is right moves nothing; then it lands once, where the task decided', async () => {
    const client: UserActor = { role: 'client', id: uid('brand') };
    await api.account(client);
    await api.fund(client, PRICE);
    const taskId = await orderTask(client);
    expect((await act({ role: 'creator', id: 'creator-x' }, taskId, 'accept', {})).status).toBe(200);
    // a bug (or a hand-made entry) took the escrow's settlement id: the settlement the task decides will conflict with it
    await db().transaction((tx) => transferForTest(tx, taskId, client.id));
    const clientBefore = await balanceOf(db(), account.client(client.id));
    const creatorBefore = await balanceOf(db(), creatorAccount);
    const gaugeBefore = (await readBusinessGauges(db())).escrowStrandedFen;

    // R-OPERATOR-RESOLVE: cancelled with 30,000 back to the client and 20,000 to the creator; the ledger refuses it
    expect((await act(operator, taskId, 'resolution', { outcome: 'cancel', reason: 'agreed on the phone', refundFen: 30_000 })).status).toBe(200);
    const task = await until(() => taskOf(taskId), (t) => t.status === 'cancelled' && t.failedEffects === 1);
    expect(task.settlement).toMatchObject({ refundFen: 30_000, payoutFen: 20_000 });
    expect(await balanceOf(db(), account.escrow(taskId))).toBe(PRICE - 1);

    // found: the gauge counts it, the list names it with the task's own settlement and the ledger's refusal
    expect((await readBusinessGauges(db())).escrowStrandedFen).toBe(gaugeBefore + PRICE - 1);
    const listed = (await stranded()).find((e) => e.taskId === taskId);
    expect(listed).toMatchObject({ status: 'cancelled', balanceFen: PRICE - 1, heldFen: PRICE, settlement: { refundFen: 30_000, payoutFen: 20_000 } });
    expect(listed.refusal).toMatch(new RegExp(`escrow:${taskId}:settle`));
    expect(listed.closedAt).not.toBeNull();
    // operators only
    expect((await api.call('GET', '/v1/operator/escrows/stranded', { as: client })).status).toBe(403);
    expect((await release(taskId, 'not mine', client)).status).toBe(403);
    // bad input changes nothing
    for (const body of [{}, { note: '' }, { note: 'x', refundFen: 1 }]) {
      expect((await api.call('POST', `/v1/operator/escrows/${taskId}/release`, { as: operator, body })).status).toBe(400);
    }
    expect((await release('tsk_00000000-0000-4000-8000-000000000000', 'none')).status).toBe(404);

    // the ledger is still wrong: refused, nothing moved, nothing recorded
    const early = await release(taskId, 'too early');
    expect(early.status).toBe(409);
    expect(early.body.code).toBe('ledger-refused');
    expect(await balanceOf(db(), account.escrow(taskId))).toBe(PRICE - 1);
    expect(await db().select().from(escrowReleases).where(eq(escrowReleases.taskId, taskId))).toEqual([]);

    // the operator puts the ledger right (the wrong entry undone), then releases
    await db().transaction(async (tx) => {
      await tx.delete(ledgerTransfers).where(eq(ledgerTransfers.id, `escrow:${taskId}:settle`));
      await tx.execute(sql`update ledger_accounts set balance_fen = balance_fen + case id when ${account.escrow(taskId)} then 1 else -1 end where id in (${account.escrow(taskId)}, ${account.client(client.id)})`);
    });
    const note = 'INC-42: the stray settle transfer removed; applying the task settlement';
    const released = await release(taskId, note);
    expect(released.status).toBe(201);
    expect(released.body).toMatchObject({ taskId, refundFen: 30_000, payoutFen: 20_000, payoutAccount: creatorAccount, releasedBy: `operator:${operator.id}`, note });
    expect(await balanceOf(db(), account.escrow(taskId))).toBe(0);
    expect(await balanceOf(db(), account.client(client.id))).toBe(clientBefore - 1 + 30_000); // the stray fen went back to the escrow, the refund came
    expect(await balanceOf(db(), creatorAccount)).toBe(creatorBefore + 20_000);
    // the same transfer ids the task's own settlement uses: a late settlement by the task would move nothing
    const moves = await db().select().from(ledgerTransfers).where(eq(ledgerTransfers.taskId, taskId));
    expect(moves.map((t) => [t.id, t.amountFen]).sort()).toEqual([
      [`escrow:${taskId}:hold`, PRICE],
      [`escrow:${taskId}:settle`, 30_000],
      [`escrow:${taskId}:settle:payout`, 20_000],
    ]);
    expect((await stranded()).some((e) => e.taskId === taskId)).toBe(false);
    expect((await readBusinessGauges(db())).escrowStrandedFen).toBe(gaugeBefore);

    // a retry answers the first release and moves nothing; another note is refused
    const again = await release(taskId, note);
    expect(again.status).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(released.body);
    const other = await release(taskId, 'someone else');
    expect(other.status).toBe(409);
    expect(other.body.code).toBe('already-released');
    expect(await balanceOf(db(), creatorAccount)).toBe(creatorBefore + 20_000);
    expect(await db().select().from(ledgerTransfers).where(eq(ledgerTransfers.taskId, taskId))).toHaveLength(3);
  });

  it('nothing else is releasable: an open task holds its escrow for itself (not-settled), a task that settled holds nothing (nothing-held)', async () => {
    const client: UserActor = { role: 'client', id: uid('brand') };
    await api.account(client);
    await api.fund(client, PRICE);
    const taskId = await orderTask(client);
    const open = await release(taskId, 'why not');
    expect(open.status).toBe(409);
    expect(open.body.code).toBe('not-settled');
    expect(await balanceOf(db(), account.escrow(taskId))).toBe(PRICE);
    // R-DECLINE: the creator declines, the whole price goes back through the task's own settlement
    expect((await act({ role: 'creator', id: 'creator-x' }, taskId, 'decline', { reason: 'busy' })).status).toBe(200);
    await until(() => taskOf(taskId), (t) => t.status === 'cancelled');
    await until(() => balanceOf(db(), account.client(client.id)), (b) => b === PRICE);
    const settled = await release(taskId, 'why not');
    expect(settled.status).toBe(409);
    expect(settled.body.code).toBe('nothing-held');
    expect((await stranded()).some((e) => e.taskId === taskId)).toBe(false);
    expect(await db().select().from(escrowReleases).where(eq(escrowReleases.taskId, taskId))).toEqual([]);
  });
});

/** The stray entry of the stranded-escrow tests: 1 fen of the escrow back to the client under the settlement's id. */
const transferForTest = (tx: Tx, taskId: string, clientId: string) =>
  transfer(tx, { id: `escrow:${taskId}:settle`, from: account.escrow(taskId), to: account.client(clientId), amountFen: 1, kind: 'escrow_refund', taskId });

describe('every top-up ends, every fen paid lands: the reconciliation with the payment provider', () => {
  const topUpOf = async (as: UserActor, id: string) => (await api.call('GET', `/v1/wallets/me/top-ups/${id}`, { as })).body;
  const creditsOf = async (id: string) => db().select().from(ledgerTransfers).where(eq(ledgerTransfers.id, `topup:${id}`));

  it('a payment whose notification was lost is credited once by asking the provider; a failed one fails; the late notification changes nothing', async () => {
    const client: UserActor = { role: 'client', id: uid('brand') };
    await api.account(client);
    const paid = (await topUpViaApi(client, 5_000)).body.topUpId as string;
    const refused = (await topUpViaApi(client, 6_000)).body.topUpId as string;
    const lost = api.payments.confirm(paid); // the client paid; the provider's notification never arrives
    api.payments.fail(refused, 'card declined');
    // within the notification's grace nothing is asked
    await reconcileTopUps(db(), api.payments);
    expect(await balance(client)).toBe(0);
    expect((await topUpOf(client, paid)).status).toBe('pending');

    const gauges = await readBusinessGauges(db());
    expect(gauges.pendingTopUps).toBeGreaterThanOrEqual(2);
    await reconcileTopUps(db(), api.payments, { graceMs: 0 });
    expect(await balance(client)).toBe(5_000);
    expect(await topUpOf(client, paid)).toMatchObject({ status: 'succeeded', amountFen: 5_000 });
    // the operators' gauge (starmap_topups_pending) counts them no more
    expect((await readBusinessGauges(db())).pendingTopUps).toBeLessThanOrEqual(gauges.pendingTopUps - 2);
    expect(await topUpOf(client, refused)).toMatchObject({ status: 'failed', failureReason: 'card declined' });
    // the notification after all, and another round: nothing moves twice
    const late = await api.notifyPayment(lost);
    expect(late.status).toBe(200);
    expect(late.body).toMatchObject({ status: 'succeeded', credited: false });
    await reconcileTopUps(db(), api.payments, { graceMs: 0 });
    expect(await balance(client)).toBe(5_000);
    expect(await creditsOf(paid)).toHaveLength(1);
    expect(await creditsOf(refused)).toHaveLength(0);
  });

  it('an unpaid top-up stays payable for its time, then its payment is closed at the provider and it fails (expired): it can no longer be paid; one paid at the last moment is credited', async () => {
    const client: UserActor = { role: 'client', id: uid('brand') };
    await api.account(client);
    const unpaid = (await topUpViaApi(client, 7_000)).body.topUpId as string;
    const lastMoment = (await topUpViaApi(client, 8_000)).body.topUpId as string;
    await reconcileTopUps(db(), api.payments, { graceMs: 0, payableMs: 60_000 });
    expect((await topUpOf(client, unpaid)).status).toBe('pending');

    // the payer pays the second one just before its payment would be closed; its notification is lost
    api.payments.confirm(lastMoment);
    await reconcileTopUps(db(), api.payments, { graceMs: 0, payableMs: 0 });
    expect(await topUpOf(client, unpaid)).toMatchObject({ status: 'failed', failureReason: expect.stringMatching(/^expired/) });
    expect(() => api.payments.confirm(unpaid)).toThrow(/closed/);
    expect(await topUpOf(client, lastMoment)).toMatchObject({ status: 'succeeded' });
    expect(await balance(client)).toBe(8_000);
    expect(await creditsOf(unpaid)).toHaveLength(0);

    // a round that closed a payment and stopped before failing its top-up: the next one fails it at once
    const interrupted = (await topUpViaApi(client, 3_000)).body.topUpId as string;
    await api.payments.closePayment(interrupted);
    await reconcileTopUps(db(), api.payments, { graceMs: 0 });
    expect(await topUpOf(client, interrupted)).toMatchObject({ status: 'failed', failureReason: expect.stringMatching(/^expired/) });
  });

  it('a top-up whose payment was never opened (the provider was down) expires too, and a retry with its key afterwards opens no payment', async () => {
    const client: UserActor = { role: 'client', id: uid('brand') };
    await api.account(client);
    const k = key();
    api.payments.failNext(1);
    const down = await topUpViaApi(client, 9_000, k);
    expect(down.status).toBe(503);
    const id = down.body.topUpId as string;
    await reconcileTopUps(db(), api.payments, { graceMs: 0, payableMs: 0 });
    expect(await topUpOf(client, id)).toMatchObject({ status: 'failed', failureReason: expect.stringMatching(/^expired/) });
    const retried = await topUpViaApi(client, 9_000, k);
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ topUpId: id, status: 'failed' });
    expect(retried.body.payUrl).toBeUndefined();
    expect(await balance(client)).toBe(0);
  });

  it('the API runs the reconciliation on its own while it serves', async () => {
    const { startApi } = await import('../../api/main.js');
    const { FakePaymentProvider } = await import('../../adapters/payments.js');
    const payments = new FakePaymentProvider();
    const server = await startApi({ db: db(), temporal: api.env.client, port: 0, jwtSecret: randomUUID(), platformSecret: randomUUID(), payments, topUpReconciliation: { intervalMs: 100 } });
    try {
      const client: UserActor = { role: 'client', id: uid('brand') };
      await api.account(client);
      const id = `tu_${randomUUID()}`;
      await openTopUp(db(), { id, clientId: client.id, amountFen: 4_000, provider: payments.name });
      await db().update(topUps).set({ createdAt: new Date(Date.now() - 5 * 60_000) }).where(eq(topUps.id, id));
      await payments.createPayment({ reference: id, payerId: client.id, amountFen: 4_000 });
      payments.confirm(id); // paid, never notified
      await until(() => balance(client), (b) => b === 4_000, 50, 100);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
