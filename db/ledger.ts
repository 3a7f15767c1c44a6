/**
 * Money operations on the double-entry ledger (db/schema/ledger.ts). The API
 * (orders, top-ups, withdrawal requests) and the activities (escrow settlement,
 * withdrawal outcome) call these and nothing else moves money.
 *
 * Every transfer has a deterministic id; writing the same id again is a no-op
 * when it names the same movement and an error when it names another, so a
 * retried request or activity never moves money twice, and an escrow is settled
 * once, to one destination (`escrow:<task>:settle`).
 */
import { and, eq, gt, inArray, or, sql } from 'drizzle-orm';
import { PgTransaction } from 'drizzle-orm/pg-core';
import { perExecution, type Db, type Tx } from './client.js';
import { escrowReleases, ledgerAccounts, ledgerTransfers, mcnMemberships, tasks, topUps, withdrawals } from './schema/index.js';


export type AccountKind = 'client' | 'creator' | 'mcn' | 'escrow' | 'withdrawal' | 'external';
export const EXTERNAL = 'external';
export const account = {
  client: (id: string) => `client:${id}`,
  creator: (id: string) => `creator:${id}`,
  mcn: (id: string) => `mcn:${id}`,
  escrow: (taskId: string) => `escrow:${taskId}`,
  withdrawal: (id: string) => `withdrawal:${id}`,
};

export class InsufficientFunds extends Error {
  constructor(
    readonly accountId: string,
    readonly neededFen: number,
    readonly balanceFen: number,
  ) {
    super(`account ${accountId} holds ${balanceFen} fen, ${neededFen} needed`);
    this.name = 'InsufficientFunds';
  }
}

export class TransferConflict extends Error {
  constructor(readonly transferId: string) {
    super(`transfer ${transferId} already exists with other accounts or amount`);
    this.name = 'TransferConflict';
  }
}

export interface Transfer {
  id: string;
  from: string;
  to: string;
  amountFen: number;
  kind: 'top_up' | 'escrow_hold' | 'escrow_refund' | 'payout' | 'withdrawal_hold' | 'withdrawal_paid' | 'withdrawal_returned';
  taskId?: string | undefined;
  withdrawalId?: string | undefined;
}

const kindOf = (id: string): AccountKind => (id === EXTERNAL ? 'external' : (id.slice(0, id.indexOf(':')) as AccountKind));

async function ensureAccounts(tx: Tx, ids: string[]): Promise<void> {
  await tx
    .insert(ledgerAccounts)
    .values(ids.map((id) => ({ id, kind: kindOf(id), ownerId: id === EXTERNAL ? null : id.slice(id.indexOf(':') + 1) })))
    .onConflictDoNothing({ target: ledgerAccounts.id });
}

const isCheckViolation = (err: unknown) => {
  const e = err as { code?: string; cause?: { code?: string } };
  return e?.code === '23514' || e?.cause?.code === '23514';
};

/**
 * Moves money. Must run inside a transaction (`db.transaction`): the transfer
 * row and both balances change together. Balances are updated in account-id
 * order so concurrent transfers never deadlock. Returns false when the same
 * transfer was already made. Two round trips: the accounts' creation and lock
 * sent together (pipelined on the transaction's connection, which runs them in
 * order), then the transfer row and both balances in one statement.
 */
