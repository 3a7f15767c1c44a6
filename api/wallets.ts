/**
 * Wallets: balance and statement for clients, creators and MCNs; top-ups for
 * clients; withdrawals for creators and MCNs (R-PAYOUT: not for a creator whose
 * MCN receives its money). Every money-moving request takes an Idempotency-Key.
 */
import { eq } from 'drizzle-orm';
import type { Client } from '@temporalio/client';
import { Router } from 'express';
import type { Db } from '../db/client.js';
import { InsufficientFunds, account, balanceOf, holdWithdrawal, isMcnManaged, statementOf, topUp } from '../db/ledger.js';
import { withdrawals } from '../db/schema/index.js';
import { startWithdrawalWorkflow } from '../temporal/withdrawals.js';
import { actorOf, type UserActor } from './auth.js';
import { idempotent } from './idempotency.js';
import { newId } from './ids.js';
import { Problem } from './problems.js';
import { AmountBody, StatementQuery } from './schemas.js';


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

export function walletRoutes(deps: { db: Db; temporal: Client; taskQueue: string }): Router {
  const { db, temporal, taskQueue } = deps;
  const router = Router();

  router.get('/v1/wallets/me', async (req, res) => {
    const actor = actorOf(req, 'client', 'creator', 'mcn');
    const id = walletOf(actor);
    const canWithdraw = actor.role === 'mcn' || (actor.role === 'creator' && !(await isMcnManaged(db, actor.id)));
    res.json({ accountId: id, balanceFen: await balanceOf(db, id), canWithdraw });
  });

  router.get('/v1/wallets/me/transfers', async (req, res) => {
    const actor = actorOf(req, 'client', 'creator', 'mcn');
    const q = StatementQuery.parse(req.query);
    const { items, nextSeq } = await statementOf(db, walletOf(actor), q.limit, q.cursor);
    res.json({ items, nextCursor: nextSeq === null ? null : String(nextSeq) });
  });

  router.post('/v1/wallets/me/top-ups', async (req, res) => {
    const actor = actorOf(req, 'client');
    const { amountFen } = AmountBody.parse(req.body);
    await idempotent(db, req, res, actor, async (key) => {
      const transferId = `topup:${actor.id}:${key}`;
      await db.transaction((tx) => topUp(tx, actor.id, amountFen, transferId));
      return { status: 201, body: { transferId, amountFen, balanceFen: await balanceOf(db, account.client(actor.id)) } };
    });
  });

  router.post('/v1/wallets/me/withdrawals', async (req, res) => {
    const actor = actorOf(req, 'creator', 'mcn');
    const { amountFen } = AmountBody.parse(req.body);
    if (actor.role === 'creator' && (await isMcnManaged(db, actor.id))) {
      throw new Problem(422, 'rule-violation', 'A rule refuses the action', "R-PAYOUT: this creator's earnings go to its MCN, which withdraws them", { code: 'mcn-managed' });
    }
    await idempotent(db, req, res, actor, async () => {
      const withdrawalId = newId('wd');
      const from = walletOf(actor);
      try {
        // the amount is held in the same transaction that records the withdrawal
        await db.transaction((tx) => holdWithdrawal(tx, withdrawalId, from, amountFen));
      } catch (err) {
        if (err instanceof InsufficientFunds) throw insufficient(err);
        throw err;
      }
      await startWithdrawalWorkflow(temporal, taskQueue, { withdrawalId, accountId: from, amountFen });
      return { status: 202, body: { withdrawalId, amountFen, status: 'pending' } };
    });
  });

  router.get('/v1/wallets/me/withdrawals/:withdrawalId', async (req, res) => {
    const actor = actorOf(req, 'creator', 'mcn');
    const [w] = await db.select().from(withdrawals).where(eq(withdrawals.id, String(req.params['withdrawalId'])));
    if (!w || w.accountId !== walletOf(actor)) throw new Problem(404, 'not-found', 'Not found', 'No such withdrawal');
    res.json({ withdrawalId: w.id, amountFen: w.amountFen, status: w.status, providerReference: w.providerReference, failureReason: w.failureReason });
  });

  return router;
}
