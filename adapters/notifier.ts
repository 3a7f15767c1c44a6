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

/** How much the fake keeps (a long-running worker sends an SMS per order and more per task). */
export interface FakeNotifierLimits {
  /** The newest messages kept in `delivered` (tests read it). Default 1,000. */
  keep?: number;
  /**
   * The newest idempotency keys it answers a resend of with the first message's
   * id, as a provider's deduplication window would. Default 10,000: the outbox
   * resends a message only while its row is unsent, minutes at most.
   */
  dedupeKeys?: number;
}

/**
 * In-memory provider: dedupes by idempotency key like a real one, records what
 * it delivered. Bounded (issue #14): the worker runs it for as long as it runs,
 * and keeping every message (the arrival SMS of each of 100,000 orders) grew
 * the worker by ~0.6 KB a task (bench:open, 100,000 tasks).
 */
export class FakeNotifier implements Notifier {
  /** The newest messages delivered, oldest first (at most `keep`). */
  readonly delivered: OutboundMessage[] = [];
  private readonly byKey = new Map<string, string>();
  private readonly keep: number;
  private readonly dedupeKeys: number;
  private sent = 0;
  private failures = 0;

  constructor(
    private readonly log?: (line: string) => void,
    limits: FakeNotifierLimits = {},
  ) {
    this.keep = limits.keep ?? 1_000;
    this.dedupeKeys = limits.dedupeKeys ?? 10_000;
  }

  /** Makes the next `count` sends fail, as an unreachable provider would. */
  failNext(count: number): void {
    this.failures = count;
  }

  /** Messages delivered since this fake was made (`delivered` keeps only the newest). */
  get deliveredCount(): number {
    return this.sent;
  }

  send(message: OutboundMessage): Promise<{ providerMessageId: string }> {
    if (this.failures > 0) {
      this.failures -= 1;
      return Promise.reject(new Error('fake SMS provider unavailable'));
    }
    const known = this.byKey.get(message.idempotencyKey);
    if (known) return Promise.resolve({ providerMessageId: known });
    this.sent += 1;
    const providerMessageId = `fake-${this.sent}`;
    this.byKey.set(message.idempotencyKey, providerMessageId);
    // a Map iterates in insertion order: the first key is the oldest
    if (this.byKey.size > this.dedupeKeys) this.byKey.delete(this.byKey.keys().next().value!);
    this.delivered.push(message);
    if (this.delivered.length > this.keep) this.delivered.splice(0, this.delivered.length - this.keep);
    this.log?.(`[notify] ${message.channel} to ${message.recipient.role} ${message.recipient.id}: ${message.template} ${JSON.stringify(message.params)}`);
    return Promise.resolve({ providerMessageId });
  }
}