export async function transfer(tx: Tx, t: Transfer): Promise<boolean> {
  if (!(tx instanceof PgTransaction)) throw new Error(`transfer ${t.id}: must run inside a transaction`);
  if (!Number.isSafeInteger(t.amountFen) || t.amountFen <= 0) throw new Error(`transfer ${t.id}: amount must be a positive integer of fen`);
  if (t.from === t.to) throw new Error(`transfer ${t.id}: from and to are the same account`);
  // Lock both accounts in id order before anything references them, so two
  // transfers between the same accounts queue instead of deadlocking (the
  // transfer row's foreign keys take key-share locks that would otherwise cross).
  const [, locked] = await Promise.all([
    ensureAccounts(tx, [t.from, t.to]),
    tx
      .select({ id: ledgerAccounts.id, balance: ledgerAccounts.balanceFen })
      .from(ledgerAccounts)
      .where(or(eq(ledgerAccounts.id, t.from), eq(ledgerAccounts.id, t.to)))
      .orderBy(ledgerAccounts.id)
      .for('no key update'),
  ]);
  const fromBalance = locked.find((a) => a.id === t.from)?.balance ?? 0;
  // the row, and both balances only when the row is new (a retry moves nothing twice); the CHECK constraint
  // refuses a balance below zero, which rolls the row back with it
  const inserted = tx
    .insert(ledgerTransfers)
    .values({ id: t.id, fromAccount: t.from, toAccount: t.to, amountFen: t.amountFen, kind: t.kind, taskId: t.taskId ?? null, withdrawalId: t.withdrawalId ?? null })
    .onConflictDoNothing({ target: ledgerTransfers.id })
    .returning({ id: ledgerTransfers.id });
  const moved = tx
    .update(ledgerAccounts)
    .set({ balanceFen: sql`${ledgerAccounts.balanceFen} + case when ${ledgerAccounts.id} = ${t.from} then ${-t.amountFen}::bigint else ${t.amountFen}::bigint end` })
    .where(and(or(eq(ledgerAccounts.id, t.from), eq(ledgerAccounts.id, t.to)), sql`exists (select 1 from inserted)`))
    .returning({ id: ledgerAccounts.id });
  let balances: readonly unknown[];
  try {
    balances = (await tx.execute(sql`with inserted as (${inserted.getSQL()}) ${moved.getSQL()}`)) as readonly unknown[];
  } catch (err) {
    if (isCheckViolation(err)) throw new InsufficientFunds(t.from, t.amountFen, fromBalance);
    throw err;
  }
  if (balances.length === 0) {
    // the same id was written before: the same movement (a retry) or another one (a conflict)
    const [existing] = await tx.select().from(ledgerTransfers).where(eq(ledgerTransfers.id, t.id));
    if (!existing || existing.fromAccount !== t.from || existing.toAccount !== t.to || existing.amountFen !== t.amountFen) throw new TransferConflict(t.id);
    return false;
  }
  if (balances.length !== 2) throw new Error(`transfer ${t.id}: ${balances.length} balances moved, not 2`);
  return true;
}

export async function balanceOf(tx: Tx, accountId: string): Promise<number> {
  const [row] = await tx.select({ balance: ledgerAccounts.balanceFen }).from(ledgerAccounts).where(eq(ledgerAccounts.id, accountId));
  return row?.balance ?? 0;
}

/** R-PAYOUT: an MCN creator's money goes to the MCN's wallet. */
export async function payoutAccountOf(tx: Tx, creatorId: string): Promise<string> {
  const [m] = await tx.select().from(mcnMemberships).where(eq(mcnMemberships.creatorId, creatorId));
  return m ? account.mcn(m.mcnId) : account.creator(creatorId);
}

export async function isMcnManaged(tx: Tx, creatorId: string): Promise<boolean> {
  const [m] = await tx.select({ id: mcnMemberships.creatorId }).from(mcnMemberships).where(eq(mcnMemberships.creatorId, creatorId));
  return Boolean(m);
}

// --- the operations -----------------------------------------------------------

/** The most one top-up may bring: ¥1,000,000 (a CHECK on top_ups too). */
export const MAX_TOP_UP_FEN = 100_000_000;

export type TopUp = typeof topUps.$inferSelect;

/** Records a top-up the client is about to pay; a retry with the same id finds the first one. */
export async function openTopUp(db: Db, t: { id: string; clientId: string; amountFen: number; provider: string }): Promise<TopUp> {
  await db.insert(topUps).values({ ...t, status: 'pending' }).onConflictDoNothing({ target: topUps.id });
  const [row] = await db.select().from(topUps).where(eq(topUps.id, t.id));
  return row!;
}

