/**
 * db/client.ts preparingClient: drizzle's statements run as prepared statements
 * (one round trip each once the connection knows them, instead of Parse +
 * Describe, a wait, then Bind + Execute every time), planned for each
 * execution's values as before, in transactions and savepoints too; bulk
 * statements are not kept on the connection. Issue #14 (CPU per lifecycle).
 */
import { eq, inArray, sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MAX_PREPARED_PARAMETERS, connect, type Database, type Tx } from '../../db/client.js';
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

it('prepares a statement once per connection and runs it again without parsing: every execution planned for its values', async () => {
  for (let i = 0; i < 8; i++) await lookup(one.db, `acc-${i}`);
  const lookups = (await preparedOn(one.db)).filter(isLookup);
  // one statement for eight executions (re-preparing would leave one per execution)
  expect(lookups).toHaveLength(1);
  // plan_cache_mode = force_custom_plan: past the fifth execution Postgres would otherwise try a generic plan
  expect(lookups[0]).toMatchObject({ custom: 8, generic: 0 });
});

it('prepares inside transactions and savepoints too, on the same connection', async () => {
  const before = (await preparedOn(one.db)).filter(isLookup)[0]!.custom;
  const inside = await one.db.transaction(async (tx) => {
    await lookup(tx, 'acc-tx');
    const nested = await tx.transaction(async (savepoint) => {
      await savepoint.select({ n: sql<number>`${1}::int + 1` }).from(accounts).where(eq(accounts.role, 'operator'));
      return preparedOn(savepoint);
    });
    return nested;
  });
  expect(inside.filter(isLookup)[0]!.custom).toBe(before + 1);
  expect(inside.some((p) => p.statement.includes('$1::int + 1'))).toBe(true);
});

it(`keeps statements with more than ${MAX_PREPARED_PARAMETERS} parameters off the connection (bulk text rarely repeats)`, async () => {
  const ids = Array.from({ length: MAX_PREPARED_PARAMETERS + 1 }, (_, i) => `bulk-${i}`);
  expect(await one.db.select({ id: accounts.id }).from(accounts).where(inArray(accounts.id, ids))).toEqual([]);
  expect(await one.db.select({ id: accounts.id }).from(accounts).where(inArray(accounts.id, ids.slice(0, 3)))).toEqual([]);
  const ins = (await preparedOn(one.db)).filter((p) => p.statement.includes('"accounts"."id" in ('));
  expect(ins.map((p) => (p.statement.match(/\$\d+/g) ?? []).length)).toEqual([3]);
});
