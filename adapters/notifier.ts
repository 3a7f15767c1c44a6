/**
 * Outbound SMS and phone reminders (R-ACCEPT-NOTIFY). A provider adapter
 * implements `Notifier`; the provider receives our idempotency key so a resend
 * after a crash is recognised on its side as well.
 *
 * No SMS provider is wired yet: `FakeNotifier` stands in for one (development
 * and tests), behind the same interface a real adapter will implement.
 */
import type { Actor, NotificationChannel } from '../domain/index.js';

export interface OutboundMessage {
  idempotencyKey: string;
  channel: NotificationChannel;
  recipient: Actor;
  template: string;
  params: Record<string, string | number>;
}

export interface Notifier {
  send(message: OutboundMessage): Promise<{ providerMessageId: string }>;
}

/** In-memory provider: dedupes by idempotency key like a real one, records what it delivered. */
export class FakeNotifier implements Notifier {
  readonly delivered: OutboundMessage[] = [];
  private readonly byKey = new Map<string, string>();
  private failures = 0;

  constructor(private readonly log?: (line: string) => void) {}

  /** Makes the next `count` sends fail, as an unreachable provider would. */
  failNext(count: number): void {
    this.failures = count;
  }

  send(message: OutboundMessage): Promise<{ providerMessageId: string }> {
    if (this.failures > 0) {
      this.failures -= 1;
      return Promise.reject(new Error('fake SMS provider unavailable'));
    }
    const known = this.byKey.get(message.idempotencyKey);
    if (known) return Promise.resolve({ providerMessageId: known });
    const providerMessageId = `fake-${this.byKey.size + 1}`;
    this.byKey.set(message.idempotencyKey, providerMessageId);
    this.delivered.push(message);
    this.log?.(`[notify] ${message.channel} to ${message.recipient.role} ${message.recipient.id}: ${message.template} ${JSON.stringify(message.params)}`);
    return Promise.resolve({ providerMessageId });
  }
}