export async function topUpById(db: Db, id: string): Promise<TopUp | undefined> {
  const [row] = await db.select().from(topUps).where(eq(topUps.id, id));
  return row;
}

export class PaymentMismatch extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PaymentMismatch';
  }
}

/**
 * The payment provider's confirmed outcome of a top-up: on success the client's
 * wallet is credited, once (transfer `topup:<id>`), in the transaction that
 * marks the top-up settled. A redelivered notification changes nothing; one
 * that names another payment, client amount or a settled top-up's other
 * outcome is refused (PaymentMismatch) and changes nothing.
 */
export function settleTopUp(db: Db, n: PaymentOutcome): Promise<{ topUp: TopUp; credited: boolean } | null> {
  return db.transaction((tx) => settleTopUpIn(tx, n));
}

export interface PaymentOutcome {
  reference: string;
  providerPaymentId: string;
  amountFen: number;
  status: 'succeeded' | 'failed';
  reason?: string | undefined;
}

async function settleTopUpIn(tx: Tx, n: PaymentOutcome): Promise<{ topUp: TopUp; credited: boolean } | null> {
  const [row] = await tx.select().from(topUps).where(eq(topUps.id, n.reference)).for('update');
  if (!row) return null;
  if (row.providerPaymentId !== null && row.providerPaymentId !== n.providerPaymentId) throw new PaymentMismatch(`top-up ${row.id} is paid by ${row.providerPaymentId}, not ${n.providerPaymentId}`);
  if (row.amountFen !== n.amountFen) throw new PaymentMismatch(`top-up ${row.id} is for ${row.amountFen} fen; the notification says ${n.amountFen}`);
  if (row.status !== 'pending') {
    if (row.status !== n.status) throw new PaymentMismatch(`top-up ${row.id} already ${row.status}; the notification says ${n.status}`);
    return { topUp: row, credited: false };
  }
  if (n.status === 'succeeded') {
    await transfer(tx, { id: `topup:${row.id}`, from: EXTERNAL, to: account.client(row.clientId), amountFen: row.amountFen, kind: 'top_up' });
  }
  const [updated] = await tx
    .update(topUps)
    .set({ status: n.status, providerPaymentId: n.providerPaymentId, failureReason: n.status === 'failed' ? (n.reason ?? 'payment failed') : null, settledAt: sql`now()` })
    .where(eq(topUps.id, row.id))
    .returning();
  return { topUp: updated!, credited: n.status === 'succeeded' };
}

/**
 * A top-up paid outside the API (the demo seed, test set-ups): recorded and
 * confirmed as the provider's notification would, in the caller's transaction.
 * Idempotent by `id`.
 */
export async function paidTopUp(tx: Tx, clientId: string, amountFen: number, id: string): Promise<void> {
  await tx.insert(topUps).values({ id, clientId, amountFen, status: 'pending', provider: 'direct' }).onConflictDoNothing({ target: topUps.id });
  await settleTopUpIn(tx, { reference: id, providerPaymentId: `direct:${id}`, amountFen, status: 'succeeded' });
}

/**
 * Top-ups still pending that were opened before `openedBefore`, oldest first, a
 * page at a time (keyset on created_at, id; the partial index
 * top_ups_pending holds exactly these rows): the reconciliation asks the
 * provider about each (api/wallets.ts reconcileTopUps).
 */
export async function pendingTopUps(db: Db, openedBefore: Date, limit: number, after?: { createdAt: Date; id: string }): Promise<TopUp[]> {
  return db
    .select()
    .from(topUps)
    .where(
      and(
        eq(topUps.status, 'pending'),
        sql`${topUps.createdAt} < ${openedBefore.toISOString()}`,
        after ? sql`(${topUps.createdAt}, ${topUps.id}) > (${after.createdAt.toISOString()}, ${after.id})` : undefined,
      ),
    )
    .orderBy(topUps.createdAt, topUps.id)
    .limit(limit);
}

