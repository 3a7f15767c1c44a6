/**
 * R-RATE: a task is rated after settlement (the client accepted the delivery,
 * or it was accepted automatically), once. The API asks this before writing;
 * db/ratings.ts keeps the "once" under concurrency (a unique task id).
 */
import { DomainError } from './errors.js';

export interface RatableTask {
  status: string;
  /** When the delivery was accepted (settlement), or null. */
  deliveryAcceptedAt: Date | string | null;
}

/** Why the task cannot be rated now, or null when it can. */
export function ratingRefusal(task: RatableTask): DomainError | null {
  if (!task.deliveryAcceptedAt) return new DomainError('invalid_state', 'A task is rated after settlement (acceptance)', { code: 'not-settled', status: task.status });
  return null;
}
