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
  taskTypeOf,
  unmetConditions,
  type OfferFacts,
  type Platform,
  type PlatformAccountMetrics,
  type TaskTypeId,
} from '../domain/index.js';
import { isUniqueViolation, type Db, type Tx } from './client.js';
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
/** Each sort: its key and direction; ties break on (creator, task type) in the same direction, so one index serves both. */
const SORT_KEY: Record<PlazaSort, { key: SQL | AnyPgColumn; desc: boolean }> = {
  fans_desc: { key: creatorOffers.fans, desc: true },
  plays_desc: { key: creatorOffers.averageRecentPlays, desc: true },
  price_asc: { key: creatorOffers.quoteFen, desc: false },
  price_desc: { key: creatorOffers.quoteFen, desc: true },
  rating_desc: { key: rating, desc: true },
};

/**
 * Searches discoverable offers, ordered by `sort` then (creator, task type), a
 * page at a time. Each sort has partial indexes led by the task type, the
 * platform, or nothing (db/schema/creators.ts), so a page is one index range
 * scan. Offers of disabled accounts are left out.
 */
export async function searchPlaza(db: Db, q: PlazaQuery) {
  const spec = SORT_KEY[q.sort];
  const where: SQL[] = [eq(creatorOffers.discoverable, true), sql`not exists (select 1 from ${accounts} where ${accounts.id} = ${creatorOffers.creatorId} and ${accounts.disabledAt} is not null)`];
  if (q.platform) where.push(eq(creatorOffers.platform, q.platform));
  if (q.taskType) where.push(eq(creatorOffers.taskType, q.taskType));
  if (q.minPriceFen !== undefined) where.push(gte(creatorOffers.quoteFen, q.minPriceFen));
  if (q.maxPriceFen !== undefined) where.push(lte(creatorOffers.quoteFen, q.maxPriceFen));
  if (q.minFans !== undefined) where.push(gte(creatorOffers.fans, q.minFans));
  if (q.minAveragePlays !== undefined) where.push(gte(creatorOffers.averageRecentPlays, q.minAveragePlays));
  if (q.acceptingOnly) where.push(eq(creatorOffers.accepting, true));
  if (q.after) {
    // keyset: one row comparison in the sort's direction, an index bound
    const { v, c, t } = q.after;
    const row = sql`(${spec.key}, ${creatorOffers.creatorId}, ${creatorOffers.taskType})`;
    where.push(spec.desc ? sql`${row} < (${v}, ${c}, ${t})` : sql`${row} > (${v}, ${c}, ${t})`);
  }
  const dir = (d: boolean) => (d ? desc : asc);
  const rows = await db
    .select({
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
      sortValue: sql<string>`${spec.key}`.mapWith(Number),
    })
    .from(creatorOffers)
    .where(and(...where))
    .orderBy(dir(spec.desc)(spec.key), dir(spec.desc)(creatorOffers.creatorId), dir(spec.desc)(creatorOffers.taskType))
    .limit(q.limit + 1);
  const page = rows.slice(0, q.limit);
  const last = page.at(-1);
  const next: PlazaCursor | null = rows.length > q.limit && last ? { v: last.sortValue, c: last.creatorId, t: last.taskType } : null;
  return { items: page.map(({ sortValue: _s, ...item }) => item), next };
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
