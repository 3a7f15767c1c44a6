import { sql, type SQL } from 'drizzle-orm';
import { bigint, boolean, check, index, integer, pgTable, primaryKey, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { accounts } from './accounts.js';
import { tstz } from './columns.js';


/**
 * R-CONTACT: a creator's real phone and email. Only the creator itself and
 * operators read them; clients get a virtual number (virtual_number_assignments).
 */
export const creatorProfiles = pgTable('creator_profiles', {
  creatorId: text('creator_id')
    .primaryKey()
    .references(() => accounts.id),
  phone: text('phone'),
  email: text('email'),
  updatedAt: tstz('updated_at').notNull().defaultNow(),
});

/** R-OPEN-APPLY: the platform accounts bound to a creator, one per platform, with the metrics last read from the platform. */
export const platformAccounts = pgTable(
  'platform_accounts',
  {
    id: text('id').primaryKey(),
    creatorId: text('creator_id')
      .notNull()
      .references(() => accounts.id),
    platform: text('platform').notNull(),
    platformUserId: text('platform_user_id').notNull(),
    nickname: text('nickname').notNull(),
    fans: bigint('fans', { mode: 'number' }).notNull(),
    originalPermission: boolean('original_permission').notNull(),
    /** Average plays of the latest 20 items (R-OPEN-XIGUA). */
    averageRecentPlays: bigint('average_recent_plays', { mode: 'number' }).notNull(),
    metricsAt: tstz('metrics_at').notNull(),
    boundAt: tstz('bound_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('platform_accounts_platform_user').on(t.platform, t.platformUserId), uniqueIndex('platform_accounts_creator_platform').on(t.creatorId, t.platform)],
);

/**
 * The task types a creator has opened (R-OPEN-APPLY), each with its quote
 * (R-QUOTE) and accepting switch (R-ACCEPTING-SWITCH). It is also the creator
 * plaza's search table: platform metrics, contact completeness and the rating
 * are copied in (kept current by db/creators.ts) so a search reads one table
 * through one index (R-DESIGNATED).
 */
export const creatorOffers = pgTable(
  'creator_offers',
  {
    creatorId: text('creator_id')
      .notNull()
      .references(() => accounts.id),
    taskType: text('task_type').notNull(),
    platform: text('platform').notNull(),
    platformAccountId: text('platform_account_id')
      .notNull()
      .references(() => platformAccounts.id),
    displayName: text('display_name').notNull(),
    quoteFen: bigint('quote_fen', { mode: 'number' }),
    accepting: boolean('accepting').notNull().default(true),
    contactComplete: boolean('contact_complete').notNull(),
    /**
     * R-DISCOVERABLE, its one definition: a quote is set and the contact is complete.
     * Computed by Postgres (a stored generated column), so no writer can disagree
     * and every plaza query and partial index reads the same value.
     */
    discoverable: boolean('discoverable')
      .notNull()
      .generatedAlwaysAs((): SQL => sql`quote_fen is not null and contact_complete`),
    fans: bigint('fans', { mode: 'number' }).notNull(),
    averageRecentPlays: bigint('average_recent_plays', { mode: 'number' }).notNull(),
    /** R-RATE: average client rating ×100 (integer), null before the first rating. */
    ratingCentis: integer('rating_centis'),
    ratingCount: integer('rating_count').notNull().default(0),
    openedAt: tstz('opened_at').notNull().defaultNow(),
    updatedAt: tstz('updated_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.creatorId, t.taskType] }),
    check('creator_offers_quote_positive', sql`${t.quoteFen} is null or ${t.quoteFen} > 0`),
    // plaza search (db/creators.ts searchPlaza): for each sort key one partial index led by the
    // task type, one by the platform, one by the key alone (no filter); ascending, so a
    // descending sort is a backward scan, and the (key, creator, task type) keyset is an index bound
    ...(
      [
        ['price', t.quoteFen],
        ['fans', t.fans],
        ['plays', t.averageRecentPlays],
        ['rating', sql`coalesce(${t.ratingCentis}, -1)`],
      ] as const
    ).flatMap(([name, key]) => [
      // price: the covering indexes of migration 0008 (same keys, hand-written with INCLUDE) are the type's and the platform's
      ...(name === 'price'
        ? []
        : [
            index(`plaza_type_${name}`).on(t.taskType, key, t.creatorId).where(sql`${t.discoverable}`),
            index(`plaza_platform_${name}`).on(t.platform, key, t.creatorId, t.taskType).where(sql`${t.discoverable}`),
          ]),
      index(`plaza_all_${name}`).on(key, t.creatorId, t.taskType).where(sql`${t.discoverable}`),
    ]),
    // and, hand-written in migration 0015, the banded indexes of searchPlaza's banded plan (a range on another
    // column than the sort's): (band of the key, task type, filtered column) covering every filter
    index('creator_offers_account').on(t.platformAccountId),
  ],
);

/** R-CONTACT: Starmap's pool of virtual numbers. */
export const virtualNumbers = pgTable('virtual_numbers', {
  number: text('number').primaryKey(),
  addedAt: tstz('added_at').notNull().defaultNow(),
});

/**
 * One virtual number per client–creator pair. A number serves many pairs but
 * never two pairs sharing a client or a creator, so the provider can route by
 * (number, caller) as AXB numbers do.
 */
export const virtualNumberAssignments = pgTable(
  'virtual_number_assignments',
  {
    clientId: text('client_id')
      .notNull()
      .references(() => accounts.id),
    creatorId: text('creator_id')
      .notNull()
      .references(() => accounts.id),
    number: text('number')
      .notNull()
      .references(() => virtualNumbers.number),
    assignedAt: tstz('assigned_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.clientId, t.creatorId] }),
    uniqueIndex('virtual_number_client').on(t.number, t.clientId),
    uniqueIndex('virtual_number_creator').on(t.number, t.creatorId),
  ],
);

/**
 * R-CARDS / R-OBSERVATION-RESTART: red and yellow cards with their observation
 * period. `observationEndsAt` moves when a new violation restarts it.
 * R-OBSERVATION-WARN: ordering a creator with a card whose observation has not
 * ended answers with a warning first.
 */
export const creatorCards = pgTable(
  'creator_cards',
  {
    id: text('id').primaryKey(),
    creatorId: text('creator_id')
      .notNull()
      .references(() => accounts.id),
    color: text('color').notNull(),
    reason: text('reason').notNull(),
    observationDays: integer('observation_days').notNull(),
    issuedBy: text('issued_by').notNull(),
    issuedAt: tstz('issued_at').notNull(),
    lastViolationAt: tstz('last_violation_at').notNull(),
    observationEndsAt: tstz('observation_ends_at').notNull(),
  },
  (t) => [
    check('creator_cards_color', sql`${t.color} in ('red', 'yellow')`),
    check('creator_cards_observation', sql`${t.observationDays} > 0`),
    index('creator_cards_observation').on(t.creatorId, t.observationEndsAt),
  ],
);