/**
 * A top-up that was never paid ends: failed, with the reason, once its payment
 * is closed at the provider (so it can no longer be paid). Only a pending one;
 * answers whether this call ended it.
 */
export async function expireTopUp(db: Db, id: string, reason: string): Promise<boolean> {
  const ended = await db
    .update(topUps)
    .set({ status: 'failed', failureReason: reason, settledAt: sql`now()` })
    .where(and(eq(topUps.id, id), eq(topUps.status, 'pending')))
    .returning({ id: topUps.id });
  return ended.length > 0;
}

/** Records the provider's payment id of an opened top-up (its notification must name the same one). */
export async function attachPayment(db: Db, topUpId: string, providerPaymentId: string): Promise<void> {
  await db
    .update(topUps)
    .set({ providerPaymentId })
    .where(and(eq(topUps.id, topUpId), sql`${topUps.providerPaymentId} is null`));
}

/** R-ESCROW: the price leaves the client's wallet for the task's escrow when the order is placed. */
export const holdEscrow = (tx: Tx, taskId: string, clientId: string, priceFen: number) =>
  transfer(tx, { id: `escrow:${taskId}:hold`, from: account.client(clientId), to: account.escrow(taskId), amountFen: priceFen, kind: 'escrow_hold', taskId });

export type SettleOutcome = 'refund' | 'payout' | 'split';

export interface Settlement {
  taskId: string;
  clientId: string;
  creatorId: string;
  outcome: SettleOutcome;
  /** Back to the client and to the creator (or its MCN); refund + payout = the escrow. Absent: the whole escrow by `outcome`. */
  refundFen?: number | undefined;
  payoutFen?: number | undefined;
  /** R-PAYOUT: the account fixed when the escrow was held; absent for tasks from before (then read now). */
  payoutAccount?: string | undefined;
}

/**
 * Empties a task's escrow, exactly once (R-ESCROW): back to the client
 * (cancellation), to the creator or its MCN (acceptance), or split between them
 * (R-MUTUAL-CANCEL, R-OPERATOR-RESOLVE). The first transfer is always
 * `escrow:<task>:settle` (the refund, or the whole payout), so a second,
 * different settlement of the same escrow is a TransferConflict; a split's
 * creator share is `escrow:<task>:settle:payout`. The escrow's balance cannot go
 * below zero (CHECK), so no settlement pays out more than was held. A task
 * ordered before escrow existed has none: nothing moves.
 */
export async function settleEscrow(db: Db, s: Settlement): Promise<{ moved: number; to: string | null }> {
  return db.transaction((tx) => settleEscrowIn(tx, s));
}

/** settleEscrow inside a caller's transaction (the task projection settles in the transaction that records the settling event). */
export async function settleEscrowIn(tx: Tx, s: Settlement): Promise<{ moved: number; to: string | null }> {
  const [hold] = await tx.select().from(ledgerTransfers).where(eq(ledgerTransfers.id, `escrow:${s.taskId}:hold`));
  if (!hold) return { moved: 0, to: null };
  // a whole refund or payout moves what the escrow holds; a split names both parts, which must add up to it
  const refund = s.outcome === 'split' ? (s.refundFen ?? 0) : s.outcome === 'refund' ? hold.amountFen : 0;
  const payout = s.outcome === 'split' ? (s.payoutFen ?? 0) : s.outcome === 'payout' ? hold.amountFen : 0;
  if (refund + payout !== hold.amountFen || refund < 0 || payout < 0) {
    throw new TransferConflict(`escrow:${s.taskId}:settle (refund ${refund} + payout ${payout} != held ${hold.amountFen})`);
  }
  const escrow = account.escrow(s.taskId);
  const creatorAccount = s.payoutAccount ?? (await payoutAccountOf(tx, s.creatorId));
  if (refund > 0) await transfer(tx, { id: `escrow:${s.taskId}:settle`, from: escrow, to: account.client(s.clientId), amountFen: refund, kind: 'escrow_refund', taskId: s.taskId });
  if (payout > 0) {
    const id = refund > 0 ? `escrow:${s.taskId}:settle:payout` : `escrow:${s.taskId}:settle`;
    await transfer(tx, { id, from: escrow, to: creatorAccount, amountFen: payout, kind: 'payout', taskId: s.taskId });
  }
  return { moved: hold.amountFen, to: payout === 0 ? account.client(s.clientId) : refund === 0 ? creatorAccount : null };
}

