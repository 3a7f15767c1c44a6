/**
 * Creator plaza search benchmark: seeds N creators (default 100,000) with their
 * platform accounts and opened task types, then times a mix of plaza searches
 * through the real searchPlaza (db/creators.ts) and prints p50/p95/p99 per query
 * shape, an overall PASS/FAIL against the target (p95 < 50 ms) and the plan of
 * the slowest shape.
 *
 *   npm run bench:plaza [-- --creators 100000 --queries 300 --warmup 10 --seed 1]
 *
 * Without DATABASE_URL it runs on a throwaway embedded PostgreSQL, removed at
 * the end (Ctrl-C included). With DATABASE_URL it needs --yes, as it inserts
 * lots of rows there; it deletes its rows (logins bench-creator-N@bench.invalid)
 * before seeding and again at the end unless --keep is given.
 * `--reuse` (with DATABASE_URL and --keep, for trying query plans at a million
 * creators without seeding again): rows an earlier run kept are used as they are.
 * `--sql "<statement>"` (repeatable) runs after seeding, before ANALYZE: a way to
 * try a candidate index or setting before changing db/schema. `--explain-all`
 * prints the plan of every shape, not only the slowest.
 * Exits non-zero only on errors, not when the target is missed.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { drizzle } from 'drizzle-orm/postgres-js';
import type postgres from 'postgres';
import { connect, type Database, type Db } from '../db/client.js';
import { PLAZA_SORTS, searchPlaza, type PlazaCursor, type PlazaQuery } from '../db/creators.js';
import type { EmbeddedDatabase } from '../db/embedded.js';
import { runMigrations } from '../db/migrate.js';
import * as schema from '../db/schema/index.js';
import { PLATFORMS, TASK_TYPE_IDS, TASK_TYPES, type Platform, type TaskTypeId } from '../domain/taskTypes.js';
import { Rng } from '../scripts/random.js';
import { BENCH_SIGNALS, positiveInt, importEmbedded } from './args.js';

const TARGET_P95_MS = 50;
/** Issue #14: p95 < 10 ms with 1,000,000 creators. */
const ISSUE_14_P95_MS = 10;
const BATCH_CREATORS = 2_000;
const MAX_ROWS_PER_INSERT = 2_000; // 13 columns × 2,000 rows stays well under the 65,535 bind parameters of one statement
const DEEP_PAGES = 5;
const BENCH_LOGIN_LIKE = 'bench-creator-%@bench.invalid';

// ---------------------------------------------------------------- options

