/**
 * CORS for browser frontends (the `cors` package), before authentication so a
 * preflight is answered and never refused for lacking the token it cannot carry.
 *
 * Allowed origins: STARMAP_CORS_ORIGINS, comma-separated (`https://app.example.com,https://ops.example.com`);
 * unset, none in production and the local dev frontends otherwise. An allowed
 * origin may send the headers the API reads and read the ones it sets; a
 * foreign origin gets no CORS header at all (its preflight is still a 204, so
 * the browser, not a 401, refuses it). No credentials: the API takes bearer
 * tokens, never cookies.
 */
import cors from 'cors';
import type { RequestHandler } from 'express';

/** Local frontends in development: create-react-app/Next.js (3000), Vite (5173) and Vite preview (4173). */
export const DEV_ORIGINS = ['http://localhost:3000', 'http://localhost:5173', 'http://localhost:4173', 'http://127.0.0.1:3000', 'http://127.0.0.1:5173', 'http://127.0.0.1:4173'];

/** What a frontend sends (besides the CORS-safelisted ones) and what it must be able to read. */
export const ALLOWED_HEADERS = ['Authorization', 'Content-Type', 'Idempotency-Key', 'X-Request-Id'];
export const EXPOSED_HEADERS = ['Idempotent-Replayed', 'Retry-After', 'Location', 'X-Request-Id'];
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];

/** The allowed origins from the environment; a malformed entry stops the start rather than allowing something else. */
export function corsOrigins(env: NodeJS.ProcessEnv = process.env): string[] {
  const given = env['STARMAP_CORS_ORIGINS'];
  if (given === undefined) return env['NODE_ENV'] === 'production' ? [] : DEV_ORIGINS;
  const origins = given
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  for (const origin of origins) {
    let parsed: URL | null = null;
    try {
      parsed = new URL(origin);
    } catch {
      // reported below
    }
    // an origin is scheme://host[:port], exactly as a browser sends it: no path, no trailing slash, no wildcard
    if (!parsed || parsed.origin !== origin) throw new Error(`STARMAP_CORS_ORIGINS: "${origin}" is not an origin (scheme://host[:port], no path)`);
  }
  return origins;
}

export function corsMiddleware(origins: readonly string[]): RequestHandler[] {
  const allowed = new Set(origins);
  return [
    // the answer depends on the Origin whether or not it is allowed: a cache must not hand an
    // answer without CORS headers to an allowed origin (cors() only says so for allowed ones)
    (_req, res, next) => {
      res.vary('Origin');
      next();
    },
    cors({
      origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin)),
      methods: METHODS,
      allowedHeaders: ALLOWED_HEADERS,
      exposedHeaders: EXPOSED_HEADERS,
      maxAge: 600,
    }),
    // cors() passes a foreign origin's preflight on, where /v1's authentication would answer 401:
    // end every preflight here, without CORS headers, so the browser refuses it for what it is
    (req, res, next) => {
      if (req.method === 'OPTIONS' && req.get('access-control-request-method')) return void res.status(204).set('Content-Length', '0').end();
      next();
    },
  ];
}
