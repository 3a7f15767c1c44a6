/**
 * What operations watch, read from the read model in one round of queries
 * (ops/businessMetrics.ts turns it into Prometheus gauges). Reads only; each
 * query is an aggregate an index bounds or a small table:
 *   - open tasks by status, overdue ones (a timer should have fired), flags;
 *   - the notification outbox's backlog (rows not yet sent) and its oldest;
 *   - orders whose workflow start is not confirmed yet (`workflow_started_at`
 *     null: the API answered before its start was marked, or Temporal was away
 *     and the orphan sweep has not started it) and the oldest of them;
 *   - money held in escrow (fen), and the part of it whose task is closed or
 *     has decided its settlement: money that should have landed (a settlement
 *     the ledger refused, recorded as effect_failed) — every fen of a settled
 *     task's escrow is refunded or paid out in the transaction that records
 *     the settling event, so anything above 0 is for an operator
 *     (GET /v1/operator/escrows/stranded, then the release);
 *   - top-ups still pending and the oldest of them (the reconciliation with
 *     the payment provider ends each within ~32 minutes: older is for an
 *     operator);
 *   - withdrawals still pending and the oldest of them (a payout provider
 *     away for long, or a withdrawal whose ledger step failed for good);
 *   - projection lag: how long the latest events took from the workflow to
 *     Postgres (task_events.recorded_at - occurred_at over the last 1,000).
 */
import { sql } from 'drizzle-orm';
import type { Db } from './client.js';
import { STRANDED_ESCROWS } from './ledger.js';

export interface BusinessGauges {
  openTasksByStatus: Record<string, number>;
  overdueTasks: number;
  attentionByFlag: Record<string, number>;
  unsentNotifications: number;
  oldestUnsentSeconds: number;
  unstartedTasks: number;
  oldestUnstartedSeconds: number;
  escrowHeldFen: number;
  escrowStrandedFen: number;
  pendingTopUps: number;
  oldestPendingTopUpSeconds: number;
  pendingWithdrawals: number;
  oldestPendingWithdrawalSeconds: number;
  projectionLagSeconds: number;
}

const num = (v: unknown): number => Number(v ?? 0);

export async function readBusinessGauges(db: Db): Promise<BusinessGauges> {
  const [byStatus, overdue, flags, outbox, unstarted, escrow, stranded, topUpsPending, pending, lag] = await Promise.all([
    db.execute<{ status: string; n: string }>(sql`select status, count(*) as n from tasks where closed_at is null group by status`),
    // next_deadline is the next timer of an open task (tasks_open_deadline index)
    db.execute<{ n: string }>(sql`select count(*) as n from tasks where closed_at is null and next_deadline < now()`),
    db.execute<{ flag: string; n: string }>(sql`select flag, count(*) as n from tasks, unnest(attention) as flag where closed_at is null group by flag`),
    db.execute<{ n: string; oldest: string | null }>(
      sql`select count(*) as n, extract(epoch from now() - min(created_at)) as oldest from notifications where sent_at is null`,
    ),
    // the partial index tasks_unstarted holds exactly these rows
    db.execute<{ n: string; oldest: string | null }>(
      sql`select count(*) as n, extract(epoch from now() - min(created_at)) as oldest from tasks where workflow_started_at is null`,
    ),
    db.execute<{ fen: string | null }>(sql`select sum(balance_fen) as fen from ledger_accounts where kind = 'escrow'`),
    // escrow that should have landed: db/ledger.ts STRANDED_ESCROWS (closed or settled tasks whose escrow still holds money)
    db.execute<{ fen: string | null }>(sql`select sum(a.balance_fen) as fen from ${STRANDED_ESCROWS}`),
    // the partial index top_ups_pending holds exactly these rows
    db.execute<{ n: string; oldest: string | null }>(
      sql`select count(*) as n, extract(epoch from now() - min(created_at)) as oldest from top_ups where status = 'pending'`,
    ),
    db.execute<{ n: string; oldest: string | null }>(
      sql`select count(*) as n, extract(epoch from now() - min(created_at)) as oldest from withdrawals where status = 'pending'`,
    ),
    // the newest 1,000 events by id (primary key), of those recorded in the last 5 minutes
    db.execute<{ lag: string | null }>(sql`
      select extract(epoch from max(recorded_at - occurred_at)) as lag
      from task_events
      where id > (select coalesce(max(id), 0) - 1000 from task_events) and recorded_at > now() - interval '5 minutes'`),
  ]);
  return {
    openTasksByStatus: Object.fromEntries(byStatus.map((r) => [r.status, num(r.n)])),
    overdueTasks: num(overdue[0]?.n),
    attentionByFlag: Object.fromEntries(flags.map((r) => [r.flag, num(r.n)])),
    unsentNotifications: num(outbox[0]?.n),
    oldestUnsentSeconds: Math.max(0, num(outbox[0]?.oldest)),
    unstartedTasks: num(unstarted[0]?.n),
    oldestUnstartedSeconds: Math.max(0, num(unstarted[0]?.oldest)),
    escrowHeldFen: num(escrow[0]?.fen),
    escrowStrandedFen: num(stranded[0]?.fen),
    pendingTopUps: num(topUpsPending[0]?.n),
    oldestPendingTopUpSeconds: Math.max(0, num(topUpsPending[0]?.oldest)),
    pendingWithdrawals: num(pending[0]?.n),
    oldestPendingWithdrawalSeconds: Math.max(0, num(pending[0]?.oldest)),
    projectionLagSeconds: Math.max(0, num(lag[0]?.lag)),
  };
}
