/**
 * R-APPEAL-48WH: appeals against credit deductions. A creator appeals one of its
 * own deductions once; the platform answers within 48 hours counted on working
 * days only (dueAt, from the calendar of db/calendar.ts). The appeal workflow
 * (workflows/appeal.ts) escalates an unanswered appeal and records the decision;
 * an upheld appeal restores the points in the transaction that records it.
 */
import { and, asc, desc, eq, inArray, lt, lte, type SQL } from 'drizzle-orm';
import { perExecution, type Db, type Tx } from './client.js';
import { applyCreditChange } from './credit.js';
import { loadCalendar } from './calendar.js';
import { appeals, creditEvents } from './schema/index.js';
import { APPEAL_VERIFY_WORKING_MS, DomainError, addWorkingTime, type Actor } from '../domain/index.js';

export type AppealRow = typeof appeals.$inferSelect;
export type AppealStatus = 'open' | 'escalated' | 'upheld' | 'rejected';
export type AppealOutcome = 'upheld' | 'rejected';

/** The credit event key of an upheld appeal's restoration: applied once, however often it is retried. */
export const restoreKey = (appealId: string): string => `appeal:${appealId}:restore`;

export interface NewAppeal {
  id: string;
  creatorId: string;
  creditEventId: number;
  reason: string;
  filedAt: Date;
}

/**
 * Files an appeal: the credit event must be a deduction (delta < 0) of this creator, not yet appealed.
 * Refusals (DomainError): invalid_input `credit-event-not-found` (missing or another creator's: no leak),
 * rule_violation `not-a-deduction`, invalid_state `already-appealed` (details.appealId, appealStatus).
 */
export async function fileAppeal(db: Db, input: NewAppeal): Promise<AppealRow> {
  const [event] = await db.select().from(creditEvents).where(eq(creditEvents.id, input.creditEventId));
  if (!event || event.creatorId !== input.creatorId) {
    throw new DomainError('invalid_input', `No credit event ${input.creditEventId} of this creator`, { code: 'credit-event-not-found' });
  }
  if (event.delta >= 0) {
    const delta = `${event.delta > 0 ? '+' : ''}${event.delta}`;
    const message = `R-APPEAL-48WH: only a deduction can be appealed; credit event ${event.id} is ${delta}`;
    throw new DomainError('rule_violation', message, { code: 'not-a-deduction' });
  }
  const dueAt = new Date(addWorkingTime(input.filedAt.getTime(), APPEAL_VERIFY_WORKING_MS, await loadCalendar(db)));
  const [row] = await db
    .insert(appeals)
    .values({
      id: input.id,
      creatorId: input.creatorId,
      creditEventId: event.id,
      points: -event.delta,
      reason: input.reason,
      status: 'open',
      filedAt: input.filedAt,
      dueAt,
    })
    .onConflictDoNothing({ target: appeals.creditEventId })
    .returning();
  if (row) return row;
  const existing = await appealOfCreditEvent(db, event.id);
  throw new DomainError('invalid_state', `Credit event ${event.id} has already been appealed`, {
    code: 'already-appealed',
    ...(existing ? { appealId: existing.id, appealStatus: existing.status } : {}),
  });
}

export async function appealById(db: Db, id: string): Promise<AppealRow | undefined> {
  return (await db.select().from(appeals).where(eq(appeals.id, id)))[0];
}

export async function appealOfCreditEvent(db: Db, creditEventId: number): Promise<AppealRow | undefined> {
  return (await db.select().from(appeals).where(eq(appeals.creditEventId, creditEventId)))[0];
}

/** R-EVIDENCE: the appeals against any of these credit events (one per deduction at most), oldest first. */
export async function appealsOfCreditEvents(db: Tx, creditEventIds: readonly number[]): Promise<AppealRow[]> {
  if (creditEventIds.length === 0) return [];
  return db.select().from(appeals).where(inArray(appeals.creditEventId, [...creditEventIds])).orderBy(asc(appeals.filedAt), asc(appeals.id));
}