/**
 * Every fen lands: escrow that should have landed and did not. A task whose
 * settlement is decided (its snapshot has one: acceptance, a cancellation, a
 * split) or which is closed, and whose escrow still holds money: the ledger
 * refused the settlement (the task's `effect_failed`), which only a bug or a
 * hand-made ledger change causes. Keyset-paginated by task id. Bounded by the
 * escrow accounts that hold money (open tasks' and these), each joined to its
 * task by primary key.
 */
export interface StrandedEscrow {
  taskId: string;
  status: string;
  closedAt: Date | null;
  /** What the escrow holds now, and what the order put in it. */
  balanceFen: number;
  heldFen: number;
  /** The task's own settlement (null: closed without one, e.g. ordered before escrow existed). */
  settlement: { refundFen: number; payoutFen: number; at: string } | null;
  /** The ledger's refusal, as the task recorded it (its latest `effect_failed` of the settlement). */
  refusal: string | null;
}

/** The stranded escrows, as a FROM clause the gauge (db/gauges.ts) and the list share. */
export const STRANDED_ESCROWS = sql`
    ledger_accounts a join tasks t on t.id = substr(a.id, 8)
    where a.kind = 'escrow' and a.balance_fen > 0 and (t.closed_at is not null or jsonb_typeof(t.snapshot -> 'settlement') = 'object')`;

type StrandedRow = {
  task_id: string;
  status: string;
  closed_at: string | null;
  balance_fen: string;
  held_fen: string | null;
  settlement: StrandedEscrow['settlement'];
  refusal: string | null;
};

const strandedRows = (db: Db, where: ReturnType<typeof sql>, limit: number) =>
  db.execute<StrandedRow>(sql`
    select t.id as task_id, t.status, t.closed_at, a.balance_fen, t.snapshot -> 'settlement' as settlement,
      (select h.amount_fen from ledger_transfers h where h.id = a.id || ':hold') as held_fen,
      (select e.payload ->> 'message' from task_events e
        where e.task_id = t.id and e.type = 'effect_failed' and e.payload ->> 'effect' = 'settle' order by e.seq desc limit 1) as refusal
    from ${STRANDED_ESCROWS} and ${where}
    order by t.id limit ${limit}`);

const strandedView = (r: StrandedRow): StrandedEscrow => ({
  taskId: r.task_id,
  status: r.status,
  closedAt: r.closed_at === null ? null : new Date(r.closed_at),
  balanceFen: Number(r.balance_fen),
  heldFen: Number(r.held_fen ?? 0),
  settlement: r.settlement ? { refundFen: Number(r.settlement.refundFen), payoutFen: Number(r.settlement.payoutFen), at: String(r.settlement.at) } : null,
  refusal: r.refusal,
});

export async function strandedEscrows(db: Db, limit: number, afterTaskId?: string): Promise<{ items: StrandedEscrow[]; next: string | null }> {
  const rows = await strandedRows(perExecution(db), afterTaskId === undefined ? sql`true` : sql`t.id > ${afterTaskId}`, limit + 1);
  const items = rows.slice(0, limit).map(strandedView);
  return { items, next: rows.length > limit ? items.at(-1)!.taskId : null };
}

/** Why an escrow cannot be released: there is nothing stranded to release, or it was released with another note. */
export class NotReleasable extends Error {
  constructor(
    readonly code: 'not-settled' | 'nothing-held' | 'already-released',
    message: string,
  ) {
    super(message);
    this.name = 'NotReleasable';
  }
}

export type EscrowRelease = typeof escrowReleases.$inferSelect;

