/**
 * R-DESIGNATED, R-DISCOVERABLE: the plaza search (db/creators.ts searchPlaza) answers every query
 * shape exactly as the rule reads, whichever of its two plans it takes (the walk of one index, or
 * the banded plan for a range on another column than the sort's), page after page through the
 * keyset cursor. A model check: thousands of offers with correlated reach and price, ties on every
 * key, unrated, unquoted, incomplete-contact, not-accepting offers and disabled accounts; random
 * queries paged to the end and compared with the same rule applied in memory.
 *
 * And the banded indexes of migration 0015 are usable by the queries searchPlaza writes: their
 * expressions must match character for character in meaning, or the planner silently falls back
 * to walking (seconds at a million creators). The plan check fails if either side drifts.
 */
import { readFileSync } from 'node:fs';
import postgres from 'postgres';
import { drizzle } from 'drizzle-orm/postgres-js';
import { describe, expect, it } from 'vitest';
import { PLAZA_SORTS, searchPlaza, type PlazaQuery, type PlazaSort } from '../../db/creators.js';
import * as schema from '../../db/schema/index.js';
import { PLATFORMS, TASK_TYPE_IDS, TASK_TYPES, type TaskTypeId } from '../../domain/taskTypes.js';
import { Rng } from '../../scripts/random.js';
import { usePostgres } from '../helpers/harness.js';

const { postgres: pg, db } = usePostgres();

interface Offer {
  creatorId: string;
  taskType: TaskTypeId;
  platform: string;
  quoteFen: number | null;
  contactComplete: boolean;
  accepting: boolean;
  fans: number;
  plays: number;
  rating: number | null;
  disabled: boolean;
}

const SEED = 20261204;
const CREATORS = 1_500;
/** Few distinct values per key, so ties (and whole bands) are common and the tie-break is exercised. */
const FANS = [1, 900, 1_000, 1_130, 5_000, 16_000, 16_001, 50_000, 120_000, 1_000_000, 9_000_000];

async function seed(rng: Rng): Promise<Offer[]> {
  const offers: Offer[] = [];
  const accounts: Array<Record<string, unknown>> = [];
  const platformAccounts: Array<Record<string, unknown>> = [];
  const offerRows: Array<Record<string, unknown>> = [];
  for (let i = 0; i < CREATORS; i++) {
    // fixed-length lowercase hex: every collation orders these ids as JavaScript does
    const creatorId = `acc_plz${i.toString(16).padStart(8, '0')}${rng.int(0, 0xffff).toString(16).padStart(4, '0')}`;
    const disabled = rng.chance(0.05);
    accounts.push({ id: creatorId, role: 'creator', login: `plaza-model-${i}@test.invalid`, password_hash: 'x', display_name: `creator ${i}`, disabled_at: disabled ? new Date().toISOString() : null });
    for (const platform of PLATFORMS.filter(() => rng.chance(0.6))) {
      const fansIndex = rng.int(0, FANS.length - 1);
      const fans = FANS[fansIndex]!;
      const plays = rng.pick([0, 10, 1_000, 1_500, fans, Math.round(fans / 7)]);
      const accountId = `pa_${creatorId}_${platform}`;
      platformAccounts.push({ id: accountId, creator_id: creatorId, platform, platform_user_id: `${platform}-${creatorId}`, nickname: 'n', fans, original_permission: true, average_recent_plays: plays, metrics_at: new Date().toISOString() });
      for (const taskType of TASK_TYPE_IDS.filter((t) => TASK_TYPES[t].platform === platform && rng.chance(0.7))) {
        // price rises with reach (as on the real plaza), with ties and a few unquoted
        const quoteFen = rng.chance(0.1) ? null : rng.pick([100, 50_000, 60_000]) + fansIndex * rng.pick([10_000, 10_000, 250_000]);
        const offer: Offer = {
          creatorId,
          taskType,
          platform,
          quoteFen,
          contactComplete: rng.chance(0.92),
          accepting: rng.chance(0.8),
          fans,
          plays,
          rating: rng.chance(0.6) ? null : rng.pick([100, 105, 110, 349, 350, 351, 499, 500]),
          disabled,
        };
        offers.push(offer);
        offerRows.push({
          creator_id: creatorId,
          task_type: taskType,
          platform,
          platform_account_id: accountId,
          display_name: `creator ${i}`,
          quote_fen: quoteFen,
          accepting: offer.accepting,
          contact_complete: offer.contactComplete,
          fans,
          average_recent_plays: plays,
          rating_centis: offer.rating,
          rating_count: offer.rating === null ? 0 : 1,
        });
      }
    }
  }
  const sql = pg().database.sql;
  const chunks = <T>(rows: T[]) => Array.from({ length: Math.ceil(rows.length / 1_000) }, (_, i) => rows.slice(i * 1_000, (i + 1) * 1_000));
  for (const rows of chunks(accounts)) await sql`insert into accounts ${sql(rows as never)}`;
  for (const rows of chunks(platformAccounts)) await sql`insert into platform_accounts ${sql(rows as never)}`;
  for (const rows of chunks(offerRows)) await sql`insert into creator_offers ${sql(rows as never)}`;
  await sql`analyze creator_offers`;
  return offers;
}

