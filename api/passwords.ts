/**
 * Password hashing: argon2id (memory-hard) from @node-rs/argon2 with OWASP's
 * minimum parameters (19 MiB, 2 passes). Sign-in with an unknown login still
 * verifies against a dummy hash so timing does not tell which logins exist.
 */
import { hash, verify } from '@node-rs/argon2';

const OPTIONS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;
export const MIN_PASSWORD_CHARS = 10;

let dummy: Promise<string> | undefined;

export const hashPassword = (password: string): Promise<string> => hash(password, OPTIONS);

export async function verifyPassword(storedHash: string | undefined, password: string): Promise<boolean> {
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
}
