/**
 * Post-campaign data (R-RATE: "both can see post-campaign data"): while the
 * content is in retention, a metrics workflow (workflows/metrics.ts) reads the
 * item's plays, likes, comments and shares from the content platform on this
 * schedule and stores each reading as a point of a time series (task_metrics).
 *
 * Cadence (design): every 6 hours in the first 7 days after acceptance, when
 * numbers move fastest; then daily; and a last reading when retention ends.
 * A 365-day retention makes 29 + 358 + 1 readings.
 */
import { DAY, HOUR } from './time.js';

export const METRICS_EARLY_INTERVAL_MS = 6 * HOUR;
export const METRICS_EARLY_PHASE_MS = 7 * DAY;
export const METRICS_LATE_INTERVAL_MS = DAY;

/** When reading number `n` (0-based) is due, or null once retention is over. */
export function metricsPollAt(n: number, startMs: number, endMs: number): number | null {
  if (!Number.isInteger(n) || n < 0) return null;
  // accepted when retention was already over (auto-acceptance of a short retention): one reading
  if (endMs <= startMs) return n === 0 ? startMs : null;
  const early = Math.floor(METRICS_EARLY_PHASE_MS / METRICS_EARLY_INTERVAL_MS); // readings 0..early-1 every 6 h
  const at = n < early ? startMs + n * METRICS_EARLY_INTERVAL_MS : startMs + METRICS_EARLY_PHASE_MS + (n - early) * METRICS_LATE_INTERVAL_MS;
  if (at < endMs) return at;
  // the last reading is at the end of retention itself
  const previous = n === 0 ? null : metricsPollAt(n - 1, startMs, endMs);
  return previous !== null && previous < endMs ? endMs : null;
}
