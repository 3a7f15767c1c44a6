/**
 * Business gauges on a Prometheus registry, read from Postgres when scraped
 * (db/gauges.ts). One read serves every gauge of a scrape and is kept for
 * `cacheMs` (15 s), so several Prometheus servers or a fast scrape interval
 * cost one round of queries per window, and concurrent scrapes share it.
 * When Postgres does not answer, `starmap_business_metrics_up` is 0 and the
 * gauges keep their last values: the scrape itself never fails.
 */
import { Gauge, type Registry } from 'prom-client';
import type { Db } from '../db/client.js';
import { readBusinessGauges, type BusinessGauges } from '../db/gauges.js';
import { TASK_STATUSES, TERMINAL_STATUSES } from '../domain/index.js';

/** Flags operators filter on (domain/task.ts attentionOf); listed so a flag that clears reads 0, not absent. */
const ATTENTION_FLAGS = ['review_escalated', 'complaint_escalated', 'effect_failed'];
const ESCALATIONS = ['review_escalated', 'complaint_escalated'];
const OPEN_STATUSES = TASK_STATUSES.filter((s) => !TERMINAL_STATUSES.includes(s));

export function registerBusinessGauges(registry: Registry, db: Db, cacheMs = 15_000): void {
  let cached: { at: number; read: Promise<BusinessGauges | null> } | null = null;
  const read = (): Promise<BusinessGauges | null> => {
    const now = Date.now();
    if (!cached || now - cached.at >= cacheMs) {
      cached = { at: now, read: readBusinessGauges(db).catch(() => null) };
    }
    return cached.read;
  };

  new Gauge({
    name: 'starmap_business_metrics_up',
    help: '1 when the business gauges were read from PostgreSQL for this scrape, 0 when PostgreSQL did not answer',
    registers: [registry],
    async collect() {
      this.set((await read()) ? 1 : 0);
    },
  });
  const gauge = (name: string, help: string, set: (g: Gauge<string>, v: BusinessGauges) => void, labelNames: string[] = []) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        const v = await read();
        if (v) set(this, v);
      },
    });

  gauge('starmap_tasks_open', 'Open tasks (not completed or cancelled) by status', (g, v) => {
    for (const status of new Set([...OPEN_STATUSES, ...Object.keys(v.openTasksByStatus)])) g.set({ status }, v.openTasksByStatus[status] ?? 0);
  }, ['status']);
  gauge('starmap_tasks_overdue', 'Open tasks whose next deadline (next_deadline) has passed: a timer should have fired', (g, v) => g.set(v.overdueTasks));
  gauge('starmap_tasks_escalated', 'Open tasks with an escalated operator review or complaint', (g, v) => g.set(ESCALATIONS.reduce((n, f) => n + (v.attentionByFlag[f] ?? 0), 0)));
  gauge('starmap_tasks_attention', 'Open tasks by attention flag (TaskAttention: review_escalated, complaint_escalated, effect_failed)', (g, v) => {
    for (const flag of new Set([...ATTENTION_FLAGS, ...Object.keys(v.attentionByFlag)])) g.set({ flag }, v.attentionByFlag[flag] ?? 0);
  }, ['flag']);
  gauge('starmap_notifications_unsent', 'Outbox backlog: notifications recorded but not yet sent', (g, v) => g.set(v.unsentNotifications));
  gauge('starmap_notifications_oldest_unsent_seconds', 'Age of the oldest unsent notification (0 when none)', (g, v) => g.set(v.oldestUnsentSeconds));
  gauge('starmap_tasks_unstarted', "Orders whose task workflow start is not confirmed yet (the worker's orphan sweep starts them after a minute)", (g, v) => g.set(v.unstartedTasks));
  gauge('starmap_tasks_oldest_unstarted_seconds', 'Age of the oldest order whose workflow start is not confirmed (0 when none)', (g, v) => g.set(v.oldestUnstartedSeconds));
  gauge('starmap_escrow_held_fen', 'Money held in escrow for open tasks, in fen', (g, v) => g.set(v.escrowHeldFen));
  gauge('starmap_escrow_stranded_fen', 'Money still in the escrow of a closed or settled task, in fen: a settlement the ledger refused (effect_failed); should be 0', (g, v) => g.set(v.escrowStrandedFen));
  gauge('starmap_topups_pending', 'Top-ups not yet paid, failed or expired', (g, v) => g.set(v.pendingTopUps));
  gauge('starmap_topups_oldest_pending_seconds', "Age of the oldest pending top-up (0 when none): above ~32 minutes the reconciliation with the payment provider is not ending them", (g, v) =>
    g.set(v.oldestPendingTopUpSeconds),
  );
  gauge('starmap_withdrawals_pending', 'Withdrawals not yet paid or returned', (g, v) => g.set(v.pendingWithdrawals));
  gauge('starmap_withdrawals_oldest_pending_seconds', 'Age of the oldest pending withdrawal (0 when none): a payout provider away, or a ledger step that failed for good', (g, v) =>
    g.set(v.oldestPendingWithdrawalSeconds),
  );
  gauge('starmap_projection_lag_seconds', 'Longest delay from an event in the workflow to its row in Postgres, over the latest 1,000 events of the last 5 minutes', (g, v) =>
    g.set(v.projectionLagSeconds),
  );
}
