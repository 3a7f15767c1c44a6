import { randomBytes } from 'node:crypto';

/**
 * Ids are a prefix (`tsk` tasks, `wd` withdrawals, `acc` accounts, `pa` platform
 * accounts, `card` cards, `apl` appeals) + `_` + a UUIDv7:
 * time-ordered, so newest-first lists page by id alone (keyset pagination),
 * and ids never come from a request body.
 */
/** What any id the API accepts looks like (account ids, task ids, ...): also every cursor's ids. */
export const ID_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;

export type IdPrefix = 'tsk' | 'wd' | 'acc' | 'pa' | 'card' | 'apl';

export function newId(prefix: IdPrefix, now = Date.now()): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(now, 0, 6); // 48-bit unix milliseconds
  bytes[6] = (bytes[6]! & 0x0f) | 0x70; // version 7
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // RFC 4122 variant
  const hex = bytes.toString('hex');
  return `${prefix}_${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
