/**
 * Activities: the task workflow's only way to touch the outside world. Each is
 * idempotent: its key comes from the task id and the event sequence number, and
 * every write is an upsert or an insert guarded by a unique constraint, so a
 * retry never adds a second row, a second SMS or a second credit change.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { ContentPlatform } from '../adapters/contentPlatform.js';
import type { Notifier } from '../adapters/notifier.js';
import type { PayoutProvider } from '../adapters/payouts.js';
import { PayoutRejected } from '../adapters/payouts.js';
import { InsufficientFunds, TransferConflict, finishWithdrawal, settleEscrow, settleEscrowIn, type Settlement } from '../db/ledger.js';
import { projectTask, taskById } from '../db/tasks.js';
import type { Db, Tx } from '../db/client.js';
import { applyCreditChange, lockCreator, restartObservations } from '../db/credit.js';
import { createAppealActivities } from './appeals.js';
import { OutboxDispatcher, notifyOnce, outboxInsertsOf } from './outbox.js';
import { recordMetricsPoint } from '../db/metrics.js';
import { isTerminal, taskTypeOf, type Actor, type Effect, type Platform, type TaskEvent, type TaskState } from '../domain/index.js';
import type { MetricsInput } from '../workflows/metrics.js';

export interface ActivityDeps {
  db: Db;
  notifier: Notifier;
  payouts: PayoutProvider;
  /** Reads post-campaign data (adapters/contentPlatform.ts); without it `collectMetrics` fails. */
  contentPlatform?: ContentPlatform;
  /**
   * Starts the task's metrics workflow when the projection sees it accepted
   * (temporal/metrics.ts). Left out, no metrics are collected (most workflow tests).
   */
  startMetrics?: (input: MetricsInput) => Promise<void>;
  /**
   * false: no metrics reading is taken (`collectMetrics` answers `collecting:
   * false` at once, so a task of engine 5 ends its collection at its first
   * reading): workflow tests that do not follow post-campaign data. Default true.
   */
  collectsMetrics?: boolean;
  /** Sends what the projection writes to the outbox; one of its own (default options) when left out. */
  outbox?: OutboxDispatcher;
}

/** A ledger refusal will not change on retry: fail the activity for good. */
function permanent(err: unknown): never {
  if (err instanceof InsufficientFunds || err instanceof TransferConflict) {
    throw ApplicationFailure.create({ type: err.name, message: err.message, nonRetryable: true });
  }
  throw err;
}

type NotifyEffect = Extract<Effect, { kind: 'notify' }>;
type CreditEffect = Extract<Effect, { kind: 'credit' }>;

