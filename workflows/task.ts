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
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  currentUpdateInfo,
  continueAsNew,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { UpdateDefinition } from '@temporalio/common';
import type { Activities } from '../activities/index.js';
import type { Settlement } from '../db/ledger.js';
import {
  RULE_FIXES,
  DomainError,
  SYSTEM,
  attentionOf,
  decide,
  effectsOf,
  evolve,
  initialState,
  isStalePlatformEvent,
  isTaskTypeId,
  isTerminal,
  nextTimer,
  orderedEvent,
  taskTypeOf,
  validateOrder,
  waitingFor,
  type Effect,
  type TaskCommand,
  type TaskEvent,
  type TaskOrder,
  type TaskState,
  type TimerKind,
  type UserCommand,
} from '../domain/index.js';
import {
  acceptDeliveryUpdate,
  acceptTaskUpdate,
  answerCancellationUpdate,
  answerTakedownUpdate,
  confirmContentUpdate,
  confirmScriptUpdate,
  declineTaskUpdate,
  extendDraftDeadlineUpdate,
  fileComplaintUpdate,
  grantModificationUpdate,
  platformEventSignal,
  proposeCancellationUpdate,
  publishContentUpdate,
  requestTakedownUpdate,
  resolveComplaintUpdate,
  resolveTaskUpdate,
  reviewContentUpdate,
  reviewScriptUpdate,
  submitContentUpdate,
  submitScriptUpdate,
  taskStateQuery,
  type ActorInput,
} from './messages.js';
import { ClientIdKey, CreatorIdKey, NextDeadlineKey, TaskAttentionKey, TaskStatusKey, TaskTypeKey } from './searchAttributes.js';
import { metricsPollAt } from '../domain/metrics.js';
import { HOUR, MINUTE } from '../domain/time.js';

const { projectTask } = proxyLocalActivities<Activities>({
  // bounded: a projection that keeps failing (e.g. Postgres refuses a value) never holds the
  // workflow in an endless local-activity retry; it is flagged and retried on a durable timer
  scheduleToCloseTimeout: '2 minutes',
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '20 seconds', maximumAttempts: 8 },
});
const { sendNotification, recordCreditChange, settleEscrow } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', maximumInterval: '10 minutes' },
});
/**
 * Engine 5: a metrics reading, a local activity in the workflow task its timer
 * wakes, one attempt per call: the workflow retries a failing platform itself
 * on durable timers (30 s doubling to 1 hour, as metrics workflows do) until the next
 * reading is due (the last one: for an hour after the end of retention), then
 * skips that reading. The window is Temporal's time, not the worker's clock (a
 * local activity's schedule-to-close is the worker's), so time-skipping tests
 * see it; a platform that stays down never holds the task open, and readings
 * missed in an outage are caught up one attempt each.
 */
const { collectMetrics: takeReading } = proxyLocalActivities<Activities>({ startToCloseTimeout: '1 minute', retry: { maximumAttempts: 1 } });
const LAST_READING_WINDOW_MS = HOUR;
const readingBackoffMs = (attempt: number): number => Math.min(HOUR, 30_000 * 2 ** Math.min(attempt, 7));
/** Rules 2: notifications have their own lane and a short timeout, so money never waits behind an SMS. */
const notifications = proxyActivities<Activities>({
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '2 seconds', maximumInterval: '10 minutes' },
});

/** Temporal's clock: in workflow code `Date` is replay-safe workflow time. */
const now = (): number => new Date().getTime();

/** Backoff of a failing projection: 1 minute, doubling, at most an hour. */
const PROJECTION_RETRY_MS = (attempt: number): number => Math.min(60 * 60_000, 60_000 * 2 ** Math.min(attempt, 6));

export interface TaskOutcome {
  status: TaskState['status'];
  version: number;
}

/**
 * How a run goes on in the next (continue-as-new): the state as it stood, and
 * the history budget of a run. A task lives up to a year and a noisy platform can
 * send thousands of callbacks; Temporal ends a workflow at 51,200 events, so a
 * run hands over long before (the task id, queries, updates and the API keep
 * working: they address the workflow id, not the run).
 */
