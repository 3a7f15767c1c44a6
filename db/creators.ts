/**
 * Creators in Postgres: contact details, bound platform accounts, opened task
 * types with quotes and the accepting switch, the plaza search, virtual numbers
 * and the observation check at ordering. The rules are decided in
 * domain/creators.ts; this file stores and reads what they decide.
 */
import { and, asc, desc, eq, gt, gte, inArray, lte, sql, type SQL } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import {
  DomainError,
  averageRecentPlays,
  contactComplete,
  TASK_TYPE_IDS,
  taskTypeOf,
  unmetConditions,
  type OfferFacts,
  type Platform,
  type PlatformAccountMetrics,
  type TaskTypeId,
} from '../domain/index.js';
import { isUniqueViolation, perExecution, type Db, type Tx } from './client.js';
import { ratingAggregateOf } from './ratings.js';
import {
  accounts,
  creatorCards,
  creatorOffers,
  creatorProfiles,
  mcnMemberships,
  platformAccounts,
  virtualNumberAssignments,
  virtualNumbers,
} from './schema/index.js';


// ---------------------------------------------------------------- contact (R-CONTACT)

export async function contactOf(db: Tx, creatorId: string): Promise<{ phone: string | null; email: string | null }> {
  const [row] = await db.select({ phone: creatorProfiles.phone, email: creatorProfiles.email }).from(creatorProfiles).where(eq(creatorProfiles.creatorId, creatorId));
  return row ?? { phone: null, email: null };
}

/** Sets phone and/or email and recomputes whether the creator's offers can be found (R-DISCOVERABLE). */
export async function setContact(db: Db, creatorId: string, change: { phone?: string | null; email?: string | null }): Promise<{ phone: string | null; email: string | null }> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(creatorProfiles)
      .values({ creatorId, phone: change.phone ?? null, email: change.email ?? null })
      .onConflictDoUpdate({
        target: creatorProfiles.creatorId,
        set: {
          ...(change.phone !== undefined ? { phone: change.phone } : {}),
          ...(change.email !== undefined ? { email: change.email } : {}),
          updatedAt: sql`now()`,
        },
      })
      .returning();
    const contact = { phone: row!.phone, email: row!.email };
    const complete = contactComplete(contact);
    await tx
      .update(creatorOffers)
      .set({ contactComplete: complete, updatedAt: sql`now()` })
      .where(eq(creatorOffers.creatorId, creatorId));
    return contact;
  });
}

// ---------------------------------------------------------------- platform accounts (R-OPEN-APPLY)

export interface BoundAccountProfile extends PlatformAccountMetrics {
  platform: Platform;
  platformUserId: string;
  nickname: string;
}

export class PlatformAccountConflict extends Error {
  constructor(readonly code: 'platform-already-bound' | 'platform-account-taken') {
    super(code);
    this.name = 'PlatformAccountConflict';
  }
}

export async function bindPlatformAccount(db: Db, id: string, creatorId: string, profile: BoundAccountProfile) {
  try {
    const [row] = await db
      .insert(platformAccounts)
      .values({
        id,
        creatorId,
        platform: profile.platform,
        platformUserId: profile.platformUserId,
        nickname: profile.nickname,
        fans: profile.fans,
        originalPermission: profile.originalPermission,
        averageRecentPlays: averageRecentPlays(profile.recentPlays),
        metricsAt: new Date(),
      })
      .returning();
    return row!;
  } catch (err) {
    if (isUniqueViolation(err, 'platform_accounts_creator_platform')) throw new PlatformAccountConflict('platform-already-bound');
    if (isUniqueViolation(err, 'platform_accounts_platform_user')) throw new PlatformAccountConflict('platform-account-taken');
    throw err;
  }
}

export async function platformAccountsOf(db: Tx, creatorId: string) {
  return db.select().from(platformAccounts).where(eq(platformAccounts.creatorId, creatorId)).orderBy(asc(platformAccounts.platform));
}

/** Stores freshly read metrics and copies them into the plaza rows of that account. */
async function refreshMetrics(tx: Tx, platformAccountId: string, metrics: PlatformAccountMetrics) {
  const average = averageRecentPlays(metrics.recentPlays);
  const [row] = await tx
    .update(platformAccounts)
    .set({ fans: metrics.fans, originalPermission: metrics.originalPermission, averageRecentPlays: average, metricsAt: sql`now()` })
    .where(eq(platformAccounts.id, platformAccountId))
    .returning();
  await tx
    .update(creatorOffers)
    .set({ fans: metrics.fans, averageRecentPlays: average, updatedAt: sql`now()` })
    .where(eq(creatorOffers.platformAccountId, platformAccountId));
  return row!;
}

