/**
 * The floor Starmap's task workflow is measured against (bench/lifecycle.ts):
 * the same messages a lifecycle without a script exchanges — 6 Updates
 * (accept, submit content, operator review, client confirmation, publication
 * link, client acceptance) and 1 Signal (the platform says "published") — and
 * a deadline timer (`condition` with a timeout) that every change re-arms, but
 * no rules, no search attributes, no effects.
 *
 * With `localActivity` (the "bare+LA" variant) every state change — the order,
 * each Update and the Signal, as Starmap projects each event — also runs one
 * local activity that inserts one row into PostgreSQL, awaited before the
 * Update answers. With `searchAttributes` too (the opt-in "bare+LA+SA" variant)
 * every change also upserts `TaskStatus` and `NextDeadline`, as Starmap's task
 * workflow does for R-STAGE-DEADLINE: what those upserts cost Temporal, apart.
 * Not in workflows/: it is bundled on its own by the benchmark.
 */
import { ApplicationFailure, allHandlersFinished, condition, defineQuery, defineSignal, defineUpdate, proxyLocalActivities, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import type { UpdateDefinition } from '@temporalio/common';
import { NextDeadlineKey, TaskStatusKey } from '../../workflows/searchAttributes.js';
import type { BareActivities } from '../bareActivities.js';

export type BareStatus =
  | 'awaiting_acceptance'
  | 'drafting'
  | 'in_review'
  | 'awaiting_client_confirmation'
  | 'awaiting_publication'
  | 'awaiting_platform'
  | 'awaiting_client_acceptance'
  | 'in_retention'
  | 'cancelled'
  | 'completed';

export interface BareInput {
  taskId: string;
  localActivity: boolean;
  /** Upsert `TaskStatus` and `NextDeadline` at each change (the "bare+LA+SA" variant). */
  searchAttributes?: boolean;
}

export interface BareState {
  taskId: string;
  status: BareStatus;
  version: number;
  /** When the current deadline passes (workflow time, ms). */
  deadlineAt: number;
}

/** What every Update carries: who acts, and the action's field (content body, decision, item id) when it has one. */
export interface BareAction {
  actor: { role: string; id: string };
  body?: string;
  decision?: 'pass' | 'confirm';
  platformItemId?: string;
}

export const bareAcceptUpdate = defineUpdate<BareState, [BareAction]>('accept');
export const bareSubmitContentUpdate = defineUpdate<BareState, [BareAction]>('submitContent');
export const bareReviewContentUpdate = defineUpdate<BareState, [BareAction]>('reviewContent');
export const bareConfirmContentUpdate = defineUpdate<BareState, [BareAction]>('confirmContent');
export const barePublishUpdate = defineUpdate<BareState, [BareAction]>('publish');
export const bareAcceptDeliveryUpdate = defineUpdate<BareState, [BareAction]>('acceptDelivery');
export const barePlatformSignal = defineSignal<[{ eventId: string; kind: 'published'; itemId: string }]>('platformEvent');
export const bareStateQuery = defineQuery<BareState>('state');

const { recordEvent } = proxyLocalActivities<BareActivities>({ startToCloseTimeout: '30 seconds' });

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Deadlines of the same order of magnitude as Starmap's: 24 h to accept, 7 days per stage, 30 days of retention. */
const deadlineFor = (status: BareStatus): number => (status === 'awaiting_acceptance' ? DAY : status === 'in_retention' ? 30 * DAY : 7 * DAY);
const now = (): number => new Date().getTime();

export async function bareTaskWorkflow(input: BareInput): Promise<BareStatus> {
  const state: BareState = { taskId: input.taskId, status: 'awaiting_acceptance', version: 0, deadlineAt: now() + deadlineFor('awaiting_acceptance') };

  const change = async (kind: string, to: BareStatus): Promise<BareState> => {
    state.status = to;
    state.version++;
    state.deadlineAt = now() + deadlineFor(to);
    if (input.searchAttributes) upsertSearchAttributes([{ key: TaskStatusKey, value: to }, { key: NextDeadlineKey, value: new Date(state.deadlineAt) }]);
    if (input.localActivity) await recordEvent({ taskId: state.taskId, seq: state.version, kind });
    return state;
  };
  /** An Update that moves the task from `from` to `to`; its synchronous validator refuses it in any other state. */
  const step = (def: UpdateDefinition<BareState, [BareAction]>, kind: string, from: BareStatus, to: BareStatus) =>
    setHandler(def, (_input: BareAction) => change(kind, to), {
      validator: (_input: BareAction) => {
        if (state.status !== from) throw ApplicationFailure.create({ type: 'invalid-state', message: `${kind} does not fit ${state.status}`, nonRetryable: true });
      },
    });

  setHandler(bareStateQuery, () => state);
  step(bareAcceptUpdate, 'accepted', 'awaiting_acceptance', 'drafting');
  step(bareSubmitContentUpdate, 'submitted', 'drafting', 'in_review');
  step(bareReviewContentUpdate, 'review_passed', 'in_review', 'awaiting_client_confirmation');
  step(bareConfirmContentUpdate, 'client_confirmed', 'awaiting_client_confirmation', 'awaiting_publication');
  step(barePublishUpdate, 'publication_linked', 'awaiting_publication', 'awaiting_platform');
  step(bareAcceptDeliveryUpdate, 'delivery_accepted', 'awaiting_client_acceptance', 'in_retention');
  setHandler(barePlatformSignal, async (event) => {
    if (event.kind === 'published' && state.status === 'awaiting_platform') await change('published', 'awaiting_client_acceptance');
  });

  if (input.localActivity) await recordEvent({ taskId: state.taskId, seq: 0, kind: 'ordered' });

  // the deadline loop: any change re-arms the timer; a deadline that passes ends the task
  while (state.status !== 'cancelled' && state.status !== 'completed') {
    const seen = state.version;
    const changed = await condition(() => state.version !== seen, Math.max(1, state.deadlineAt - now()));
    if (changed || now() < state.deadlineAt) continue;
    state.status = state.status === 'in_retention' ? 'completed' : 'cancelled';
    state.version++;
  }
  await condition(allHandlersFinished);
  return state.status;
}
