/**
 * R-RATE, both ways, after settlement, once per task and side: the client rates
 * the creator (1-5 stars and a comment), and the creator rates the client. The
 * creator's average (over all its rated tasks) is copied onto its plaza rows in
 * the same transaction, so the plaza shows and sorts by it; the client's average
 * is read with the tasks a creator is asked to accept. The only writer of
 * task_ratings and client_ratings.
 */
import { eq, inArray, sql } from 'drizzle-orm';
import { DomainError } from '../domain/index.js';
import type { Db } from './client.js';
import { lockCreator } from './credit.js';
import { clientRatings, creatorOffers, taskRatings } from './schema/index.js';

export type RatingRow = typeof taskRatings.$inferSelect;

export async function rateTask(db: Db, rating: { taskId: string; clientId: string; creatorId: string; stars: number; comment: string }): Promise<RatingRow> {
  return db.transaction(async (tx) => {
    await lockCreator(tx, rating.creatorId); // concurrent ratings of one creator both count in the average
    const [row] = await tx.insert(taskRatings).values(rating).onConflictDoNothing({ target: taskRatings.taskId }).returning();
    if (!row) throw new DomainError('invalid_state', 'The task is already rated', { code: 'already-rated' });
    await tx
      .update(creatorOffers)
      .set({ ...(await ratingAggregateOf(tx, rating.creatorId)), updatedAt: sql`now()` })
      .where(eq(creatorOffers.creatorId, rating.creatorId));
    return row;
  });
}

export async function ratingOf(db: Db, taskId: string): Promise<RatingRow | undefined> {
  return (await db.select().from(taskRatings).where(eq(taskRatings.taskId, taskId)))[0];
}

/** The creator's rating aggregate as stored on plaza rows: average ×100 and count. */
export async function ratingAggregateOf(db: Db | Parameters<Parameters<Db['transaction']>[0]>[0], creatorId: string): Promise<{ ratingCentis: number | null; ratingCount: number }> {
  const [stats] = await db
    .select({ average: sql<string | null>`avg(${taskRatings.stars})`, count: sql<number>`count(*)::int` })
    .from(taskRatings)
    .where(eq(taskRatings.creatorId, creatorId));
  return { ratingCentis: stats?.average == null ? null : Math.round(Number(stats.average) * 100), ratingCount: stats?.count ?? 0 };
}

export type ClientRatingRow = typeof clientRatings.$inferSelect;

/** The creator's one rating of the client of a settled task (a second is `already-rated`). */
export async function rateClient(db: Db, rating: { taskId: string; clientId: string; creatorId: string; stars: number; comment: string }): Promise<ClientRatingRow> {
  const [row] = await db.insert(clientRatings).values(rating).onConflictDoNothing({ target: clientRatings.taskId }).returning();
  if (!row) throw new DomainError('invalid_state', 'The client of this task is already rated', { code: 'already-rated' });
  return row;
}

export async function clientRatingOf(db: Db, taskId: string): Promise<ClientRatingRow | undefined> {
  return (await db.select().from(clientRatings).where(eq(clientRatings.taskId, taskId)))[0];
}

export interface RatingSummary {
  /** Average stars, two decimals; null before the first rating. */
  average: number | null;
  count: number;
}

/** Each client's average as creators rated it (clients never rated: `{ average: null, count: 0 }`). */
export async function clientRatingSummaries(db: Db, clientIds: readonly string[]): Promise<Map<string, RatingSummary>> {
  const ids = [...new Set(clientIds)];
  const out = new Map<string, RatingSummary>(ids.map((id) => [id, { average: null, count: 0 }]));
  if (ids.length === 0) return out;
  const rows = await db
    .select({ clientId: clientRatings.clientId, average: sql<string>`avg(${clientRatings.stars})`, count: sql<number>`count(*)::int` })
    .from(clientRatings)
    .where(inArray(clientRatings.clientId, ids))
    .groupBy(clientRatings.clientId);
  for (const r of rows) out.set(r.clientId, { average: Math.round(Number(r.average) * 100) / 100, count: r.count });
  return out;
}
