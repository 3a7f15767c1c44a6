/**
 * R-APPEAL-48WH: one appeal = one run of `appealWorkflow` (workflow id `appeal-<appealId>`).
 *
 * The platform answers within 48 hours counted on working days only. The API
 * computed `dueAt` with the working-day calendar when the appeal was filed;
 * this workflow holds a durable timer to it (Temporal time, never the host's
 * clock). Unanswered at dueAt, the appeal escalates exactly once: the row
 * becomes escalated, the operators are notified, and the AppealStatus search
 * attribute says `escalated` (the operators' to-do in the Temporal UI). It then
 * keeps waiting for the decision. An operator decides with the `decideAppeal`
 * Update; an upheld appeal restores the points (activities/appeals.ts).
 */
import { ApplicationFailure, allHandlersFinished, condition, proxyActivities, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { MAX_REASON_CHARS } from '../domain/index.js';
import { appealStateQuery, decideAppealUpdate, type AppealDecisionInput, type AppealInput, type AppealState } from './appealMessages.js';
import { AppealStatusKey, CreatorIdKey, NextDeadlineKey } from './searchAttributes.js';

const { escalateAppeal, decideAppeal } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', maximumInterval: '10 minutes' },
});

/** Temporal's clock: in workflow code `Date` is replay-safe workflow time. */
const now = (): number => new Date().getTime();
const iso = (ms: number): string => new Date(ms).toISOString();

const refuse = (type: 'forbidden' | 'invalid_state' | 'invalid_input', message: string, details: Record<string, unknown>): never => {
  throw ApplicationFailure.create({ type, message, details: [details], nonRetryable: true });
};

/** The Update's validator: runs before anything is written to history. */
function validateDecision(state: AppealState, input: AppealDecisionInput): void {
  if (!input || typeof input !== 'object' || !input.actor) refuse('invalid_input', 'the decision needs an actor', { code: 'actor-required' });
  if (input.actor.role !== 'operator') refuse('forbidden', 'only an operator may decide an appeal', { code: 'wrong-role', requiredRole: 'operator' });
  if (state.decision) refuse('invalid_state', `the appeal is already ${state.decision.outcome}`, { code: 'already-decided', appealStatus: state.status });
  if (input.outcome !== 'upheld' && input.outcome !== 'rejected') refuse('invalid_input', 'outcome is upheld or rejected', { code: 'invalid-outcome' });
  const note = typeof input.note === 'string' ? input.note.trim() : '';
  if (!note) refuse('invalid_input', 'a decision needs a note', { code: 'note-required' });
  if (note.length > MAX_REASON_CHARS) refuse('invalid_input', `the note is longer than ${MAX_REASON_CHARS} characters`, { code: 'note-too-long' });
}

export async function appealWorkflow(input: AppealInput): Promise<AppealState> {
  const dueMs = Date.parse(input?.dueAt);
  if (!input?.appealId || !Number.isFinite(dueMs) || !Number.isFinite(Date.parse(input.filedAt)) || !(input.points > 0)) {
    throw ApplicationFailure.create({ type: 'invalid_input', message: 'the appeal needs appealId, points > 0, filedAt and dueAt', nonRetryable: true });
  }
  const state: AppealState = { ...input, status: 'open', escalatedAt: null, decision: null };

  // Handlers first, before the first await.
  setHandler(appealStateQuery, () => state);
  setHandler(
    decideAppealUpdate,
    async (decision: AppealDecisionInput): Promise<AppealState> => {
      const at = iso(now());
      const note = decision.note.trim();
      state.decision = { outcome: decision.outcome, actor: decision.actor, note, at };
      try {
        await decideAppeal({ appealId: state.appealId, outcome: decision.outcome, actor: decision.actor, note, decidedAt: at });
      } catch (err) {
        state.decision = null; // not recorded (a refusal of the store): the appeal may still be decided
        throw err;
      }
      state.status = decision.outcome;
      upsertSearchAttributes([
        { key: AppealStatusKey, value: state.status },
        { key: NextDeadlineKey, value: null },
      ]);
      return state;
    },
    { validator: (decision: AppealDecisionInput) => validateDecision(state, decision) },
  );

  upsertSearchAttributes([
    { key: AppealStatusKey, value: 'open' },
    { key: CreatorIdKey, value: state.creatorId },
    { key: NextDeadlineKey, value: new Date(dueMs) },
  ]);

  // The durable timer: a decision, or 48 working hours (dueAt), whichever comes first. Unanswered at
  // dueAt, the appeal escalates once, then waits for its decision as long as it takes (the handler records it).
  const decided = () => state.status === 'upheld' || state.status === 'rejected';
  while (!decided()) {
    if (state.decision) {
      await condition(() => decided() || state.decision === null); // a decision being recorded
      continue;
    }
    if (state.status === 'escalated') {
      await condition(() => state.decision !== null);
      continue;
    }
    const wait = dueMs - now();
    if (wait > 0 && (await condition(() => state.decision !== null, wait))) continue;
    if (state.decision || now() < dueMs) continue;
    state.status = 'escalated';
    state.escalatedAt = iso(now());
    upsertSearchAttributes([{ key: AppealStatusKey, value: 'escalated' }]);
    await escalateAppeal({ appealId: state.appealId, creatorId: state.creatorId, points: state.points, dueAt: state.dueAt, escalatedAt: state.escalatedAt });
  }
  await condition(allHandlersFinished);
  return state;
}