export const createActivities = ({ db, notifier, payouts, contentPlatform, startMetrics, collectsMetrics = true, outbox = new OutboxDispatcher({ db, notifier }) }: ActivityDeps) => ({
  /** R-APPEAL-48WH: escalateAppeal, decideAppeal (activities/appeals.ts). */
  ...createAppealActivities({ db, notifier }),

  /** R-ESCROW / R-PAYOUT: refund or pay out the task's escrow, once (deterministic transfer id). */
  async settleEscrow(input: Settlement): Promise<{ moved: number; to: string | null }> {
    return settleEscrow(db, input).catch(permanent);
  },

  /** Sends a withdrawal to the payout provider; our id is the provider's idempotency key. */
  async sendPayout(input: { withdrawalId: string; accountId: string; amountFen: number }): Promise<string> {
    try {
      const { reference } = await payouts.pay({ idempotencyKey: input.withdrawalId, accountId: input.accountId, amountFen: input.amountFen });
      return reference;
    } catch (err) {
      if (err instanceof PayoutRejected) throw ApplicationFailure.create({ type: 'PayoutRejected', message: err.message, nonRetryable: true });
      throw err; // transient: retried
    }
  },

  /** Ends a withdrawal in the ledger: paid out, or the held money returned to the wallet. */
  async finishWithdrawal(input: { withdrawalId: string; paid: boolean; reference?: string; reason?: string }): Promise<void> {
    await finishWithdrawal(db, input.withdrawalId, input.paid ? { paid: true, reference: input.reference ?? '' } : { paid: false, reason: input.reason ?? 'rejected' }).catch(permanent);
  },

  /**
   * Projects the task's state and its new events to Postgres (db/tasks.ts) and,
   * in the same transaction, settles the escrow of a settling event among them
   * (db/ledger.ts) and records the events' messages in the outbox, which the
   * dispatcher then sends (tasks of engine 3, see workflows/task.ts): the read model never
   * shows a task settled whose money has not moved, and the settlement costs no
   * activity of its own. A ledger refusal (which a retry cannot change) is rolled
   * back to its savepoint and answered, not thrown: the workflow records it as
   * `effect_failed` and the projection stands.
   */
  async projectTask(input: {
    task: TaskState;
    events: TaskEvent[];
    settlements?: Settlement[];
    notices?: (NotifyEffect & { taskId: string })[];
    /** Engine 5: the task workflow takes its own metrics readings (no metrics workflow to start). */
    readsMetrics?: boolean;
  }): Promise<{ refused: string[] }> {
    const { task, events, settlements = [], notices = [] } = input;
    const refused: string[] = [];
    const withMessages = (tx: Tx) => outboxInsertsOf(tx, task.taskId, notices);
    // the row, the events and their messages in one statement: alone for events that move no money, else in
    // the settlement's transaction
    const refusal = (err: unknown): err is InsufficientFunds | TransferConflict => err instanceof InsufficientFunds || err instanceof TransferConflict;
    if (settlements.length === 0) await projectTask(db, task, events, withMessages(db));
    else
      try {
        // a settlement the ledger accepts (every one, but for a bug): no savepoint, two round trips fewer
        await db.transaction(async (tx) => {
          await projectTask(tx, task, events, withMessages(tx));
          for (const settlement of settlements) await settleEscrowIn(tx, settlement);
        });
      } catch (err) {
        if (!refusal(err)) throw err;
        // refused, so all of it rolled back: again, each settlement behind a savepoint, so the projection stands
        await db.transaction(async (tx) => {
          await projectTask(tx, task, events, withMessages(tx));
          for (const settlement of settlements) {
            try {
              await tx.transaction((savepoint) => settleEscrowIn(savepoint, settlement));
            } catch (again) {
              if (!refusal(again)) throw again;
              refused.push(again.message);
            }
          }
        });
      }
    if (notices.length > 0) outbox.wake();
    // post-campaign data of a task before engine 5: accepted content is read from the platform until retention
    // ends by a workflow of its own (started once the acceptance is committed, so the first reading finds it: a
    // retry of this activity starts it once)
    if (startMetrics && !input.readsMetrics && events.some((e) => e.type === 'delivery_accepted') && task.acceptance.acceptedAt && task.retention.endsAt) {
      await startMetrics({ taskId: task.taskId, startsAt: task.acceptance.acceptedAt, endsAt: task.retention.endsAt });
    }
    return { refused };
  },

  /**
   * One reading of the task's published item (R-RATE post-campaign data), stored
   * once per reading number. Answers whether collection should go on: not once
   * the task was cancelled or its content deleted within retention. A task of
   * engine 5 names its live item (`item`): it knows its own state, so the read
   * model is not asked; a metrics workflow (tasks before engine 5) does not.
   */
  async collectMetrics(input: { taskId: string; reading: number; at: string; item?: { platform: Platform; itemId: string } }): Promise<{ collecting: boolean }> {
    if (!collectsMetrics) return { collecting: false };
    if (!contentPlatform) throw ApplicationFailure.create({ type: 'NotConfigured', message: 'no content platform adapter', nonRetryable: true });
    if (input.item) {
      const at = new Date(input.at);
      const counters = await contentPlatform.itemMetrics(input.item.platform, input.item.itemId, at);
      await recordMetricsPoint(db, { taskId: input.taskId, eventId: `reading:${input.reading}`, itemId: input.item.itemId, ...counters, observedAt: at });
      return { collecting: true };
    }
    const row = await taskById(db, input.taskId);
    const task = row?.snapshot;
    if (!row || !task) throw ApplicationFailure.create({ type: 'UnknownTask', message: `no task ${input.taskId}`, nonRetryable: true });
    // the read model behind the workflow (the acceptance not yet in it): tried again shortly, never the end of collection
    if (!task.acceptance.acceptedAt && !isTerminal(task.status)) {
      const { attempt } = Context.current().info;
      throw ApplicationFailure.create({
        type: 'AcceptanceNotProjected',
        message: `task ${input.taskId}: the acceptance is not in the read model yet`,
        nextRetryDelay: Math.min(60_000, 1_000 * 2 ** Math.min(attempt - 1, 6)),
      });
    }
    const live = task.status === 'in_retention' || task.completion?.kind === 'retention_served';
    if (!live || !task.publication.itemId) return { collecting: false };
    const at = new Date(input.at);
    const counters = await contentPlatform.itemMetrics(taskTypeOf(task.type).platform, task.publication.itemId, at);
    await recordMetricsPoint(db, { taskId: task.taskId, eventId: `reading:${input.reading}`, itemId: task.publication.itemId, ...counters, observedAt: at });
    return { collecting: true };
  },

  /** Records the message in the outbox, sends it once, marks it sent. */
  async sendNotification(input: NotifyEffect & { taskId: string }): Promise<{ providerMessageId: string }> {
    const { key, channel, recipient, template, params, taskId } = input;
    return notifyOnce(db, notifier, { idempotencyKey: key, channel, recipient, template, params, taskId });
  },


  /**
   * R-CREDIT / R-RETENTION-PENALTY: appends a credit change once per key; a
   * violation also restarts running observation periods (R-OBSERVATION-RESTART),
   * in the same transaction, once.
   */
  async recordCreditChange(input: CreditEffect & { taskId: string; actor: Actor; occurredAt: string }): Promise<void> {
    const at = new Date(input.occurredAt);
    await db.transaction(async (tx) => {
      await lockCreator(tx, input.creatorId);
      const applied = await applyCreditChange(tx, { ...input, occurredAt: at });
      if (applied && input.cause === 'retention_violation') await restartObservations(tx, input.creatorId, at);
    });
  },
});

export type Activities = ReturnType<typeof createActivities>;
