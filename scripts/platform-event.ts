/**
 * `npm run platform -- <taskId> <published|hidden|deleted|restored> <itemId>`:
 * plays the content platform in development, sending a signed callback to the
 * local API (PORT, default 3000).
 */
import { randomUUID } from 'node:crypto';
import { signPlatformBody } from '../api/platform.js';
import { devSecrets } from './dev.js';

const [taskId, kind, itemId] = process.argv.slice(2);
if (!taskId || !kind || !itemId) {
  console.error('usage: npm run platform -- <taskId> <published|hidden|deleted|restored> <itemId>');
  process.exit(2);
}
const body = JSON.stringify({ eventId: randomUUID(), taskId, kind, itemId, occurredAt: new Date().toISOString() });
const timestamp = Math.floor(Date.now() / 1000);
const res = await fetch(`http://127.0.0.1:${process.env['PORT'] ?? 3000}/v1/platform/events`, {
  method: 'POST',
  headers: { 'content-type': 'application/json', 'x-starmap-timestamp': String(timestamp), 'x-starmap-signature': signPlatformBody(devSecrets().platformSecret, timestamp, body) },
  body,
});
console.log(res.status, await res.text());
