/**
 * Who is acting. Every request carries `Authorization: Bearer <JWT>` signed
 * with the API's secret (HS256, via `jose`): `sub` is the account id and `role`
 * one of client, creator, mcn, operator. Tokens come from POST /v1/sessions
 * (api/accounts.ts); a token is honoured only while its account exists, is
 * enabled and still has that role. No endpoint trusts an actor id from a body.
 */
import type { NextFunction, Request, Response } from 'express';
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import type { Db } from '../db/client.js';
import { isActiveAccount } from '../db/accounts.js';
import { taskPartiesForActor, type TaskParties } from '../db/tasks.js';
import type { Actor } from '../domain/index.js';
import { ID_PATTERN, TASK_ID_PATTERN } from './ids.js';
import { forbidden, unauthorized } from './problems.js';

export const USER_ROLES = ['client', 'creator', 'mcn', 'operator'] as const;
export type UserRole = (typeof USER_ROLES)[number];
export type UserActor = Actor & { role: UserRole };

const ISSUER = 'starmap';
const AUDIENCE = 'starmap-api';
/** Link tokens (a signed URL for one read, e.g. R-EVIDENCE's printable page) have their own audience: never a bearer token. */
const LINK_AUDIENCE = 'starmap-link';
/** How many verified bearer tokens `verify` remembers (~0.5 KB each). */
const VERIFIED_TOKENS = 10_000;

export interface Auth {
  sign(actor: UserActor, ttlSeconds?: number): Promise<string>;
  verify(token: string): Promise<UserActor>;
  /** A short-lived token for one `scope` (e.g. `evidence:<taskId>`) to put in a link; refused as a bearer token. */
  signLink(actor: UserActor, scope: string, ttlSeconds: number): Promise<string>;
  /** The actor of a link token for `scope`; throws when it is bad, expired or for another scope. */
  verifyLink(token: string, scope: string): Promise<UserActor>;
}

export function createAuth(secret: string): Auth {
  if (Buffer.byteLength(secret) < 32) throw new Error('the token secret must be at least 32 bytes');
  const key = new TextEncoder().encode(secret);
  /** Bearer tokens whose signature was checked, oldest first (a bounded cache; the account is still checked on every request). */
  const verified = new Map<string, { actor: UserActor; expiresAtMs: number }>();
  const actorOfPayload = (payload: { sub?: string | undefined; [claim: string]: unknown }): UserActor => {
    const role = payload['role'];
    if (typeof payload.sub !== 'string' || !ID_PATTERN.test(payload.sub)) throw new Error('bad subject');
    if (typeof role !== 'string' || !(USER_ROLES as readonly string[]).includes(role)) throw new Error('bad role');
    return { role: role as UserRole, id: payload.sub };
  };
  return {
    sign: (actor, ttlSeconds = 12 * 3600) =>
      new SignJWT({ role: actor.role })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(actor.id)
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
        .sign(key),
    async verify(token) {
      // a token's signature and claims are a function of its bytes: checked once, then until it expires
      const known = verified.get(token);
      if (known && known.expiresAtMs > Date.now()) return { ...known.actor };
      verified.delete(token);
      // `exp` is required: a token without one would never expire
      const { payload } = await jwtVerify(token, key, { issuer: ISSUER, audience: AUDIENCE, algorithms: ['HS256'], requiredClaims: ['exp', 'sub'] });
      const actor = actorOfPayload(payload);
      if (verified.size >= VERIFIED_TOKENS) verified.delete(verified.keys().next().value!);
      verified.set(token, { actor, expiresAtMs: payload.exp! * 1000 });
      return { ...actor };
    },
    signLink: (actor, scope, ttlSeconds) =>
      new SignJWT({ role: actor.role, scope })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(actor.id)
        .setIssuer(ISSUER)
        .setAudience(LINK_AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
        .sign(key),
    async verifyLink(token, scope) {
      const { payload } = await jwtVerify(token, key, { issuer: ISSUER, audience: LINK_AUDIENCE, algorithms: ['HS256'], requiredClaims: ['exp', 'sub', 'scope'] });
      if (payload['scope'] !== scope) throw new Error('the link is for another scope');
      return actorOfPayload(payload);
    },
  };
}

declare module 'express-serve-static-core' {
  interface Request {
    actor?: UserActor;
    /**
     * On a request about one task (`/v1/tasks/{taskId}...`): that task's
     * parties, read with the account check (undefined: no such task); see `authenticate`.
     */
    aboutTask?: { taskId: string; parties: TaskParties | undefined };
  }
}

/** The task a `/v1` path is about (`/tasks/{taskId}` and below), when its id is well-formed. */
function taskIdOfPath(path: string): string | undefined {
  const id = /^\/tasks\/([^/]+)(?:\/|$)/.exec(path)?.[1];
  return id !== undefined && TASK_ID_PATTERN.test(id) ? id : undefined;
}

export const authenticate =
  (auth: Auth, db: Db) =>
  async (req: Request, _res: Response, next: NextFunction): Promise<void> => {
    const header = req.get('authorization') ?? '';
    // the scheme is case-insensitive (RFC 9110 §11.1): Bearer, bearer, BEARER
    const match = /^Bearer +([A-Za-z0-9._-]+)$/i.exec(header);
    if (!match) return next(unauthorized('Send Authorization: Bearer <token>'));
    let actor: UserActor;
    try {
      actor = await auth.verify(match[1]!);
    } catch (err) {
      const expired = err instanceof joseErrors.JWTExpired;
      return next(unauthorized(expired ? 'The token has expired' : 'The token is not valid'));
    }
    try {
      // a request about one task reads its parties in the account check's statement (one round trip, not two)
      const taskId = taskIdOfPath(req.path);
      if (taskId !== undefined) {
        const { active, parties } = await taskPartiesForActor(db, taskId, actor.id, actor.role);
        if (!active) return next(unauthorized('The account does not exist or is disabled'));
        req.aboutTask = { taskId, parties };
      } else if (!(await isActiveAccount(db, actor.id, actor.role))) return next(unauthorized('The account does not exist or is disabled'));
      req.actor = actor;
      next();
    } catch (err) {
      next(err);
    }
  };

/** The authenticated actor, refused with 403 unless it has one of `roles`. */
export function actorOf(req: Request, ...roles: UserRole[]): UserActor {
  const actor = req.actor;
  if (!actor) throw unauthorized('Not authenticated');
  if (roles.length > 0 && !roles.includes(actor.role)) {
    throw forbidden(`This action is for: ${roles.join(', ')}`, { requiredRoles: roles, role: actor.role });
  }
  return actor;
}
