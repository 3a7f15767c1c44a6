/**
 * db/client.ts preparingClient: drizzle's statements run as prepared statements
 * (one round trip each once the connection knows them, instead of Parse +
 * Describe, a wait, then Bind + Execute every time), in transactions and
 * savepoints too; bulk statements are not kept on the connection; a key lookup
 * settles on a generic plan (PostgreSQL's own choice, plan_cache_mode auto) while
 * value-dependent queries (perExecution) are planned for their values every time.
 * Issue #14 (CPU per lifecycle).
 */
import { eq, inArray, sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MAX_PREPARED_PARAMETERS, connect, perExecution, type Database, type Tx } from '../../db/client.js';
import { accounts } from '../../db/schema/index.js';
import { usePostgres } from '../helpers/harness.js';

const { postgres } = usePostgres();
/** One connection, so the statements below and the check of pg_prepared_statements share it. */
let one: Database;
beforeAll(() => {
  one = connect(postgres().pg.url, { max: 1 });
});
afterAll(async () => one?.close());

interface Prepared {
  statement: string;
  custom: number;
  generic: number;
}

/** The connection's prepared statements (the check itself has no parameters: not prepared). */
async function preparedOn(tx: Tx): Promise<Prepared[]> {
  const rows = await tx.execute<{ statement: string; custom: number; generic: number }>(
    sql`select statement, custom_plans::int as custom, generic_plans::int as generic from pg_prepared_statements`,
  );
  return [...rows];
}

const lookup = (tx: Tx, id: string) => tx.select({ id: accounts.id }).from(accounts).where(eq(accounts.id, id));
const isLookup = (p: Prepared) => p.statement.startsWith('select "id" from "accounts" where "accounts"."id" = $1');

it('prepares a statement once per connection and runs it again without parsing or planning it again', async () => {
  const [mode] = await one.sql<{ plan_cache_mode: string }[]>`show plan_cache_mode`;
  expect(mode!.plan_cache_mode).toBe('auto');
  for (let i = 0; i < 8; i++) await lookup(one.db, `acc-${i}`);
  const lookups = (await preparedOn(one.db)).filter(isLookup);
  // one statement for eight executions (re-preparing would leave one per execution)
  expect(lookups).toHaveLength(1);
  // plan_cache_mode auto: five plans for the values, then the generic plan, kept (a key lookup's plan is the same for any key)
  expect(lookups[0]).toMatchObject({ custom: 5, generic: 3 });
});

it('sends a value-dependent query (perExecution) unprepared: planned for its values at every execution, outside and inside a transaction', async () => {
  const byRole = (db: Tx, role: 'client' | 'operator') => db.select({ id: accounts.id }).from(accounts).where(eq(accounts.role, role)).orderBy(accounts.id).limit(7);
  for (let i = 0; i < 8; i++) await byRole(perExecution(one.db), i % 2 ? 'client' : 'operator');
  const listed = (p: Prepared) => p.statement.includes('where "accounts"."role" = $1 order by "accounts"."id" limit $2');
  expect((await preparedOn(one.db)).filter(listed)).toEqual([]);
  // the same query without perExecution is kept on the connection (the check above can fail)
  await byRole(one.db, 'client');
  expect((await preparedOn(one.db)).filter(listed)).toHaveLength(1);
  // a transaction is handed back as it is (its statements stay on its connection)
  await one.db.transaction(async (tx) => {
    expect(perExecution(tx as never)).toBe(tx);
    await lookup(tx, 'acc-in-tx');
  });
});

it('prepares inside transactions and savepoints too, on the same connection', async () => {
  const runs = (p: Prepared) => p.custom + p.generic;
  const before = runs((await preparedOn(one.db)).filter(isLookup)[0]!);
  const inside = await one.db.transaction(async (tx) => {
    await lookup(tx, 'acc-tx');
    const nested = await tx.transaction(async (savepoint) => {
      await savepoint.select({ n: sql<number>`${1}::int + 1` }).from(accounts).where(eq(accounts.role, 'operator'));
      return preparedOn(savepoint);
    });
    return nested;
  });
  expect(runs(inside.filter(isLookup)[0]!)).toBe(before + 1);
  expect(inside.some((p) => p.statement.includes('$1::int + 1'))).toBe(true);
});

it(`keeps statements with more than ${MAX_PREPARED_PARAMETERS} parameters off the connection (bulk text rarely repeats)`, async () => {
  const ids = Array.from({ length: MAX_PREPARED_PARAMETERS + 1 }, (_, i) => `bulk-${i}`);
  expect(await one.db.select({ id: accounts.id }).from(accounts).where(inArray(accounts.id, ids))).toEqual([]);
  expect(await one.db.select({ id: accounts.id }).from(accounts).where(inArray(accounts.id, ids.slice(0, 3)))).toEqual([]);
  const ins = (await preparedOn(one.db)).filter((p) => p.statement.includes('"accounts"."id" in ('));
  expect(ins.map((p) => (p.statement.match(/\$\d+/g) ?? []).length)).toEqual([3]);
});