export interface TaskRun {
  /** The state the previous run ended with; absent for a new order. */
  carried?: TaskState;
  /** Events per run before it continues as new (default EVENTS_PER_RUN; lower in tests). */
  eventsPerRun?: number;
  /**
   * The task's engine (see `ENGINE`): given at the start by temporal/tasks.ts
   * (engine 4 on) and carried by a continued run; absent for tasks started
   * before engine 4 (which ask patched('engine-3') once) and for runs continued
   * before engine 3.
   */
  engine?: number;
  /** Engine 5: the metrics readings earlier runs took (post-campaign data, R-RATE). */
  readings?: number;
  /**
   * Engine 6: the API recorded the order as event 1 in the order's transaction
   * (domain `placeOrder`: the row at version 1, the event, the arrival SMS in the
   * outbox), so the workflow reaches that state and does not project it again.
   * Absent for a task started without the API (tests, tools) or from a row at
   * version 0: the workflow then projects its order itself.
   */
  orderProjected?: boolean;
  /** Engine 5: an earlier run's collection is over (the content gone, or readings refused for good). */
  readingsEnded?: boolean;
  /**
   * The ids of the last updates earlier runs applied (at most UPDATES_CARRIED): Temporal knows an update id
   * only within its run, so a request retried with its Idempotency-Key after the handover is answered with
   * the state, not decided again. Absent for runs continued before it.
   */
  updates?: string[];
}

/** How many applied update ids a run hands over to the next (retries come within minutes; ~50 bytes each). */
export const UPDATES_CARRIED = 100;

/**
 * Engine 3, one patch for new tasks: the changes made behind their own patches
 * before it (stage deadlines, the decision SMS, the Toutiao order, escrow
 * settlement, continue-as-new) are all on, without asking each. Every patch
 * costs a task two history events (its marker and an upsert of
 * TemporalChangeVersion) and a visibility write, so a new task asks one. New in
 * engine 3: the escrow settles in the projection's transaction (activities
 * `projectTask`), not in an activity of its own, and an event's SMS and phone
 * calls are written to the notifications outbox in that transaction too, sent
 * by the worker's outbox dispatcher (activities/outbox.ts) instead of one
 * activity each. Tasks started before it replay
 * as they ran (they have no `engine-3` marker and ask their own patches).
 *
 * Engine 4, versioned by the start's input instead of a patch: temporal/tasks.ts
 * starts every new task with `{ engine: 4 }`, so the workflow asks no patch at
 * all (a deterministic choice: the input is in the history's first event), and
 * the search attributes set at the start (status, the acceptance deadline, type
 * and parties) are not upserted again by the first event. Otherwise the rules
 * are engine 3's. Saves a new task 3 history events (the patch marker, its
 * TemporalChangeVersion upsert and the first upsert) and 2 visibility writes.
 * Tasks started before it carry no engine and replay as they ran.
 *
 * Engine 5 (issue #14): the task reads its own post-campaign data (R-RATE).
 * From acceptance to the end of retention it takes each metrics reading on the
 * schedule of domain/metrics.ts (a durable timer, then a local activity,
 * `collectMetrics`), instead of the acceptance's projection starting a
 * workflow of its own (`<taskId>:metrics`, workflows/metrics.ts). A task is one
 * workflow for its whole life: no second workflow start on the acceptance's
 * path (its answer waited for it) and half the open executions for tasks in
 * retention. Each reading adds its timer, workflow task and marker to the
 * task's history (6 events; ~390 for a year of retention, under the run's
 * budget, and continue-as-new carries the count). Tasks started with engine 4
 * or earlier start the metrics workflow from their projection as before.
 *
 * Engine 6 (issue #14): the order is event 1 of the read model from the order's
 * own transaction. The API records what domain `placeOrder` makes of the order
 * (the row at version 1 with its snapshot, the `ordered` event, the creator's
 * arrival SMS in the outbox) beside the escrow hold, and starts the workflow with
 * `orderProjected`; the workflow applies the same event at the order's time (so
 * its state is the snapshot's) and projects from event 2. Its first workflow
 * task runs no local activity: a new task is set up by one short workflow task
 * (its deadline timer), and the acceptance that follows no longer waits behind a
 * projection. Without `orderProjected` (a task started without the API, or from
 * an order row at version 0) an engine-6 task projects its order as engine 5.
 *
 * Engine 7: the task runs under the corrections of the rules (domain TaskState
 * `fixes`, RULE_FIXES) from its order. A task of an older engine meets them at
 * the first event it decides on a worker that has them: it asks
 * patched('rule-fixes-1') there (a marker, once), so what it decided before
 * replays as it ran. New tasks ask nothing.
 */
export const ENGINE = 7;