// ---------------------------------------------------------------- offers (R-OPEN-APPLY, R-QUOTE, R-ACCEPTING-SWITCH)

export type OfferRow = typeof creatorOffers.$inferSelect;

/**
 * R-OPEN-APPLY / R-OPEN-XIGUA: opens `taskType` for the creator if its account
 * on the type's platform meets every condition with the metrics just read from
 * the platform (`fresh`: null when no account is bound). A refusal lists every
 * unmet condition with the actual and the required value.
 */
export async function openOffer(
  db: Db,
  creatorId: string,
  taskType: TaskTypeId,
  fresh: PlatformAccountMetrics | null,
  quoteFen: number | null,
): Promise<OfferRow> {
  const type = taskTypeOf(taskType);
  return db.transaction(async (tx) => {
    const [bound] = await tx
      .select()
      .from(platformAccounts)
      .where(and(eq(platformAccounts.creatorId, creatorId), eq(platformAccounts.platform, type.platform)))
      .for('update');
    if (bound && fresh) await refreshMetrics(tx, bound.id, fresh);
    const unmet = unmetConditions(type, bound && fresh ? fresh : null);
    if (unmet.length > 0) {
      throw new DomainError('rule_violation', `The ${type.platform} account does not meet the conditions to open ${type.id}`, { code: 'not-eligible', taskType: type.id, unmet });
    }
    const [account] = await tx.select({ displayName: accounts.displayName }).from(accounts).where(eq(accounts.id, creatorId));
    const complete = contactComplete(await contactOf(tx, creatorId));
    const [row] = await tx
      .insert(creatorOffers)
      .values({
        creatorId,
        taskType,
        platform: type.platform,
        platformAccountId: bound!.id,
        displayName: account!.displayName,
        quoteFen,
        contactComplete: complete,
        fans: fresh!.fans,
        averageRecentPlays: averageRecentPlays(fresh!.recentPlays),
        ...(await ratingAggregateOf(tx, creatorId)), // R-RATE: a new offer shows the creator's rating too
      })
      .onConflictDoNothing()
      .returning();
    if (!row) throw new DomainError('invalid_state', `${taskType} is already open`, { code: 'already-open', taskType });
    return row;
  });
}

/** R-QUOTE and R-ACCEPTING-SWITCH on an opened type. Orders already placed are not touched. */
export async function updateOffer(db: Db, creatorId: string, taskType: TaskTypeId, change: { quoteFen?: number; accepting?: boolean }): Promise<OfferRow> {
  const [row] = await db
    .update(creatorOffers)
    .set({
      ...(change.quoteFen !== undefined ? { quoteFen: change.quoteFen } : {}),
      ...(change.accepting !== undefined ? { accepting: change.accepting } : {}),
      updatedAt: sql`now()`,
    })
    .where(and(eq(creatorOffers.creatorId, creatorId), eq(creatorOffers.taskType, taskType)))
    .returning();
  if (!row) throw new DomainError('invalid_state', `${taskType} is not open`, { code: 'task-type-not-opened', taskType });
  return row;
}

export async function offersOf(db: Tx, creatorId: string): Promise<OfferRow[]> {
  return db.select().from(creatorOffers).where(eq(creatorOffers.creatorId, creatorId)).orderBy(asc(creatorOffers.taskType));
}

/**
 * The offer an order is placed against, read under a share lock so the quote and
 * the accepting switch cannot change until the order's transaction ends.
 */
export async function offerForOrder(tx: Tx, creatorId: string, taskType: string): Promise<(OfferFacts & { quoteFen: number | null }) | null> {
  const [row] = await tx
    .select({ quoteFen: creatorOffers.quoteFen, accepting: creatorOffers.accepting, contactComplete: creatorOffers.contactComplete })
    .from(creatorOffers)
    .innerJoin(accounts, eq(accounts.id, creatorOffers.creatorId))
    .where(and(eq(creatorOffers.creatorId, creatorId), eq(creatorOffers.taskType, taskType), sql`${accounts.disabledAt} is null`))
    .for('share', { of: creatorOffers });
  return row ?? null;
}

// ---------------------------------------------------------------- observation (R-OBSERVATION-WARN)

/** The end of the creator's current observation period, or null when it is in none at `now`. */
export async function observationEndsAt(db: Tx, creatorId: string, now: Date): Promise<Date | null> {
  const [row] = await db
    .select({ endsAt: sql<Date | null>`max(${creatorCards.observationEndsAt})`.mapWith((v: string | null) => (v ? new Date(v) : null)) })
    .from(creatorCards)
    .where(and(eq(creatorCards.creatorId, creatorId), gt(creatorCards.observationEndsAt, now)));
  return row?.endsAt ?? null;
}

