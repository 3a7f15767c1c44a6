/**
 * Password hashing: argon2id (memory-hard) from @node-rs/argon2 with OWASP's
 * minimum parameters (19 MiB, 2 passes). Sign-in with an unknown login still
 * verifies against a dummy hash so timing does not tell which logins exist.
 */
import { hash, verify } from '@node-rs/argon2';
import { Problem } from './problems.js';

const OPTIONS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;
export const MIN_PASSWORD_CHARS = 10;

let dummy: Promise<string> | undefined;

/**
 * Each hash takes 19 MiB and a core for ~50 ms: at most HASHING_SLOTS run at
 * once and HASHING_QUEUE wait; beyond that the request is answered 503 with
 * Retry-After at once instead of piling up memory and latency.
 */
export const HASHING_SLOTS = 4;
export const HASHING_QUEUE = 64;
let running = 0;
const waiting: (() => void)[] = [];

export async function withHashingSlot<T>(work: () => Promise<T>): Promise<T> {
  if (running >= HASHING_SLOTS) {
    if (waiting.length >= HASHING_QUEUE) {
      throw new Problem(503, 'busy', 'Too many sign-ins at once', 'Retry in a second', { code: 'hashing-busy', retryAfterSeconds: 1 });
    }
    await new Promise<void>((resolve) => waiting.push(resolve));
  } else {
    running += 1;
  }
  try {
    return await work();
  } finally {
    const next = waiting.shift();
    if (next) next(); // the slot passes on
    else running -= 1;
  }
}

export const hashPassword = (password: string): Promise<string> => withHashingSlot(() => hash(password, OPTIONS));

export function verifyPassword(storedHash: string | undefined, password: string): Promise<boolean> {
  return withHashingSlot(async () => {
    if (!storedHash) {
      dummy ??= hash('not-a-password-of-anyone', OPTIONS);
      await verify(await dummy, password);
      return false;
    }
    try {
      return await verify(storedHash, password);
    } catch {
      return false;
    }
  });
}