/** The corrections of the rules (TaskState `fixes`) a task of this engine runs under from its order. */
export const fixesAtStart = (engine: number): number => (engine >= 7 ? RULE_FIXES : 0);

/** A message an event sends (engine 3: written to the outbox with the event, sent by the worker's dispatcher). */
type Notice = Extract<Effect, { kind: 'notify' }> & { taskId: string };

/** Under Temporal's suggestion (4 Ki events) with room for the handover. */
export const EVENTS_PER_RUN = 3_000;

export async function taskWorkflow(order: TaskOrder, run: TaskRun = {}): Promise<TaskOutcome> {
  const carried = run.carried;
  // the task's engine: from the input (engine 4 on, and every continued run of engine 3 on); a task
  // started before engine 4 asks the engine-3 patch once (a run continued before engine 3 carries none)
  const engine = run.engine ?? (carried ? 0 : patched('engine-3') ? 3 : 0);
  // engine 3 on: everything below on without asking each patch
  const engine3 = engine >= 3;
  // R-STAGE-DEADLINE and the rules beside it: tasks started before the change replay under rules 1
  // (a continued run takes the rules its task started with, and asks no patch again)
  const rules = carried ? carried.rules : engine3 || patched('stage-deadlines') ? 2 : 1;
  // R-DECISION-NOTIFY: tasks started before it replay without its SMS
  const decisionSms = carried ? carried.decisionSms === true : engine3 || (rules >= 2 && patched('decision-notify'));
  // R-TOUTIAO-ORDER: Toutiao content is reviewed after publication; tasks started before keep review first
  // (asked only for those types, so other tasks' histories carry no marker)
  const toutiaoOrder = carried
    ? carried.publishFirst === true
    : rules >= 2 && isTaskTypeId(order.type) && taskTypeOf(order.type).clientReviews === 'after_publication' && (engine3 || patched('toutiao-order'));
  const state: TaskState = carried ?? initialState(checkedOrder(order), now(), rules, decisionSms, toutiaoOrder, rules >= 2 ? fixesAtStart(engine) : 0);
  /**
   * A task of an older engine takes the rules' corrections at the first event it decides on a worker that
   * has them (patched: false while replaying what was decided before, true and a marker once live).
   * Asked where an event is decided, never in an update's validator (which may not add to the history).
   */
  const takeFixes = () => {
    if (rules >= 2 && (state.fixes ?? 0) < RULE_FIXES && patched('rule-fixes-1')) state.fixes = RULE_FIXES;
  };
  const eventsPerRun = run.eventsPerRun ?? EVENTS_PER_RUN;
  /**
   * Set once this run's history is long: the lifecycle then hands over to a new
   * run. Asked behind patched('continue-as-new') where it happens, so a running
   * task whose history is already long replays as it ran.
   */
  let handOver = false;
  const checkHistory = () => {
    if (handOver || rules < 2) return;
    const info = workflowInfo();
    if ((info.historyLength >= eventsPerRun || info.continueAsNewSuggested) && (engine3 || patched('continue-as-new'))) handOver = true;
  };
  /** Events to project; engine 3 carries an event's settlement and messages with it (one transaction). */
  const projections = new Queue<{ event: TaskEvent; settlement?: Settlement; notices?: Notice[] }>();
  const effects = new Queue<Effect>();
  const messages = new Queue<Effect>();
  let projectionFailing = false;
  /** Engine 5: readings taken (this run and the ones before it); an attempt in flight; collection over. */
  let readingsTaken = run.readings ?? 0;
  let reading = false;
  let collecting = engine >= 5 && run.readingsEnded !== true;
  /** Engine 6: event 1 is already in the read model (the API's order transaction). */
  const orderProjected = engine >= 6 && run.orderProjected === true && !carried;

  /** Applies a decided event: state, search attributes, projection, effects. */
  // engine 4: what the start (or the previous run) already set is not upserted again
  let published = engine >= 4 ? publishedAtStart() : '';
  const publish = () => {
    published = publishSearchAttributes(state, published, projectionFailing);
  };
  /** `recorded`: the event is in the read model already, with its messages (engine 6's order); `at`: its time. */
  const commit = (draft: ReturnType<typeof decide>, recorded?: { at: number }): TaskState => {
    const event = evolve(state, draft, recorded?.at ?? now());
    publish();
    if (recorded) {
      if (rules >= 2) setCurrentDetails(currentDetails(state));
      return state;
    }
    let settlement: Settlement | undefined;
    const notices: Notice[] = [];
    for (const effect of effectsOf(state, event)) {
      if (engine3 && effect.kind === 'settle') settlement = settlementOf(state, effect);
      else if (engine3 && effect.kind === 'notify') notices.push({ ...effect, taskId: state.taskId });
      else if (rules >= 2 && effect.kind === 'notify') messages.push(effect);
      else effects.push(effect);
    }
    projections.push({ event, ...(settlement ? { settlement } : {}), ...(notices.length ? { notices } : {}) });
    if (rules >= 2) setCurrentDetails(currentDetails(state));
    checkHistory();
    return state;
  };

  /**
   * Runs `decide`; a refusal becomes an ApplicationFailure the API maps to problem+json. `validating`: an
   * update's validator, which runs live only, where the handler after it takes the rules' corrections.
   */
  const decideOrFail = (command: TaskCommand, validating = false) => {
    if (!validating) takeFixes();
    const rulesNow = validating && rules >= 2 && (state.fixes ?? 0) < RULE_FIXES ? { ...state, fixes: RULE_FIXES } : state;
    try {
      return decide(rulesNow, command, now());
    } catch (err) {
      throw asFailure(err);
    }
  };

  /** Update ids applied by earlier runs, and by this one (handed over to the next run, the last UPDATES_CARRIED). */
  const carriedUpdates = new Set(run.updates ?? []);
  const appliedUpdates: string[] = [...(run.updates ?? [])];

  const handle = <I extends ActorInput>(def: UpdateDefinition<TaskState, [I]>, toCommand: (input: I) => UserCommand, description: string) => {
    const command = (input: I): TaskCommand => ({ ...toCommand(input), actor: input.actor });
    /** An update an earlier run applied (retried after the handover): answered with the state, not decided again. */
    const appliedBefore = (updateId: string | undefined) => updateId !== undefined && carriedUpdates.has(updateId);
    setHandler(
      def,
      (input: I) => {
        const updateId = currentUpdateInfo()?.id;
        if (appliedBefore(updateId)) return state;
        const draft = decideOrFail(command(input));
        // the event remembers its Update: a request retried with its Idempotency-Key once the task closed
        // and its workflow ended finds it in the read model (api/tasks.ts)
        const updated = commit(updateId ? { ...draft, updateId } : draft);
        if (updateId) appliedUpdates.push(updateId);
        return updated;
      },
      {
        description,
        validator: (input: I) => {
          if (!input || typeof input !== 'object' || !input.actor) {
            throw ApplicationFailure.create({ type: 'invalid_input', message: 'the update needs an actor', nonRetryable: true });
          }
          if (appliedBefore(currentUpdateInfo()?.id)) return;
          decideOrFail(command(input), true);
        },
      },
    );
  };

  // Rules 2: the order is event 1 even when an update arrives in the workflow's first task
  // (rules 1 committed it after registering the handlers; their histories keep that order).
  // Engine 6: as domain placeOrder made it for the API, at the order's time, not projected again.
  if (rules >= 2 && !carried) commit(orderedEvent(state), orderProjected ? { at: Date.parse(state.orderedAt) } : undefined);

  // Handlers first, before the first await.
  setHandler(taskStateQuery, () => state, { description: 'The whole task state (domain/taskState.ts), as the API serves it' });
  handle(acceptTaskUpdate, () => ({ type: 'accept' }), 'Creator accepts the task within 24 h (R-ACCEPT-24H)');
  handle(declineTaskUpdate, (i) => ({ type: 'decline', reason: i.reason }), 'Creator declines with a reason: cancelled, escrow refunded (R-DECLINE)');
  handle(submitScriptUpdate, (i) => ({ type: 'submit', stage: 'script', body: i.body }), 'Creator submits the script or outline (R-SCRIPT-FLOW)');
  handle(reviewScriptUpdate, (i) => ({ type: 'review', stage: 'script', decision: i.decision, reason: i.reason }), 'Operator passes or rejects the script (with a reason)');
  handle(confirmScriptUpdate, (i) => ({ type: 'confirm', stage: 'script', decision: i.decision, reason: i.reason }), 'Client confirms or rejects the script (R-OUTLINE-3 for outlines)');
  handle(submitContentUpdate, (i) => ({ type: 'submit', stage: 'content', body: i.body }), 'Creator submits the content (R-CONTENT-FLOW; Toutiao: the article, published next)');
  handle(reviewContentUpdate, (i) => ({ type: 'review', stage: 'content', decision: i.decision, reason: i.reason }), 'Operator passes or rejects the content (video types)');
  handle(confirmContentUpdate, (i) => ({ type: 'confirm', stage: 'content', decision: i.decision, reason: i.reason }), 'Client confirms or rejects the content (Toutiao: the live content; confirming settles)');
  handle(publishContentUpdate, (i) => ({ type: 'publish', platformItemId: i.platformItemId }), 'Publisher links the platform item (R-PUBLISH-CREATOR / R-PUBLISH-CLIENT)');
  handle(acceptDeliveryUpdate, (i) => ({ type: 'accept_delivery', publishTime: i.publishTime }), 'Client accepts the live content: escrow paid to the creator (R-ACCEPTANCE-7D)');
  handle(grantModificationUpdate, () => ({ type: 'grant_modification' }), 'Client allows one change of the published article (R-MODIFY-PERMISSION)');
  handle(fileComplaintUpdate, (i) => ({ type: 'file_complaint', reason: i.reason }), 'Client complains: auto-acceptance stops until an operator decides (R-COMPLAINT)');
  handle(resolveComplaintUpdate, (i) => ({ type: 'resolve_complaint', outcome: i.outcome, note: i.note }), 'Operator dismisses or upholds the complaint (fix or cancel)');
  handle(extendDraftDeadlineUpdate, (i) => ({ type: 'extend_draft_deadline', days: i.days }), 'Client extends the drafting deadline (R-STAGE-DEADLINE)');
  handle(resolveTaskUpdate, (i) => ({ type: 'resolve_task', outcome: i.outcome, reason: i.reason, refundFen: i.refundFen }), 'Operator ends the task: cancel with a refund, or settle (R-OPERATOR-RESOLVE)');
  handle(proposeCancellationUpdate, (i) => ({ type: 'propose_cancellation', reason: i.reason, refundFen: i.refundFen }), 'Either party proposes cancelling; 48 h to answer (R-MUTUAL-CANCEL)');
  handle(answerCancellationUpdate, (i) => ({ type: 'answer_cancellation', agree: i.agree, reason: i.reason }), 'The other party agrees to or refuses the cancellation');
  handle(requestTakedownUpdate, (i) => ({ type: 'request_takedown', reason: i.reason }), 'Creator asks to take the content down during retention (R-TAKEDOWN)');
  handle(answerTakedownUpdate, (i) => ({ type: 'answer_takedown', agree: i.agree, reason: i.reason }), 'Client agrees to or refuses the takedown within 48 h');
  setHandler(
    platformEventSignal,
    (event) => {
      // A redelivered or older callback (the platform's own time, per item) changes nothing
      // (it still lengthens the history: a flood of them hands over to a new run too).
      if (isStalePlatformEvent(state, event)) return void checkHistory();
      commit(decideOrFail({ type: 'platform', ...event, actor: { role: 'platform', id: 'content-platform' } }));
    },
    { description: 'Content platform callback: published, hidden, deleted, restored (in the platform\'s order per item)' },
  );

  const projector = projections.drain(async (batch) => {
    const events = batch.map((p) => p.event);
    const settlements = batch.flatMap((p) => (p.settlement ? [p.settlement] : []));
    const notices = batch.flatMap((p) => p.notices ?? []);
    const summary = [
      `project events ${events[0]?.seq ?? ''}–${events.at(-1)?.seq ?? ''} to the read model`,
      ...settlements.map(settleSummary),
      ...notices.map((n) => `outbox: ${n.channel} '${n.template}' to the ${n.recipient.role}`),
    ].join('; ');
    for (let attempt = 0; ; attempt++) {
      try {
        const input = {
          task: { ...state },
          events,
          ...(settlements.length ? { settlements } : {}),
          ...(notices.length ? { notices } : {}),
          // engine 5: the task reads its own metrics; its projection starts no metrics workflow
          ...(engine >= 5 ? { readsMetrics: true } : {}),
        };
        const result = await projectTask.executeWithOptions({ summary }, [input]);
        // a ledger refusal (never retried into success) is surfaced as effect_failed, as an effect's would be
        for (const message of result?.refused ?? []) commit({ type: 'effect_failed', actor: SYSTEM, reason: message, payload: { effect: 'settle', message } });
        break;
      } catch (err) {
        if (rules < 2) throw err;
        // visible (TaskAttention=projection_failing, worker log) and retried until the cause is fixed
        log.warn('projection failing; retrying on a timer', { taskId: state.taskId, attempt, error: String(err) });
        projectionFailing = true;
        publish();
        await sleep(PROJECTION_RETRY_MS(attempt), { summary: 'retry the read-model projection' });
      }
    }
    if (projectionFailing) {
      projectionFailing = false;
      publish();
    }
  });
  const runAll = (lane: Queue<Effect>) =>
    lane.drain(async (batch) => {
      for (const effect of batch) {
        try {
          await runEffect(state, effect, rules);
        } catch (err) {
          if (rules < 2 || !(err instanceof ActivityFailure)) throw err;
          // failed for good (retries are unlimited, so a non-retryable refusal): surfaced, never stops the task
          commit({ type: 'effect_failed', actor: SYSTEM, reason: err.cause?.message ?? err.message, payload: { effect: effect.kind, message: err.cause?.message ?? err.message } });
        }
      }
    });
  const effector = runAll(effects);
  const messenger = runAll(messages);

  /**
   * Engine 5, R-RATE post-campaign data: from acceptance to the end of
   * retention, each reading on its durable timer (the first one too: a timer of
   * its own, so the platform is never on the path of the acceptance's answer),
   * then `collectMetrics` as a local activity (idempotent per reading number; a
   * failing platform retried on durable timers until the next reading is due,
   * then skipped). Stops for good once the content is not live when a reading
   * is due, or the task ends otherwise.
   */
  const collector = (async () => {
    if (!collecting) return;
    await condition(() => (state.acceptance.acceptedAt !== null && state.retention.endsAt !== null) || isTerminal(state.status));
    const startsAt = Date.parse(state.acceptance.acceptedAt ?? '');
    const endsAt = Date.parse(state.retention.endsAt ?? '');
    const ended = () => isTerminal(state.status) && state.completion?.kind !== 'retention_served';
    for (;;) {
      const at = Number.isNaN(startsAt) || Number.isNaN(endsAt) ? null : metricsPollAt(readingsTaken, startsAt, endsAt);
      if (at === null || ended()) break;
      // a short wait (the reading due at acceptance: 1 ms, so it has a workflow task of its own) is a plain
      // timer, never cancelled: a cancel racing the timer's firing is what a short timer would mostly meet
      const wait = Math.max(at - now(), 1);
      const summary = `metrics reading ${readingsTaken + 1}`;
      if (wait <= MINUTE) await sleep(wait, { summary });
      else await condition(ended, wait, { summary });
      if (ended()) break;
      const live = state.status === 'in_retention' || state.completion?.kind === 'retention_served';
      const itemId = state.publication.itemId;
      if (!live || !itemId) break;
      const next = metricsPollAt(readingsTaken + 1, startsAt, endsAt);
      const window = next ?? at + LAST_READING_WINDOW_MS;
      const input = { taskId: state.taskId, reading: readingsTaken, at: new Date(at).toISOString(), item: { platform: taskTypeOf(state.type).platform, itemId } };
      let result: { collecting: boolean } | null = null;
      for (let attempt = 0; result === null; attempt++) {
        try {
          reading = true;
          result = await takeReading.executeWithOptions({ summary }, [input]);
        } catch (err) {
          reading = false;
          // a refusal for good (no adapter, an unknown item): the end of collection, never of the task
          if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.nonRetryable) {
            log.warn('metrics reading refused for good; collection ends', { taskId: state.taskId, reading: readingsTaken, error: String(err.cause) });
            result = { collecting: false };
            break;
          }
          const backoff = readingBackoffMs(attempt);
          // failed until the next reading is due: this one is skipped
          if (now() + backoff >= window) {
            log.warn('metrics reading skipped: the platform failed it until the next was due', { taskId: state.taskId, reading: readingsTaken, error: String(err) });
            result = { collecting: true };
            break;
          }
          if (await condition(ended, backoff, { summary: `${summary}: try again` })) result = { collecting: false };
        }
      }
      reading = false;
      if (!result.collecting) break;
      readingsTaken += 1;
      // a year of readings is ~2,300 events: counted against the run's budget like any change
      checkHistory();
    }
    collecting = false;
  })();

  if (rules < 2) commit(orderedEvent(state));

  // The lifecycle: wait until the next timer is due or a message changes which
  // timer is next (a change that leaves the timer as it was keeps it running).
  if (carried) {
    // the new run's current details and search attributes, as the last run left them
    publish();
    setCurrentDetails(currentDetails(state));
  }
  while (!isTerminal(state.status)) {
    if (handOver) {
      // every accepted action projected and every effect done, no handler midway: then the next run.
      // A deadline due meanwhile goes first (an effect retrying against a provider that is down must
      // not hold the task's timers): the handover is tried again after it.
      // (a metrics reading's attempt is waited for, its backoff between attempts is not: a platform that
      // stays down never holds the handover; the next run takes that reading again, stored once per number)
      const idle = () => projections.idle && effects.idle && messages.idle && !reading && allHandlersFinished();
      const due = nextTimer(state);
      const untilDue = due ? due.at - now() : null;
      const ready = untilDue === null ? (await condition(idle), true) : untilDue > 0 && (await condition(idle, untilDue));
      if (isTerminal(state.status)) break;
      if (ready) {
        const updates = appliedUpdates.slice(-UPDATES_CARRIED);
        return continueAsNew<typeof taskWorkflow>(order, {
          carried: state,
          eventsPerRun,
          ...(engine3 ? { engine } : {}),
          ...(engine >= 5 ? { readings: readingsTaken, ...(collecting ? {} : { readingsEnded: true }) } : {}),
          ...(updates.length > 0 ? { updates } : {}),
        });
      }
    }
    const timer = nextTimer(state);
    const current = timerKey(timer);
    const moved = () => isTerminal(state.status) || handOver || timerKey(nextTimer(state)) !== current;
    if (!timer) {
      await condition(moved);
      continue;
    }
    const wait = timer.at - now();
    if (wait > 0 && (rules >= 2 ? await condition(moved, wait, { summary: timerSummary(timer.kind) }) : await condition(moved, wait))) continue;
    if (now() < timer.at) continue;
    // a task meeting the rules' corrections here may run other timers under them: the loop looks again
    takeFixes();
    if (timerKey(nextTimer(state)) !== current) continue;
    commit(decideOrFail({ type: 'timer', timer: timer.kind, actor: SYSTEM }));
  }

  // Nothing accepted is lost: every event is projected and every effect done (engine 5: the last reading taken).
  await condition(() => projections.idle && effects.idle && messages.idle && allHandlersFinished() && !collecting);
  void projector;
  void collector;
  void effector;
  void messenger;
  return { status: state.status, version: state.version };
}

