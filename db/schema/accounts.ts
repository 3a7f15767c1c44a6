import { sql } from 'drizzle-orm';
import { check, index, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/**
 * Everyone who signs in: clients (brands), creators, MCNs and operators. The
 * API trusts a token only while its account exists, is enabled and has the
 * token's role. Passwords are argon2id hashes (api/passwords.ts).
 */
export const accounts = pgTable(
  'accounts',
  {
    id: text('id').primaryKey(),
    role: text('role').notNull(),
    /** Sign-in name (an email address, lower case). */
    login: text('login').notNull(),
    passwordHash: text('password_hash').notNull(),
    displayName: text('display_name').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    disabledAt: timestamp('disabled_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('accounts_login').on(t.login),
    index('accounts_role').on(t.role, t.id),
    // the few disabled accounts, so the plaza leaves them out with a tiny index probe
    index('accounts_disabled').on(t.id).where(sql`${t.disabledAt} is not null`),
    check('accounts_role_known', sql`${t.role} in ('client', 'creator', 'mcn', 'operator')`),
  ],
);

export type AccountRow = typeof accounts.$inferSelect;

/**
 * R-CONTACT-CLIENT: a client's phone, reached by the creators of its accepted
 * tasks only through a virtual number (never shown to them). Kept by db/accounts.ts.
 */
export const clientContacts = pgTable('client_contacts', {
  clientId: text('client_id')
    .primaryKey()
    .references(() => accounts.id),
  phone: text('phone').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
