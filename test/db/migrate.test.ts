/** The migration runner: applies the committed migrations once, and a failing migration stops the start. */
import postgres from 'postgres';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runMigrations } from '../../db/migrate.js';
import { startPostgres, type Postgres } from '../helpers/stack.js';

let pg: Postgres;
beforeAll(async () => {
  pg = await startPostgres(); // runs the migrations once already
});
afterAll(async () => pg?.stop());

const urlOf = (database: string) => pg.pg.url.replace(/\/starmap$/, `/${database}`);

it('applies every migration, and running it again changes nothing', async () => {
  await runMigrations(pg.pg.url);
  const tables = await pg.database.sql<{ table_name: string }[]>`select table_name from information_schema.tables where table_schema = 'public' order by 1`;
  expect(tables.map((t) => t.table_name)).toEqual(
    expect.arrayContaining(['tasks', 'task_events', 'notifications', 'credit_events', 'ledger_accounts', 'ledger_transfers', 'withdrawals', 'idempotency_keys']),
  );
  const timestamps = await pg.database.sql<{ data_type: string }[]>`
    select data_type from information_schema.columns where table_schema = 'public' and data_type like 'timestamp%'`;
  expect(new Set(timestamps.map((c) => c.data_type))).toEqual(new Set(['timestamp with time zone']));
});

it('rejects when a migration fails, so the start stops', async () => {
  await pg.database.sql.unsafe('create database broken');
  const broken = postgres(urlOf('broken'), { max: 1, onnotice: () => {} });
  await broken.unsafe('create table tasks (id integer)'); // the first migration cannot create it
  await broken.end();
  await expect(runMigrations(urlOf('broken'))).rejects.toThrow();
});
