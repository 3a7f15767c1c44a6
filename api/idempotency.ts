/**
 * Idempotency for money-moving requests: the first response to an
 * (actor, Idempotency-Key) is stored and replayed for the same body; the same
 * key with another body is a 422. Keys are kept 24 hours (the worker's sweep
 * in temporal/tasks.ts deletes older ones).
 *
 * The request that claims a key holds it for a lease (30 s); while it runs a
 * retry is a 409 `request-in-progress` with Retry-After. A holder that died
 * (its API process was killed) leaves the lease to run out, and the next retry
 * takes the key over and runs the request again. That second run must find
 * what the first one wrote: handlers make their resource ids with `idFor`,
 * from the actor, the key and the key's first use, and write them
 * idempotently. A request that fails releases its lease at once and keeps its
 * key bound to its body: the same request may be retried at once (and makes the
 * same ids); another body needs another key.
 */
import { createHash } from 'node:crypto';
import { and, eq, isNull, lte, or, sql } from 'drizzle-orm';
import type { Request, Response } from 'express';
import type { Db } from '../db/client.js';
import { idempotencyKeys } from '../db/schema/index.js';
import type { UserActor } from './auth.js';
import { newId, type IdPrefix } from './ids.js';
import { Problem, badRequest } from './problems.js';

export const IDEMPOTENCY_KEY_TTL_HOURS = 24;
export const IDEMPOTENCY_LEASE_SECONDS = 30;

/** What a keyed handler gets: the key and ids that a retry of the same request makes again. */
export interface Keyed {
  key: string;
  idFor: (prefix: IdPrefix) => string;
}

/** SHA-256 in hex: the one hash of request bodies and keys. */
export const sha256Hex = (value: string): string => createHash('sha256').update(value).digest('hex');

const requestHashOf = (req: Request): string => sha256Hex(`${req.method} ${req.path} ${JSON.stringify(req.body ?? {})}`);

/**
 * The Temporal update id of a keyed action: the same actor, action and key give
 * the same id, so a retried request is the same update (deduplicated by Temporal).
 */
export const updateIdFor = (actor: UserActor, action: string, key: string): string => sha256Hex(`${actor.role}:${actor.id}:${action}:${key}`);

/**
 * For requests made idempotent downstream (task actions: the key is the
 * workflow update id): binds the key to this request's body, so the same key
 * with another body is a 422 instead of the first request's answer. Returns
 * `release`, for a request that was refused: a refusal leaves nothing behind.
 */
export async function bindKeyToRequest(db: Db, req: Request, actor: UserActor, key: string): Promise<{ release: () => Promise<void>; retried: boolean }> {
  const who = `${actor.role}:${actor.id}`;
  const requestHash = requestHashOf(req);
  const mine = and(eq(idempotencyKeys.actor, who), eq(idempotencyKeys.key, key));
  const [created] = await db
    .insert(idempotencyKeys)
    .values({ actor: who, key, requestHash, expiresAt: sql`now() + make_interval(hours => ${IDEMPOTENCY_KEY_TTL_HOURS})` })
    .onConflictDoNothing()
    .returning({ key: idempotencyKeys.key });
  if (!created) {
    const [bound] = await db.select({ requestHash: idempotencyKeys.requestHash }).from(idempotencyKeys).where(mine);
    if (bound && bound.requestHash !== requestHash) throw keyReused(key);
  }
  return {
    release: async () => {
      if (created) await db.delete(idempotencyKeys).where(mine);
    },
    /** The key was bound already: this is a retry of a request that was not refused (it ran, or met an outage). */
    retried: !created,
  };
}

const keyReused = (key: string) =>
  new Problem(422, 'idempotency-key-reused', 'Idempotency-Key reused with a different body', `Key ${key} was used for another request`, { code: 'idempotency-key-reused' });
/** What an Idempotency-Key looks like; the OpenAPI document's header pattern is this (api/openapiRoute.ts). */
export const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9_.:-]{8,128}$/;

/** The request's Idempotency-Key, validated; undefined when the header is absent. */
export function optionalIdempotencyKey(req: Request): string | undefined {
  const key = req.get('idempotency-key');
  if (key === undefined) return undefined;
  if (!IDEMPOTENCY_KEY_PATTERN.test(key)) throw badRequest('Idempotency-Key must be 8-128 characters: letters, digits, _.:-', { code: 'idempotency-key-invalid' });
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
  handle: (keyed: Keyed) => Promise<{ status: number; body: unknown }>,
): Promise<void> {
  const key = requireIdempotencyKey(req);
  const who = `${actor.role}:${actor.id}`;
  const requestHash = requestHashOf(req);
  const mine = and(eq(idempotencyKeys.actor, who), eq(idempotencyKeys.key, key));
  const lease = sql`now() + make_interval(secs => ${IDEMPOTENCY_LEASE_SECONDS})`;
  let [claimed] = await db
    .insert(idempotencyKeys)
    .values({ actor: who, key, requestHash, lockedUntil: lease, expiresAt: sql`now() + make_interval(hours => ${IDEMPOTENCY_KEY_TTL_HOURS})` })
    .onConflictDoNothing()
    .returning();
  if (!claimed) {
    const [prior] = await db.select().from(idempotencyKeys).where(mine);
    if (!prior) throw inProgress(1, 'The key was released while this request arrived');
    if (prior.requestHash !== requestHash) throw keyReused(key);
    if (prior.statusCode !== null) {
      res.status(prior.statusCode).set('Idempotent-Replayed', 'true').json(prior.response);
      return;
    }
    // still running, or its holder died: take the key over once the lease ran out
    [claimed] = await db
      .update(idempotencyKeys)
      .set({ lockedUntil: lease })
      .where(and(mine, isNull(idempotencyKeys.statusCode), or(isNull(idempotencyKeys.lockedUntil), lte(idempotencyKeys.lockedUntil, sql`now()`))))
      .returning();
    if (!claimed) {
      const left = prior.lockedUntil ? Math.max(1, Math.ceil((prior.lockedUntil.getTime() - Date.now()) / 1000)) : 1;
      throw inProgress(Math.min(left, IDEMPOTENCY_LEASE_SECONDS), 'The first request with this key is still running; retry shortly');
    }
  }
  const firstUse = claimed.createdAt.getTime();
  const keyed: Keyed = { key, idFor: (prefix) => newId(prefix, firstUse, `${who}:${key}`) };
  let result: { status: number; body: unknown };
  try {
    result = await handle(keyed);
  } catch (err) {
    // the key stays bound to this body and its first use (a retry must make the same ids:
    // money may have moved before the failure); only the lease is released
    await db
      .update(idempotencyKeys)
      .set({ lockedUntil: null })
      .where(mine)
      .catch(() => undefined); // the database may be what failed: the lease then runs out by itself
    throw err;
  }
  await db.update(idempotencyKeys).set({ statusCode: result.status, response: result.body, lockedUntil: null }).where(mine);
  res.status(result.status).json(result.body);
}

function inProgress(retryAfterSeconds: number, detail: string): Problem {
  return new Problem(409, 'request-in-progress', 'The first request with this key is still running', detail, { code: 'request-in-progress', retryAfterSeconds });
}