/** The rule, in memory: discoverable offers of enabled accounts meeting every filter, by the sort then (creator, type). */
function expected(offers: Offer[], q: Omit<PlazaQuery, 'limit'>): string[] {
  const key = (o: Offer): number => (q.sort === 'fans_desc' ? o.fans : q.sort === 'plays_desc' ? o.plays : q.sort === 'rating_desc' ? (o.rating ?? -1) : o.quoteFen!);
  const desc = q.sort !== 'price_asc';
  const cmp = (a: Offer, b: Offer) => {
    const order = key(a) - key(b) || (a.creatorId < b.creatorId ? -1 : a.creatorId > b.creatorId ? 1 : 0) || (a.taskType < b.taskType ? -1 : a.taskType > b.taskType ? 1 : 0);
    return desc ? -order : order;
  };
  return offers
    .filter(
      (o) =>
        o.quoteFen !== null &&
        o.contactComplete &&
        !o.disabled &&
        (!q.platform || o.platform === q.platform) &&
        (!q.taskType || o.taskType === q.taskType) &&
        (q.minPriceFen === undefined || o.quoteFen >= q.minPriceFen) &&
        (q.maxPriceFen === undefined || o.quoteFen <= q.maxPriceFen) &&
        (q.minFans === undefined || o.fans >= q.minFans) &&
        (q.minAveragePlays === undefined || o.plays >= q.minAveragePlays) &&
        (!q.acceptingOnly || o.accepting),
    )
    .sort(cmp)
    .map((o) => `${o.creatorId}/${o.taskType}`);
}

function randomQuery(rng: Rng): Omit<PlazaQuery, 'limit'> {
  const taskType = rng.chance(0.4) ? rng.pick(TASK_TYPE_IDS) : undefined;
  const platform = rng.chance(0.3) ? (taskType ? TASK_TYPES[taskType].platform : rng.pick(PLATFORMS)) : undefined;
  const price = () => rng.pick([100, 50_000, 60_000, 110_000, 300_000, 1_000_000, 2_560_000]);
  const q: Omit<PlazaQuery, 'limit'> = { sort: rng.pick(PLAZA_SORTS), taskType, platform };
  if (rng.chance(0.4)) q.minPriceFen = price();
  if (rng.chance(0.4)) q.maxPriceFen = Math.max(q.minPriceFen ?? 0, price());
  if (rng.chance(0.4)) q.minFans = rng.pick([...FANS, 2, 17_000]);
  if (rng.chance(0.3)) q.minAveragePlays = rng.pick([1, 10, 1_000, 1_001, 20_000]);
  if (rng.chance(0.3)) q.acceptingOnly = true;
  return q;
}

/**
 * Pages of a query through the cursor, each with its own page size (the cursor carries no size), until the
 * end or `maxPages`; whether the end was reached.
 */
async function pages(q: Omit<PlazaQuery, 'limit'>, limits: () => number, maxPages: number): Promise<{ ids: string[]; ended: boolean }> {
  const ids: string[] = [];
  let after: PlazaQuery['after'];
  for (let n = 0; n < maxPages; n++) {
    const limit = limits();
    const page = await searchPlaza(db(), { ...q, limit, ...(after ? { after } : {}) });
    ids.push(...page.items.map((i) => `${i.creatorId}/${i.taskType}`));
    if (!page.next) return { ids, ended: true };
    expect(page.items.length).toBe(limit); // a page short of its size is the last one
    after = page.next;
  }
  return { ids, ended: false };
}

