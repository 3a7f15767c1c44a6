/**
 * R-RATE: after settlement the client rates the creator once (1-5 stars and a
 * comment). The creator's average (over all its rated tasks) is copied onto its
 * plaza rows in the same transaction, so the plaza shows and sorts by it.
 */
import { eq, sql } from 'drizzle-orm';
import { DomainError } from '../domain/index.js';
import type { Db } from './client.js';
import { lockCreator } from './credit.js';
import { creatorOffers, taskRatings } from './schema/index.js';

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
