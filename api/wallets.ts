/**
 * Wallets: balance and statement for clients, creators and MCNs; top-ups for
 * clients; withdrawals for creators and MCNs (R-PAYOUT: not for a creator whose
 * MCN receives its money). Every money-moving request takes an Idempotency-Key.
 * Operators: escrow that should have landed and did not, and its release.
 */
import { eq } from 'drizzle-orm';
import type { Client } from '@temporalio/client';
import { Router, type Request } from 'express';
import { InvalidNotification, type PaymentNotification, type PaymentProvider } from '../adapters/payments.js';
import type { Db } from '../db/client.js';
import {
  InsufficientFunds,
  NotReleasable,
  PaymentMismatch,
  TransferConflict,
  account,
  attachPayment,
  balanceOf,
  holdWithdrawal,
  expireTopUp,
  isMcnManaged,
  openTopUp,
  pendingTopUps,
  releaseStrandedEscrow,
  settleTopUp,
  statementOf,
  strandedEscrows,
  topUpById,
  type EscrowRelease,
  type TopUp,
} from '../db/ledger.js';
import { withdrawals } from '../db/schema/index.js';
import { startWithdrawalWorkflow } from '../temporal/withdrawals.js';
import { actorOf, type UserActor } from './auth.js';
import { idempotent } from './idempotency.js';
import { Problem } from './problems.js';
import { RETRY_AFTER_SECONDS } from './outages.js';
import { withTemporal } from './temporalErrors.js';
import { decodeCursor, encodeCursor } from './cursors.js';
import { TASK_ID_PATTERN } from './ids.js';
import { AmountBody, EscrowReleaseBody, StatementQuery, StrandedEscrowQuery, TaskIdParam, TopUpBody } from './schemas.js';

const topUpView = (t: TopUp, payUrl?: string) => ({
  topUpId: t.id,
  amountFen: t.amountFen,
  status: t.status,
  ...(payUrl ? { payUrl } : {}),
  failureReason: t.failureReason,
  createdAt: t.createdAt.toISOString(),
  settledAt: t.settledAt?.toISOString() ?? null,
});


const releaseView = (r: EscrowRelease) => ({
  taskId: r.taskId,
  refundFen: r.refundFen,
  payoutFen: r.payoutFen,
  payoutAccount: r.payoutAccount,
  releasedBy: r.releasedBy,
  note: r.note,
  releasedAt: r.releasedAt.toISOString(),
});

export const walletOf = (actor: UserActor): string => {
  if (actor.role === 'client') return account.client(actor.id);
  if (actor.role === 'creator') return account.creator(actor.id);
  if (actor.role === 'mcn') return account.mcn(actor.id);
  throw new Problem(403, 'forbidden', 'Not allowed', 'Operators have no wallet');
};

export const insufficient = (err: InsufficientFunds) =>
  new Problem(422, 'insufficient-funds', 'Insufficient funds', `The wallet holds ${err.balanceFen} fen; ${err.neededFen} fen are needed`, {
    code: 'insufficient-funds',
    balanceFen: err.balanceFen,
    neededFen: err.neededFen,
  });

