import { createHash, randomBytes } from 'node:crypto';

/**
 * Ids are a prefix (`tsk` tasks, `wd` withdrawals, `acc` accounts, `pa` platform
 * accounts, `card` cards, `apl` appeals) + `_` + a UUIDv7:
 * time-ordered, so newest-first lists page by id alone (keyset pagination),
 * and ids never come from a request body. An id made for an Idempotency-Key
 * takes its random part from the actor and the key and its time from the
 * key's first use (`seed`, `now`), so a retry after a crash makes the same id.
 */
/** What any id the API accepts looks like (account ids, task ids, ...): also every cursor's ids. */
export const ID_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;

/** A task id (`tsk_` + a UUID): the `:taskId` of every task route (schemas.ts TaskIdParam, auth.ts). */
export const TASK_ID_PATTERN = /^tsk_[0-9a-f-]{36}$/;

export type IdPrefix = 'tsk' | 'wd' | 'acc' | 'pa' | 'card' | 'apl' | 'tu';

export function newId(prefix: IdPrefix, now = Date.now(), seed?: string): string {
  const bytes = seed === undefined ? randomBytes(16) : createHash('sha256').update(`${prefix}:${seed}`).digest().subarray(0, 16);
  bytes.writeUIntBE(now, 0, 6); // 48-bit unix milliseconds
  bytes[6] = (bytes[6]! & 0x0f) | 0x70; // version 7
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // RFC 4122 variant
  const hex = bytes.toString('hex');
  return `${prefix}_${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
