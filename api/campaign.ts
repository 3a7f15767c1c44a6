/**
 * After the content is live: post-campaign data (the metrics time series the
 * metrics workflow collects, plus platform callbacks) for every party of the
 * task, and the ratings after settlement, both ways (R-RATE): the client rates
 * the creator once, the creator rates the client once.
 */
import { asc, eq } from 'drizzle-orm';
import { Router, type Request } from 'express';
import type { Db } from '../db/client.js';
import { clientRatingOf, rateClient, rateTask, ratingOf, type ClientRatingRow, type RatingRow } from '../db/ratings.js';
import { taskMetrics } from '../db/schema/index.js';
import { ratingRefusal } from '../domain/index.js';
import { actorOf, type UserActor } from './auth.js';
import { notFound } from './problems.js';
import { RatingBody } from './schemas.js';
import { visibleTaskOf } from './tasks.js';

const clientRatingView = (r: ClientRatingRow) => ({ taskId: r.taskId, clientId: r.clientId, stars: r.stars, comment: r.comment, ratedAt: r.ratedAt.toISOString() });
const ratingView = (r: RatingRow) => ({ taskId: r.taskId, creatorId: r.creatorId, stars: r.stars, comment: r.comment, ratedAt: r.ratedAt.toISOString() });

export function campaignRoutes({ db }: { db: Db }): Router {
  const router = Router();

  const visibleTask = (req: Request, actor: UserActor) => visibleTaskOf(db, req, actor);

  // R-RATE: both client and creator (and its MCN, operators) see the post-campaign data
  router.get('/v1/tasks/:taskId/metrics', async (req, res) => {
    const row = await visibleTask(req, actorOf(req, 'client', 'creator', 'mcn', 'operator'));
    const points = await db.select().from(taskMetrics).where(eq(taskMetrics.taskId, row.id)).orderBy(asc(taskMetrics.observedAt), asc(taskMetrics.id));
    const series = points.map((p) => ({ at: p.observedAt.toISOString(), plays: p.plays, likes: p.likes, comments: p.comments, shares: p.shares, itemId: p.itemId, source: p.eventId.startsWith('reading:') ? 'collected' : 'platform_callback' }));
    res.json({ taskId: row.id, latest: series.at(-1) ?? null, series });
  });

  // R-RATE: once, by the task's client, after settlement
  router.post('/v1/tasks/:taskId/rating', async (req, res) => {
    const actor = actorOf(req, 'client');
    const body = RatingBody.parse(req.body);
    const row = await visibleTask(req, actor);
    // refusals (DomainError) become problem+json in problemHandler
    const refusal = ratingRefusal(row);
    if (refusal) throw refusal;
    const rating = await rateTask(db, { taskId: row.id, clientId: actor.id, creatorId: row.creatorId, stars: body.stars, comment: body.comment });
    res.status(201).json(ratingView(rating));
  });

  router.get('/v1/tasks/:taskId/rating', async (req, res) => {
    const row = await visibleTask(req, actorOf(req, 'client', 'creator', 'mcn', 'operator'));
    const rating = await ratingOf(db, row.id);
    if (!rating) throw notFound(`Task ${row.id} is not rated`);
    res.json(ratingView(rating));
  });

  // R-RATE, the other way: once, by the task's creator, after settlement
  router.post('/v1/tasks/:taskId/client-rating', async (req, res) => {
    const actor = actorOf(req, 'creator');
    const body = RatingBody.parse(req.body);
    const row = await visibleTask(req, actor);
    const refusal = ratingRefusal(row);
    if (refusal) throw refusal;
    const rating = await rateClient(db, { taskId: row.id, clientId: row.clientId, creatorId: actor.id, stars: body.stars, comment: body.comment });
    res.status(201).json(clientRatingView(rating));
  });

  router.get('/v1/tasks/:taskId/client-rating', async (req, res) => {
    const row = await visibleTask(req, actorOf(req, 'client', 'creator', 'mcn', 'operator'));
    const rating = await clientRatingOf(db, row.id);
    if (!rating) throw notFound(`The client of task ${row.id} is not rated`);
    res.json(clientRatingView(rating));
  });

  return router;
}