// ---------------------------------------------------------------- plaza (R-DESIGNATED, R-DISCOVERABLE)

export const PLAZA_SORTS = ['fans_desc', 'plays_desc', 'price_asc', 'price_desc', 'rating_desc'] as const;
export type PlazaSort = (typeof PLAZA_SORTS)[number];

export interface PlazaQuery {
  platform?: Platform | undefined;
  taskType?: TaskTypeId | undefined;
  minPriceFen?: number | undefined;
  maxPriceFen?: number | undefined;
  minFans?: number | undefined;
  minAveragePlays?: number | undefined;
  acceptingOnly?: boolean | undefined;
  sort: PlazaSort;
  limit: number;
  after?: PlazaCursor | undefined;
}

/** Keyset position: the sort value and the (creator, task type) tie-breaker of the last row. */
export interface PlazaCursor {
  v: number;
  c: string;
  t: string;
}

const rating = sql<number>`coalesce(${creatorOffers.ratingCentis}, -1)`;

/**
 * A sort key's band: its natural log in eighths (×1.13 a band), so a band only
 * ever holds keys of one range and ordering by (band, key) is ordering by key.
 * The banded indexes (migration 0015) are built on these very expressions; a
 * query must spell them the same way for PostgreSQL to use them, so the
 * constants are in the text, never parameters.
 */
const bandOf = (key: SQL | AnyPgColumn) => sql<number>`floor(ln(greatest(${key}, 1)::float8) * 8)::int`;
/** The same band of a value (a cursor's, a range's bound). */
const bandOfValue = (value: number) => sql<number>`floor(ln(greatest(${value}::bigint, 1)::float8) * 8)::int`;
/** The band of a rating: tenths of a star (unrated, -1, is band -1; ratings are 100–500 centis). */
const ratingBand = sql<number>`(coalesce(${creatorOffers.ratingCentis}, -10) / 10)`;

type RangeColumn = 'price' | 'fans' | 'plays';

/** Each sort: its key and direction, the column whose range filter is its own, and its band. */
const SORT_KEY: Record<PlazaSort, { key: SQL | AnyPgColumn; desc: boolean; own: RangeColumn | null; band: SQL<number> }> = {
  fans_desc: { key: creatorOffers.fans, desc: true, own: 'fans', band: bandOf(creatorOffers.fans) },
  plays_desc: { key: creatorOffers.averageRecentPlays, desc: true, own: 'plays', band: bandOf(creatorOffers.averageRecentPlays) },
  price_asc: { key: creatorOffers.quoteFen, desc: false, own: 'price', band: bandOf(creatorOffers.quoteFen) },
  price_desc: { key: creatorOffers.quoteFen, desc: true, own: 'price', band: bandOf(creatorOffers.quoteFen) },
  rating_desc: { key: rating, desc: true, own: null, band: ratingBand },
};

/** The range filters a query sets, by column. */
function rangesOf(q: PlazaQuery): Record<RangeColumn, boolean> {
  return { price: q.minPriceFen !== undefined || q.maxPriceFen !== undefined, fans: q.minFans !== undefined, plays: q.minAveragePlays !== undefined };
}

/**
 * Searches discoverable offers, ordered by `sort` then (creator, task type), a
 * page at a time. Offers of disabled accounts are left out.
 *
 * Two plans, chosen by the query's shape (db/schema/creators.ts has the indexes):
 * - **Walk** (no range filter on another column than the sort's): one index led
 *   by the task type, the platform or the key; a page is one index range scan
 *   that stops after `limit + 1` rows.
 * - **Banded** (a range on another column: a price range sorted by fans, a fans
 *   floor sorted by price, …). Price rises with reach, so walking the sort's
 *   index skips most offers (a budget sorted by fans starts among the famous and
 *   expensive: 43,000 offers walked for 20 at a million creators). Instead an
 *   index on (band of the key, task type, the filtered column) is read band by
 *   band in the sort's order, jumping to the filter's range in each (PostgreSQL
 *   18's skip scan), sorting within the band (incremental sort) and stopping
 *   when the page is full; the index covers every filter, so only the page's
 *   rows are read from the table.
 */
