/**
 * Registers the task workflow's search attributes on a Temporal namespace.
 * Idempotent: the worker runs it at every start (dev server, docker-compose),
 * the tests run it on the time-skipping server.
 */
import type { Connection } from '@temporalio/client';
import { SearchAttributeType } from '@temporalio/common';
import proto from '@temporalio/proto';
import { TASK_SEARCH_ATTRIBUTES } from '../workflows/searchAttributes.js';
import { isTemporalUnavailable } from './unavailable.js';

const { IndexedValueType } = proto.temporal.api.enums.v1;

const INDEXED_TYPES = {
  [SearchAttributeType.KEYWORD]: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  [SearchAttributeType.DATETIME]: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
  [SearchAttributeType.KEYWORD_LIST]: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
} as const;

export async function ensureSearchAttributes(connection: Pick<Connection, 'operatorService'>, namespace: string): Promise<void> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace }).catch(() => null);
  const known = new Set(Object.keys(existing?.customAttributes ?? {}));
  const missing = TASK_SEARCH_ATTRIBUTES.filter((key) => !known.has(key.name));
  if (missing.length === 0) return;
  const searchAttributes = Object.fromEntries(missing.map((key) => [key.name, INDEXED_TYPES[key.type]]));
  try {
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes });
  } catch (err) {
    // a concurrent registration (API and worker starting together) is fine
    if (!/already exists/i.test(String(err))) throw err;
  }
}

export interface PatientOptions {
  /** Told each failed attempt and the wait before the next. */
  log: (line: string) => void;
  /** How long to keep trying before giving up with the last error (default 10 minutes). */
  maxWaitMs?: number;
  /** First wait; doubled after each failure up to 5 s (default 500 ms). */
  firstDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** The clock the bound is measured on (ms). */
  now?: () => number;
}

/**
 * ensureSearchAttributes at a worker's start, waiting out a Temporal that is away (isTemporalUnavailable: restarting,
 * overloaded: seen in the fault test after both workers were killed, the dev server answering "GetNamespace
 * operation failed … interrupted" for ~20 s): the worker does not die because its dependency is briefly away.
 * Any other error, or a Temporal still away after `maxWaitMs`, is thrown.
 */
export async function ensureSearchAttributesPatiently(connection: Pick<Connection, 'operatorService'>, namespace: string, options: PatientOptions): Promise<void> {
  const { log, maxWaitMs = 600_000, firstDelayMs = 500, sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)), now = Date.now } = options;
  const started = now();
  let delay = firstDelayMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await ensureSearchAttributes(connection, namespace);
    } catch (err) {
      if (!isTemporalUnavailable(err) || now() - started + delay > maxWaitMs) throw err;
      log(`search attributes not registered yet (attempt ${attempt}, Temporal: ${String((err as Error).message ?? err).split('\n')[0]}); trying again in ${delay} ms`);
      await sleep(delay);
      delay = Math.min(delay * 2, 5_000);
    }
  }
}