/** What the Temporal UI shows for a timer. */
function timerSummary(kind: TimerKind): string {
  const labels: Record<TimerKind, string> = {
    remind_acceptance: 'phone reminder 2 h before the 24 h acceptance deadline',
    expire_acceptance: '24 h acceptance deadline: cancel and refund',
    auto_accept: '7-day auto-acceptance: settle escrow to the creator',
    end_retention: 'end of retention: complete the task',
    remind_deadline: 'reminder 24 h before the stage deadline',
    expire_draft: 'drafting deadline: cancel (delivery_overdue) and refund',
    escalate_review: '24 working hours of operator review: escalate',
    expire_confirmation: '7 days for the client: deemed confirmed',
    expire_publication: '7 days to publish: cancel (creator) or settle (client publishes)',
    escalate_complaint: '24 working hours of an open complaint: escalate',
    republish_grace: '24 h republication grace: retention violation',
    expire_not_public: '72 h not public: cancel (content_withdrawn) and refund',
    expire_cancellation: '48 h to answer the cancellation proposal: refused',
    expire_takedown: '48 h to answer the takedown request: refused',
  };
  return labels[kind];
}

/** The Temporal UI's current details: status, who acts next, the next deadline and what happens then. */
function currentDetails(state: TaskState): string {
  const timer = nextTimer(state);
  const lines = [
    `**${state.type}** · ${state.priceFen} fen · retention ${state.retentionDays} d`,
    `status: **${state.status}** · waiting for: ${waitingFor(state)}`,
    timer ? `next: ${timerSummary(timer.kind)} at ${new Date(timer.at).toISOString()}` : isTerminal(state.status) ? `closed: ${state.cancellation?.reason ?? state.completion?.kind ?? ''}` : 'next: an operator decides (escalated)',
  ];
  const flags = attentionOf(state);
  if (flags.length) lines.push(`attention: ${flags.join(', ')}`);
  return lines.join('\n\n');
}

