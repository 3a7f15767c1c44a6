/**
 * The notifications outbox: every SMS and phone call is first a row keyed by its
 * idempotency key, then sent once through the Notifier (which also receives the
 * key), then marked sent. The only module that writes `notifications`.
 *
 * Two ways in:
 *   - `notificationsInsert` (tasks of engine 3): the task projection writes the
 *     rows in the statement that records the events causing them (engine 6: the
 *     order's arrival SMS in the API's order transaction), and the
 *     `OutboxDispatcher` of the worker sends them. No activity, no workflow task
 *     per message: a message exists exactly when its event does.
 *   - `notifyOnce` (older tasks' `sendNotification` activity, appeal escalations):
 *     row, send and mark in one retried activity.
 * Either way a retry finds the row and does not resend, and the provider gets the
 * key, so a send repeated after a crash is recognised on its side as well.
 */
import { and, asc, eq, inArray, isNull, lt, lte, notExists, sql, type SQLWrapper } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { Notifier, OutboundMessage } from '../adapters/notifier.js';
import { perExecution, type Db, type Tx } from '../db/client.js';
import { notifications, type NotificationRow } from '../db/schema/index.js';
import type { Effect } from '../domain/index.js';

export type QueuedMessage = OutboundMessage & { taskId?: string | null };

const rowOf = (message: QueuedMessage) => ({
  key: message.idempotencyKey,
  taskId: message.taskId ?? null,
  channel: message.channel,
  recipientRole: message.recipient.role,
  recipientId: message.recipient.id,
  template: message.template,
  params: message.params,
});

/**
 * Records messages in the outbox (at least one); a key already there is left as it is. Not yet run: the task
 * projection runs it in its own statement (db/tasks.ts projectTask); awaited, it runs alone.
 */
export const notificationsInsert = (tx: Tx, messages: QueuedMessage[]) => tx.insert(notifications).values(messages.map(rowOf)).onConflictDoNothing({ target: notifications.key });

/** A task event's messages (its `notify` effects) as outbox rows: the key is the effect's (task, event, recipient). */
const taskMessages = (taskId: string, effects: readonly Effect[]): QueuedMessage[] =>
  effects.flatMap((e) => (e.kind === 'notify' ? [{ idempotencyKey: e.key, channel: e.channel, recipient: e.recipient, template: e.template, params: e.params, taskId }] : []));

/** The outbox insert of a task event's messages, to run in the statement that records the event (none: none). */
export const outboxInsertsOf = (tx: Tx, taskId: string, effects: readonly Effect[]): SQLWrapper[] => {
  const messages = taskMessages(taskId, effects);
  return messages.length > 0 ? [notificationsInsert(tx, messages)] : [];
};

/**
 * Records the message in the notifications outbox (unique key), sends it once through the
 * provider (which also receives the key), marks it sent. A retry finds the row and does not resend.
 */
export async function notifyOnce(db: Db, notifier: Notifier, message: QueuedMessage): Promise<{ providerMessageId: string }> {
  // the activity that sends it owns the row: never due for the dispatcher (no second sender racing its retries)
  await db.insert(notifications).values({ ...rowOf(message), nextAttemptAt: sql`'infinity'::timestamptz` }).onConflictDoNothing({ target: notifications.key });
  const [row] = await db
    .update(notifications)
    .set({ attempts: sql`${notifications.attempts} + 1` })
    .where(eq(notifications.key, message.idempotencyKey))
    .returning();
  if (!row) throw new Error(`notification ${message.idempotencyKey} vanished`);
  if (row.sentAt && row.providerMessageId) return { providerMessageId: row.providerMessageId };
  return sendRow(db, notifier, row);
}

async function sendRow(db: Db, notifier: Notifier, row: NotificationRow): Promise<{ providerMessageId: string }> {
  const { providerMessageId } = await notifier.send({
    idempotencyKey: row.key,
    channel: row.channel as OutboundMessage['channel'],
    recipient: { role: row.recipientRole, id: row.recipientId } as OutboundMessage['recipient'],
    template: row.template,
    params: row.params,
  });
  await db.update(notifications).set({ sentAt: sql`now()`, providerMessageId }).where(eq(notifications.key, row.key));
  return { providerMessageId };
}

export interface OutboxOptions {
  db: Db;
  notifier: Notifier;
  /** How often unsent messages are looked for without a wake-up (retries, other workers' rows); default 1 s. */
  pollMs?: number;
  /** Wait after a message's first try (doubling with every try) and the most it grows to: 2 s and 10 minutes, as the activity's retry policy. */
  backoff?: { firstMs: number; maxMs: number };
  /** Messages claimed per round; default 20. */
  batch?: number;
  /** How long a claimed message is this dispatcher's to send (and a send's time limit); default 15 s, as the activity's timeout. */
  leaseMs?: number;
  log?: (line: string) => void;
}

