import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import type { PgTransaction } from 'drizzle-orm/pg-core';
import postgres from 'postgres';
import * as schema from './schema/index.js';

export type Db = PostgresJsDatabase<typeof schema>;
/** The database or a transaction on it: every writing module takes one. */
export type Tx = Db | PgTransaction<any, any, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * A query built and prepared once per database (drizzle's `.prepare()`), for the
 * statements every request runs: `build` runs at the first call with each `db`.
 */
export function preparedOnce<Q>(build: (db: Db) => Q): (db: Db) => Q {
  const prepared = new WeakMap<Db, Q>();
  return (db) => {
    let query = prepared.get(db);
    if (query === undefined) {
      query = build(db);
      prepared.set(db, query);
    }
    return query;
  };
}

/**
 * Whether a Postgres error (or the driver's wrapper of it, at any depth) is a
 * unique violation (23505), of `constraint` when one is named.
 */
export const isUniqueViolation = (err: unknown, constraint?: string): boolean => {
  const e = err as { code?: string; constraint_name?: string; cause?: unknown } | null | undefined;
  if (e?.code === '23505') return !constraint || e.constraint_name === constraint;
  return e?.cause !== undefined && isUniqueViolation(e.cause, constraint);
};

export interface Database {
  db: Db;
  sql: postgres.Sql;
  close(): Promise<void>;
}

/** Statements with more parameters than this (bulk inserts, long `in` lists) are not kept on the connection. */
export const MAX_PREPARED_PARAMETERS = 100;

/**
 * The client drizzle runs on, sending its statements as prepared statements.
 *
 * drizzle asks postgres.js to prepare only queries named with `.prepare(name)`;
 * postgres.js runs every other statement that has parameters in two round trips
 * (Parse + Describe, wait for the parameter types, then Bind + Execute) and
 * parses it again each time. Prepared, a statement is parsed once per
 * connection and then costs one round trip (measured here: 237 → 116 µs wall,
 * 133 → 72 µs of node CPU per key lookup). PostgreSQL then chooses between a
 * plan for each execution's values and one generic plan kept for the
 * statement (`plan_cache_mode = auto`, its default): after five executions it
 * keeps the generic plan when that costs no more, so a key lookup or the
 * projection's upsert is no longer planned again at every execution. Queries
 * whose best plan depends on the values (lists with a user's filters and
 * limits, the plaza's banded plan, queues) run through `perExecution`, which
 * sends them unprepared: planned for their values every time.
 * A statement with more than MAX_PREPARED_PARAMETERS parameters (a bulk insert,
 * a long `in` list: text that rarely repeats) is sent as before, so the
 * connection's statement cache (postgres.js keeps it until the connection is
 * replaced, after its 30–60 minute lifetime) holds only statements that repeat.
 * Transactions and savepoints hand drizzle the same kind of client.
 */
export function preparingClient(sql: postgres.Sql): postgres.Sql {
  return new Proxy(sql, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      if (property === 'unsafe') {
        return (query: string, args: unknown[] = [], options: postgres.UnsafeQueryOptions = {}) =>
          target.unsafe(query, args as postgres.ParameterOrJSON<never>[], { ...options, prepare: args.length > 0 && args.length <= MAX_PREPARED_PARAMETERS });
      }
      if (property === 'begin' || property === 'savepoint') {
        // (fn) or (options | name, fn): drizzle's transaction callback gets a preparing client too
        return (...args: unknown[]) => {
          const fn = args.pop() as (inner: postgres.Sql) => unknown;
          return (value as (...a: unknown[]) => unknown).call(target, ...args, (inner: postgres.Sql) => fn(preparingClient(inner)));
        };
      }
      return (value as (...a: unknown[]) => unknown).bind(target);
    },
  });
}

/** Each connection's drizzle without preparation (perExecution). */
const unprepared = new WeakMap<Db, Db>();

/**
 * `db` for a query whose best plan depends on its values (a list with the
 * user's filters, cursor and limit, the plaza's banded plan, a work queue): its
 * statement is sent unprepared, so PostgreSQL plans it for this execution's
 * values every time and never settles on a generic plan (which would plan
 * `status = $1` for an average status and `limit $1` for a tenth of the rows).
 * One more round trip than a prepared statement; none of these is on a
 * lifecycle's path. A transaction or a database not opened by `connect` is
 * returned as it is.
 */
export function perExecution(db: Db): Db {
  return unprepared.get(db) ?? db;
}

/** Opens a pooled connection; `max` stays small: the API and the worker each have their own pool. */
export function connect(url: string, options: { max?: number } = {}): Database {
  const sql = postgres(url, {
    max: options.max ?? 10,
    onnotice: () => {},
    // plan_cache_mode: PostgreSQL's default (auto), named so a server or role default does not change it:
    // prepared statements may keep a generic plan; value-dependent queries go through perExecution
    connection: { application_name: 'starmap', plan_cache_mode: 'auto' },
    // seconds before reconnecting after the n-th failed attempt in a row: postgres.js's
    // default grows to 20 s, so a short outage kept the service away for up to 20 s after
    // PostgreSQL was back; a refused connection costs nothing, so retry at least every second
    backoff: (attempts: number) => Math.min(0.05 * 2 ** attempts, 1),
  });
  const db = drizzle(preparingClient(sql), { schema, casing: 'snake_case' });
  unprepared.set(db, drizzle(sql, { schema, casing: 'snake_case' }));
  return { db, sql, close: () => sql.end({ timeout: 5 }) };
}