const timerKey = (timer: ReturnType<typeof nextTimer>): string => (timer ? `${timer.kind}@${timer.at}` : 'none');

function checkedOrder(order: TaskOrder): TaskOrder {
  try {
    return validateOrder(order);
  } catch (err) {
    throw asFailure(err);
  }
}

/** The one mapping of a domain refusal to what Temporal carries to the API (api/temporalErrors.ts maps it back). */
function asFailure(err: unknown): unknown {
  if (err instanceof DomainError) return ApplicationFailure.create({ type: err.kind, message: err.message, details: [err.details], nonRetryable: true });
  return err;
}

async function runEffect(state: TaskState, effect: Effect, rules: number): Promise<void> {
  switch (effect.kind) {
    case 'settle':
      // Added with the ledger: tasks that reached this point before it (saved
      // histories) did not schedule this activity, so replaying them skips it.
      // (engine 3 settles in the projection and never gets here)
      if (patched('escrow-settlement')) await settleEscrow.executeWithOptions({ summary: settleSummary(settlementOf(state, effect)) }, [settlementOf(state, effect)]);
      return;
    case 'notify':
      await (rules >= 2 ? notifications.sendNotification : sendNotification).executeWithOptions({ summary: `${effect.channel} '${effect.template}' to the ${effect.recipient.role}` }, [{ ...effect, taskId: state.taskId }]);
      return;
    case 'credit':
      // histories from before `occurredAt` was on the effect fall back to the time the effect runs
      await recordCreditChange.executeWithOptions({ summary: `credit ${effect.delta} points: ${effect.cause}` }, [{ ...effect, taskId: state.taskId, actor: SYSTEM, occurredAt: effect.occurredAt ?? new Date(now()).toISOString() }]);
      return;
  }
}

