/**
 * `npm run seed [-- --creators N]`: a believable demo marketplace, written
 * through the same functions the API uses (eligibility, quotes, contact rules
 * apply): demo client, MCN and operator accounts, N creators on Douyin, Xigua
 * and Toutiao with varied metrics and quotes, a pool of virtual numbers, money
 * in the demo client's wallet. Prints tokens to try the API with.
 *
 * Idempotent: fixed demo logins are reused, generated creators are added only
 * up to N. Database: DATABASE_URL, else the one `npm start` runs (its
 * runtime.json in the data folder). `npm start` runs it once on an empty database.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { count, eq, inArray } from 'drizzle-orm';
import { FakeContentPlatform } from '../adapters/contentPlatform.js';
import { createAuth, type UserActor } from '../api/auth.js';
import { newId } from '../api/ids.js';
import { hashPassword } from '../api/passwords.js';
import { createAccount } from '../db/accounts.js';
import { connect, type Db } from '../db/client.js';
import { addVirtualNumbers, bindPlatformAccount, openOffer, setContact, updateOffer } from '../db/creators.js';
import { paidTopUp } from '../db/ledger.js';
import { accounts, mcnMemberships } from '../db/schema/index.js';
import { DomainError, TASK_TYPES, type Platform } from '../domain/index.js';
import { dataDir, devSecrets } from './dev.js';
import { Rng } from './random.js';

export const DEMO_PASSWORD = 'starmap-demo-password';
export const DEMO_ACCOUNTS = {
  client: { id: 'demo-client', login: 'client@demo.starmap', displayName: '山茶花饮品 (demo brand)' },
  client2: { id: 'demo-client-2', login: 'client2@demo.starmap', displayName: '北岸户外 (demo brand)' },
  creator: { id: 'demo-creator', login: 'creator@demo.starmap', displayName: '阿杰的数码日常' },
  mcn: { id: 'demo-mcn', login: 'mcn@demo.starmap', displayName: '星河 MCN' },
  operator: { id: 'demo-operator', login: 'operator@demo.starmap', displayName: 'Starmap operator' },
} as const;

const NAME_A = ['阿杰', '小鹿', '大橙子', '木子', '老王', '七七', '糖糖', '一帆', '野猫', '晴天', '胖虎', '思思', '阿楠', '豆豆', '老陈'];
const NAME_B = ['的数码日常', '爱做饭', '去旅行', '测评室', '穿搭笔记', '聊汽车', '讲历史', '的健身房', '读书会', '带娃记', '探店', '说财经', '的小院', '玩游戏'];

export interface SeedOptions {
  creators: number;
  log?: (line: string) => void;
  /** Called as creators are written: (done, total). */
  progress?: (done: number, total: number) => void;
}

export interface SeedResult {
  creatorsAdded: number;
  offersOpened: number;
  xiguaRefused: number;
  demo: Record<keyof typeof DEMO_ACCOUNTS, UserActor>;
}

const DEMO_ROLES = { client: 'client', client2: 'client', creator: 'creator', mcn: 'mcn', operator: 'operator' } as const;

/** The demo accounts as actors (for tokens). */
export const demoActors = (): SeedResult['demo'] =>
  Object.fromEntries((Object.keys(DEMO_ACCOUNTS) as (keyof typeof DEMO_ACCOUNTS)[]).map((name) => [name, { role: DEMO_ROLES[name], id: DEMO_ACCOUNTS[name].id }])) as SeedResult['demo'];