/**
 * An operator releases a stranded escrow, once the ledger's data is right
 * again: the task's own settlement (refund and payout as the task decided them,
 * to the payout account fixed at the order) through `settleEscrowIn`, so with
 * the transfer ids the task's projection would have used: whichever of the two
 * runs first moves the money and the other moves nothing. Refused, and nothing
 * written, when the task has decided no settlement (its escrow is the task's to
 * settle), when the escrow holds nothing (settled after all), or when the
 * ledger refuses again (TransferConflict, InsufficientFunds: the data is still
 * wrong). The release row is written in the same transaction, so a retry with
 * the same note answers the first release (`replayed`) and another note is
 * refused. Null: no such task.
 */
export async function releaseStrandedEscrow(db: Db, r: { taskId: string; operator: string; note: string }): Promise<{ release: EscrowRelease; replayed: boolean } | null> {
  return db.transaction(async (tx) => {
    // the task row first (for update): two releases of one task queue here, and the first one's row is then seen
    const [task] = await tx
      .select({ clientId: tasks.clientId, creatorId: tasks.creatorId, payoutAccount: tasks.payoutAccount, closedAt: tasks.closedAt, snapshot: tasks.snapshot })
      .from(tasks)
      .where(eq(tasks.id, r.taskId))
      .for('update');
    if (!task) return null;
    const [done] = await tx.select().from(escrowReleases).where(eq(escrowReleases.taskId, r.taskId));
    if (done) {
      if (done.releasedBy === r.operator && done.note === r.note) return { release: done, replayed: true };
      throw new NotReleasable('already-released', `The escrow of ${r.taskId} was released by ${done.releasedBy} at ${done.releasedAt.toISOString()}`);
    }
    const settlement = task.snapshot?.settlement ?? null;
    if (!settlement) {
      throw new NotReleasable('not-settled', task.closedAt
        ? `Task ${r.taskId} closed without a settlement: its escrow has no decided destination`
        : `Task ${r.taskId} has not decided its settlement: its escrow is held for it`);
    }
    const escrow = account.escrow(r.taskId);
    const payoutAccount = task.payoutAccount ?? (settlement.payoutFen > 0 ? await payoutAccountOf(tx, task.creatorId) : null);
    // every account the settlement touches, locked in id order as transfer() locks them: a settlement of the task
    // running now (its late projection) either finished before (then the escrow is empty here) or waits for this one
    const touched = [escrow, ...(settlement.refundFen > 0 ? [account.client(task.clientId)] : []), ...(settlement.payoutFen > 0 && payoutAccount ? [payoutAccount] : [])];
    const locked = await tx
      .select({ id: ledgerAccounts.id, balance: ledgerAccounts.balanceFen })
      .from(ledgerAccounts)
      .where(inArray(ledgerAccounts.id, touched))
      .orderBy(ledgerAccounts.id)
      .for('no key update');
    const held = locked.find((a) => a.id === escrow);
    if (!held || held.balance === 0) throw new NotReleasable('nothing-held', `The escrow of ${r.taskId} holds nothing: it was settled`);
    await settleEscrowIn(tx, {
      taskId: r.taskId,
      clientId: task.clientId,
      creatorId: task.creatorId,
      outcome: 'split',
      refundFen: settlement.refundFen,
      payoutFen: settlement.payoutFen,
      payoutAccount: payoutAccount ?? undefined,
    });
    // what the escrow held beyond the order's price (put there by hand) has no destination: refused, all rolled back
    const [left] = await tx.select({ balance: ledgerAccounts.balanceFen }).from(ledgerAccounts).where(eq(ledgerAccounts.id, escrow));
    if ((left?.balance ?? 0) !== 0) throw new TransferConflict(`${escrow} would still hold ${left?.balance} fen after the settlement`);
    const [release] = await tx
      .insert(escrowReleases)
      .values({ taskId: r.taskId, refundFen: settlement.refundFen, payoutFen: settlement.payoutFen, payoutAccount: settlement.payoutFen > 0 ? payoutAccount : null, releasedBy: r.operator, note: r.note })
      .returning();
    return { release: release!, replayed: false };
  });
}

