/**
 * Opaque page cursors: the keyset position of the last row as base64url JSON.
 * A cursor that does not decode to a position the caller accepts is a 400
 * (never a database error): positions are checked before they reach SQL.
 */
import { ID_PATTERN } from './ids.js';
import { badRequest } from './problems.js';

export const encodeCursor = (position: object | null): string | null => (position ? Buffer.from(JSON.stringify(position)).toString('base64url') : null);

export function decodeCursor<T>(cursor: string, accept: (value: Record<string, unknown>) => T | null): T {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString());
  } catch {
    value = null;
  }
  const position = value !== null && typeof value === 'object' ? accept(value as Record<string, unknown>) : null;
  if (position === null) throw badRequest('The cursor is not valid', { code: 'cursor-invalid' });
  return position;
}

export const isId = (value: unknown): value is string => typeof value === 'string' && ID_PATTERN.test(value);
