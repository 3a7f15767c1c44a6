/**
 * The ledger's invariants, by property-based testing (fast-check) over random
 * sequences of top-ups, orders, cancellations, acceptances, withdrawals and
 * retries, against real PostgreSQL:
 *   the ledger always balances; no account but `external` goes negative; a
 *   finished task's escrow is zero; every task moves its price exactly once, to
 *   exactly one destination; a retried operation moves nothing.
 */
import { randomUUID } from 'node:crypto';
import { eq, like, sql } from 'drizzle-orm';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import {
  InsufficientFunds,
  NotReleasable,
  TransferConflict,
  account,
  balanceOf,
  finishWithdrawal,
  holdEscrow,
  holdWithdrawal,
  settleEscrow,
  paidTopUp,
  releaseStrandedEscrow,
} from '../../db/ledger.js';
import type { TaskState } from '../../domain/index.js';
import { escrowReleases, ledgerAccounts, ledgerTransfers, mcnMemberships, tasks } from '../../db/schema/index.js';
import { usePostgres } from '../helpers/harness.js';

const { db } = usePostgres();

type Cmd =
  | { op: 'topUp'; client: number; amount: number }
  | { op: 'order'; client: number; price: number }
  | { op: 'cancel'; task: number }
  | { op: 'accept'; task: number; creator: number }
  | { op: 'withdraw'; owner: number; amount: number; paid: boolean }
  | { op: 'retry' };

const amount = fc.integer({ min: 1, max: 500_000 });
const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ op: fc.constant('topUp' as const), client: fc.nat(1), amount: fc.integer({ min: 1, max: 2_000_000 }) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('order' as const), client: fc.nat(1), price: amount }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('cancel' as const), task: fc.nat(20) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('accept' as const), task: fc.nat(20), creator: fc.nat(1) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('withdraw' as const), owner: fc.nat(1), amount, paid: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ op: 'retry' as const }) },
);
// every run opens with a top-up per client, so orders can succeed from the start
const sequence = fc
  .tuple(amount, amount, fc.array(cmd, { minLength: 5, maxLength: 60 }))
  .map(([a, b, rest]): Cmd[] => [{ op: 'topUp', client: 0, amount: a * 2 }, { op: 'topUp', client: 1, amount: b * 2 }, ...rest]);

async function globalInvariants() {
  const [{ total }] = (await db().select({ total: sql<string>`coalesce(sum(${ledgerAccounts.balanceFen}), 0)` }).from(ledgerAccounts)) as [{ total: string }];
  expect(Number(total)).toBe(0); // double entry: the ledger balances
  const negative = await db().select().from(ledgerAccounts).where(sql`${ledgerAccounts.kind} <> 'external' and ${ledgerAccounts.balanceFen} < 0`);
  expect(negative).toEqual([]);
}