export async function searchPlaza(db: Db, q: PlazaQuery) {
  const spec = SORT_KEY[q.sort];
  const ranges = rangesOf(q);
  const banded = (Object.keys(ranges) as RangeColumn[]).some((column) => ranges[column] && column !== spec.own);
  // planned for this query's values every time (perExecution): the banded plan depends on them
  const rows = banded ? await bandedPage(perExecution(db), q) : await walkedPage(perExecution(db), q);
  const page = rows.slice(0, q.limit);
  const last = page.at(-1);
  const next: PlazaCursor | null = rows.length > q.limit && last ? { v: last.sortValue, c: last.creatorId, t: last.taskType } : null;
  return { items: page.map(({ sortValue: _s, ...item }) => item), next };
}

const dirOf = (d: boolean) => (d ? desc : asc);
const notDisabled = sql`not exists (select 1 from ${accounts} where ${accounts.id} = ${creatorOffers.creatorId} and ${accounts.disabledAt} is not null)`;

/** The filters both plans share: discoverable, not disabled, the ranges, accepting; the lead (type, platform) is each plan's. */
function filtersOf(q: PlazaQuery): SQL[] {
  const where: SQL[] = [eq(creatorOffers.discoverable, true), notDisabled];
  if (q.minPriceFen !== undefined) where.push(gte(creatorOffers.quoteFen, q.minPriceFen));
  if (q.maxPriceFen !== undefined) where.push(lte(creatorOffers.quoteFen, q.maxPriceFen));
  if (q.minFans !== undefined) where.push(gte(creatorOffers.fans, q.minFans));
  if (q.minAveragePlays !== undefined) where.push(gte(creatorOffers.averageRecentPlays, q.minAveragePlays));
  if (q.acceptingOnly) where.push(eq(creatorOffers.accepting, true));
  return where;
}

/** Keyset: one row comparison in the sort's direction, an index bound. */
function afterCursor(q: PlazaQuery): SQL | null {
  if (!q.after) return null;
  const spec = SORT_KEY[q.sort];
  const { v, c, t } = q.after;
  const row = sql`(${spec.key}, ${creatorOffers.creatorId}, ${creatorOffers.taskType})`;
  return spec.desc ? sql`${row} < (${v}, ${c}, ${t})` : sql`${row} > (${v}, ${c}, ${t})`;
}

const PAGE_COLUMNS = {
  creatorId: creatorOffers.creatorId,
  displayName: creatorOffers.displayName,
  taskType: creatorOffers.taskType,
  platform: creatorOffers.platform,
  quoteFen: creatorOffers.quoteFen,
  accepting: creatorOffers.accepting,
  fans: creatorOffers.fans,
  averageRecentPlays: creatorOffers.averageRecentPlays,
  ratingCentis: creatorOffers.ratingCentis,
  ratingCount: creatorOffers.ratingCount,
};

async function walkedPage(db: Db, q: PlazaQuery) {
  const spec = SORT_KEY[q.sort];
  const where = filtersOf(q);
  if (q.platform) where.push(eq(creatorOffers.platform, q.platform));
  if (q.taskType) where.push(eq(creatorOffers.taskType, q.taskType));
  const after = afterCursor(q);
  if (after) where.push(after);
  const dir = dirOf(spec.desc);
  return db
    .select({ ...PAGE_COLUMNS, sortValue: sql<string>`${spec.key}`.mapWith(Number) })
    .from(creatorOffers)
    .where(and(...where))
    .orderBy(dir(spec.key), dir(creatorOffers.creatorId), dir(creatorOffers.taskType))
    .limit(q.limit + 1);
}

async function bandedPage(db: Db, q: PlazaQuery) {
  const spec = SORT_KEY[q.sort];
  // the lead as task types (an offer's platform is its type's, set from the catalogue when opened):
  // the banded indexes start with the band, then the type
  const types = TASK_TYPE_IDS.filter((id) => (!q.taskType || id === q.taskType) && (!q.platform || taskTypeOf(id).platform === q.platform));
  if (types.length === 0) return [];
  const where = filtersOf(q);
  if (types.length < TASK_TYPE_IDS.length) where.push(inArray(creatorOffers.taskType, types));
  const after = afterCursor(q);
  if (after) where.push(after);
  const band = spec.band;
  // bounds on the band from the key's own bounds and the cursor, so whole bands are skipped without a probe
  const { min, max } = ownBounds(q);
  if (min !== undefined) where.push(gte(band, bandOfValue(min)));
  if (max !== undefined) where.push(lte(band, bandOfValue(max)));
  if (q.after && spec.own) where.push(spec.desc ? lte(band, bandOfValue(q.after.v)) : gte(band, bandOfValue(q.after.v)));
  if (q.after && !spec.own) where.push(lte(band, sql`(${q.after.v}::int / 10)`)); // rating: the cursor's band (unrated, -1: 0 in integer division, which keeps band -1 in)
  const dir = dirOf(spec.desc);
  // the page's keys from the covering index, then the page's rows from the table
  const top = db.$with('plaza_top').as(
    db
      .select({ creatorId: creatorOffers.creatorId, taskType: creatorOffers.taskType, sortValue: sql<number>`${spec.key}`.as('sort_value') })
      .from(creatorOffers)
      .where(and(...where))
      .orderBy(dir(band), dir(spec.key), dir(creatorOffers.creatorId), dir(creatorOffers.taskType))
      .limit(q.limit + 1),
  );
  return db
    .with(top)
    .select({ ...PAGE_COLUMNS, sortValue: sql<string>`${top.sortValue}`.mapWith(Number) })
    .from(top)
    .innerJoin(creatorOffers, and(eq(creatorOffers.creatorId, top.creatorId), eq(creatorOffers.taskType, top.taskType)))
    .orderBy(dir(top.sortValue), dir(top.creatorId), dir(top.taskType));
}