/** The ledger's settlement of the task's escrow that a `settle` effect asks for. */
function settlementOf(state: TaskState, effect: Extract<Effect, { kind: 'settle' }>): Settlement {
  return {
    taskId: state.taskId,
    clientId: state.clientId,
    creatorId: state.creatorId,
    outcome: effect.outcome,
    refundFen: effect.refundFen,
    payoutFen: effect.payoutFen,
    payoutAccount: state.payoutAccount,
  };
}

/** What the Temporal UI shows for a settlement (its activity, or the projection that carries it). */
function settleSummary(effect: Settlement): string {
  if (effect.outcome === 'payout') return `settle escrow → creator: ${effect.payoutFen} fen`;
  if (effect.outcome === 'refund') return `settle escrow → client: refund ${effect.refundFen} fen`;
  return `settle escrow: refund ${effect.refundFen} fen to the client, ${effect.payoutFen} fen to the creator`;
}

/** What the search attributes say, as one string: status, next deadline and (rules 2) attention. */
const fingerprintOf = (status: string, nextDeadline: string | null, attention: string[] | null): string =>
  `${status}|${nextDeadline ?? ''}${attention ? `|${attention.join(',')}` : ''}`;

/**
 * The fingerprint of the search attributes the run started with (engine 4: the
 * start sets them, a continued run inherits them), or '' when the task's
 * identity is not among them (the first change then sets them all).
 */
function publishedAtStart(): string {
  const attributes = workflowInfo().typedSearchAttributes;
  const status = attributes.get(TaskStatusKey);
  if (!status || !attributes.get(TaskTypeKey) || !attributes.get(ClientIdKey) || !attributes.get(CreatorIdKey)) return '';
  return fingerprintOf(status, attributes.get(NextDeadlineKey)?.toISOString() ?? null, attributes.get(TaskAttentionKey) ?? []);
}

/** Upserts the search attributes when status, deadline or (rules 2) attention changed; returns what is now published. */
function publishSearchAttributes(state: TaskState, published: string, projectionFailing: boolean): string {
  const deadline = state.nextDeadline ? new Date(state.nextDeadline) : null;
  const attention = state.rules >= 2 ? [...attentionOf(state), ...(projectionFailing ? ['projection_failing'] : [])] : null;
  const fingerprint = fingerprintOf(state.status, state.nextDeadline, attention);
  if (fingerprint === published) return published;
  const first = published === '';
  upsertSearchAttributes([
    { key: TaskStatusKey, value: state.status },
    { key: NextDeadlineKey, value: deadline },
    ...(attention ? [{ key: TaskAttentionKey, value: attention.length ? attention : null }] : []),
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