export async function seedMarketplace(db: Db, options: SeedOptions): Promise<SeedResult> {
  const log = options.log ?? (() => {});
  const passwordHash = await hashPassword(DEMO_PASSWORD);
  const demo = demoActors();
  for (const [name, a] of Object.entries(DEMO_ACCOUNTS) as [keyof typeof DEMO_ACCOUNTS, (typeof DEMO_ACCOUNTS)[keyof typeof DEMO_ACCOUNTS]][]) {
    if (name === 'creator') continue; // the first generated creator (below)
    const [exists] = await db.select({ id: accounts.id }).from(accounts).where(eq(accounts.id, a.id));
    if (!exists) await createAccount(db, { id: a.id, role: DEMO_ROLES[name], login: a.login, passwordHash, displayName: a.displayName });
  }
  // money for the demo brands (a fixed transfer id per brand: credited once)
  await db.transaction((tx) => paidTopUp(tx, DEMO_ACCOUNTS.client.id, 50_000_000, 'seed:topup:demo-client'));
  await db.transaction((tx) => paidTopUp(tx, DEMO_ACCOUNTS.client2.id, 20_000_000, 'seed:topup:demo-client-2'));
  const pool = Array.from({ length: 200 }, (_, i) => `+86170${String(10_000_000 + i).padStart(8, '0')}`);
  await addVirtualNumbers(db, pool);

  const platform = new FakeContentPlatform();
  const rnd = new Rng(20261122);
  const existing = (await db.select({ n: count() }).from(accounts).where(eq(accounts.role, 'creator')))[0]!.n;
  const wanted = Math.max(0, options.creators - existing);
  let offersOpened = 0;
  let xiguaRefused = 0;
  const managed: string[] = [];
  const types = Object.values(TASK_TYPES);
  log(`${existing} creators present; adding ${wanted}`);

  for (let i = 0; i < wanted; i++) {
    const isDemo = existing + i === 0;
    const id = isDemo ? DEMO_ACCOUNTS.creator.id : newId('acc');
    const displayName = isDemo ? DEMO_ACCOUNTS.creator.displayName : `${rnd.pick(NAME_A)}${rnd.pick(NAME_B)}${rnd.int(1, 99)}`;
    const login = isDemo ? DEMO_ACCOUNTS.creator.login : `creator-${id.slice(4)}@demo.starmap`;
    await createAccount(db, { id, role: 'creator', login, passwordHash, displayName });
    // 90% give complete contact details (R-CONTACT); the rest are not discoverable yet
    if (isDemo || rnd.next() < 0.9) await setContact(db, id, { phone: `+86139${String(rnd.int(0, 99_999_999)).padStart(8, '0')}`, email: `${id.slice(4, 12)}@creator.demo` });

    const platforms: Platform[] = isDemo ? ['douyin', 'xigua', 'toutiao'] : (['douyin', 'xigua', 'toutiao'] as const).filter(() => rnd.next() < 0.55);
    if (platforms.length === 0) platforms.push(rnd.pick(['douyin', 'xigua', 'toutiao'] as const));
    for (const p of platforms) {
      const fans = isDemo ? 860_000 : rnd.logUniform(2_000, 8_000_000);
      const average = Math.max(50, Math.round(fans * (0.005 + rnd.next() * 0.05)));
      const profile = {
        platform: p,
        platformUserId: `${p}-${id.slice(4)}`,
        nickname: displayName,
        fans,
        originalPermission: isDemo || rnd.next() < 0.7,
        recentPlays: Array.from({ length: 20 }, () => Math.max(0, Math.round(average * (0.6 + rnd.next() * 0.8)))),
      };
      platform.setAccount(profile);
      await bindPlatformAccount(db, newId('pa'), id, await platform.accountProfile(p, profile.platformUserId));
      for (const type of types.filter((t) => t.platform === p && (isDemo || rnd.next() < 0.7))) {
        // quotes roughly follow reach: about ¥20-¥80 per thousand fans, at least ¥300
        const quote = Math.max(30_000, Math.round((fans / 1000) * rnd.int(2_000, 8_000) / 100) * 100);
        const withQuote = isDemo || rnd.next() < 0.92;
        try {
          await openOffer(db, id, type.id, await platform.accountProfile(p, profile.platformUserId), withQuote ? quote : null);
          offersOpened++;
          if (!isDemo && rnd.next() < 0.12) await updateOffer(db, id, type.id, { accepting: false }); // R-ACCEPTING-SWITCH
        } catch (err) {
          if (!(err instanceof DomainError) || err.details.code !== 'not-eligible') throw err;
          xiguaRefused++; // R-OPEN-XIGUA: not every Xigua account qualifies
        }
      }
    }
    if (isDemo || rnd.next() < 0.15) managed.push(id);
    options.progress?.(i + 1, wanted);
  }
  if (managed.length) {
    await db
      .insert(mcnMemberships)
      .values(managed.map((creatorId) => ({ creatorId, mcnId: DEMO_ACCOUNTS.mcn.id })))
      .onConflictDoNothing();
  }
  const managedCount = (await db.select({ n: count() }).from(mcnMemberships).where(inArray(mcnMemberships.mcnId, [DEMO_ACCOUNTS.mcn.id])))[0]!.n;
  log(`${offersOpened} task types opened, ${xiguaRefused} Xigua applications refused (R-OPEN-XIGUA), ${managedCount} creators managed by ${DEMO_ACCOUNTS.mcn.id}`);
  return { creatorsAdded: wanted, offersOpened, xiguaRefused, demo };
}

/** A one-line progress bar on a terminal; a line every 10% otherwise. */
export function progressBar(label: string, write: (s: string) => void = (s) => process.stdout.write(s)) {
  const started = Date.now();
  const tty = process.stdout.isTTY;
  let lastDecile = -1;
  return (done: number, total: number) => {
    const ratio = total === 0 ? 1 : done / total;
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    if (tty) {
      const width = 30;
      const filled = Math.round(ratio * width);
      write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} (${secs} s)${done === total ? '\n' : ''}`);
    } else if (Math.floor(ratio * 10) !== lastDecile || done === total) {
      lastDecile = Math.floor(ratio * 10);
      write(`${label} ${done}/${total} (${Math.round(ratio * 100)}%, ${secs} s)\n`);
    }
  };
}

/** Tokens for the demo accounts, signed with this data folder's secret. */
export async function demoTokens(jwtSecret: string, demo: SeedResult['demo']): Promise<string> {
  const auth = createAuth(jwtSecret);
  const lines = [];
  for (const [name, actor] of Object.entries(demo)) lines.push(`    ${name.padEnd(9)}${actor.id.padEnd(15)}${await auth.sign(actor)}`);
  return lines.join('\n');
}

function databaseUrl(): string {
  if (process.env['DATABASE_URL']) return process.env['DATABASE_URL'];
  const runtime = join(dataDir(), 'runtime.json');
  if (existsSync(runtime)) return (JSON.parse(readFileSync(runtime, 'utf8')) as { databaseUrl: string }).databaseUrl;
  throw new Error(`no database: set DATABASE_URL, or start Starmap first (npm start writes ${runtime})`);
}

async function main(): Promise<void> {
  const flag = process.argv.indexOf('--creators');
  const creators = flag > 0 ? Number(process.argv[flag + 1]) : 300;
  if (!Number.isInteger(creators) || creators < 1 || creators > 1_000_000) throw new Error('--creators takes a whole number from 1 to 1,000,000');
  const database = connect(databaseUrl(), { max: 2 });
  try {
    const result = await seedMarketplace(database.db, { creators, log: (l) => console.log(`[seed] ${l}`), progress: progressBar('[seed] creators') });
    console.log(`[seed] done. Demo accounts sign in with password "${DEMO_PASSWORD}" (POST /v1/sessions), or use these tokens (12 h):`);
    console.log(await demoTokens(devSecrets().jwtSecret, result.demo));
  } finally {
    await database.close();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: unknown) => {
    console.error('[seed] failed:', err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
