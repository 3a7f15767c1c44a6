import { randomBytes } from 'node:crypto';

/**
 * Task ids are `tsk_` + a UUIDv7: time-ordered, so the newest-first list pages
 * by id alone (keyset pagination) and ids never come from a request body.
 */
export function newTaskId(now = Date.now()): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(now, 0, 6); // 48-bit unix milliseconds
  bytes[6] = (bytes[6]! & 0x0f) | 0x70; // version 7
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // RFC 4122 variant
  const hex = bytes.toString('hex');
  return `tsk_${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
