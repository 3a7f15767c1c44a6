import { sql } from 'drizzle-orm';
import { bigint, bigserial, check, index, integer, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Double-entry ledger in integer fen. Every movement of money is one immutable
 * transfer between two accounts; an account's balance is kept in the same
 * transaction and can never go negative (a CHECK constraint, so it holds under
 * concurrency, not only in code) — except the `external` account, the world
 * outside Starmap that top-ups come from and withdrawals go to. The sum of all
 * balances is always zero.
 *
 * Account ids: `client:<id>`, `creator:<id>`, `mcn:<id>`, `escrow:<taskId>`,
 * `withdrawal:<id>` (funds held while a withdrawal runs), `external`.
 */
export const ledgerAccounts = pgTable(
  'ledger_accounts',
  {
    id: text('id').primaryKey(),
    kind: text('kind').notNull(),
    ownerId: text('owner_id'),
    balanceFen: bigint('balance_fen', { mode: 'number' }).notNull().default(0),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check('ledger_accounts_kind', sql`${t.kind} in ('client', 'creator', 'mcn', 'escrow', 'withdrawal', 'external')`),
    check('ledger_accounts_not_negative', sql`${t.kind} = 'external' or ${t.balanceFen} >= 0`),
  ],
);

/** Immutable transfers. The id is deterministic (task or request + purpose), so a retry never moves money twice. */
export const ledgerTransfers = pgTable(
  'ledger_transfers',
  {
    id: text('id').primaryKey(),
    /** insertion order, for statements */
    seq: bigserial('seq', { mode: 'number' }).notNull().unique(),
    fromAccount: text('from_account')
      .notNull()
      .references(() => ledgerAccounts.id),
    toAccount: text('to_account')
      .notNull()
      .references(() => ledgerAccounts.id),
    amountFen: bigint('amount_fen', { mode: 'number' }).notNull(),
    kind: text('kind').notNull(),
    taskId: text('task_id'),
    withdrawalId: text('withdrawal_id'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check('ledger_transfers_positive', sql`${t.amountFen} > 0`),
    check('ledger_transfers_distinct', sql`${t.fromAccount} <> ${t.toAccount}`),
    index('ledger_transfers_from').on(t.fromAccount, t.createdAt),
    index('ledger_transfers_to').on(t.toAccount, t.createdAt),
    index('ledger_transfers_task').on(t.taskId),
  ],
);

/** Payouts to a bank account through the payout provider; each runs as a withdrawal workflow. */
export const withdrawals = pgTable(
  'withdrawals',
  {
    id: text('id').primaryKey(),
    accountId: text('account_id')
      .notNull()
      .references(() => ledgerAccounts.id),
    amountFen: bigint('amount_fen', { mode: 'number' }).notNull(),
    status: text('status').notNull(), // pending | paid | failed
    providerReference: text('provider_reference'),
    failureReason: text('failure_reason'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [check('withdrawals_positive', sql`${t.amountFen} > 0`), index('withdrawals_account').on(t.accountId, t.createdAt)],
);

/**
 * Idempotency keys of money-moving requests: the first response is stored and
 * replayed for the same key and body; kept at least 24 hours.
 */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    actor: text('actor').notNull(),
    key: text('key').notNull(),
    requestHash: text('request_hash').notNull(),
    statusCode: integer('status_code'),
    response: jsonb('response'),
    /** While the first request runs it holds the key until then; a holder that died lets a retry take over. */
    lockedUntil: timestamp('locked_until', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.actor, t.key] }), index('idempotency_keys_expiry').on(t.expiresAt)],
);

/**
 * Top-ups: a client pays the amount at the payment provider
 * (adapters/payments.ts); the wallet is credited once, when the provider's
 * signed notification confirms the payment (transfer `topup:<id>`). The id is
 * derived from the client's Idempotency-Key, so a retry finds the same top-up.
 */
export const topUps = pgTable(
  'top_ups',
  {
    id: text('id').primaryKey(),
    clientId: text('client_id').notNull(),
    amountFen: bigint('amount_fen', { mode: 'number' }).notNull(),
    status: text('status').notNull(), // pending | succeeded | failed
    provider: text('provider').notNull(),
    providerPaymentId: text('provider_payment_id').unique(),
    failureReason: text('failure_reason'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    settledAt: timestamp('settled_at', { withTimezone: true }),
  },
  (t) => [
    check('top_ups_amount', sql`${t.amountFen} > 0 and ${t.amountFen} <= 100000000`),
    check('top_ups_status', sql`${t.status} in ('pending', 'succeeded', 'failed')`),
    index('top_ups_client').on(t.clientId, t.createdAt),
    // the reconciliation of top-ups whose notification did not come (db/ledger.ts pendingTopUps)
    index('top_ups_pending').on(t.createdAt, t.id).where(sql`${t.status} = 'pending'`),
  ],
);

/** Which MCN (agency) manages a creator: its payouts go to the MCN (R-PAYOUT). */
export const mcnMemberships = pgTable('mcn_memberships', {
  creatorId: text('creator_id').primaryKey(),
  mcnId: text('mcn_id').notNull(),
  since: timestamp('since', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * Escrows an operator released by hand (every fen lands): a task decided its
 * settlement but the ledger refused it (the task's `effect_failed`), the ledger's
 * data was put right, and an operator applied the task's own settlement. One
 * row per task, written in the transaction that moves the money, so a retry
 * finds it and nothing moves twice; who did it and why, for the audit.
 */
export const escrowReleases = pgTable(
  'escrow_releases',
  {
    taskId: text('task_id').primaryKey(),
    refundFen: bigint('refund_fen', { mode: 'number' }).notNull(),
    payoutFen: bigint('payout_fen', { mode: 'number' }).notNull(),
    /** The account the payout went to (the creator's or its MCN's, fixed at the order). */
    payoutAccount: text('payout_account'),
    releasedBy: text('released_by').notNull(),
    note: text('note').notNull(),
    releasedAt: timestamp('released_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [check('escrow_releases_amounts', sql`${t.refundFen} >= 0 and ${t.payoutFen} >= 0 and ${t.refundFen} + ${t.payoutFen} > 0`)],
);
