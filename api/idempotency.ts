/**
 * Idempotency for money-moving requests: the first response to an
 * (actor, Idempotency-Key) is stored and replayed for the same body; the same
 * key with another body is a 422; a request still running is a 409. Keys are
 * kept 24 hours (the worker's sweep in temporal/tasks.ts deletes older ones). A request that fails
 * releases its key: nothing was written, so it may be retried.
 */
import { createHash } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import type { Request, Response } from 'express';
import type { Db } from '../db/client.js';
import { idempotencyKeys } from '../db/schema/index.js';
import type { UserActor } from './auth.js';
import { Problem, badRequest } from './problems.js';

export const IDEMPOTENCY_KEY_TTL_HOURS = 24;
const KEY = /^[A-Za-z0-9_.:-]{8,128}$/;

/** The request's Idempotency-Key, validated; undefined when the header is absent. */
export function optionalIdempotencyKey(req: Request): string | undefined {
  const key = req.get('idempotency-key');
  if (key === undefined) return undefined;
  if (!KEY.test(key)) throw badRequest('Idempotency-Key must be 8-128 characters: letters, digits, _.:-', { code: 'idempotency-key-invalid' });
  return key;
}

export function requireIdempotencyKey(req: Request): string {
  const key = optionalIdempotencyKey(req);
  if (!key) throw badRequest('Send an Idempotency-Key header (8-128 characters: letters, digits, _.:-)', { code: 'idempotency-key-required' });
  return key;
}

export async function idempotent(
  db: Db,
  req: Request,
  res: Response,
  actor: UserActor,
  handle: (key: string) => Promise<{ status: number; body: unknown }>,
): Promise<void> {
  const key = requireIdempotencyKey(req);
  const who = `${actor.role}:${actor.id}`;
  const requestHash = createHash('sha256').update(`${req.method} ${req.path} ${JSON.stringify(req.body ?? {})}`).digest('hex');
  const [claimed] = await db
    .insert(idempotencyKeys)
    .values({ actor: who, key, requestHash, expiresAt: sql`now() + make_interval(hours => ${IDEMPOTENCY_KEY_TTL_HOURS})` })
    .onConflictDoNothing()
    .returning();
  if (!claimed) {
    const [prior] = await db.select().from(idempotencyKeys).where(and(eq(idempotencyKeys.actor, who), eq(idempotencyKeys.key, key)));
    if (!prior) throw new Problem(409, 'request-in-progress', 'Retry shortly', 'The key was released while this request arrived');
    if (prior.requestHash !== requestHash) {
      throw new Problem(422, 'idempotency-key-reused', 'Idempotency-Key reused with a different body', `Key ${key} was used for another request`, { code: 'idempotency-key-reused' });
    }
    if (prior.statusCode === null) throw new Problem(409, 'request-in-progress', 'The first request with this key is still running', 'Retry shortly', { code: 'request-in-progress' });
    res.status(prior.statusCode).set('Idempotent-Replayed', 'true').json(prior.response);
    return;
  }
  let result: { status: number; body: unknown };
  try {
    result = await handle(key);
  } catch (err) {
    await db.delete(idempotencyKeys).where(and(eq(idempotencyKeys.actor, who), eq(idempotencyKeys.key, key)));
    throw err;
  }
  await db
    .update(idempotencyKeys)
    .set({ statusCode: result.status, response: result.body })
    .where(and(eq(idempotencyKeys.actor, who), eq(idempotencyKeys.key, key)));
  res.status(result.status).json(result.body);
}
