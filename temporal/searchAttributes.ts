/**
 * Registers the task workflow's search attributes on a Temporal namespace.
 * Idempotent: the worker runs it at every start (dev server, docker-compose),
 * the tests run it on the time-skipping server.
 */
import type { Connection } from '@temporalio/client';
import { SearchAttributeType } from '@temporalio/common';
import proto from '@temporalio/proto';
import { TASK_SEARCH_ATTRIBUTES } from '../workflows/searchAttributes.js';

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