export function walletRoutes(deps: { db: Db; temporal: Client; taskQueue: string; payments: PaymentProvider }): Router {
  const { db, temporal, taskQueue, payments } = deps;
  const router = Router();

  router.get('/v1/wallets/me', async (req, res) => {
    const actor = actorOf(req, 'client', 'creator', 'mcn');
    const id = walletOf(actor);
    const balanceFen = await balanceOf(db, id);
    // an MCN creator withdraws what reached its own wallet (payouts fixed before it joined the MCN), nothing else
    const canWithdraw = actor.role === 'mcn' || (actor.role === 'creator' && (balanceFen > 0 || !(await isMcnManaged(db, actor.id))));
    res.json({ accountId: id, balanceFen, canWithdraw });
  });

  router.get('/v1/wallets/me/transfers', async (req, res) => {
    const actor = actorOf(req, 'client', 'creator', 'mcn');
    const q = StatementQuery.parse(req.query);
    const { items, nextSeq } = await statementOf(db, walletOf(actor), q.limit, q.cursor);
    res.json({ items, nextCursor: nextSeq === null ? null : String(nextSeq) });
  });

  // A top-up opens a payment at the provider; the wallet is credited when the provider confirms it.
  router.post('/v1/wallets/me/top-ups', async (req, res) => {
    const actor = actorOf(req, 'client');
    const { amountFen } = TopUpBody.parse(req.body);
    await idempotent(db, req, res, actor, async ({ idFor }) => {
      const topUp = await openTopUp(db, { id: idFor('tu'), clientId: actor.id, amountFen, provider: payments.name });
      // a retry (the same key) after its top-up ended — expired unpaid while the provider was away: no new payment
      if (topUp.status !== 'pending') return { status: 200, body: topUpView(topUp) };
      const payment = await openPayment(payments, { reference: topUp.id, payerId: actor.id, amountFen });
      await attachPayment(db, topUp.id, payment.providerPaymentId);
      return { status: 201, body: topUpView(topUp, payment.payUrl) };
    });
  });

  router.get('/v1/wallets/me/top-ups/:topUpId', async (req, res) => {
    const actor = actorOf(req, 'client');
    const topUp = await topUpById(db, String(req.params['topUpId']));
    if (!topUp || topUp.clientId !== actor.id) throw new Problem(404, 'not-found', 'Not found', 'No such top-up');
    res.json(topUpView(topUp));
  });

  router.post('/v1/wallets/me/withdrawals', async (req, res) => {
    const actor = actorOf(req, 'creator', 'mcn');
    const { amountFen } = AmountBody.parse(req.body);
    // R-PAYOUT: an MCN creator's payouts reach the MCN; what reached its own wallet (tasks ordered before it joined:
    // the payout account is fixed at the order) is its own to withdraw, or it would stay there for good
    if (actor.role === 'creator' && (await isMcnManaged(db, actor.id)) && (await balanceOf(db, walletOf(actor))) === 0) {
      throw new Problem(422, 'rule-violation', 'A rule refuses the action', "R-PAYOUT: this creator's earnings go to its MCN, which withdraws them", { code: 'mcn-managed' });
    }
    await idempotent(db, req, res, actor, async ({ idFor }) => {
      // a retry after a crash or a failed start finds this withdrawal (and its hold) again
      const withdrawalId = idFor('wd');
      const from = walletOf(actor);
      try {
        // the amount is held in the same transaction that records the withdrawal
        await db.transaction((tx) => holdWithdrawal(tx, withdrawalId, from, amountFen));
      } catch (err) {
        if (err instanceof InsufficientFunds) throw insufficient(err);
        throw err;
      }
      try {
        await withTemporal(temporal, () => startWithdrawalWorkflow(temporal, taskQueue, { withdrawalId, accountId: from, amountFen }));
      } catch {
        // the withdrawal and its hold are recorded: the worker's sweep starts its payout, a retry with the key finds it
        throw new Problem(503, 'temporal-unavailable', 'The withdrawal is recorded but its payout is not started yet', 'Retry with the same Idempotency-Key', {
          code: 'temporal-unavailable',
          withdrawalId,
          retryAfterSeconds: RETRY_AFTER_SECONDS,
        });
      }
      return { status: 202, body: { withdrawalId, amountFen, status: 'pending' } };
    });
  });

  router.get('/v1/wallets/me/withdrawals/:withdrawalId', async (req, res) => {
    const actor = actorOf(req, 'creator', 'mcn');
    const [w] = await db.select().from(withdrawals).where(eq(withdrawals.id, String(req.params['withdrawalId'])));
    if (!w || w.accountId !== walletOf(actor)) throw new Problem(404, 'not-found', 'Not found', 'No such withdrawal');
    res.json({ withdrawalId: w.id, amountFen: w.amountFen, status: w.status, providerReference: w.providerReference, failureReason: w.failureReason });
  });

  // Every fen lands (operators): escrows of settled or closed tasks that still hold money, oldest task id first.
  router.get('/v1/operator/escrows/stranded', async (req, res) => {
    actorOf(req, 'operator');
    const q = StrandedEscrowQuery.parse(req.query);
    const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor, ({ t }) => (typeof t === 'string' && TASK_ID_PATTERN.test(t) ? t : null));
    const { items, next } = await strandedEscrows(db, q.limit, after);
    res.json({
      items: items.map((e) => ({ ...e, closedAt: e.closedAt?.toISOString() ?? null })),
      nextCursor: encodeCursor(next === null ? null : { t: next }),
    });
  });

  // The operator releases one, once the ledger's data is right: the task's own settlement, once (idempotent by the task).
  router.post('/v1/operator/escrows/:taskId/release', async (req, res) => {
    const actor = actorOf(req, 'operator');
    const { taskId } = TaskIdParam.parse(req.params);
    const { note } = EscrowReleaseBody.parse(req.body);
    let result;
    try {
      result = await releaseStrandedEscrow(db, { taskId, operator: `${actor.role}:${actor.id}`, note });
    } catch (err) {
      if (err instanceof NotReleasable) {
        const title = err.code === 'already-released' ? 'The escrow is already released' : 'Nothing to release';
        throw new Problem(409, 'invalid-state', title, err.message, { code: err.code });
      }
      if (err instanceof TransferConflict || err instanceof InsufficientFunds) {
        throw new Problem(409, 'invalid-state', 'The ledger refuses the settlement again', `${err.message}: put the ledger right first; nothing moved`, { code: 'ledger-refused' });
      }
      throw err;
    }
    if (!result) throw new Problem(404, 'not-found', 'Not found', `No task ${taskId}`);
    if (result.replayed) res.set('Idempotent-Replayed', 'true');
    res.status(result.replayed ? 200 : 201).json(releaseView(result.release));
  });

  return router;
}