export const OUTBOX_BACKOFF = { firstMs: 2_000, maxMs: 10 * 60_000 };

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from the provider in ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Sends what the outbox holds. Each round claims due unsent rows with
 * `FOR UPDATE SKIP LOCKED`, counts the attempt and leases the row for the
 * send's time limit, in one statement (several workers share the table without
 * sending a row twice at once; a worker killed mid-send leaves a row that is
 * tried again when its lease ends), then sends each and marks it sent. A failed send stays
 * unsent and is tried again when due, and the task's later messages wait for it
 * (a task's messages arrive in the order of its events): retried until it goes out, as the
 * activity was (`starmap_notifications_unsent` and the oldest unsent age on
 * /metrics show a provider that stays down).
 */
export class OutboxDispatcher {
  private readonly pollMs: number;
  private readonly backoff: { firstMs: number; maxMs: number };
  private readonly batch: number;
  private readonly leaseMs: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(private readonly options: OutboxOptions) {
    this.pollMs = options.pollMs ?? 1_000;
    this.backoff = options.backoff ?? OUTBOX_BACKOFF;
    this.batch = options.batch ?? 20;
    this.leaseMs = options.leaseMs ?? 15_000;
  }

  /** Starts the periodic round (idempotent); the first wake() starts it too. */
  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => this.wake(), this.pollMs);
    this.timer.unref();
  }

  /** Runs a round now (or right after the one running): new rows were committed. */
  wake(): void {
    if (this.stopped) return;
    this.start();
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.rounds().finally(() => {
      this.running = undefined;
    });
  }

  /** Stops the rounds and waits for the one running. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  private async rounds(): Promise<void> {
    do {
      this.again = false;
      try {
        // until nothing is due: a task's next message becomes due when the one before it was sent
        while (!this.stopped && (await this.round()) > 0);
      } catch (err) {
        this.options.log?.(`[outbox] round failed, tried again in ${this.pollMs} ms: ${(err as Error).message}`);
      }
    } while (this.again && !this.stopped);
  }

  /** One claim and its sends; returns how many rows it claimed. */
  private async round(): Promise<number> {
    const { db } = this.options;
    const { firstMs, maxMs } = this.backoff;
    // one statement: pick due rows (a task's messages go out in the order of its events: one waits while an
    // older one of its task is unsent), lock them past other workers (SKIP LOCKED), count the attempt and
    // lease them; a failed send moves the next try on by the backoff
    const older = alias(notifications, 'older');
    const due = db
      .select({ id: notifications.id })
      .from(notifications)
      .where(
        and(
          isNull(notifications.sentAt),
          lte(notifications.nextAttemptAt, sql`now()`),
          notExists(db.select({ one: sql`1` }).from(older).where(and(eq(older.taskId, notifications.taskId), isNull(older.sentAt), lt(older.id, notifications.id)))),
        ),
      )
      .orderBy(asc(notifications.nextAttemptAt))
      .limit(this.batch)
      .for('update', { skipLocked: true });
    // planned for its values (perExecution): how many rows it takes decides between the due index and a sort
    const claimed = await perExecution(db)
      .update(notifications)
      .set({
        attempts: sql`${notifications.attempts} + 1`,
        // a lease: no other dispatcher takes it while this one sends (a dispatcher that dies mid-send leaves it for after the lease)
        nextAttemptAt: sql`now() + ${this.leaseMs}::float8 * interval '1 millisecond'`,
      })
      .where(inArray(notifications.id, due))
      .returning();
    const retryLater = (row: NotificationRow) =>
      db
        .update(notifications)
        .set({ nextAttemptAt: sql`now() + least(${maxMs}::float8, ${firstMs}::float8 * power(2, ${row.attempts - 1})) * interval '1 millisecond'` })
        .where(and(eq(notifications.id, row.id), isNull(notifications.sentAt)));
    await Promise.all(
      claimed.map((row) =>
        withTimeout(sendRow(db, this.options.notifier, row), this.leaseMs).catch(async (err: unknown) => {
          this.options.log?.(`[outbox] ${row.channel} ${row.template} (${row.key}) not sent (attempt ${row.attempts}): ${(err as Error).message}`);
          await retryLater(row).catch(() => undefined); // else it is tried again when its lease ends
        }),
      ),
    );
    return claimed.length;
  }
}
