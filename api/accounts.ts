/**
 * Accounts and sign-in. Sign-up is open to clients, creators and MCNs; operator
 * accounts are created by operations (the seed command, or a script with
 * database access). A session is a signed access token (api/auth.ts).
 */
import { Router, type Request } from 'express';
import type { Db } from '../db/client.js';
import { LoginTaken, accountByLogin, activeAccount, createAccount } from '../db/accounts.js';
import type { AccountRow } from '../db/schema/index.js';
import { actorOf, type Auth, type UserRole } from './auth.js';
import { newId } from './ids.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { Problem } from './problems.js';
import { DEFAULT_AUTH_LIMITS, RateLimiter, type AuthLimits } from './rateLimit.js';
import { SessionBody, SignUpBody } from './schemas.js';

/** Access tokens live 12 hours; sign in again after. */
export const SESSION_TTL_SECONDS = 12 * 3600;

export const accountView = (row: AccountRow) => ({ id: row.id, role: row.role, login: row.login, displayName: row.displayName, createdAt: row.createdAt.toISOString() });

/** Public routes: sign up, sign in. */
export function accountRoutes({ db, auth, authLimits = DEFAULT_AUTH_LIMITS }: { db: Db; auth: Auth; authLimits?: AuthLimits }): Router {
  const router = Router();
  const signUps = new RateLimiter(authLimits.signUpPerAddress, authLimits.windowMs);
  const signInsByAddress = new RateLimiter(authLimits.signInPerAddress, authLimits.windowMs);
  const signInsByLogin = new RateLimiter(authLimits.signInPerLogin, authLimits.windowMs);
  const address = (req: Request) => req.ip ?? req.socket.remoteAddress ?? 'unknown';

  router.post('/v1/accounts', async (req, res) => {
    signUps.take(address(req), 'sign-ups per address');
    const body = SignUpBody.parse(req.body);
    try {
      const row = await createAccount(db, { id: newId('acc'), role: body.role, login: body.login, passwordHash: await hashPassword(body.password), displayName: body.displayName });
      res.status(201).location('/v1/me').json(accountView(row));
    } catch (err) {
      if (err instanceof LoginTaken) throw new Problem(409, 'login-taken', 'The login is taken', `An account with login ${body.login} exists`, { code: 'login-taken' });
      throw err;
    }
  });

  router.post('/v1/sessions', async (req, res) => {
    signInsByAddress.take(address(req), 'sign-in attempts per address');
    const body = SessionBody.parse(req.body);
    signInsByLogin.take(body.login, 'sign-in attempts per login');
    const row = await accountByLogin(db, body.login);
    const ok = await verifyPassword(row?.passwordHash, body.password);
    if (!row || !ok || row.disabledAt) throw new Problem(401, 'invalid-credentials', 'Sign-in failed', 'The login or the password is wrong');
    const token = await auth.sign({ role: row.role as UserRole, id: row.id }, SESSION_TTL_SECONDS);
    res.status(201).json({ token, tokenType: 'Bearer', expiresAt: new Date(Date.now() + SESSION_TTL_SECONDS * 1000).toISOString(), account: accountView(row) });
  });

  return router;
}

/** Authenticated: who am I. */
export function meRoutes({ db }: { db: Db }): Router {
  const router = Router();
  router.get('/v1/me', async (req, res) => {
    const actor = actorOf(req);
    const row = await activeAccount(db, actor.id, actor.role);
    if (!row) throw new Problem(401, 'unauthenticated', 'Authentication required', 'The account does not exist');
    res.json(accountView(row));
  });
  return router;
}
