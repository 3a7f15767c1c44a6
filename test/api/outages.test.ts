/**
 * Which Temporal errors the API answers as an outage (503 temporal-unavailable +
 * Retry-After) rather than a 500. The end-to-end answers are in deadlines-api.test.ts;
 * this one pins the error shapes seen on the cluster (scripts/faults.ts --cluster).
 */
import { describe, expect, it } from 'vitest';
import { isTemporalUnavailable } from '../../api/outages.js';

// the client's ServiceError wraps the gRPC error as its cause
const serviceError = (code: number, message: string) => Object.assign(new Error('Failed to query Workflow'), { name: 'ServiceError', cause: Object.assign(new Error(message), { code }) });

describe('isTemporalUnavailable', () => {
  it('a query while no worker polls (the pollers still backing off after matching was down) is an outage', () => {
    expect(isTemporalUnavailable(serviceError(9, '9 FAILED_PRECONDITION: no poller seen for task queue recently, worker may be down'))).toBe(true);
  });

  it('another FAILED_PRECONDITION is not: the request, not the service, is at fault', () => {
    expect(isTemporalUnavailable(serviceError(9, '9 FAILED_PRECONDITION: Workflow execution already completed'))).toBe(false);
  });

  it('unreachable and deadline errors are outages; a rejected update is not', () => {
    expect(isTemporalUnavailable(serviceError(14, '14 UNAVAILABLE: Connection refused'))).toBe(true);
    expect(isTemporalUnavailable(serviceError(4, '4 DEADLINE_EXCEEDED: Deadline exceeded'))).toBe(true);
    expect(isTemporalUnavailable(serviceError(3, '3 INVALID_ARGUMENT: bad request'))).toBe(false);
  });
});
