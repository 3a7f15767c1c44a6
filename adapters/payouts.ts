/**
 * Payouts to a creator's or MCN's bank account. A provider adapter implements
 * `PayoutProvider`; our withdrawal id is its idempotency key, so a retried call
 * never pays twice. `PayoutRejected` is a final refusal (closed account, failed
 * checks); any other error is transient and retried.
 *
 * No payout provider is contracted yet: `FakePayoutProvider` stands in for one.
 */
export class PayoutRejected extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PayoutRejected';
  }
}

export interface PayoutRequest {
  idempotencyKey: string;
  accountId: string;
  amountFen: number;
}

export interface PayoutProvider {
  pay(request: PayoutRequest): Promise<{ reference: string }>;
}

export class FakePayoutProvider implements PayoutProvider {
  readonly paid: PayoutRequest[] = [];
  private readonly byKey = new Map<string, string>();
  private rejections = 0;
  private outages = 0;

  /** The next `count` payouts are refused for good. */
  rejectNext(count: number): void {
    this.rejections = count;
  }

  /** The next `count` calls fail as if the provider were down. */
  failNext(count: number): void {
    this.outages = count;
  }

  pay(request: PayoutRequest): Promise<{ reference: string }> {
    if (this.outages > 0) {
      this.outages -= 1;
      return Promise.reject(new Error('fake payout provider unavailable'));
    }
    const known = this.byKey.get(request.idempotencyKey);
    if (known) return Promise.resolve({ reference: known });
    if (this.rejections > 0) {
      this.rejections -= 1;
      return Promise.reject(new PayoutRejected('bank account closed'));
    }
    const reference = `payout-${this.byKey.size + 1}`;
    this.byKey.set(request.idempotencyKey, reference);
    this.paid.push(request);
    return Promise.resolve({ reference });
  }
}
