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

/** Opens a pooled connection; `max` stays small: the API and the worker each have their own pool. */
export function connect(url: string, options: { max?: number } = {}): Database {
  const sql = postgres(url, {
    max: options.max ?? 10,
    onnotice: () => {},
    connection: { application_name: 'starmap' },
    // seconds before reconnecting after the n-th failed attempt in a row: postgres.js's
    // default grows to 20 s, so a short outage kept the service away for up to 20 s after
    // PostgreSQL was back; a refused connection costs nothing, so retry at least every second
    backoff: (attempts: number) => Math.min(0.05 * 2 ** attempts, 1),
  });
  const db = drizzle(sql, { schema, casing: 'snake_case' });
  return { db, sql, close: () => sql.end({ timeout: 5 }) };
}