/** The bounds a query puts on its sort's own key (a price range sorted by price, a fans floor sorted by fans). */
function ownBounds(q: PlazaQuery): { min?: number; max?: number } {
  switch (SORT_KEY[q.sort].own) {
    case 'price':
      return { ...(q.minPriceFen !== undefined ? { min: q.minPriceFen } : {}), ...(q.maxPriceFen !== undefined ? { max: q.maxPriceFen } : {}) };
    case 'fans':
      return q.minFans !== undefined ? { min: q.minFans } : {};
    case 'plays':
      return q.minAveragePlays !== undefined ? { min: q.minAveragePlays } : {};
    default:
      return {};
  }
}

// ---------------------------------------------------------------- virtual numbers (R-CONTACT)

export class NoVirtualNumberLeft extends Error {
  constructor() {
    super('the virtual number pool is exhausted');
    this.name = 'NoVirtualNumberLeft';
  }
}

export async function addVirtualNumbers(db: Db, numbers: string[]): Promise<number> {
  if (numbers.length === 0) return 0;
  const rows = await db.insert(virtualNumbers).values(numbers.map((number) => ({ number }))).onConflictDoNothing().returning();
  return rows.length;
}

/**
 * The virtual number of a client–creator pair: the one already assigned, or a
 * free pool number (not used by this client or this creator with anyone else).
 * Concurrent first calls for one pair end with one assignment.
 */
export async function assignVirtualNumber(db: Db, clientId: string, creatorId: string): Promise<{ number: string; created: boolean }> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const [existing] = await db
      .select({ number: virtualNumberAssignments.number })
      .from(virtualNumberAssignments)
      .where(and(eq(virtualNumberAssignments.clientId, clientId), eq(virtualNumberAssignments.creatorId, creatorId)));
    if (existing) return { number: existing.number, created: false };
    const [free] = await db
      .select({ number: virtualNumbers.number })
      .from(virtualNumbers)
      .where(
        sql`not exists (select 1 from ${virtualNumberAssignments} a where a.number = ${virtualNumbers.number} and (a.client_id = ${clientId} or a.creator_id = ${creatorId}))`,
      )
      .orderBy(sql`random()`)
      .limit(1);
    if (!free) throw new NoVirtualNumberLeft();
    try {
      await db.insert(virtualNumberAssignments).values({ clientId, creatorId, number: free.number });
      return { number: free.number, created: true };
    } catch (err) {
      if (!isUniqueViolation(err)) throw err; // another request took the pair or the number: look again
    }
  }
  throw new Error('could not assign a virtual number after 5 attempts');
}

// ---------------------------------------------------------------- MCN

export async function mcnOf(db: Tx, creatorId: string): Promise<string | null> {
  const [row] = await db.select({ mcnId: mcnMemberships.mcnId }).from(mcnMemberships).where(eq(mcnMemberships.creatorId, creatorId));
  return row?.mcnId ?? null;
}

export async function creatorsOfMcn(db: Db, mcnId: string) {
  const members = await db
    .select({ creatorId: mcnMemberships.creatorId, since: mcnMemberships.since, displayName: accounts.displayName })
    .from(mcnMemberships)
    .innerJoin(accounts, eq(accounts.id, mcnMemberships.creatorId))
    .where(eq(mcnMemberships.mcnId, mcnId))
    .orderBy(asc(mcnMemberships.creatorId));
  const offers = members.length
    ? await db
        .select()
        .from(creatorOffers)
        .where(
          inArray(
            creatorOffers.creatorId,
            members.map((m) => m.creatorId),
          ),
        )
    : [];
  return members.map((m) => ({ ...m, offers: offers.filter((o) => o.creatorId === m.creatorId) }));
}
