/**
 * In-process limits for the public sign-up and sign-in routes: a sliding
 * window per key (client address, login). Over the limit: 429 problem+json
 * with Retry-After. One process counts its own requests; behind several API
 * instances the gateway's limiter is the shared one (README, Choices).
 */
import { Problem } from './problems.js';

export class RateLimiter {
  private readonly hits = new Map<string, number[]>();
  private sweptAt = 0;

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one request for `key`; throws 429 when the key has used its window. */
  take(key: string, what: string): void {
    const now = this.now();
    this.sweep(now);
    const recent = (this.hits.get(key) ?? []).filter((t) => t > now - this.windowMs);
    if (recent.length >= this.limit) {
      const retryAfterSeconds = Math.max(1, Math.ceil((recent[0]! + this.windowMs - now) / 1000));
      this.hits.set(key, recent);
      throw new Problem(429, 'too-many-requests', 'Too many requests', `At most ${this.limit} ${what} a ${Math.round(this.windowMs / 1000)} s; retry after ${retryAfterSeconds} s`, {
        code: 'rate-limited',
        retryAfterSeconds,
      });
    }
    recent.push(now);
    this.hits.set(key, recent);
  }

  /** Forgets keys whose window passed (bounded memory under a flood of distinct keys). */
  private sweep(now: number): void {
    if (now - this.sweptAt < this.windowMs) return;
    this.sweptAt = now;
    for (const [key, times] of this.hits) if (times.every((t) => t <= now - this.windowMs)) this.hits.delete(key);
  }
}

export interface AuthLimits {
  signUpPerAddress: number;
  signInPerAddress: number;
  signInPerLogin: number;
  windowMs: number;
}

/** Production defaults: a person signs up once and mistypes a password a few times; a script does not get far. */
export const DEFAULT_AUTH_LIMITS: AuthLimits = { signUpPerAddress: 20, signInPerAddress: 60, signInPerLogin: 10, windowMs: 60_000 };
