/**
 * The fake SMS provider the worker runs until a real one is contracted: it
 * dedupes by idempotency key as a provider would (R-ACCEPT-NOTIFY: a resend
 * after a crash is one SMS) and keeps a bounded amount in memory, since the
 * worker runs it for as long as it runs (issue #14: worker RSS under 100,000
 * open tasks).
 */
import { describe, expect, it } from 'vitest';
import { FakeNotifier, type OutboundMessage } from '../../adapters/notifier.js';

const message = (n: number): OutboundMessage => ({
  idempotencyKey: `task-${n}:arrival`,
  channel: 'sms',
  recipient: { role: 'creator', id: `acc_${n}` },
  template: 'task_arrived',
  params: { taskId: `tsk_${n}` },
});

describe('FakeNotifier', () => {
  it('R-ACCEPT-NOTIFY: a resend with the same idempotency key is the same message, delivered once', async () => {
    const notifier = new FakeNotifier();
    const first = await notifier.send(message(1));
    const again = await notifier.send(message(1));
    expect(again).toEqual(first);
    expect(notifier.delivered).toHaveLength(1);
    expect(notifier.deliveredCount).toBe(1);
  });

  it('keeps the newest messages and the newest keys only: memory stays bounded however long the worker runs', async () => {
    const notifier = new FakeNotifier(undefined, { keep: 100, dedupeKeys: 1_000 });
    const ids: string[] = [];
    for (let n = 0; n < 5_000; n++) ids.push((await notifier.send(message(n))).providerMessageId);
    expect(new Set(ids).size).toBe(5_000); // every message its own id
    expect(notifier.deliveredCount).toBe(5_000);
    expect(notifier.delivered).toHaveLength(100);
    expect(notifier.delivered.map((m) => m.idempotencyKey)).toEqual(Array.from({ length: 100 }, (_, i) => `task-${4_900 + i}:arrival`));
    // within the deduplication window a resend is still the first message
    expect(await notifier.send(message(4_500))).toEqual({ providerMessageId: ids[4_500] });
    expect(notifier.deliveredCount).toBe(5_000);
    // a key older than the window is a new message, as at a provider whose window has passed
    expect((await notifier.send(message(0))).providerMessageId).not.toBe(ids[0]);
    expect(notifier.deliveredCount).toBe(5_001);
  });

  it('an unavailable provider fails the send and records nothing', async () => {
    const notifier = new FakeNotifier();
    notifier.failNext(1);
    await expect(notifier.send(message(1))).rejects.toThrow('unavailable');
    expect(notifier.deliveredCount).toBe(0);
    expect((await notifier.send(message(1))).providerMessageId).toBe('fake-1');
  });
});