/**
 * The payment provider's asynchronous notification (public, authenticated by
 * the provider's signature over the raw body). Idempotent by the provider's
 * payment id: a redelivery answers 200 and changes nothing.
 */
export function paymentRoutes(deps: { db: Db; payments: PaymentProvider; log?: (line: string) => void }): Router {
  const router = Router();
  router.post('/v1/payments/notifications', async (req, res) => {
    const raw = (req as Request & { rawBody?: Buffer }).rawBody?.toString('utf8') ?? '';
    let notification;
    try {
      notification = deps.payments.verifyNotification(raw, Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v])));
    } catch (err) {
      if (err instanceof InvalidNotification) throw new Problem(401, 'unauthenticated', 'Authentication required', err.message);
      throw err;
    }
    try {
      const settled = await settleTopUp(deps.db, notification);
      if (!settled) throw new Problem(404, 'not-found', 'Not found', `No top-up ${notification.reference}`);
      res.json({ topUpId: settled.topUp.id, status: settled.topUp.status, credited: settled.credited });
    } catch (err) {
      if (err instanceof PaymentMismatch) {
        (deps.log ?? console.error)(`[payments] refused notification: ${err.message}`);
        throw new Problem(409, 'payment-mismatch', 'The notification does not match the top-up', err.message, { code: 'payment-mismatch' });
      }
      throw err;
    }
  });
  return router;
}

/** The API's bound on a call to the payment provider: past it the client is answered 503 and retries with its key. */
export const PAYMENT_PROVIDER_DEADLINE_MS = 10_000;

/**
 * Opens the provider's payment for a recorded top-up, bounded: a provider that fails or does not answer is a
 * 503 with Retry-After (the top-up row is kept; a retry with the same key opens the same payment, the
 * provider's merchant order number being our top-up id), never a 500.
 */
async function openPayment(payments: PaymentProvider, request: Parameters<PaymentProvider['createPayment']>[0]) {
  try {
    return await withinProviderDeadline(payments.createPayment(request));
  } catch {
    throw new Problem(503, 'payment-provider-unavailable', 'The payment provider is unavailable', 'Retry with the same Idempotency-Key: the top-up is kept', {
      code: 'payment-provider-unavailable',
      topUpId: request.reference,
      retryAfterSeconds: RETRY_AFTER_SECONDS,
    });
  }
}

