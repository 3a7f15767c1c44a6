/**
 * R-EVIDENCE: everything recorded about one task, read in one snapshot. Read
 * only: each table is still written by its own module (tasks/task_events by
 * db/tasks.ts, transfers by db/ledger.ts, credit_events by db/credit.ts,
 * appeals by db/appeals.ts) and read here through that module's own query.
 *
 * Why a module of its own: the reads must see one state. They run in one
 * REPEATABLE READ, READ ONLY transaction, so a payout or a credit change that
 * commits while the bundle is read is either wholly in it or wholly out of it,
 * and the same database state always gives the same bundle (and digest).
 */
import type { Db } from './client.js';
import { displayNamesOf } from './accounts.js';
import { appealsOfCreditEvents, type AppealRow } from './appeals.js';
import { mcnOf } from './creators.js';
import { creditEventsOfTask } from './credit.js';
import { transfersOfTask } from './ledger.js';
import { eventsOf, taskById } from './tasks.js';
import type { CreditEventRow, TaskEventRow, TaskRow } from './schema/index.js';

export type TransferRow = Awaited<ReturnType<typeof transfersOfTask>>[number];

export interface EvidenceRecord {
  task: TaskRow;
  /** The creator's MCN now (it may read the bundle); the payout account fixed at order is on the task. */
  mcnId: string | null;
  /** Display names of the client, the creator and the MCN. */
  names: Map<string, string>;
  events: TaskEventRow[];
  transfers: TransferRow[];
  /** Caused by the task, and the restorations of upheld appeals against those. */
  credit: CreditEventRow[];
  appeals: AppealRow[];
}

/** The task's record, or undefined when there is no such task. */
export async function evidenceRecordOf(db: Db, taskId: string): Promise<EvidenceRecord | undefined> {
  return db.transaction(
    async (tx) => {
      const task = await taskById(tx, taskId);
      if (!task) return undefined;
      const [mcnId, events, transfers, caused] = await Promise.all([mcnOf(tx, task.creatorId), eventsOf(tx, taskId), transfersOfTask(tx, taskId), creditEventsOfTask(tx, taskId)]);
      const appeals = await appealsOfCreditEvents(
        tx,
        caused.map((c) => c.id),
      );
      // an upheld appeal's restoration names the appeal, not the task
      const credit = appeals.length > 0 ? await creditEventsOfTask(tx, taskId, appeals.map((a) => a.id)) : caused;
      const names = await displayNamesOf(tx, [task.clientId, task.creatorId, ...(mcnId ? [mcnId] : [])]);
      return { task, mcnId, names, events, transfers, credit, appeals };
    },
    { isolationLevel: 'repeatable read', accessMode: 'read only' },
  );
}
