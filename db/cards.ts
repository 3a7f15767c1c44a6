/**
 * R-CARDS: red and yellow cards an operator gives a creator, each with an
 * observation period. R-OBSERVATION-RESTART: a new card is a new violation, so
 * it first restarts the observations still running. R-CREDIT: a card may deduct
 * points, recorded once in credit_events (cause `card`, actor the operator).
 * The rules are decided in domain/credit.ts; the ledger is db/credit.ts.
 */
import { and, desc, eq, lt, sql } from 'drizzle-orm';
import { observationEnd, validateCard, type CardColor } from '../domain/index.js';
import { perExecution, type Db } from './client.js';
import { applyCreditChange, lockCreator, restartObservations } from './credit.js';
import { creatorCards, creditEvents } from './schema/index.js';

export interface IssueCardInput {
  /** The card id (api/ids.ts `newId('card')`); a second call with the same id issues nothing. */
  id: string;
  creatorId: string;
  color: string;
  reason: string;
  observationDays: number;
  /** Credit points to deduct (0 or absent: none). */
  points?: number | undefined;
  /** The operator who gives the card. */
  issuedBy: string;
  issuedAt: Date;
  /** The task the violation happened on, if any (kept on the credit event). */
  taskId?: string | null | undefined;
}

export interface CardView {
  id: string;
  creatorId: string;
  color: CardColor;
  reason: string;
  observationDays: number;
  points: number;
  issuedBy: string;
  issuedAt: Date;
  lastViolationAt: Date;
  observationEndsAt: Date;
}

export interface IssuedCard {
  card: CardView;
  /** False when a card with this id existed already (a retry): nothing was written. */
  created: boolean;
  /** How many running observation periods the card restarted (R-OBSERVATION-RESTART). */
  restarted: number;
}

class CardIdTaken extends Error {}

const cardColumns = {
  id: creatorCards.id,
  creatorId: creatorCards.creatorId,
  color: sql<CardColor>`${creatorCards.color}`,
  reason: creatorCards.reason,
  observationDays: creatorCards.observationDays,
  points: sql<number>`coalesce(-${creditEvents.delta}, 0)`.mapWith(Number),
  issuedBy: creatorCards.issuedBy,
  issuedAt: creatorCards.issuedAt,
  lastViolationAt: creatorCards.lastViolationAt,
  observationEndsAt: creatorCards.observationEndsAt,
};

/** The card's deduction, if any: its credit event has the key `card:<id>` (unique index). */
const cardEventJoin = sql`${creditEvents.key} = 'card:' || ${creatorCards.id}`;

async function cardById(db: Db, id: string): Promise<CardView | null> {
  const [row] = await db.select(cardColumns).from(creatorCards).leftJoin(creditEvents, cardEventJoin).where(eq(creatorCards.id, id));
  return row ?? null;
}

/**
 * R-CARDS / R-OBSERVATION-RESTART / R-CREDIT in one transaction: restart the
 * creator's running observations from `issuedAt`, insert the card with its own
 * observation to issuedAt + days, and deduct its points once (key `card:<id>`).
 * Throws DomainError (invalid_input) for an invalid card.
 */
export async function issueCard(db: Db, input: IssueCardInput): Promise<IssuedCard> {
  const card = validateCard(input);
  const existing = await cardById(db, input.id);
  if (existing) return { card: existing, created: false, restarted: 0 };
  try {
    const restarted = await db.transaction(async (tx) => {
      await lockCreator(tx, input.creatorId); // a concurrent violation must see this card, and this one it
      // a new card is a new violation for the cards already running
      const moved = await restartObservations(tx, input.creatorId, input.issuedAt);
      const inserted = await tx
        .insert(creatorCards)
        .values({
          id: input.id,
          creatorId: input.creatorId,
          color: card.color,
          reason: card.reason,
          observationDays: card.observationDays,
          issuedBy: input.issuedBy,
          issuedAt: input.issuedAt,
          lastViolationAt: input.issuedAt,
          observationEndsAt: new Date(observationEnd(input.issuedAt.getTime(), card.observationDays)),
        })
        .onConflictDoNothing({ target: creatorCards.id })
        .returning({ id: creatorCards.id });
      if (inserted.length === 0) throw new CardIdTaken(); // a concurrent call with this id won: undo the restart
      if (card.points > 0) {
        await applyCreditChange(tx, {
          key: `card:${input.id}`,
          creatorId: input.creatorId,
          delta: -card.points,
          cause: 'card',
          reason: card.reason,
          actor: { role: 'operator', id: input.issuedBy },
          occurredAt: input.issuedAt,
          taskId: input.taskId ?? null,
          cardId: input.id,
        });
      }
      return moved;
    });
    return { card: (await cardById(db, input.id))!, created: true, restarted };
  } catch (err) {
    if (!(err instanceof CardIdTaken)) throw err;
    return { card: (await cardById(db, input.id))!, created: false, restarted: 0 };
  }
}

/** R-CARDS: every card of the creator, newest first, with the points each deducted. */
export async function cardsOf(db: Db, creatorId: string): Promise<CardView[]> {
  return db
    .select(cardColumns)
    .from(creatorCards)
    .leftJoin(creditEvents, cardEventJoin)
    .where(eq(creatorCards.creatorId, creatorId))
    .orderBy(desc(creatorCards.issuedAt), desc(creatorCards.id));
}

export interface CreditHistoryItem {
  id: number;
  cause: string;
  delta: number;
  reason: string;
  actor: { role: string; id: string };
  taskId: string | null;
  cardId: string | null;
  appealId: string | null;
  occurredAt: Date;
  recordedAt: Date;
}

/** R-CREDIT: the creator's credit changes, newest recorded first, a page at a time (keyset on id; `cursor` = the last id seen). */
export async function creditHistoryOf(
  db: Db,
  creatorId: string,
  page: { limit: number; cursor?: number | undefined },
): Promise<{ items: CreditHistoryItem[]; nextCursor: number | null }> {
  const rows = await perExecution(db)
    .select()
    .from(creditEvents)
    .where(and(eq(creditEvents.creatorId, creatorId), page.cursor !== undefined ? lt(creditEvents.id, page.cursor) : undefined))
    .orderBy(desc(creditEvents.id))
    .limit(page.limit + 1);
  const items = rows.slice(0, page.limit).map((e) => ({
    id: e.id,
    cause: e.cause,
    delta: e.delta,
    reason: e.reason,
    actor: { role: e.actorRole, id: e.actorId },
    taskId: e.taskId,
    cardId: e.cardId,
    appealId: e.appealId,
    occurredAt: e.occurredAt,
    recordedAt: e.recordedAt,
  }));
  return { items, nextCursor: rows.length > page.limit ? items.at(-1)!.id : null };
}