it('R-ESCROW and R-PAYOUT: random sequences keep every ledger invariant', async () => {
  await fc.assert(
    fc.asyncProperty(sequence, async (cmds) => {
      const run = randomUUID().slice(0, 8);
      const clients = [`c1-${run}`, `c2-${run}`];
      const creators = [`k1-${run}`, `k2-${run}`]; // k2 is managed by an MCN
      const mcn = `m1-${run}`;
      await db().insert(mcnMemberships).values({ creatorId: creators[1]!, mcnId: mcn });
      const model = new Map<string, number>();
      const bal = (id: string) => model.get(id) ?? 0;
      const add = (id: string, d: number) => model.set(id, bal(id) + d);
      const tasks: { id: string; client: string; price: number; settled: null | 'refund' | 'payout' }[] = [];
      let last: (() => Promise<unknown>) | null = null;
      let n = 0;

      for (const c of cmds) {
        n += 1;
        switch (c.op) {
          case 'topUp': {
            const client = clients[c.client]!;
            const id = `topup:${run}:${n}`;
            last = () => db().transaction((tx) => paidTopUp(tx, client, c.amount, id));
            await last();
            add(account.client(client), c.amount);
            break;
          }
          case 'order': {
            const client = clients[c.client]!;
            const taskId = `t-${run}-${n}`;
            const enough = bal(account.client(client)) >= c.price;
            const attempt = () => db().transaction((tx) => holdEscrow(tx, taskId, client, c.price));
            if (enough) {
              await attempt();
              add(account.client(client), -c.price);
              tasks.push({ id: taskId, client, price: c.price, settled: null });
              last = attempt;
            } else {
              await expect(attempt()).rejects.toBeInstanceOf(InsufficientFunds);
            }
            break;
          }
          case 'cancel':
          case 'accept': {
            const task = tasks[c.task % Math.max(tasks.length, 1)];
            if (!task) break;
            const outcome = c.op === 'cancel' ? 'refund' : 'payout';
            const creator = creators[c.op === 'accept' ? c.creator : 0]!;
            const attempt = () => settleEscrow(db(), { taskId: task.id, clientId: task.client, creatorId: creator, outcome });
            if (task.settled === null) {
              const { moved, to } = await attempt();
              expect(moved).toBe(task.price);
              add(to!, task.price);
              task.settled = outcome;
              last = attempt;
            } else if (task.settled !== outcome) {
              // the price already went elsewhere: never a second destination
              await expect(attempt()).rejects.toBeInstanceOf(TransferConflict);
            }
            break;
          }
          case 'withdraw': {
            const from = c.owner === 0 ? account.creator(creators[0]!) : account.mcn(mcn);
            const id = `w-${run}-${n}`;
            if (bal(from) < c.amount) {
              await expect(db().transaction((tx) => holdWithdrawal(tx, id, from, c.amount))).rejects.toBeInstanceOf(InsufficientFunds);
              break;
            }
            await db().transaction((tx) => holdWithdrawal(tx, id, from, c.amount));
            add(from, -c.amount);
            const finish = () => finishWithdrawal(db(), id, c.paid ? { paid: true, reference: `ref-${id}` } : { paid: false, reason: 'bank rejected' });
            await finish();
            if (!c.paid) add(from, c.amount);
            last = finish;
            break;
          }
          case 'retry':
            // a retried request or activity (same ids) moves nothing
            if (last) await last();
            break;
        }
      }

      for (const [id, expected] of model) expect(await balanceOf(db(), id)).toBe(expected);
      for (const task of tasks) {
        const out = await db().select().from(ledgerTransfers).where(eq(ledgerTransfers.fromAccount, account.escrow(task.id)));
        expect(out.length).toBe(task.settled ? 1 : 0);
        if (task.settled) {
          expect(out[0]!.amountFen).toBe(task.price);
          expect(await balanceOf(db(), account.escrow(task.id))).toBe(0);
        }
      }
      const withdrawalHolds = await db().select().from(ledgerAccounts).where(like(ledgerAccounts.id, `withdrawal:w-${run}-%`));
      for (const w of withdrawalHolds) expect(w.balanceFen).toBe(0);
      await globalInvariants();
    }),
    { numRuns: 40 },
  );
});

it('R-ESCROW: concurrent orders never overdraw a wallet (enforced by the database)', async () => {
  const client = `conc-${randomUUID().slice(0, 8)}`;
  await db().transaction((tx) => paidTopUp(tx, client, 1_000, `topup:${client}`));
  const results = await Promise.allSettled(
    Array.from({ length: 25 }, (_, i) => db().transaction((tx) => holdEscrow(tx, `t-${client}-${i}`, client, 100))),
  );
  expect(results.filter((r) => r.status === 'fulfilled'), results.map((r) => (r.status === 'rejected' ? String(r.reason).slice(0, 120) : 'ok')).join('\n')).toHaveLength(10);
  for (const r of results) if (r.status === 'rejected') expect(r.reason, String(r.reason)).toBeInstanceOf(InsufficientFunds);
  expect(await balanceOf(db(), account.client(client))).toBe(0);
  await globalInvariants();
});

