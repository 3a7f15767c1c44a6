/**
 * Incoming payments: a client's top-up is paid at a payment provider (Alipay,
 * WeChat Pay, a bank), and money enters Starmap only when the provider's signed
 * notification confirms it. A provider adapter implements `PaymentProvider`:
 *
 * - `createPayment` opens a payment for our top-up id (the provider's
 *   merchant order number, so a retried call opens one payment, not two) and
 *   returns where the client pays;
 * - `verifyNotification` checks the provider's signature over the raw body of
 *   its asynchronous notification and returns what it says, or throws
 *   `InvalidNotification`. A notification is idempotent by the provider's
 *   payment id (providers redeliver until we answer 2xx);
 * - `queryPayment` asks what became of a payment (Alipay `trade.query`, WeChat
 *   Pay's order query): providers give up redelivering after a while, so a
 *   notification can be lost and the client's money would never land;
 * - `closePayment` closes an unpaid payment so it can no longer be paid
 *   (`trade.close`) and answers its final state: paid after all, or closed.
 *
 * No provider is contracted yet: `FakePaymentProvider` stands in for one. It
 * signs its notifications with HMAC-SHA256 (real providers sign with RSA; the
 * interface is the same). Tests have it confirm or fail a payment by hand; in
 * development it can confirm each payment itself after a short delay by
 * posting to the API, as a client paying at once would.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface PaymentRequest {
  /** Our top-up id: the provider's merchant order number. */
  reference: string;
  payerId: string;
  amountFen: number;
}

export interface OpenedPayment {
  providerPaymentId: string;
  /** Where the client completes the payment (the provider's cashier page). */
  payUrl: string;
}

export interface PaymentNotification {
  providerPaymentId: string;
  reference: string;
  amountFen: number;
  status: 'succeeded' | 'failed';
  /** The provider's reason for a failed payment. */
  reason?: string | undefined;
}

/** What the provider says of a payment when asked: its outcome, still payable, closed unpaid, or no payment under that reference. */
export type PaymentState = PaymentNotification | { status: 'pending' | 'closed' | 'unknown'; reference: string };

export class InvalidNotification extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidNotification';
  }
}

export interface PaymentProvider {
  readonly name: string;
  createPayment(request: PaymentRequest): Promise<OpenedPayment>;
  verifyNotification(rawBody: string, headers: Record<string, string | undefined>): PaymentNotification;
  queryPayment(reference: string): Promise<PaymentState>;
  closePayment(reference: string): Promise<PaymentNotification | { status: 'closed'; reference: string }>;
}

export const FAKE_SIGNATURE_HEADER = 'x-fakepay-signature';

/** A signed notification as the fake provider sends it. */
export interface SignedNotification {
  body: string;
  headers: Record<string, string>;
}

export class FakePaymentProvider implements PaymentProvider {
  readonly name = 'fake';
  private readonly secret: string;
  /** Each payment opened and what became of it: the provider's own truth, which queries answer. */
  private readonly byReference = new Map<string, PaymentRequest & { providerPaymentId: string; state: 'pending' | 'succeeded' | 'failed' | 'closed'; reason?: string }>();
  /** Set to the API's notification URL to have each payment confirmed after `confirmAfterMs` (development). */
  notifyUrl: string | undefined;
  private readonly confirmAfterMs: number;

  constructor(options: { secret?: string; notifyUrl?: string; confirmAfterMs?: number } = {}) {
    this.secret = options.secret ?? randomBytes(32).toString('hex');
    this.notifyUrl = options.notifyUrl;
    this.confirmAfterMs = options.confirmAfterMs ?? 500;
  }

  private failing = 0;

  /** The next `n` createPayment calls fail as a provider that is down would (tests of the API's 503). */
  failNext(n: number): void {
    this.failing = n;
  }

  createPayment(request: PaymentRequest): Promise<OpenedPayment> {
    if (this.failing > 0) {
      this.failing -= 1;
      return Promise.reject(new Error('fake payment provider: 503 Service Unavailable'));
    }
    let known = this.byReference.get(request.reference);
    if (known?.state === 'closed') return Promise.reject(new Error(`fake payment provider: order ${request.reference} is closed`));
    if (!known) {
      known = { ...request, providerPaymentId: `fakepay-${this.byReference.size + 1}-${randomBytes(4).toString('hex')}`, state: 'pending' };
      this.byReference.set(request.reference, known);
      if (this.notifyUrl) this.deliverLater(this.notifyUrl, this.confirm(request.reference));
    }
    return Promise.resolve({ providerPaymentId: known.providerPaymentId, payUrl: `https://pay.example.invalid/cashier/${known.providerPaymentId}` });
  }

