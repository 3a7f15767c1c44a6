/**
 * Validation of a new order (R-ORDER-FIELDS, R-RETENTION-CHOICE). The API runs
 * it before anything is written; the workflow runs it again on its input.
 */
import { DomainError } from './errors.js';
import { DEFAULT_DRAFT_DAYS, DEFAULT_RETENTION_DAYS, MAX_BRIEF_CHARS, MAX_DRAFT_DAYS, MAX_RETENTION_DAYS, MIN_DRAFT_DAYS, MIN_RETENTION_DAYS } from './rules.js';
import { isTaskTypeId, taskTypeOf } from './taskTypes.js';
import { effectsOf, evolve, isStorableText, orderedEvent, type Effect, type TaskOrder } from './task.js';
import type { TaskEvent } from './taskEvents.js';
import { RULE_FIXES, initialState, type TaskState } from './taskState.js';
import { ms } from './time.js';

export interface OrderRequest {
  taskId: string;
  type: string;
  clientId: string;
  creatorId: string;
  brief: string;
  scriptRequired: boolean;
  /** Natural days; R-RETENTION-CHOICE: 7, 15, 30, 60 or a custom 1..365; default 30. */
  retentionDays?: number | undefined;
  priceFen: number;
  /** When the order was placed (ISO 8601): the one clock every deadline counts from. */
  orderedAt?: string | undefined;
  /** R-STAGE-DEADLINE: days per drafting round, 1..30, default 7. */
  draftDays?: number | undefined;
  payoutAccount?: string | undefined;
}

const invalid = (code: string, message: string): never => {
  throw new DomainError('invalid_input', message, { code });
};

export function validateOrder(req: OrderRequest): TaskOrder {
  if (!isTaskTypeId(req.type)) invalid('unknown-task-type', `unknown task type ${req.type}`);
  const type = taskTypeOf(req.type as TaskOrder['type']);
  const brief = req.brief.trim();
  if (!brief) invalid('brief-required', 'the requirements brief is required');
  if (brief.length > MAX_BRIEF_CHARS) invalid('brief-too-long', `the brief must be at most ${MAX_BRIEF_CHARS} characters`);
  if (!Number.isSafeInteger(req.priceFen) || req.priceFen <= 0) invalid('price-invalid', 'priceFen must be a positive integer number of fen');
  if (req.creatorId === req.clientId) invalid('self-order', 'a client cannot order from itself');
  if (req.scriptRequired && !type.draft) invalid('no-draft-stage', `${type.id} has no script or outline stage`);

  const retentionDays = req.retentionDays ?? DEFAULT_RETENTION_DAYS;
  if (!Number.isInteger(retentionDays) || retentionDays < MIN_RETENTION_DAYS || retentionDays > MAX_RETENTION_DAYS) {
    invalid('retention-invalid', `retentionDays must be a whole number from ${MIN_RETENTION_DAYS} to ${MAX_RETENTION_DAYS}`);
  }
  if (retentionDays < type.minRetentionDays) {
    throw new DomainError('rule_violation', `${type.id} requires a retention of at least ${type.minRetentionDays} days`, {
      code: 'retention-below-minimum',
      minimum: type.minRetentionDays,
    });
  }
  const draftDays = req.draftDays ?? DEFAULT_DRAFT_DAYS;
  if (!Number.isInteger(draftDays) || draftDays < MIN_DRAFT_DAYS || draftDays > MAX_DRAFT_DAYS) {
    invalid('draft-days-invalid', `draftDays must be a whole number from ${MIN_DRAFT_DAYS} to ${MAX_DRAFT_DAYS}`);
  }
  if (req.orderedAt !== undefined && Number.isNaN(Date.parse(req.orderedAt))) invalid('ordered-at-invalid', 'orderedAt must be an ISO 8601 time');
  if (!isStorableText(brief)) invalid('brief-invalid-characters', 'the brief must not contain NUL or unpaired surrogate characters');
  return {
    taskId: req.taskId,
    type: type.id,
    clientId: req.clientId,
    creatorId: req.creatorId,
    brief,
    scriptRequired: req.scriptRequired,
    retentionDays,
    priceFen: req.priceFen,
    // absent in orders from before these fields: the workflow's start then counts (histories replay unchanged)
    ...(req.orderedAt !== undefined ? { orderedAt: req.orderedAt } : {}),
    ...(req.draftDays !== undefined ? { draftDays } : {}),
    ...(req.payoutAccount !== undefined ? { payoutAccount: req.payoutAccount } : {}),
  };
}

/**
 * A new task (rules 2) as its order makes it: the state after event 1 (`ordered`,
 * at the order's own time), the event, and what it causes (the creator's arrival
 * SMS). Engine 6: the API records exactly this in the order's transaction, and a
 * task workflow started with `orderProjected` reaches the same state from the
 * same order (workflows/task.ts), so the read model and the workflow agree from
 * the first moment without the workflow projecting its first event.
 */
export function placeOrder(order: TaskOrder & { orderedAt: string }, fixes = RULE_FIXES): { state: TaskState; event: TaskEvent; effects: Effect[] } {
  const at = ms(order.orderedAt);
  // as the workflow does: its order checked again (workflows/task.ts checkedOrder), rules 2 with every engine-3
  // rule, and the rules' corrections its engine starts with (engine 7: RULE_FIXES; engine 6: none)
  const state = initialState(validateOrder(order), at, 2, true, true, fixes);
  const event = evolve(state, orderedEvent(state), at);
  return { state, event, effects: effectsOf(state, event) };
}
