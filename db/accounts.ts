/** Accounts: sign-up, sign-in lookups, and the check every authenticated request makes. */
import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import { preparedOnce, type Db, type Tx } from './client.js';
import { accounts, clientContacts, creatorProfiles, type AccountRow } from './schema/index.js';

export type AccountRole = 'client' | 'creator' | 'mcn' | 'operator';

export class LoginTaken extends Error {
  constructor(readonly login: string) {
    super(`login ${login} is taken`);
    this.name = 'LoginTaken';
  }
}

export interface NewAccount {
  id: string;
  role: AccountRole;
  login: string;
  passwordHash: string;
  displayName: string;
}

/** Creates the account (and an empty creator profile for creators); LoginTaken when the login exists. */
export async function createAccount(db: Db, account: NewAccount): Promise<AccountRow> {
  return db.transaction(async (tx) => {
    const [row] = await tx.insert(accounts).values(account).onConflictDoNothing({ target: accounts.login }).returning();
    if (!row) throw new LoginTaken(account.login);
    if (account.role === 'creator') await tx.insert(creatorProfiles).values({ creatorId: row.id });
    return row;
  });
}

export async function accountByLogin(db: Db, login: string): Promise<AccountRow | undefined> {
  return (await db.select().from(accounts).where(eq(accounts.login, login)))[0];
}

/**
 * Whether the account with this id and role exists and is enabled: a token is
 * honoured only while this holds. Every authenticated request asks it, so the
 * query is built once per database (a prepared query) and reads the key only.
 */
export async function isActiveAccount(db: Db, id: string, role: AccountRole): Promise<boolean> {
  return (await activeAccountQuery(db).execute({ id, role })).length > 0;
}
const activeAccountQuery = preparedOnce((db) =>
  db
    .select({ id: accounts.id })
    .from(accounts)
    .where(and(eq(accounts.id, sql.placeholder('id')), eq(accounts.role, sql.placeholder('role')), isNull(accounts.disabledAt)))
    .prepare('active_account'),
);

/** The enabled account's row (isActiveAccount when only the answer matters). */
export async function activeAccount(db: Db, id: string, role: AccountRole): Promise<AccountRow | undefined> {
  return (await db.select().from(accounts).where(and(eq(accounts.id, id), eq(accounts.role, role), isNull(accounts.disabledAt))))[0];
}

/** R-CONTACT-CLIENT: sets (or, with null, removes) a client's phone. */
export async function setClientPhone(db: Db, clientId: string, phone: string | null): Promise<string | null> {
  if (phone === null) {
    await db.delete(clientContacts).where(eq(clientContacts.clientId, clientId));
    return null;
  }
  await db
    .insert(clientContacts)
    .values({ clientId, phone })
    .onConflictDoUpdate({ target: clientContacts.clientId, set: { phone, updatedAt: new Date() } });
  return phone;
}

export async function clientPhoneOf(db: Db, clientId: string): Promise<string | null> {
  const [row] = await db.select({ phone: clientContacts.phone }).from(clientContacts).where(eq(clientContacts.clientId, clientId));
  return row?.phone ?? null;
}

/** The display names of these accounts (R-EVIDENCE names the parties); ids without an account are left out. */
export async function displayNamesOf(db: Tx, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db.select({ id: accounts.id, displayName: accounts.displayName }).from(accounts).where(inArray(accounts.id, [...ids]));
  return new Map(rows.map((r) => [r.id, r.displayName]));
}
