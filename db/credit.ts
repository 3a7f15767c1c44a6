/**
 * R-CREDIT: the credit ledger. Every change is a row of credit_events with its
 * cause (task, card, appeal) and actor; the score is INITIAL_CREDIT_POINTS plus
 * the sum of the deltas. A change is applied once per key, however often the
 * activity or request that makes it is retried.
 *
 * R-OBSERVATION-RESTART: a new violation (a deduction for a retention violation,
 * or a new card) restarts every observation period still running at that time,
 * from the violation, with the same length.
 */
import { and, asc, eq, gt, inArray, or, sql } from 'drizzle-orm';
import { creditScore, restartedObservation } from '../domain/index.js';
import type { Tx } from './client.js';
import { creatorCards, creditEvents } from './schema/index.js';


export type CreditCause = 'retention_violation' | 'card' | 'appeal_upheld';

export interface CreditChange {
  key: string;
  creatorId: string;
  delta: number;
  cause: CreditCause;
  reason: string;
  actor: { role: string; id: string };
  occurredAt: Date;
  taskId?: string | null;
  cardId?: string | null;
  appealId?: string | null;
}

/** Appends the change unless its key exists; true when this call wrote it. */
export async function applyCreditChange(db: Tx, change: CreditChange): Promise<boolean> {
  const rows = await db
    .insert(creditEvents)
    .values({
      key: change.key,
      creatorId: change.creatorId,
      delta: change.delta,
      cause: change.cause,
      reason: change.reason,
      actorRole: change.actor.role,
      actorId: change.actor.id,
      occurredAt: change.occurredAt,
      taskId: change.taskId ?? null,
      cardId: change.cardId ?? null,
      appealId: change.appealId ?? null,
    })
    .onConflictDoNothing({ target: creditEvents.key })
    .returning({ id: creditEvents.id });
  return rows.length > 0;
}

/**
 * R-EVIDENCE: the credit changes a task caused (its retention penalties, cards given
 * for it) and those that appeals against them caused (restorations), oldest first.
 */
export async function creditEventsOfTask(db: Tx, taskId: string, appealIds: readonly string[] = []) {
  const byTask = eq(creditEvents.taskId, taskId);
  return db
    .select()
    .from(creditEvents)
    .where(appealIds.length > 0 ? or(byTask, inArray(creditEvents.appealId, [...appealIds])) : byTask)
    .orderBy(asc(creditEvents.id));
}

export async function creditScoreOf(db: Tx, creatorId: string): Promise<number> {
  const [row] = await db
    .select({ sum: sql<string | null>`sum(${creditEvents.delta})` })
    .from(creditEvents)
    .where(eq(creditEvents.creatorId, creatorId));
  return creditScore([Number(row?.sum ?? 0)]);
}

/**
 * R-OBSERVATION-RESTART: observation periods running at `at` restart from `at`
 * with their own length (yellow card Jan 1 → Feb 1; violation Jan 10 → Feb 10).
 * Returns how many periods moved. Call it in the transaction that records the violation.
 */
export async function restartObservations(db: Tx, creatorId: string, at: Date): Promise<number> {
  const running = await db
    .select()
    .from(creatorCards)
    .where(and(eq(creatorCards.creatorId, creatorId), gt(creatorCards.observationEndsAt, at)))
    .for('update');
  let moved = 0;
  for (const card of running) {
    // the rule itself is domain/credit.ts: same length, from the latest violation, only inside the period
    const endsAt = restartedObservation(
      { observationDays: card.observationDays, lastViolationAtMs: card.lastViolationAt.getTime(), observationEndsAtMs: card.observationEndsAt.getTime() },
      at.getTime(),
    );
    if (endsAt === null) continue;
    await db.update(creatorCards).set({ lastViolationAt: at, observationEndsAt: new Date(endsAt) }).where(eq(creatorCards.id, card.id));
    moved += 1;
  }
  return moved;
}

/**
 * Serialises the credit-side writes of one creator (cards, penalties, appeals,
 * ratings) inside the caller's transaction, so two concurrent violations both
 * see each other for R-OBSERVATION-RESTART and two ratings both count.
 */
export async function lockCreator(tx: Tx, creatorId: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`creator:${creatorId}`}, 0))`);
}