it('the database itself refuses a negative balance, whatever the code does', async () => {
  const id = account.client(`raw-${randomUUID().slice(0, 8)}`);
  await db().insert(ledgerAccounts).values({ id, kind: 'client', ownerId: 'raw' });
  await expect(db().update(ledgerAccounts).set({ balanceFen: -1 }).where(eq(ledgerAccounts.id, id))).rejects.toThrow();
});

it('R-ESCROW: a transfer outside a transaction is refused before anything is written (its statements are pipelined on one connection)', async () => {
  const task = `tsk_${randomUUID()}`;
  await expect(holdEscrow(db(), task, `cli_${randomUUID()}`, 100)).rejects.toThrow(/must run inside a transaction/);
  expect(await db().select().from(ledgerTransfers).where(eq(ledgerTransfers.taskId, task))).toHaveLength(0);
});

it('R-ESCROW, every fen lands: releases of a stranded escrow racing each other and the task\'s own late settlement move it once, to where the task decided', async () => {
  for (let round = 0; round < 6; round++) {
    const taskId = `tsk_${randomUUID()}`;
    const client = `race-cl-${randomUUID().slice(0, 8)}`;
    const creator = `race-cr-${randomUUID().slice(0, 8)}`;
    await db().transaction(async (tx) => {
      await paidTopUp(tx, client, 10_000, `topup:${taskId}`);
      await holdEscrow(tx, taskId, client, 10_000);
    });
    // the read model of a task that decided a split and closed (the ledger had refused its settlement then)
    const now = new Date();
    await db()
      .insert(tasks)
      .values({
        id: taskId,
        type: 'douyin_video',
        clientId: client,
        creatorId: creator,
        status: 'cancelled',
        brief: 'b',
        scriptRequired: false,
        retentionDays: 7,
        priceFen: 10_000,
        orderedAt: now,
        acceptDeadline: now,
        closedAt: now,
        payoutAccount: account.creator(creator),
        snapshot: { settlement: { refundFen: 3_000, payoutFen: 7_000, at: now.toISOString(), seq: 5 } } as unknown as TaskState,
        idempotencyKey: taskId,
        requestHash: 'h',
      });
    const late = { taskId, clientId: client, creatorId: creator, outcome: 'split' as const, refundFen: 3_000, payoutFen: 7_000, payoutAccount: account.creator(creator) };
    const racers = [
      () => releaseStrandedEscrow(db(), { taskId, operator: 'operator:a', note: 'fixed' }),
      () => releaseStrandedEscrow(db(), { taskId, operator: 'operator:a', note: 'fixed' }),
      () => releaseStrandedEscrow(db(), { taskId, operator: 'operator:b', note: 'fixed too' }),
      () => settleEscrow(db(), late),
    ];
    // a different one first each round
    const order = [...racers.slice(round % racers.length), ...racers.slice(0, round % racers.length)];
    const results = await Promise.allSettled(order.map((run) => run()));
    for (const r of results) if (r.status === 'rejected') expect(r.reason, `${String(r.reason)} ${String((r.reason as { cause?: unknown }).cause)}`).toBeInstanceOf(NotReleasable);
    const releases = results.flatMap((r) => (r.status === 'fulfilled' && r.value && 'release' in r.value ? [r.value] : []));
    // at most one release moved money (the task's own settlement may have been first); every other one answered it or was refused
    expect(releases.filter((r) => !r.replayed).length).toBeLessThanOrEqual(1);
    expect(await balanceOf(db(), account.escrow(taskId))).toBe(0);
    expect(await balanceOf(db(), account.client(client))).toBe(3_000);
    expect(await balanceOf(db(), account.creator(creator))).toBe(7_000);
    expect((await db().select().from(ledgerTransfers).where(eq(ledgerTransfers.taskId, taskId))).map((t) => t.id).sort()).toEqual([
      `escrow:${taskId}:hold`,
      `escrow:${taskId}:settle`,
      `escrow:${taskId}:settle:payout`,
    ]);
    const recorded = await db().select().from(escrowReleases).where(eq(escrowReleases.taskId, taskId));
    expect(recorded.length).toBe(releases.some((r) => !r.replayed) ? 1 : 0);
  }
  await globalInvariants();
});