async function withinProviderDeadline<T>(call: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${PAYMENT_PROVIDER_DEADLINE_MS} ms`)), PAYMENT_PROVIDER_DEADLINE_MS);
  });
  try {
    return await Promise.race([call, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** How long a top-up's payment may be paid; then the reconciliation closes it at the provider and the top-up fails. */
export const TOP_UP_PAYABLE_MS = 30 * 60_000;
/** How long a payment's notification gets before the reconciliation asks the provider. */
export const TOP_UP_NOTIFICATION_GRACE_MS = 2 * 60_000;

export interface TopUpReconciliation {
  /** Paid at the provider, their notification lost: credited now (once, as the notification would have). */
  credited: number;
  /** Failed at the provider: failed here too. */
  failed: number;
  /** Not paid within TOP_UP_PAYABLE_MS: closed at the provider, failed here ("expired"). */
  expired: number;
  /** Still payable: asked again next round. */
  pending: number;
  /** Refused (a provider answer that does not match the top-up) or not asked (the provider away: the round stops). */
  errors: number;
}

/**
 * Every top-up ends, and every fen paid lands (README "Money"). Providers give
 * up redelivering a notification after a while, so a client could pay and never
 * be credited, and an unpaid top-up would stay pending for ever. This asks the
 * provider about every top-up still pending `graceMs` after it was opened: paid
 * or failed there, it is settled here through `settleTopUp`, the notification's
 * own path (a notification arriving too changes nothing); still unpaid after
 * `payableMs`, its payment is closed at the provider first (so it can no longer
 * be paid; a payment made meanwhile is settled as paid) and the top-up fails.
 * Each call to the provider is bounded like the API's; a provider that is away
 * ends the round (the next one asks again). Idempotent: two API processes
 * reconciling at once settle each top-up once (settleTopUp locks its row).
 */
export async function reconcileTopUps(
  db: Db,
  payments: PaymentProvider,
  options: { graceMs?: number; payableMs?: number; page?: number; log?: (line: string) => void } = {},
): Promise<TopUpReconciliation> {
  const { graceMs = TOP_UP_NOTIFICATION_GRACE_MS, payableMs = TOP_UP_PAYABLE_MS, page = 100, log = () => {} } = options;
  const result: TopUpReconciliation = { credited: 0, failed: 0, expired: 0, pending: 0, errors: 0 };
  const settle = async (outcome: PaymentNotification) => {
    try {
      const settled = await settleTopUp(db, outcome);
      if (settled?.credited) result.credited += 1;
      else if (settled?.topUp.status === 'failed') result.failed += 1;
    } catch (err) {
      if (!(err instanceof PaymentMismatch)) throw err;
      result.errors += 1;
      log(`[top-ups] the provider's answer for ${outcome.reference} does not match it: ${err.message}`);
    }
  };
  const expire = async (id: string) => {
    if (await expireTopUp(db, id, `expired: not paid within ${Math.round(payableMs / 60_000)} minutes`)) result.expired += 1;
  };
  const openedBefore = new Date(Date.now() - graceMs);
  for (let after: TopUp | undefined; ; ) {
    const rows = await pendingTopUps(db, openedBefore, page, after);
    for (const topUp of rows) {
      try {
        const state = await withinProviderDeadline(payments.queryPayment(topUp.id));
        if (state.status === 'succeeded' || state.status === 'failed') {
          await settle(state);
        } else if (state.status === 'closed') {
          // closed unpaid already (a round that closed it stopped before failing it here)
          await expire(topUp.id);
        } else if (Date.now() - topUp.createdAt.getTime() >= payableMs) {
          const closed = await withinProviderDeadline(payments.closePayment(topUp.id));
          if (closed.status === 'closed') await expire(topUp.id);
          else await settle(closed);
        } else {
          result.pending += 1;
        }
      } catch (err) {
        // the provider away (or the database): this round ends here, the next one starts over
        result.errors += 1;
        log(`[top-ups] reconciliation stopped at ${topUp.id}: ${String(err)}`);
        return result;
      }
    }
    if (rows.length < page) return result;
    after = rows.at(-1);
  }
}

/** Runs reconcileTopUps every `intervalMs` (never two rounds at once in one process); `stop` ends it. */
export function runTopUpReconciliation(db: Db, payments: PaymentProvider, log: (line: string) => void, intervalMs = 60_000): { stop(): void } {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    reconcileTopUps(db, payments, { log })
      .then(
        (r) => (r.credited || r.failed || r.expired || r.errors) && log(`[top-ups] reconciled: ${JSON.stringify(r)}`),
        (err: unknown) => log(`[top-ups] reconciliation failed: ${String(err)}`),
      )
      .finally(() => (running = false));
  }, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
