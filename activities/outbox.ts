/**
 * The notifications outbox: every SMS and phone call is first a row keyed by its
 * idempotency key, then sent once through the Notifier (which also receives the
 * key), then marked sent. Task effects and appeal escalations use it.
 */
import { eq, sql } from 'drizzle-orm';
import type { Notifier, OutboundMessage } from '../adapters/notifier.js';
import type { Db } from '../db/client.js';
import { notifications } from '../db/schema/index.js';

/**
 * Records the message in the notifications outbox (unique key), sends it once through the
 * provider (which also receives the key), marks it sent. A retry finds the row and does not resend.
 */
export async function notifyOnce(db: Db, notifier: Notifier, message: OutboundMessage & { taskId?: string | null }): Promise<{ providerMessageId: string }> {
  await db
    .insert(notifications)
    .values({
      key: message.idempotencyKey,
      taskId: message.taskId ?? null,
      channel: message.channel,
      recipientRole: message.recipient.role,
      recipientId: message.recipient.id,
      template: message.template,
      params: message.params,
    })
    .onConflictDoNothing({ target: notifications.key });
  const [row] = await db
    .update(notifications)
    .set({ attempts: sql`${notifications.attempts} + 1` })
    .where(eq(notifications.key, message.idempotencyKey))
    .returning();
  if (!row) throw new Error(`notification ${message.idempotencyKey} vanished`);
  if (row.sentAt && row.providerMessageId) return { providerMessageId: row.providerMessageId };
  const { providerMessageId } = await notifier.send({
    idempotencyKey: row.key,
    channel: message.channel,
    recipient: message.recipient,
    template: message.template,
    params: message.params,
  });
  await db.update(notifications).set({ sentAt: sql`now()`, providerMessageId }).where(eq(notifications.key, row.key));
  return { providerMessageId };
}