const { values: args } = parseArgs({
  options: {
    creators: { type: 'string', default: '100000' },
    queries: { type: 'string', default: '300' },
    warmup: { type: 'string', default: '10' },
    seed: { type: 'string', default: '1' },
    yes: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    reuse: { type: 'boolean', default: false },
    sql: { type: 'string', multiple: true, default: [] },
    'explain-all': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  console.log('usage: npm run bench:plaza -- [--creators N] [--queries N per shape] [--warmup N per shape] [--seed N] [--yes] [--keep]');
  console.log('         [--sql "create index ..."]...  run after seeding, before ANALYZE (try an index before changing the schema)');
  console.log('         [--explain-all]                 print the plan of every shape, not only the slowest');
  console.log('         [--reuse]                       with DATABASE_URL and --keep: use the rows an earlier --keep run left (no seeding)');
  process.exit(0);
}
const CREATORS = positiveInt('creators', args.creators);
const QUERIES = positiveInt('queries', args.queries);
const WARMUP = positiveInt('warmup', args.warmup);
const SEED = positiveInt('seed', args.seed);
const EXTERNAL_URL = process.env['DATABASE_URL'];
if (args.reuse && !(EXTERNAL_URL && args.keep)) {
  console.error('--reuse needs DATABASE_URL and --keep (the rows of an earlier --keep run on that database).');
  process.exit(2);
}
if (EXTERNAL_URL && !args.yes) {
  console.error(`DATABASE_URL is set: this benchmark would insert ${CREATORS.toLocaleString('en-US')} creators and their offers there.`);
  console.error('Pass --yes to go ahead (npm run bench:plaza -- --yes), or unset DATABASE_URL to use a throwaway embedded PostgreSQL.');
  process.exit(2);
}

// ---------------------------------------------------------------- helpers

const fmt = (n: number) => n.toLocaleString('en-US');
const ms = (n: number) => n.toFixed(2);
const seconds = (fromMs: number) => `${((performance.now() - fromMs) / 1000).toFixed(1)} s`;

/** Same shape as api/ids.ts (prefix + UUIDv7, time-ordered), but from the seeded PRNG. */
function benchId(rng: Rng, prefix: string, at: number): string {
  const hex = at.toString(16).padStart(12, '0') + '7' + rng.hex(3) + ((rng.int(0, 3) + 8).toString(16)) + rng.hex(15);
  return `${prefix}_${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

// ---------------------------------------------------------------- lifecycle (Ctrl-C stops Postgres and removes the folder)

/** Run last-in first-out; `hurry` after a signal or a crash: no waiting for queries in flight. */
const cleanups: Array<(hurry: boolean) => Promise<void>> = [];
let stopping = false;
async function cleanUp(hurry: boolean): Promise<void> {
  while (cleanups.length > 0) {
    const cleanup = cleanups.pop()!;
    await cleanup(hurry).catch((err: unknown) => console.error('[bench] cleanup failed:', err));
  }
}
function onSignal(signal: NodeJS.Signals) {
  if (stopping) return;
  stopping = true;
  process.stdout.write('\n');
  console.error(`[bench] ${signal}: stopping`);
  void cleanUp(true).finally(() => process.exit(130));
}
for (const signal of BENCH_SIGNALS) process.on(signal, onSignal);
// Ctrl-C reaches the server too (same process group) and it drops the connection mid-query; postgres.js may then throw
// from a timer. While stopping, that is expected: let the cleanup finish. Otherwise clean up and fail.
const onCrash = (err: unknown) => {
  if (stopping) return;
  stopping = true;
  console.error('[bench] failed:', err);
  void cleanUp(true).finally(() => process.exit(1));
};
process.on('uncaughtException', onCrash);
process.on('unhandledRejection', onCrash);


const closeDatabase = (database: Database) => (hurry: boolean) => (hurry ? database.sql.end({ timeout: 0 }) : database.close());

/**
 * pg.stop() waits for the server's exit event, which never comes if the server is already gone: Ctrl-C reaches it too
 * (same process group). Its postmaster.pid is removed once it has shut down; a timeout covers the remaining race.
 */
function stopServer(pg: EmbeddedDatabase): Promise<void> {
  if (!existsSync(join(pg.dataDir, 'postmaster.pid'))) return Promise.resolve();
  return Promise.race([pg.stop(), new Promise<void>((resolve) => setTimeout(resolve, 5_000).unref())]);
}

/** One connection: the searches run one at a time. */
async function openDatabase(): Promise<{ database: Database; where: string }> {
  if (EXTERNAL_URL) {
    await runMigrations(EXTERNAL_URL);
    const database = connect(EXTERNAL_URL, { max: 1 });
    cleanups.push(closeDatabase(database));
    const url = new URL(EXTERNAL_URL);
    return { database, where: `DATABASE_URL ${url.host}${url.pathname}` };
  }
  const { freePort, startEmbeddedPostgres } = await importEmbedded();
  const dir = mkdtempSync(join(tmpdir(), 'starmap-bench-pg-'));
  cleanups.push(() => Promise.resolve(rmSync(dir, { recursive: true, force: true })));
  const started = performance.now();
  const port = await freePort();
  const pg: EmbeddedDatabase = await startEmbeddedPostgres({ dataDir: join(dir, 'data'), port, persistent: false, log: () => {} });
  cleanups.push(() => stopServer(pg));
  await runMigrations(pg.url);
  const database = connect(pg.url, { max: 1 });
  cleanups.push(closeDatabase(database));
  return { database, where: `embedded PostgreSQL in ${dir} (started and migrated in ${seconds(started)})` };
}

// ---------------------------------------------------------------- seeding

const NAME_HEAD = ['阿', '小', '大', '老', '野生', '快乐', '认真', '一只'];
const NAME_TOPIC = [
  '美食', '旅行', '科技', '萌宠', '穿搭', '健身', '读书', '汽车',
  '育儿', '财经', '数码', '家居', '游戏', '摄影', '历史',
];
const NAME_TAIL = ['日记', '研究所', '说', '君', '酱', '课堂', '笔记', '实验室', '频道'];
/** How much a type's quote is above (log10) a Douyin video of the same reach. */
const QUOTE_LEVEL: Record<TaskTypeId, number> = {
  douyin_video: 0.2,
  xigua_video: 0.1,
  toutiao_article: 0,
  toutiao_direct_article: -0.1,
  toutiao_micro_post: -0.4,
  toutiao_qa: -0.3,
};
const TYPES_OF: Record<Platform, TaskTypeId[]> = {
  douyin: TASK_TYPE_IDS.filter((id) => TASK_TYPES[id].platform === 'douyin'),
  xigua: TASK_TYPE_IDS.filter((id) => TASK_TYPES[id].platform === 'xigua'),
  toutiao: TASK_TYPE_IDS.filter((id) => TASK_TYPES[id].platform === 'toutiao'),
};

interface SeedStats {
  accounts: number;
  platformAccounts: number;
  offers: number;
  discoverable: number;
  ms: number;
}

type Row = Record<string, string | number | boolean | null>;

async function insertChunked(tx: postgres.TransactionSql, table: string, rows: Row[], columns: string[]) {
  for (let i = 0; i < rows.length; i += MAX_ROWS_PER_INSERT) {
    await tx`insert into ${tx(table)} ${tx(rows.slice(i, i + MAX_ROWS_PER_INSERT), ...columns)}`;
  }
}

async function deleteBenchRows(sql: postgres.Sql, when: string) {
  const bench = sql`select id from accounts where login like ${BENCH_LOGIN_LIKE}`;
  await sql.begin(async (tx) => {
    await tx`delete from creator_offers where creator_id in (${bench})`;
    await tx`delete from platform_accounts where creator_id in (${bench})`;
    await tx`delete from creator_profiles where creator_id in (${bench})`;
    const deleted = await tx`delete from accounts where login like ${BENCH_LOGIN_LIKE}`;
    if (deleted.count > 0) console.log(`[bench] removed ${fmt(deleted.count)} bench creators ${when}`);
  });
}

/** The ids of the bench creators an earlier `--keep` run left, in seeding order (--reuse); [] when there are not exactly --creators of them. */
async function keptCreators(sql: postgres.Sql): Promise<string[]> {
  const rows = await sql<Array<{ id: string }>>`select id from accounts where login like ${BENCH_LOGIN_LIKE} order by id`;
  if (rows.length === CREATORS) return rows.map((r) => r.id);
  if (rows.length > 0) console.log(`[bench] --reuse: ${fmt(rows.length)} bench creators kept, not ${fmt(CREATORS)}: seeding again`);
  return [];
}

async function keptStats(sql: postgres.Sql, accounts: number): Promise<SeedStats> {
  const [row] = await sql<Array<{ platform_accounts: string; offers: string; discoverable: string }>>`
    select (select count(*) from platform_accounts p join accounts a on a.id = p.creator_id where a.login like ${BENCH_LOGIN_LIKE}) as platform_accounts,
           count(*) as offers, count(*) filter (where discoverable) as discoverable
    from creator_offers o join accounts a on a.id = o.creator_id where a.login like ${BENCH_LOGIN_LIKE}`;
  return { accounts, platformAccounts: Number(row?.platform_accounts), offers: Number(row?.offers), discoverable: Number(row?.discoverable), ms: 0 };
}

async function seed(sql: postgres.Sql, creatorIds: string[]): Promise<SeedStats> {
  const rng = new Rng(SEED);
  const stats: SeedStats = { accounts: 0, platformAccounts: 0, offers: 0, discoverable: 0, ms: 0 };
  const started = performance.now();
  const tty = process.stdout.isTTY;
  let lastPlainLine = 0;
  const progress = (done: number, final = false) => {
    const line = `seeding creators ${fmt(done)}/${fmt(CREATORS)} (${seconds(started)})`;
    if (tty) process.stdout.write(`\r\x1b[2K${line}${final ? '\n' : ''}`);
    else if (final || done - lastPlainLine >= Math.max(10_000, CREATORS / 10)) {
      lastPlainLine = done;
      console.log(line);
    }
  };
  const metricsAt = new Date().toISOString(); // postgres.js binds a Date in the bulk helper only as text
  const firstSignup = Date.UTC(2024, 0, 1);
  const signupStep = Math.floor((Date.now() - firstSignup) / CREATORS);

  for (let from = 0; from < CREATORS; from += BATCH_CREATORS) {
    const accounts: Row[] = [];
    const profiles: Row[] = [];
    const platformAccounts: Row[] = [];
    const offers: Row[] = [];
    for (let i = from; i < Math.min(CREATORS, from + BATCH_CREATORS); i++) {
      const id = benchId(rng, 'acc', firstSignup + i * signupStep);
      creatorIds.push(id);
      const displayName = `${rng.pick(NAME_HEAD)}${rng.pick(NAME_TOPIC)}${rng.pick(NAME_TAIL)}${rng.chance(0.5) ? rng.int(1, 999) : ''}`;
      accounts.push({ id, role: 'creator', login: `bench-creator-${i}@bench.invalid`, password_hash: 'bench-no-login', display_name: displayName });
      // R-CONTACT: ~95% have both phone and email (contact complete)
      const complete = rng.chance(0.95);
      const dropPhone = !complete && rng.chance(0.5);
      profiles.push({
        creator_id: id,
        phone: dropPhone ? null : `+86138${String(i).padStart(8, '0')}`,
        email: complete || dropPhone ? `creator${i}@example.com` : null,
      });

      // 1–3 platforms; one reach level per creator, a little spread per platform
      let platforms = PLATFORMS.filter((p) => rng.chance(p === 'douyin' ? 0.8 : p === 'toutiao' ? 0.4 : 0.3));
      if (platforms.length === 0) platforms = ['douyin'];
      const reach = rng.normal();
      const available: Array<{ type: TaskTypeId; account: Row }> = [];
      for (const platform of platforms) {
        const fans = Math.round(10 ** clamp(4.2 + 0.75 * reach + 0.25 * rng.normal(), 3, 7)); // 1k .. 10M, median ~16k
        const averageRecentPlays = Math.round(10 ** clamp(Math.log10(fans) - 0.8 + 0.4 * rng.normal(), 1, 7.5)); // ~16% of fans
        const originalPermission = rng.chance(0.7);
        const account: Row = {
          id: benchId(rng, 'pa', firstSignup + i * signupStep + 1),
          creator_id: id,
          platform,
          platform_user_id: `bench-${i}`,
          nickname: displayName,
          fans,
          original_permission: originalPermission,
          average_recent_plays: averageRecentPlays,
          metrics_at: metricsAt,
        };
        platformAccounts.push(account);
        // R-OPEN-XIGUA: a Xigua type is open only to accounts that meet its conditions
        const eligible = platform !== 'xigua' || (fans >= 10_000 && averageRecentPlays >= 1_000 && originalPermission);
        if (eligible) for (const type of TYPES_OF[platform]) available.push({ type, account });
      }
      if (available.length === 0) {
        // only an ineligible Xigua account: make it eligible, so every creator has opened something
        const account = platformAccounts.at(-1)!;
        account['fans'] = Math.max(Number(account['fans']), rng.int(10_000, 40_000));
        account['average_recent_plays'] = Math.max(Number(account['average_recent_plays']), rng.int(1_000, 8_000));
        account['original_permission'] = true;
        available.push({ type: 'xigua_video', account });
      }
      const roll = rng.next();
      const wanted = roll < 0.45 ? 1 : roll < 0.75 ? 2 : roll < 0.9 ? 3 : 4;
      for (const { type, account } of rng.shuffle(available).slice(0, wanted)) {
        const fans = Number(account['fans']);
        // 500 to 500,000 yuan in whole yuan, rising with reach; ~10% not quoted yet
        const quoteLog = clamp(5 + 0.8 * (Math.log10(fans) - 4) + QUOTE_LEVEL[type] + 0.2 * rng.normal(), 4.7, 7.7);
        const quoteFen = rng.chance(0.9) ? Math.round(10 ** quoteLog / 100) * 100 : null;
        const rated = rng.chance(0.3);
        const discoverable = quoteFen !== null && complete;
        offers.push({
          creator_id: id,
          task_type: type,
          platform: TASK_TYPES[type].platform,
          platform_account_id: String(account['id']),
          display_name: displayName,
          quote_fen: quoteFen,
          accepting: rng.chance(0.85),
          contact_complete: complete, // discoverable is Postgres's to compute (R-DISCOVERABLE)
          fans,
          average_recent_plays: Number(account['average_recent_plays']),
          rating_centis: rated ? clamp(500 - Math.round(Math.abs(rng.normal()) * 70), 100, 500) : null,
          rating_count: rated ? Math.round(10 ** (1.2 * rng.next() ** 2)) + rng.int(0, 3) : 0,
        });
        if (discoverable) stats.discoverable++;
      }
    }
    await sql.begin(async (tx) => {
      await insertChunked(tx, 'accounts', accounts, ['id', 'role', 'login', 'password_hash', 'display_name']);
      await insertChunked(tx, 'creator_profiles', profiles, ['creator_id', 'phone', 'email']);
      await insertChunked(tx, 'platform_accounts', platformAccounts, [
        'id', 'creator_id', 'platform', 'platform_user_id', 'nickname', 'fans', 'original_permission', 'average_recent_plays', 'metrics_at',
      ]);
      await insertChunked(tx, 'creator_offers', offers, [
        'creator_id', 'task_type', 'platform', 'platform_account_id', 'display_name', 'quote_fen', 'accepting',
        'contact_complete', 'fans', 'average_recent_plays', 'rating_centis', 'rating_count',
      ]);
    });
    stats.accounts += accounts.length;
    stats.platformAccounts += platformAccounts.length;
    stats.offers += offers.length;
    progress(stats.accounts, stats.accounts === CREATORS);
  }
  stats.ms = performance.now() - started;
  return stats;
}

// ---------------------------------------------------------------- query shapes

interface Shape {
  name: string;
  /** A fresh query of this shape (parameters drawn from the PRNG). */
  query(rng: Rng): PlazaQuery;
  /** Set for deep-page shapes: the first page is not timed, the next DEEP_PAGES pages (via `next`) are. */
  deep?: boolean;
}

const PRICE_RANGES_YUAN: Array<[number | undefined, number | undefined]> = [
  [undefined, 1_000],
  [1_000, 5_000],
  [5_000, 20_000],
  [20_000, 100_000],
  [100_000, undefined],
];
const MIN_FANS = [10_000, 50_000, 100_000, 500_000, 1_000_000];
const MIN_PLAYS = [1_000, 5_000, 10_000, 50_000, 100_000];
const limit = (rng: Rng) => (rng.chance(0.8) ? 20 : 50);
const priceRange = (rng: Rng) => {
  const [min, max] = rng.pick(PRICE_RANGES_YUAN);
  return { minPriceFen: min === undefined ? undefined : min * 100, maxPriceFen: max === undefined ? undefined : max * 100 };
};

/** A shape whose queries are `pick(rng)` plus a page size; deep shapes page 20 at a time. */
function shape(name: string, pick: (rng: Rng) => Omit<PlazaQuery, 'limit'>, deep = false): Shape {
  return { name, deep, query: (rng) => ({ ...pick(rng), limit: deep ? 20 : limit(rng) }) };
}
const anyType = (rng: Rng) => rng.pick(TASK_TYPE_IDS);
const anyPlatform = (rng: Rng) => rng.pick(PLATFORMS);

function shapes(creatorIds: string[]): Shape[] {
  const deep = `pages 2-${DEEP_PAGES + 1}`;
  return [
    ...PLAZA_SORTS.map((sort) => shape(`type, ${sort}`, (rng) => ({ taskType: anyType(rng), sort }))),
    ...PLAZA_SORTS.map((sort) => shape(`platform, ${sort}`, (rng) => ({ platform: anyPlatform(rng), sort }))),
    shape('no filter, fans_desc', () => ({ sort: 'fans_desc' })),
    shape('no filter, price_asc', () => ({ sort: 'price_asc' })),
    shape('type + price range, price_asc', (rng) => ({ taskType: anyType(rng), ...priceRange(rng), sort: 'price_asc' })),
    shape('type + price range, fans_desc', (rng) => ({ taskType: anyType(rng), ...priceRange(rng), sort: 'fans_desc' })),
    shape('platform + price range, rating_desc', (rng) => ({ platform: anyPlatform(rng), ...priceRange(rng), sort: 'rating_desc' })),
    shape('type + minFans, fans_desc', (rng) => ({ taskType: anyType(rng), minFans: rng.pick(MIN_FANS), sort: 'fans_desc' })),
    shape('type + minFans, price_asc', (rng) => ({ taskType: anyType(rng), minFans: rng.pick(MIN_FANS), sort: 'price_asc' })),
    shape('platform + minFans, price_asc', (rng) => ({ platform: anyPlatform(rng), minFans: rng.pick(MIN_FANS), sort: 'price_asc' })),
    shape('type + minAveragePlays, plays_desc', (rng) => ({ taskType: anyType(rng), minAveragePlays: rng.pick(MIN_PLAYS), sort: 'plays_desc' })),
    shape('type + minAveragePlays, rating_desc', (rng) => ({ taskType: anyType(rng), minAveragePlays: rng.pick(MIN_PLAYS), sort: 'rating_desc' })),
    shape('type + acceptingOnly, fans_desc', (rng) => ({ taskType: anyType(rng), acceptingOnly: true, sort: 'fans_desc' })),
    shape('platform + acceptingOnly, price_asc', (rng) => ({ platform: anyPlatform(rng), acceptingOnly: true, sort: 'price_asc' })),
    shape('type + price + minFans + accepting, rating_desc', (rng) => ({
      taskType: anyType(rng),
      ...priceRange(rng),
      minFans: rng.pick(MIN_FANS),
      acceptingOnly: true,
      sort: 'rating_desc',
    })),
    shape('platform + maxPrice + minPlays + accepting, plays_desc', (rng) => ({
      platform: anyPlatform(rng),
      maxPriceFen: rng.pick([5_000, 20_000, 100_000]) * 100,
      minAveragePlays: rng.pick(MIN_PLAYS),
      acceptingOnly: true,
      sort: 'plays_desc',
    })),
    shape('type + platform + minFans + price, price_desc', (rng) => {
      const taskType = anyType(rng);
      return { taskType, platform: TASK_TYPES[taskType].platform, minFans: rng.pick(MIN_FANS), ...priceRange(rng), sort: 'price_desc' };
    }),
    shape(`deep: type, fans_desc, ${deep}`, (rng) => ({ taskType: anyType(rng), sort: 'fans_desc' }), true),
    shape(`deep: type, price_desc, ${deep}`, (rng) => ({ taskType: anyType(rng), sort: 'price_desc' }), true),
    shape(`deep: type, rating_desc, ${deep}`, (rng) => ({ taskType: anyType(rng), sort: 'rating_desc' }), true),
    shape(`deep: platform + accepting, price_asc, ${deep}`, (rng) => ({ platform: anyPlatform(rng), acceptingOnly: true, sort: 'price_asc' }), true),
    // far down the list, among the ~70% unrated offers that tie at -1: the cursor names a random creator
    shape('far: type, rating_desc, cursor in unrated tail', (rng) => {
      const taskType = anyType(rng);
      const after: PlazaCursor = { v: -1, c: rng.pick(creatorIds), t: taskType };
      return { taskType, sort: 'rating_desc', after };
    }),
  ];
}

interface Sample {
  ms: number;
  rows: number;
  query: PlazaQuery;
}

/** One run of a shape: one timed query, or (deep) the first page untimed then DEEP_PAGES timed pages. */
async function runShape(db: Db, shape: Shape, rng: Rng): Promise<Sample[]> {
  let query = shape.query(rng);
  if (!shape.deep) {
    const t0 = performance.now();
    const page = await searchPlaza(db, query);
    return [{ ms: performance.now() - t0, rows: page.items.length, query }];
  }
  const samples: Sample[] = [];
  let page = await searchPlaza(db, query);
  for (let i = 0; i < DEEP_PAGES && page.next; i++) {
    query = { ...query, after: page.next };
    const t0 = performance.now();
    page = await searchPlaza(db, query);
    samples.push({ ms: performance.now() - t0, rows: page.items.length, query });
  }
  return samples;
}

/**
 * The SQL and parameters searchPlaza sends for `query`, captured with a drizzle logger (same schema and casing as db/client.ts).
 * drizzle sends it as an unnamed statement (planned for its values, never generically), and so does this EXPLAIN.
 */
async function capturedSql(sql: postgres.Sql, query: PlazaQuery): Promise<{ text: string; params: unknown[] }> {
  let captured: { text: string; params: unknown[] } | undefined;
  const db = drizzle(sql, { schema, casing: 'snake_case', logger: { logQuery: (text, params) => void (captured = { text, params }) } });
  await searchPlaza(db, query);
  if (!captured) throw new Error('searchPlaza sent no query');
  return captured;
}

async function explain(sql: postgres.Sql, query: PlazaQuery) {
  const { text, params } = await capturedSql(sql, query);
  console.log(`query: ${JSON.stringify(query)}`);
  console.log(`sql:   ${text}`);
  console.log(`params: ${JSON.stringify(params)}`);
  const values = params as postgres.ParameterOrJSON<never>[];
  const plan = await sql.unsafe<Array<Record<string, string>>>(`explain (analyze, buffers) ${text}`, values);
  for (const row of plan) console.log(`  ${Object.values(row)[0]}`);
}

// ---------------------------------------------------------------- main

async function main() {
  const { database, where } = await openDatabase();
  const { db, sql } = database;
  const [version] = await sql<Array<{ server_version: string }>>`show server_version`;
  const [buffers] = await sql<Array<{ shared_buffers: string }>>`show shared_buffers`;
  console.log(`[bench] ${where}`);
  console.log(`[bench] PostgreSQL ${version?.server_version}, shared_buffers ${buffers?.shared_buffers}; seed ${SEED}`);
  const kept = args.reuse ? await keptCreators(sql) : [];
  if (EXTERNAL_URL && kept.length === 0) {
    await deleteBenchRows(sql, 'left by an earlier run');
    if (!args.keep) cleanups.push((hurry) => (hurry ? Promise.resolve() : deleteBenchRows(sql, 'seeded by this run')));
  }
  if (kept.length > 0) console.log(`[bench] --reuse: ${fmt(kept.length)} bench creators kept by an earlier run, not seeded again`);
  const creatorIds: string[] = kept; // seed() fills it when nothing was kept
  const stats = kept.length > 0 ? await keptStats(sql, kept.length) : await seed(sql, creatorIds);
  for (const statement of args.sql) {
    const started = performance.now();
    await sql.unsafe(statement);
    console.log(`[bench] --sql ${statement} (${seconds(started)})`);
  }
  const analyzeStarted = performance.now();
  // VACUUM as well as ANALYZE: sets hint bits and the visibility map now, so autovacuum does not start during the timing
  await sql`vacuum (analyze) accounts, creator_profiles, platform_accounts, creator_offers`;
  const analyzeMs = performance.now() - analyzeStarted;
  const [size] = await sql<Array<{ db: string; offers: string; offers_indexes: string }>>`
    select pg_size_pretty(pg_database_size(current_database())) as db,
           pg_size_pretty(pg_table_size('creator_offers')) as offers,
           pg_size_pretty(pg_indexes_size('creator_offers')) as offers_indexes`;
  console.log(
    `[bench] seeded ${fmt(stats.accounts)} creators, ${fmt(stats.platformAccounts)} platform accounts, ${fmt(stats.offers)} offers ` +
      `(${fmt(stats.discoverable)} discoverable) in ${(stats.ms / 1000).toFixed(1)} s; vacuum analyze ${(analyzeMs / 1000).toFixed(1)} s`,
  );
  console.log(`[bench] database size ${size?.db}; creator_offers ${size?.offers} + indexes ${size?.offers_indexes}`);

  const all = shapes(creatorIds);
  const rng = new Rng(SEED + 1);
  const warmStarted = performance.now();
  let warmQueries = 0;
  for (let i = 0; i < WARMUP; i++) {
    for (const shape of all) warmQueries += Math.max(1, (await runShape(db, shape, rng)).length);
  }
  console.log(`[bench] warm-up: ${fmt(warmQueries)} queries in ${seconds(warmStarted)}`);

  // round-robin over the shapes, so a disturbance (checkpoint, GC) is spread over all of them
  const samples = new Map<Shape, Sample[]>(all.map((shape) => [shape, []]));
  const measureStarted = performance.now();
  while ([...samples.values()].some((s) => s.length < QUERIES)) {
    for (const shape of all) {
      const list = samples.get(shape)!;
      if (list.length < QUERIES) list.push(...(await runShape(db, shape, rng)));
    }
  }
  const measured = [...samples.values()].reduce((n, s) => n + s.length, 0);
  console.log(`[bench] measured ${fmt(measured)} queries in ${seconds(measureStarted)} (one at a time; times include drizzle and the round trip)\n`);

  const width = Math.max(...all.map((s) => s.name.length));
  const header = [`${'shape'.padEnd(width)}`, 'n'.padStart(5), 'rows'.padStart(5), ...['p50', 'p95', 'p99', 'max'].map((h) => h.padStart(8))].join('  ');
  console.log(header);
  console.log('-'.repeat(header.length));
  const results: Array<{ shape: Shape; p95: number; sorted: Sample[] }> = [];
  for (const shape of all) {
    const sorted = samples.get(shape)!.slice().sort((a, b) => a.ms - b.ms);
    const times = sorted.map((s) => s.ms);
    const p95 = percentile(times, 95);
    const rows = sorted.reduce((n, s) => n + s.rows, 0) / Math.max(1, sorted.length);
    const flag = p95 >= TARGET_P95_MS ? '  <-- over target' : '';
    console.log(
      `${shape.name.padEnd(width)}  ${String(sorted.length).padStart(5)}  ${rows.toFixed(1).padStart(5)}  ${ms(percentile(times, 50)).padStart(8)}  ` +
        `${ms(p95).padStart(8)}  ${ms(percentile(times, 99)).padStart(8)}  ${ms(times.at(-1) ?? NaN).padStart(8)}${flag}`,
    );
    results.push({ shape, p95, sorted });
  }
  const overall = [...samples.values()].flat().map((s) => s.ms).sort((a, b) => a - b);
  const p50 = percentile(overall, 50);
  const p95 = percentile(overall, 95);
  console.log('-'.repeat(header.length));
  console.log(`(times in ms; rows = average rows per page)`);
  const verdict = p95 < TARGET_P95_MS ? 'PASS' : 'FAIL';
  console.log(`overall p50 ${ms(p50)} ms, p95 ${ms(p95)} ms, p99 ${ms(percentile(overall, 99))} ms (target p95 < ${TARGET_P95_MS} ms): ${verdict}`);
  // issue #14 asks more, at a million creators: printed beside it, never asserted
  const shapesOver = results.filter((r) => r.p95 >= ISSUE_14_P95_MS).length;
  console.log(
    `issue #14 target: p95 < ${ISSUE_14_P95_MS} ms at 1,000,000 creators — ` +
      (CREATORS >= 1_000_000 ? `p95 ${ms(p95)} ms: ${p95 < ISSUE_14_P95_MS ? 'met' : 'NOT MET'}` : `not measured (${fmt(CREATORS)} creators here, p95 ${ms(p95)} ms; run with --creators 1000000)`) +
      `; ${shapesOver} of ${results.length} shapes have p95 ≥ ${ISSUE_14_P95_MS} ms`,
  );

  const slowest = results.reduce((a, b) => (b.p95 > a.p95 ? b : a));
  for (const { shape, p95: shapeP95, sorted } of args['explain-all'] ? results : [slowest]) {
    // the query whose time sits at the shape's p95: representative of its slow end, not a one-off outlier
    const sample = sorted[Math.max(0, Math.ceil(0.95 * sorted.length) - 1)]!;
    const label = shape === slowest.shape ? 'slowest shape' : 'shape';
    console.log(`\n${label}: ${shape.name} (p95 ${ms(shapeP95)} ms); EXPLAIN (ANALYZE, BUFFERS) of its p95 query (timed at ${ms(sample.ms)} ms):`);
    await explain(sql, sample.query);
  }
}

let exitCode = 0;
try {
  await main();
} catch (err) {
  if (!stopping) {
    process.stdout.write('\n');
    console.error('[bench] failed:', err);
    exitCode = 1;
  }
} finally {
  if (!stopping) {
    stopping = true;
    await cleanUp(exitCode !== 0);
    process.exit(exitCode);
  }
}
