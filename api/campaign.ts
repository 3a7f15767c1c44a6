/**
 * After the content is live: post-campaign data (the metrics time series the
 * metrics workflow collects, plus platform callbacks) for every party of the
 * task, and the ratings after settlement, both ways (R-RATE): the client rates
 * the creator once, the creator rates the client once.
 */
import { Router, type Request } from 'express';
import type { Db } from '../db/client.js';
import { clientRatingOf, rateClient, rateTask, ratingOf, type ClientRatingRow, type RatingRow } from '../db/ratings.js';
import { metricsSeriesOf } from '../db/metrics.js';
import { ratingRefusal } from '../domain/index.js';
import { actorOf, type UserActor } from './auth.js';
import { notFound } from './problems.js';
import { RatingBody } from './schemas.js';
import { visibleTaskOf } from './tasks.js';

const clientRatingView = (r: ClientRatingRow) => ({ taskId: r.taskId, clientId: r.clientId, stars: r.stars, comment: r.comment, ratedAt: r.ratedAt.toISOString() });
const ratingView = (r: RatingRow) => ({ taskId: r.taskId, creatorId: r.creatorId, stars: r.stars, comment: r.comment, ratedAt: r.ratedAt.toISOString() });

type Rated = Parameters<typeof rateTask>[1];
/** R-RATE's two sides: the client rates the creator (`/rating`), the creator rates the client (`/client-rating`). */
const RATING_SIDES = [
  { path: 'rating', rater: 'client', missing: 'the creator is not rated', rate: async (db: Db, r: Rated) => ratingView(await rateTask(db, r)), read: async (db: Db, id: string) => ((row) => row && ratingView(row))(await ratingOf(db, id)) },
  { path: 'client-rating', rater: 'creator', missing: 'the client is not rated', rate: async (db: Db, r: Rated) => clientRatingView(await rateClient(db, r)), read: async (db: Db, id: string) => ((row) => row && clientRatingView(row))(await clientRatingOf(db, id)) },
] as const;

export function campaignRoutes({ db }: { db: Db }): Router {
  const router = Router();

  const visibleTask = (req: Request, actor: UserActor) => visibleTaskOf(db, req, actor);

  // R-RATE: both client and creator (and its MCN, operators) see the post-campaign data
  router.get('/v1/tasks/:taskId/metrics', async (req, res) => {
    const row = await visibleTask(req, actorOf(req, 'client', 'creator', 'mcn', 'operator'));
    const points = await metricsSeriesOf(db, row.id);
    const series = points.map((p) => ({ at: p.observedAt.toISOString(), plays: p.plays, likes: p.likes, comments: p.comments, shares: p.shares, itemId: p.itemId, source: p.eventId.startsWith('reading:') ? 'collected' : 'platform_callback' }));
    res.json({ taskId: row.id, latest: series.at(-1) ?? null, series });
  });

  // R-RATE, both ways: once per task and side, by the rating party, after settlement; every party reads
  for (const side of RATING_SIDES) {
    router.post(`/v1/tasks/:taskId/${side.path}`, async (req, res) => {
      const actor = actorOf(req, side.rater);
      const body = RatingBody.parse(req.body);
      const row = await visibleTask(req, actor);
      // refusals (DomainError) become problem+json in problemHandler
      const refusal = ratingRefusal(row);
      if (refusal) throw refusal;
      const rated = { taskId: row.id, clientId: row.clientId, creatorId: row.creatorId, stars: body.stars, comment: body.comment };
      res.status(201).json(await side.rate(db, rated));
    });
    router.get(`/v1/tasks/:taskId/${side.path}`, async (req, res) => {
      const row = await visibleTask(req, actorOf(req, 'client', 'creator', 'mcn', 'operator'));
      const rating = await side.read(db, row.id);
      if (!rating) throw notFound(`Task ${row.id}: ${side.missing}`);
      res.json(rating);
    });
  }

  return router;
}