  /**
   * The payer pays: the payment succeeds at the provider (a closed one cannot be paid), and this is its signed
   * notification, for the test to deliver, deliver again, alter or lose.
   */
  confirm(reference: string, overrides: Partial<PaymentNotification> = {}): SignedNotification {
    this.settle(reference, 'succeeded');
    return this.sign({ ...this.notificationFor(reference), status: 'succeeded', ...overrides });
  }

  /** The payment fails at the provider, and this is its signed notification. */
  fail(reference: string, reason = 'payer cancelled'): SignedNotification {
    this.settle(reference, 'failed', reason);
    return this.sign({ ...this.notificationFor(reference), status: 'failed', reason });
  }

  queryPayment(reference: string): Promise<PaymentState> {
    const known = this.byReference.get(reference);
    if (!known) return Promise.resolve({ status: 'unknown', reference });
    if (known.state === 'succeeded' || known.state === 'failed') return Promise.resolve({ ...this.notificationFor(reference), status: known.state, reason: known.reason });
    return Promise.resolve({ status: known.state, reference });
  }

  closePayment(reference: string): Promise<PaymentNotification | { status: 'closed'; reference: string }> {
    const known = this.byReference.get(reference);
    if (known && (known.state === 'succeeded' || known.state === 'failed')) return Promise.resolve({ ...this.notificationFor(reference), status: known.state, reason: known.reason });
    if (known) known.state = 'closed';
    // a reference it never saw is closed too: no payment can be opened under it any more
    else this.byReference.set(reference, { reference, payerId: '', amountFen: 0, providerPaymentId: '', state: 'closed' });
    return Promise.resolve({ status: 'closed', reference });
  }

  private settle(reference: string, state: 'succeeded' | 'failed', reason?: string): void {
    const known = this.byReference.get(reference);
    if (!known) return; // notificationFor names the missing payment
    if (known.state === 'closed') throw new Error(`the fake provider closed the payment of ${reference}: it cannot be paid`);
    if (known.state === 'pending') Object.assign(known, { state, reason });
  }

  /** Any notification, signed: a test's forgery uses another secret. */
  sign(notification: PaymentNotification, secret = this.secret): SignedNotification {
    const body = JSON.stringify(notification);
    return { body, headers: { 'content-type': 'application/json', [FAKE_SIGNATURE_HEADER]: signature(secret, body) } };
  }

  verifyNotification(rawBody: string, headers: Record<string, string | undefined>): PaymentNotification {
    const given = Buffer.from(headers[FAKE_SIGNATURE_HEADER] ?? '');
    const expected = Buffer.from(signature(this.secret, rawBody));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new InvalidNotification('the notification signature does not match');
    let parsed: unknown;
    try {
      parsed = JSON.parse(rawBody);
    } catch {
      throw new InvalidNotification('the notification is not JSON');
    }
    const n = parsed as Partial<PaymentNotification>;
    if (typeof n.providerPaymentId !== 'string' || typeof n.reference !== 'string' || !Number.isSafeInteger(n.amountFen) || (n.status !== 'succeeded' && n.status !== 'failed')) {
      throw new InvalidNotification('the notification lacks providerPaymentId, reference, amountFen or status');
    }
    return { providerPaymentId: n.providerPaymentId, reference: n.reference, amountFen: n.amountFen!, status: n.status, reason: typeof n.reason === 'string' ? n.reason : undefined };
  }

  private notificationFor(reference: string): PaymentNotification {
    const known = this.byReference.get(reference);
    if (!known || !known.providerPaymentId) throw new Error(`the fake provider opened no payment for ${reference}`);
    return { providerPaymentId: known.providerPaymentId, reference, amountFen: known.amountFen, status: 'succeeded' };
  }

  /** Delivers a notification as providers do: again until answered 2xx, a few times. */
  private deliverLater(url: string, notification: SignedNotification): void {
    const attempt = (n: number) => {
      setTimeout(() => {
        fetch(url, { method: 'POST', headers: notification.headers, body: notification.body })
          .then((res) => {
            if (!res.ok && n < 5) attempt(n + 1);
          })
          .catch(() => {
            if (n < 5) attempt(n + 1);
          });
      }, this.confirmAfterMs * 2 ** n).unref();
    };
    attempt(0);
  }
}

const signature = (secret: string, body: string): string => `v1=${createHmac('sha256', secret).update(body).digest('hex')}`;
