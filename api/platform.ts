/**
 * The content platform's callback (Douyin / Xigua / Toutiao or the fake that
 * stands in for them). Authenticated by an HMAC-SHA256 signature over
 * `${timestamp}.${raw body}` with a shared secret, within 5 minutes:
 *   X-Starmap-Timestamp: <unix seconds>
 *   X-Starmap-Signature: v1=<hex>
 * Publication and visibility events go to the task workflow as signals
 * (redelivery is deduplicated there by eventId); metrics go to Postgres.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import { Router, type Request } from 'express';
import type { Db } from '../db/client.js';
import { recordMetricsPoint } from '../db/metrics.js';
import { taskById } from '../db/tasks.js';
import { isStalePlatformEvent } from '../domain/index.js';
import { platformEventSignal } from '../workflows/messages.js';
import { Problem, notFound, unauthorized } from './problems.js';
import { withTemporal } from './temporalErrors.js';
import { PlatformEventBody } from './schemas.js';

export const SIGNATURE_TOLERANCE_SECONDS = 300;

export function signPlatformBody(secret: string, timestamp: number, rawBody: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex')}`;
}

function verify(req: Request, secret: string, nowSeconds: number): void {
  const timestamp = Number(req.get('x-starmap-timestamp'));
  const signature = req.get('x-starmap-signature') ?? '';
  const raw = (req as Request & { rawBody?: Buffer }).rawBody?.toString('utf8') ?? '';
  if (!Number.isInteger(timestamp) || !signature) throw unauthorized('Sign the callback: X-Starmap-Timestamp and X-Starmap-Signature');
  if (Math.abs(nowSeconds - timestamp) > SIGNATURE_TOLERANCE_SECONDS) throw unauthorized('The signature timestamp is too old or in the future');
  const expected = Buffer.from(signPlatformBody(secret, timestamp, raw));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw unauthorized('The signature does not match');
}

export function platformRoutes(deps: { db: Db; temporal: Client; platformSecret: string }): Router {
  const router = Router();
  router.post('/v1/platform/events', async (req, res) => {
    verify(req, deps.platformSecret, Math.floor(Date.now() / 1000));
    const event = PlatformEventBody.parse(req.body);
    const task = await taskById(deps.db, event.taskId);
    if (!task) throw notFound(`No task ${event.taskId}`);
    if (event.kind === 'metrics') {
      const m = event.metrics;
      await recordMetricsPoint(deps.db, { taskId: task.id, eventId: event.eventId, itemId: event.itemId, plays: m.plays, likes: m.likes, comments: m.comments, shares: m.shares, observedAt: new Date(m.observedAt) });
      res.status(202).json({ accepted: true });
      return;
    }
    const signal = { eventId: event.eventId, kind: event.kind, itemId: event.itemId, occurredAt: new Date(event.occurredAt).toISOString() };
    // A redelivery, or an event older than one the task applied for the item: the read model
    // only ever lags the workflow, so what is stale there is stale in the workflow too. Answered
    // without a signal: a platform that redelivers by the thousand adds nothing to the history.
    if (task.snapshot && isStalePlatformEvent(task.snapshot, signal)) {
      res.status(202).json({ accepted: true });
      return;
    }
    try {
      await withTemporal(deps.temporal, () => deps.temporal.workflow.getHandle(task.id).signal(platformEventSignal, signal));
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new Problem(409, 'invalid-state', 'The task is closed', 'The task no longer takes platform events', { code: 'task-closed' });
      throw err;
    }
    res.status(202).json({ accepted: true });
  });
  return router;
}
