/**
 * Virtual numbers (R-CONTACT): a client never sees a creator's real number; it
 * gets a number from Starmap's pool that the telephony provider forwards to the
 * creator ("AXB" binding: calls from the client's side of the pair reach the
 * creator). The pool and the assignments live in Postgres (db/creators.ts); the
 * provider is told each binding.
 *
 * No telephony provider is wired yet: `FakeTelephony` stands in for one.
 */
export interface NumberBinding {
  virtualNumber: string;
  /** The real number calls are forwarded to. */
  forwardTo: string;
  /** Our key for the binding (client–creator pair): the provider dedupes on it. */
  bindingKey: string;
}

export interface Telephony {
  bind(binding: NumberBinding): Promise<void>;
}

export class FakeTelephony implements Telephony {
  readonly bindings = new Map<string, NumberBinding>();

  bind(binding: NumberBinding): Promise<void> {
    this.bindings.set(binding.bindingKey, binding);
    return Promise.resolve();
  }
}
