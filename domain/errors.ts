/**
 * A refusal by a domain rule. Pure code throws it; the workflow turns it into an
 * ApplicationFailure whose `type` is the kind, and the API turns that into an
 * application/problem+json response:
 *   invalid_input  -> 400   forbidden      -> 403
 *   invalid_state  -> 409   rule_violation -> 422
 */
export type DomainErrorKind = 'invalid_input' | 'forbidden' | 'invalid_state' | 'rule_violation';

export interface DomainErrorDetails {
  /** Stable machine-readable reason, e.g. `republish-limit-reached`. */
  code: string;
  /** The task's status when the action was refused (for 409s). */
  status?: string;
  [key: string]: unknown;
}

export class DomainError extends Error {
  constructor(
    readonly kind: DomainErrorKind,
    message: string,
    readonly details: DomainErrorDetails,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const DOMAIN_ERROR_KINDS: readonly DomainErrorKind[] = ['invalid_input', 'forbidden', 'invalid_state', 'rule_violation'];

export const isDomainErrorKind = (value: unknown): value is DomainErrorKind =>
  typeof value === 'string' && (DOMAIN_ERROR_KINDS as readonly string[]).includes(value);
