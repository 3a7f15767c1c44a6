/**
 * Test fixtures for accounts and creators, written through the same db/
 * functions the API uses (no HTTP round trip, no password hashing per account).
 */
import { randomUUID } from 'node:crypto';
import type { UserActor } from '../../api/auth.js';
import { hashPassword } from '../../api/passwords.js';
import { createAccount } from '../../db/accounts.js';
import type { Db } from '../../db/client.js';
import { bindPlatformAccount, openOffer, platformAccountsOf, setContact } from '../../db/creators.js';
import { taskTypeOf, type Platform, type TaskTypeId } from '../../domain/index.js';

export const TEST_PASSWORD = 'correct horse battery staple';
let passwordHash: Promise<string> | undefined;

/** Creates the account of `actor` (idempotent per id). */
export async function ensureAccount(db: Db, actor: UserActor, displayName = actor.id): Promise<void> {
  passwordHash ??= hashPassword(TEST_PASSWORD);
  try {
    await createAccount(db, { id: actor.id, role: actor.role, login: `${actor.id.toLowerCase()}@test.invalid`, passwordHash: await passwordHash, displayName });
  } catch (err) {
    if ((err as Error).name !== 'LoginTaken') throw err;
  }
}

export const newActor = (role: UserActor['role'], prefix: string = role): UserActor => ({ role, id: `${prefix}-${randomUUID().slice(0, 8)}` });

/** Big enough for every condition of every type (R-OPEN-XIGUA included). */
export const STRONG_METRICS = { fans: 250_000, originalPermission: true, recentPlays: Array.from({ length: 20 }, () => 40_000) };

/**
 * A creator that can be ordered: account, contact, one bound account per
 * platform it needs, and the task types opened with `quotes` (fen).
 */
export async function ensureCreator(db: Db, actor: UserActor, quotes: Partial<Record<TaskTypeId, number>>, options: { contact?: boolean } = {}): Promise<void> {
  await ensureAccount(db, actor);
  if (options.contact !== false) await setContact(db, actor.id, { phone: '+8613900001111', email: `${actor.id.toLowerCase()}@creator.test` });
  const bound = new Set((await platformAccountsOf(db, actor.id)).map((a) => a.platform));
  for (const [type, quote] of Object.entries(quotes) as [TaskTypeId, number][]) {
    const platform: Platform = taskTypeOf(type).platform;
    if (!bound.has(platform)) {
      await bindPlatformAccount(db, `pa_${randomUUID()}`, actor.id, { platform, platformUserId: `${platform}-${actor.id}`, nickname: actor.id, ...STRONG_METRICS });
      bound.add(platform);
    }
    try {
      await openOffer(db, actor.id, type, STRONG_METRICS, quote);
    } catch (err) {
      if ((err as { details?: { code?: string } }).details?.code !== 'already-open') throw err;
    }
  }
}