describe('the plaza search', () => {
  it(`R-DESIGNATED R-DISCOVERABLE: 300 random queries (every sort, lead, range and page size; seed ${SEED}) page through exactly the offers the rule lists, in its order, whichever plan, through cursors across page sizes`, async () => {
    const rng = new Rng(SEED);
    const offers = await seed(rng);
    let crossFiltered = 0;
    let nonEmpty = 0;
    for (let n = 0; n < 300; n++) {
      const q = randomQuery(rng);
      const want = expected(offers, q);
      // one query in ten to its end with pages of 50; the others 12 pages of random sizes (1–50)
      const { ids, ended } = n % 10 === 0 ? await pages(q, () => 50, 1_000) : await pages(q, () => rng.pick([1, 3, 7, 20, 50]), 12);
      expect(ids, JSON.stringify(q)).toEqual(want.slice(0, ids.length));
      if (ended) expect(ids.length, JSON.stringify(q)).toBe(want.length);
      if (want.length > 0) nonEmpty++;
      const own = q.sort.startsWith('price') ? 'price' : q.sort === 'fans_desc' ? 'fans' : q.sort === 'plays_desc' ? 'plays' : null;
      const ranges = { price: q.minPriceFen !== undefined || q.maxPriceFen !== undefined, fans: q.minFans !== undefined, plays: q.minAveragePlays !== undefined };
      if (Object.entries(ranges).some(([column, on]) => on && column !== own)) crossFiltered++;
    }
    // both plans were exercised, on answers that were not all empty
    expect(crossFiltered).toBeGreaterThan(80);
    expect(300 - crossFiltered).toBeGreaterThan(50);
    expect(nonEmpty).toBeGreaterThan(150);
  }, 120_000);

  it('R-DESIGNATED: a type and a platform that do not go together find nothing (the banded plan reads the lead as task types)', async () => {
    const page = await searchPlaza(db(), { taskType: 'xigua_video', platform: 'douyin', minPriceFen: 1, sort: 'fans_desc', limit: 20 });
    expect(page).toEqual({ items: [], next: null });
  });

  it('the banded plan can use the banded indexes of migration 0015, for every sort (their expressions match the queries)', async () => {
    const sql = postgres(pg().pg.url, { max: 1, onnotice: () => {} });
    try {
      // only index scans that give the order are left (no sequential or bitmap scan, no full sort):
      // a band expression that drifted from its index leaves the planner nothing but a penalised sort
      await sql`set enable_seqscan = off`;
      await sql`set enable_bitmapscan = off`;
      await sql`set enable_sort = off`;
      let captured: { text: string; params: unknown[] } | undefined;
      const logged = drizzle(sql, { schema, casing: 'snake_case', logger: { logQuery: (text, params) => void (captured = { text, params }) } });
      const cases: Array<[PlazaSort, Omit<PlazaQuery, 'sort' | 'limit'>, string]> = [
        ['fans_desc', { taskType: 'douyin_video', maxPriceFen: 100_000 }, 'plaza_band_fans'],
        ['plays_desc', { platform: 'toutiao', minPriceFen: 60_000 }, 'plaza_band_plays'],
        ['price_asc', { minFans: 16_000 }, 'plaza_band_price'],
        ['price_desc', { taskType: 'xigua_video', minFans: 1_000, maxPriceFen: 2_000_000 }, 'plaza_band_price'],
        ['rating_desc', { taskType: 'toutiao_qa', minPriceFen: 50_000, maxPriceFen: 60_000 }, 'plaza_band_rating'],
      ];
      for (const [sort, filters, index] of cases) {
        captured = undefined;
        await searchPlaza(logged, { ...filters, sort, limit: 20, after: undefined });
        expect(captured, sort).toBeDefined();
        const plan = await sql.unsafe<Array<Record<string, string>>>(`explain ${captured!.text}`, captured!.params as never[]);
        const text = plan.map((row) => Object.values(row)[0]).join('\n');
        expect(text, `${sort}: ${text}`).toContain(index);
        expect(text, `${sort}: ${text}`).toMatch(/Incremental Sort/);
      }
    } finally {
      await sql.end();
    }
  });

  it("runs on PostgreSQL 18 here and in docker-compose (the skip scan the banded plan needs), with compose's volume where 18's image keeps its data", async () => {
    const [row] = await pg().database.sql<Array<{ server_version_num: string }>>`show server_version_num`;
    expect(Number(row?.server_version_num)).toBeGreaterThanOrEqual(180_000);
    const compose = readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8');
    const service = compose.slice(compose.indexOf('\n  starmap-db:'), compose.indexOf('\n  migrate:'));
    expect(service).toMatch(/image: postgres:(1[89]|[2-9]\d)[.-]/);
    expect(service).toMatch(/- starmap-db:\/var\/lib\/postgresql\n/);
  });
});
