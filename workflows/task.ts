/**
 * One ordered task = one run of `taskWorkflow` (workflow id = task id).
 *
 * The workflow owns the task's state. Every change goes through the pure rules
 * in domain/task.ts:
 *   - an Update's synchronous validator runs `decide` and refuses (nothing is
 *     written to history); its handler runs `decide` + `evolve` and answers with
 *     the new state;
 *   - a platform Signal is decided the same way; one that does not fit is
 *     recorded as `platform_event_ignored`, never dropped silently;
 *   - durable timers (acceptance window, reminder, 7-day auto-acceptance,
 *     retention) come from `nextTimer(state)`: the main loop waits for the next
 *     one or for any change, whichever comes first.
 * Each event is appended to an in-order outbox that one coroutine projects to
 * Postgres (a local activity: cheap in history), and another runs the event's
 * effects (SMS, phone reminder, credit change) as retried activities.
 */
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { UpdateDefinition } from '@temporalio/common';
import type { Activities } from '../activities/index.js';
import {
  DomainError,
  SYSTEM,
  decide,
  effectsOf,
  evolve,
  initialState,
  isTerminal,
  nextTimer,
  orderedEvent,
  validateOrder,
  type Effect,
  type TaskCommand,
  type TaskEvent,
  type TaskOrder,
  type TaskState,
  type UserCommand,
} from '../domain/index.js';
import {
  acceptDeliveryUpdate,
  acceptTaskUpdate,
  confirmContentUpdate,
  confirmScriptUpdate,
  declineTaskUpdate,
  fileComplaintUpdate,
  grantModificationUpdate,
  platformEventSignal,
  publishContentUpdate,
  resolveComplaintUpdate,
  reviewContentUpdate,
  reviewScriptUpdate,
  submitContentUpdate,
  submitScriptUpdate,
  taskStateQuery,
  type ActorInput,
} from './messages.js';
import { ClientIdKey, CreatorIdKey, NextDeadlineKey, TaskStatusKey, TaskTypeKey } from './searchAttributes.js';

const { projectTask } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});
const { sendNotification, recordCreditChange, settleEscrow } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', maximumInterval: '10 minutes' },
});

/** Temporal's clock: in workflow code `Date` is replay-safe workflow time. */
const now = (): number => new Date().getTime();

export interface TaskOutcome {
  status: TaskState['status'];
  version: number;
}

export async function taskWorkflow(order: TaskOrder): Promise<TaskOutcome> {
  const state: TaskState = initialState(checkedOrder(order), now());
  const projections = new Queue<TaskEvent>();
  const effects = new Queue<Effect>();

  /** Applies a decided event: state, search attributes, projection, effects. */
  let published = '';
  const commit = (draft: ReturnType<typeof decide>): TaskState => {
    const event = evolve(state, draft, now());
    published = publishSearchAttributes(state, published);
    projections.push(event);
    effects.push(...effectsOf(state, event));
    return state;
  };

  /** Runs `decide`; a refusal becomes an ApplicationFailure the API maps to problem+json. */
  const decideOrFail = (command: TaskCommand) => {
    try {
      return decide(state, command, now());
    } catch (err) {
      if (err instanceof DomainError) {
        throw ApplicationFailure.create({ type: err.kind, message: err.message, details: [err.details], nonRetryable: true });
      }
      throw err;
    }
  };

  const handle = <I extends ActorInput>(def: UpdateDefinition<TaskState, [I]>, toCommand: (input: I) => UserCommand) => {
    const command = (input: I): TaskCommand => ({ ...toCommand(input), actor: input.actor });
    setHandler(def, (input: I) => commit(decideOrFail(command(input))), {
      validator: (input: I) => {
        if (!input || typeof input !== 'object' || !input.actor) {
          throw ApplicationFailure.create({ type: 'invalid_input', message: 'the update needs an actor', nonRetryable: true });
        }
        decideOrFail(command(input));
      },
    });
  };

  // Handlers first, before the first await.
  setHandler(taskStateQuery, () => state);
  handle(acceptTaskUpdate, () => ({ type: 'accept' }));
  handle(declineTaskUpdate, (i) => ({ type: 'decline', reason: i.reason }));
  handle(submitScriptUpdate, (i) => ({ type: 'submit', stage: 'script', body: i.body }));
  handle(reviewScriptUpdate, (i) => ({ type: 'review', stage: 'script', decision: i.decision, reason: i.reason }));
  handle(confirmScriptUpdate, (i) => ({ type: 'confirm', stage: 'script', decision: i.decision, reason: i.reason }));
  handle(submitContentUpdate, (i) => ({ type: 'submit', stage: 'content', body: i.body }));
  handle(reviewContentUpdate, (i) => ({ type: 'review', stage: 'content', decision: i.decision, reason: i.reason }));
  handle(confirmContentUpdate, (i) => ({ type: 'confirm', stage: 'content', decision: i.decision, reason: i.reason }));
  handle(publishContentUpdate, (i) => ({ type: 'publish', platformItemId: i.platformItemId }));
  handle(acceptDeliveryUpdate, (i) => ({ type: 'accept_delivery', publishTime: i.publishTime }));
  handle(grantModificationUpdate, () => ({ type: 'grant_modification' }));
  handle(fileComplaintUpdate, (i) => ({ type: 'file_complaint', reason: i.reason }));
  handle(resolveComplaintUpdate, (i) => ({ type: 'resolve_complaint', outcome: i.outcome, note: i.note }));
  setHandler(platformEventSignal, (event) => {
    // A redelivered callback (same event id) is applied once.
    if (state.platformEventIds.includes(event.eventId)) return;
    commit(decideOrFail({ type: 'platform', ...event, actor: { role: 'platform', id: 'content-platform' } }));
  });

  const projector = projections.drain((events) => projectTask({ task: { ...state }, events }));
  const effector = effects.drain(async (batch) => {
    for (const effect of batch) await runEffect(state, effect);
  });

  commit(orderedEvent(state));

  // The lifecycle: wait until the next timer is due or a message changes which
  // timer is next (a change that leaves the timer as it was keeps it running).
  while (!isTerminal(state.status)) {
    const timer = nextTimer(state);
    const current = timerKey(timer);
    const moved = () => isTerminal(state.status) || timerKey(nextTimer(state)) !== current;
    if (!timer) {
      await condition(moved);
      continue;
    }
    const wait = timer.at - now();
    if (wait > 0 && (await condition(moved, wait))) continue;
    if (now() < timer.at) continue;
    commit(decideOrFail({ type: 'timer', timer: timer.kind, actor: SYSTEM }));
  }

  // Nothing accepted is lost: every event is projected and every effect done.
  await condition(() => projections.idle && effects.idle && allHandlersFinished());
  void projector;
  void effector;
  return { status: state.status, version: state.version };
}

