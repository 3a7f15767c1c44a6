/**
 * A process that keeps PostgreSQL busy through the project's own client
 * (db/client.ts: postgres.js under drizzle) until SIGTERM, and prints one JSON
 * line of counts every 200 ms. It installs no 'uncaughtException' handler:
 * a driver bug that throws from a timer kills it, which is what
 * test/db/driver-outage.test.ts looks for.
 *
 *   node --import tsx test/helpers/pgLoad.ts <database url> [concurrency]
 */
import { sql } from 'drizzle-orm';
import { connect } from '../../db/client.js';

const url = process.argv[2];
if (!url) throw new Error('usage: pgLoad.ts <database url> [concurrency]');
const concurrency = Number(process.argv[3] ?? 8);
const database = connect(url, { max: 4 });
const { db } = database;
const counts = { ok: 0, failed: 0, errors: {} as Record<string, number> };
let running = true;

async function loop(n: number): Promise<void> {
  while (running) {
    try {
      // transactions as the API and the activities run them: several statements on one reserved connection
      await db.transaction(async (tx) => {
        await tx.execute(sql`select pg_sleep(0.005)`);
        await tx.execute(sql`select ${n}::int as n, repeat('x', 200) as pad`);
      });
      await db.execute(sql`select 1`);
      counts.ok++;
    } catch (err) {
      counts.failed++;
      const code = (err as { code?: string }).code ?? (err as Error).name;
      counts.errors[code] = (counts.errors[code] ?? 0) + 1;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

const report = setInterval(() => console.log(JSON.stringify(counts)), 200);
const loops = Array.from({ length: concurrency }, (_, i) => loop(i));
process.once('SIGTERM', () => {
  running = false;
  void Promise.all(loops)
    .then(() => database.close())
    .then(() => {
      clearInterval(report);
      console.log(JSON.stringify({ ...counts, done: true }));
    });
});