/** An open appeal becomes escalated (once; a decided or escalated one is left as it is). Returns the row as it now is. */
export async function markEscalated(db: Db, appealId: string, at: Date): Promise<AppealRow> {
  await db
    .update(appeals)
    .set({ status: 'escalated', escalatedAt: at })
    .where(and(eq(appeals.id, appealId), eq(appeals.status, 'open')));
  const row = await appealById(db, appealId);
  if (!row) throw new Error(`appeal ${appealId} not found`);
  return row;
}

export interface AppealDecision {
  appealId: string;
  outcome: AppealOutcome;
  actor: Actor;
  note: string;
  decidedAt: Date;
}

/**
 * Records the decision and, when upheld, restores the points (credit event `appeal:<id>:restore`,
 * cause appeal_upheld) in the same transaction. Idempotent: repeating the same decision changes
 * nothing; another decision on a decided appeal is a DomainError (invalid_state `already-decided`).
 */
export async function recordDecision(db: Db, decision: AppealDecision): Promise<AppealRow> {
  return db.transaction(async (tx) => {
    const [row] = await tx.select().from(appeals).where(eq(appeals.id, decision.appealId)).for('update');
    if (!row) throw new Error(`appeal ${decision.appealId} not found`);
    let current = row;
    if (row.status === 'open' || row.status === 'escalated') {
      const [updated] = await tx
        .update(appeals)
        .set({ status: decision.outcome, decidedAt: decision.decidedAt, decidedBy: `${decision.actor.role}:${decision.actor.id}`, decisionNote: decision.note })
        .where(eq(appeals.id, row.id))
        .returning();
      current = updated ?? row;
    } else if (row.status !== decision.outcome) {
      throw new DomainError('invalid_state', `Appeal ${row.id} is already ${row.status}`, { code: 'already-decided', appealStatus: row.status });
    }
    if (decision.outcome === 'upheld') {
      await applyCreditChange(tx, {
        key: restoreKey(row.id),
        creatorId: row.creatorId,
        delta: row.points,
        cause: 'appeal_upheld',
        reason: `R-APPEAL-48WH: appeal ${row.id} upheld: ${decision.note}`,
        actor: decision.actor,
        occurredAt: current.decidedAt ?? decision.decidedAt,
        appealId: row.id,
      });
    }
    return current;
  });
}

/** A page of appeals, newest first (ids are time-ordered): a creator's own, or all for operators. */
export async function appealsOf(
  db: Db,
  filter: { creatorId?: string | undefined; status?: AppealStatus | undefined; limit: number; beforeId?: string | undefined },
): Promise<{ items: AppealRow[]; more: boolean }> {
  const where: SQL[] = [];
  if (filter.creatorId) where.push(eq(appeals.creatorId, filter.creatorId));
  if (filter.status) where.push(eq(appeals.status, filter.status));
  if (filter.beforeId) where.push(lt(appeals.id, filter.beforeId));
  const rows = await perExecution(db)
    .select()
    .from(appeals)
    .where(and(...where))
    .orderBy(desc(appeals.id))
    .limit(filter.limit + 1);
  return { items: rows.slice(0, filter.limit), more: rows.length > filter.limit };
}

/**
 * The operators' queue: open and escalated appeals, the closest deadline first. With `dueWithinMs`,
 * only those due by `now + dueWithinMs` (overdue ones included).
 */
export async function openAppealsByDue(db: Db, options: { now: Date; dueWithinMs?: number | undefined; limit: number }): Promise<AppealRow[]> {
  const where: SQL[] = [inArray(appeals.status, ['open', 'escalated'])];
  if (options.dueWithinMs !== undefined) where.push(lte(appeals.dueAt, new Date(options.now.getTime() + options.dueWithinMs)));
  return perExecution(db)
    .select()
    .from(appeals)
    .where(and(...where))
    .orderBy(asc(appeals.dueAt), asc(appeals.id))
    .limit(options.limit);
}