const timerKey = (timer: ReturnType<typeof nextTimer>): string => (timer ? `${timer.kind}@${timer.at}` : 'none');

function checkedOrder(order: TaskOrder): TaskOrder {
  try {
    return validateOrder(order);
  } catch (err) {
    if (err instanceof DomainError) {
      throw ApplicationFailure.create({ type: err.kind, message: err.message, details: [err.details], nonRetryable: true });
    }
    throw err;
  }
}

async function runEffect(state: TaskState, effect: Effect): Promise<void> {
  switch (effect.kind) {
    case 'settle':
      // Added with the ledger: tasks that reached this point before it (saved
      // histories) did not schedule this activity, so replaying them skips it.
      if (patched('escrow-settlement')) {
        await settleEscrow({ taskId: state.taskId, clientId: state.clientId, creatorId: state.creatorId, outcome: effect.outcome });
      }
      return;
    case 'notify':
      await sendNotification({ ...effect, taskId: state.taskId });
      return;
    case 'credit':
      // histories from before `occurredAt` was on the effect fall back to the time the effect runs
      await recordCreditChange({ ...effect, taskId: state.taskId, actor: SYSTEM, occurredAt: effect.occurredAt ?? new Date(now()).toISOString() });
      return;
  }
}

/** Upserts the search attributes when status or deadline changed; returns what is now published. */
function publishSearchAttributes(state: TaskState, published: string): string {
  const deadline = state.nextDeadline ? new Date(state.nextDeadline) : null;
  const fingerprint = `${state.status}|${state.nextDeadline ?? ''}`;
  if (fingerprint === published) return published;
  const first = published === '';
  upsertSearchAttributes([
    { key: TaskStatusKey, value: state.status },
    { key: NextDeadlineKey, value: deadline },
    ...(first
      ? [
          { key: TaskTypeKey, value: state.type },
          { key: ClientIdKey, value: state.clientId },
          { key: CreatorIdKey, value: state.creatorId },
        ]
      : []),
  ]);
  return fingerprint;
}

/**
 * An in-order queue with a single consumer: items pushed while a batch is being
 * handled form the next batch. `idle` is true when nothing is queued or running.
 */
class Queue<T> {
  private items: T[] = [];
  private running = false;

  push(...items: T[]): void {
    this.items.push(...items);
  }

  get idle(): boolean {
    return !this.running && this.items.length === 0;
  }

  async drain(consume: (batch: T[]) => Promise<void>): Promise<never> {
    for (;;) {
      await condition(() => this.items.length > 0);
      this.running = true;
      const batch = this.items.splice(0);
      await consume(batch);
      this.running = false;
    }
  }
}