/** Holds a withdrawal's amount while the payout runs, and records the withdrawal. */
export async function holdWithdrawal(tx: Tx, withdrawalId: string, accountId: string, amountFen: number): Promise<void> {
  await transfer(tx, { id: `withdrawal:${withdrawalId}:hold`, from: accountId, to: account.withdrawal(withdrawalId), amountFen, kind: 'withdrawal_hold', withdrawalId });
  await tx.insert(withdrawals).values({ id: withdrawalId, accountId, amountFen, status: 'pending' }).onConflictDoNothing({ target: withdrawals.id });
}

/** Ends a withdrawal: paid out to the world, or returned to the wallet. Once. */
export async function finishWithdrawal(db: Db, withdrawalId: string, outcome: { paid: true; reference: string } | { paid: false; reason: string }): Promise<void> {
  await db.transaction(async (tx) => {
    const [w] = await tx.select().from(withdrawals).where(eq(withdrawals.id, withdrawalId));
    if (!w) throw new Error(`no withdrawal ${withdrawalId}`);
    const held = account.withdrawal(withdrawalId);
    await transfer(tx, {
      id: `withdrawal:${withdrawalId}:settle`,
      from: held,
      to: outcome.paid ? EXTERNAL : w.accountId,
      amountFen: w.amountFen,
      kind: outcome.paid ? 'withdrawal_paid' : 'withdrawal_returned',
      withdrawalId,
    });
    await tx
      .update(withdrawals)
      .set(outcome.paid ? { status: 'paid', providerReference: outcome.reference, updatedAt: sql`now()` } : { status: 'failed', failureReason: outcome.reason, updatedAt: sql`now()` })
      .where(and(eq(withdrawals.id, withdrawalId), eq(withdrawals.status, 'pending')));
  });
}

/** An account's transfers, newest first, keyset-paginated by insertion order. */
export async function statementOf(db: Db, accountId: string, limit: number, beforeSeq?: number) {
  const rows = await perExecution(db)
    .select()
    .from(ledgerTransfers)
    .where(and(or(eq(ledgerTransfers.fromAccount, accountId), eq(ledgerTransfers.toAccount, accountId)), beforeSeq ? sql`${ledgerTransfers.seq} < ${beforeSeq}` : undefined))
    .orderBy(sql`${ledgerTransfers.seq} desc`)
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  return {
    items: page.map((t) => ({
      id: t.id,
      kind: t.kind,
      direction: t.toAccount === accountId ? ('in' as const) : ('out' as const),
      amountFen: t.amountFen,
      counterparty: t.toAccount === accountId ? t.fromAccount : t.toAccount,
      taskId: t.taskId,
      withdrawalId: t.withdrawalId,
      at: t.createdAt.toISOString(),
    })),
    nextSeq: rows.length > limit ? page.at(-1)!.seq : null,
  };
}

/** Every transfer of one task (its escrow's hold and settlement), in insertion order: R-EVIDENCE. */
export async function transfersOfTask(db: Tx, taskId: string) {
  return db.select().from(ledgerTransfers).where(eq(ledgerTransfers.taskId, taskId)).orderBy(ledgerTransfers.seq);
}

/** Withdrawals still pending after `graceMs`: their workflow may never have started (Temporal away at request time). */
/** Withdrawals pending for longer than `graceMs`, a page after the id `after` (ids are time-ordered; the sweep walks them all). */
export async function pendingWithdrawals(db: Db, graceMs: number, limit = 100, after?: string) {
  return perExecution(db)
    .select()
    .from(withdrawals)
    .where(and(eq(withdrawals.status, 'pending'), sql`${withdrawals.createdAt} < now() - make_interval(secs => ${graceMs / 1000})`, after ? gt(withdrawals.id, after) : undefined))
    .orderBy(withdrawals.id)
    .limit(limit);
}
