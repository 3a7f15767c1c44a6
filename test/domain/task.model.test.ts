/**
 * Model-based property test of the pure task domain (R-STAGE-DEADLINE and the rules
 * of "No task waits forever"): random orders, random sequences of every user and
 * operator command (by every kind of actor), platform events (with redeliveries
 * and out-of-order delivery) and time skips, applied as the workflow applies them
 * (decide -> evolve; due timers fire in order). After every step:
 *   (a) a state that is not terminal has a next timer, unless it waits only for an
 *       operator whose escalation already fired;
 *   (b) from any reachable state, time alone reaches (within 400 days) a terminal
 *       state or such an operator-only wait — never a wait on the client or creator;
 *   (c) every terminal state has exactly one escrow outcome and refund + payout = price;
 *       a settlement, once made, never changes;
 *   (d) retention violations never exceed the lapses of public visibility;
 *   (e) a cancelled task was never accepted, and the cancelling event settled its escrow;
 *   (f) an open cancellation proposal is before acceptance and its answer-by, a takedown before its answer-by;
 *   (g) an open task's live item is public in the task only if the platform's latest word on it says so.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DAY,
  DomainError,
  HOUR,
  MINUTE,
  SYSTEM,
  TASK_TYPE_IDS,
  decide,
  evolve,
  initialState,
  isStalePlatformEvent,
  isTerminal,
  nextTimer,
  orderedEvent,
  taskTypeOf,
  type Actor,
  type PlatformEventKind,
  type TaskCommand,
  type TaskState,
  type UserCommand,
} from '../../domain/index.js';

const START = Date.parse('2026-01-05T01:00:00.000Z');
const CLIENT: Actor = { role: 'client', id: 'cli_1' };
const CREATOR: Actor = { role: 'creator', id: 'crt_1' };
const OPERATOR: Actor = { role: 'operator', id: 'op_1' };
const STRANGER: Actor = { role: 'client', id: 'cli_2' };
const ITEMS = ['item-1', 'item-2', 'item-3'];

type Step =
  | { kind: 'command'; actor: Actor; command: UserCommand }
  /** The next step of the happy path from the current status (what a party would do), with a choice where there is one. */
  | { kind: 'progress'; choice: number }
  | { kind: 'platform'; item: string; event: PlatformEventKind; back: number; redeliver: number }
  | { kind: 'wait'; ms: number };

const text = fc.constantFrom('ok', 'needs a better hook', 'x');
const userCommand: fc.Arbitrary<UserCommand> = fc.oneof(
  fc.constant({ type: 'accept' as const }),
  text.map((reason) => ({ type: 'decline' as const, reason })),
  fc.record({ type: fc.constant('submit' as const), stage: fc.constantFrom('script' as const, 'content' as const), body: text }),
  fc.record({ type: fc.constant('review' as const), stage: fc.constantFrom('script' as const, 'content' as const), decision: fc.constantFrom('pass' as const, 'reject' as const), reason: text }),
  fc.record({ type: fc.constant('confirm' as const), stage: fc.constantFrom('script' as const, 'content' as const), decision: fc.constantFrom('confirm' as const, 'reject' as const), reason: text }),
  fc.constantFrom(...ITEMS).map((platformItemId) => ({ type: 'publish' as const, platformItemId })),
  fc.constant({ type: 'accept_delivery' as const }),
  fc.constant({ type: 'grant_modification' as const }),
  text.map((reason) => ({ type: 'file_complaint' as const, reason })),
  fc.record({ type: fc.constant('resolve_complaint' as const), outcome: fc.constantFrom('dismissed' as const, 'upheld_fix' as const, 'upheld_cancel' as const), note: text }),
  fc.integer({ min: 0, max: 31 }).map((days) => ({ type: 'extend_draft_deadline' as const, days })),
  fc.record({ type: fc.constant('resolve_task' as const), outcome: fc.constantFrom('cancel' as const, 'settle' as const), reason: text, refundFen: fc.option(fc.integer({ min: 0, max: 120_000 }), { nil: undefined }) }),
  fc.record({ type: fc.constant('propose_cancellation' as const), reason: text, refundFen: fc.option(fc.integer({ min: 0, max: 120_000 }), { nil: undefined }) }),
  fc.record({ type: fc.constant('answer_cancellation' as const), agree: fc.boolean(), reason: text }),
  text.map((reason) => ({ type: 'request_takedown' as const, reason })),
  fc.record({ type: fc.constant('answer_takedown' as const), agree: fc.boolean(), reason: text }),
);

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('command' as const), actor: fc.constantFrom(CLIENT, CREATOR, OPERATOR, STRANGER), command: userCommand }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('platform' as const),
      item: fc.constantFrom(...ITEMS),
      event: fc.constantFrom('published' as const, 'hidden' as const, 'deleted' as const, 'restored' as const),
      back: fc.constantFrom(0, 0, 0, 5 * MINUTE, 3 * HOUR), // out-of-order: the platform's time lies behind
      redeliver: fc.constantFrom(-1, -1, 0, 1, 5), // >= 0: resend an earlier event exactly
    }),
  },
  { weight: 12, arbitrary: fc.record({ kind: fc.constant('progress' as const), choice: fc.nat(9) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('wait' as const), ms: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: MINUTE, max: 12 * HOUR }) }, { weight: 1, arbitrary: fc.integer({ min: 12 * HOUR, max: 10 * DAY }) }) }) },
);

const order = fc
  .record({
    type: fc.constantFrom(...TASK_TYPE_IDS),
    script: fc.boolean(),
    retention: fc.oneof(fc.constantFrom(7, 15, 30, 60), fc.integer({ min: 1, max: 365 })),
    draftDays: fc.integer({ min: 1, max: 30 }),
    priceFen: fc.integer({ min: 100, max: 100_000 }),
  })
  .map((o) => {
    const def = taskTypeOf(o.type);
    return {
      taskId: 'tsk_model',
      type: o.type,
      clientId: CLIENT.id,
      creatorId: CREATOR.id,
      brief: 'brief',
      scriptRequired: o.script && def.draft !== null,
      retentionDays: Math.max(o.retention, def.minRetentionDays),
      priceFen: o.priceFen,
      draftDays: o.draftDays,
      orderedAt: new Date(START).toISOString(),
    };
  });

/** The task as the workflow runs it: state, workflow time, platform clock and what was sent. */
class Model {
  state: TaskState;
  now = START;
  platformNow = START;
  sent: { eventId: string; kind: PlatformEventKind; itemId: string; occurredAt: string }[] = [];
  lapses = 0;
  settlement: TaskState['settlement'] = null;
  deepest = 'awaiting_acceptance';
  outcomes = new Set<string>();

  constructor(o: Parameters<typeof initialState>[0]) {
    this.state = initialState(o, START, 2);
    this.apply(() => orderedEvent(this.state));
  }

  private apply(decideIt: () => ReturnType<typeof decide>): boolean {
    let draft;
    try {
      draft = decideIt();
    } catch (err) {
      if (err instanceof DomainError) return false;
      throw err;
    }
    const before = this.state.publication.visibility;
    evolve(this.state, draft, this.now);
    const after = this.state.publication.visibility;
    if (before === 'public' && after !== 'public') this.lapses += 1;
    if (['awaiting_client_acceptance', 'in_retention'].includes(this.state.status)) this.deepest = this.state.status === 'in_retention' || this.deepest === 'in_retention' ? 'in_retention' : this.state.status;
    const closed = this.state.cancellation?.reason ?? this.state.completion?.kind;
    if (closed) this.outcomes.add(closed);
    this.check();
    return true;
  }

  command(actor: Actor, command: UserCommand): void {
    const c = { ...command, actor } as TaskCommand;
    this.apply(() => decide(this.state, c, this.now));
  }

  platform(s: Extract<Step, { kind: 'platform' }>): void {
    let event;
    if (s.redeliver >= 0 && this.sent.length > 0) {
      event = this.sent[Math.max(0, this.sent.length - 1 - s.redeliver)]!;
    } else {
      this.platformNow = Math.max(this.platformNow + 1000, this.now) ;
      event = { eventId: `evt-${this.sent.length + 1}`, kind: s.event, itemId: s.item, occurredAt: new Date(this.platformNow - s.back).toISOString() };
      this.sent.push(event);
    }
    // the workflow's signal handler: stale or redelivered events change nothing
    if (isStalePlatformEvent(this.state, event)) return;
    this.apply(() => decide(this.state, { type: 'platform', ...event, actor: { role: 'platform', id: 'content-platform' } }, this.now));
  }

  /** The move a party makes next on the happy path (sometimes a rejection), so runs reach deep states. */
  progress(choice: number): void {
    const s = this.state;
    const reject = choice < 2;
    const publisher = taskTypeOf(s.type).publisher === 'creator' ? CREATOR : CLIENT;
    // R-MUTUAL-CANCEL: a pending proposal is answered by the other party (half agree), so mutual cancellations are
    // reached often enough for the coverage check below (by random commands alone: ~4 runs in 10,000)
    if (s.proposal) {
      const other = s.proposal.by === 'client' ? CREATOR : CLIENT;
      return this.command(other, { type: 'answer_cancellation', agree: choice % 2 === 0, reason: 'ok' });
    }
    switch (s.status) {
      case 'awaiting_acceptance':
        return this.command(CREATOR, choice === 0 ? { type: 'decline', reason: 'busy' } : { type: 'accept' });
      case 'script_drafting':
        return this.command(CREATOR, { type: 'submit', stage: 'script', body: `v${choice}` });
      case 'content_drafting':
        if (choice === 9) return this.command(CLIENT, { type: 'propose_cancellation', reason: 'plans changed' });
        return this.command(CREATOR, { type: 'submit', stage: 'content', body: `v${choice}` });
      case 'script_review':
      case 'content_review':
        return this.command(OPERATOR, { type: 'review', stage: s.status === 'script_review' ? 'script' : 'content', decision: reject ? 'reject' : 'pass', reason: 'fix it' });
      case 'script_confirmation':
      case 'content_confirmation':
        return this.command(CLIENT, { type: 'confirm', stage: s.status === 'script_confirmation' ? 'script' : 'content', decision: reject ? 'reject' : 'confirm', reason: 'fix it' });
      case 'awaiting_publication': {
        if (s.publication.pendingItemId && choice > 3) return this.platform({ kind: 'platform', item: s.publication.pendingItemId, event: 'published', back: 0, redeliver: -1 });
        return this.command(publisher, { type: 'publish', platformItemId: ITEMS[choice % ITEMS.length]! });
      }
      case 'awaiting_client_acceptance': {
        const live = s.publication.itemId!;
        if (s.acceptance.complaint) {
          const outcome = (['dismissed', 'upheld_fix', 'upheld_cancel'] as const)[choice % 3]!;
          return this.command(OPERATOR, { type: 'resolve_complaint', outcome, note: 'checked' });
        }
        if (choice <= 1) return this.platform({ kind: 'platform', item: live, event: choice === 0 ? 'hidden' : 'deleted', back: 0, redeliver: -1 });
        if (choice === 5) return this.platform({ kind: 'platform', item: live, event: 'restored', back: 0, redeliver: -1 });
        if (choice === 6) return this.command(CLIENT, { type: 'file_complaint', reason: 'off brief' });
        if (s.publication.pendingItemId && choice >= 3 && choice <= 4) return this.platform({ kind: 'platform', item: s.publication.pendingItemId, event: 'published', back: 0, redeliver: -1 });
        if (choice >= 7) return this.command(CLIENT, { type: 'accept_delivery', publishTime: s.publication.publishedAt ?? undefined });
        if (s.publication.modificationGrantedAt === null && taskTypeOf(s.type).modificationNeedsPermission) return this.command(CLIENT, { type: 'grant_modification' });
        return this.command(publisher, { type: 'publish', platformItemId: ITEMS[choice % ITEMS.length]! });
      }
      case 'in_retention': {
        const live = s.publication.itemId!;
        if (s.takedown) return this.command(CLIENT, { type: 'answer_takedown', agree: choice % 2 === 0, reason: 'no' });
        if (choice <= 1) return this.platform({ kind: 'platform', item: live, event: choice === 0 ? 'hidden' : 'deleted', back: 0, redeliver: -1 });
        if (choice === 2) return this.platform({ kind: 'platform', item: live, event: 'restored', back: 0, redeliver: -1 });
        return this.command(CREATOR, { type: 'request_takedown', reason: 'rebrand' });
      }
      default:
        return;
    }
  }

  /** Advances workflow time, firing every timer that falls due on the way, in order. */
  wait(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      const timer = nextTimer(this.state);
      if (!timer || timer.at > until || isTerminal(this.state.status)) break;
      this.now = Math.max(this.now, timer.at);
      const fired = this.apply(() => decide(this.state, { type: 'timer', timer: timer.kind, actor: SYSTEM }, this.now));
      expect(fired, `due timer ${timer.kind} refused in ${this.state.status}`).toBe(true);
    }
    this.now = until;
  }

  /** What the platform last said of an item (its latest event in the platform's order), or null. */
  platformState(itemId: string): PlatformEventKind | null {
    let latest: { key: string; kind: PlatformEventKind } | null = null;
    for (const e of this.sent) {
      if (e.itemId !== itemId) continue;
      const key = `${new Date(e.occurredAt).toISOString()}|${e.eventId}`;
      if (!latest || key > latest.key) latest = { key, kind: e.kind };
    }
    return latest?.kind ?? null;
  }

  /** Invariants that hold after every step. */
  check(): void {
    const s = this.state;
    // (c) one settlement, never changed; every terminal state has it and it adds up to the price
    if (this.settlement) expect(s.settlement).toEqual(this.settlement);
    this.settlement = s.settlement;
    if (s.settlement) expect(s.settlement.refundFen + s.settlement.payoutFen).toBe(s.priceFen);
    if (isTerminal(s.status)) expect(s.settlement, `terminal ${s.status} without an escrow outcome`).not.toBeNull();
    if (s.status === 'in_retention') expect(s.settlement?.payoutFen).toBe(s.priceFen);
    // (a) every state that is not terminal has an exit
    if (!isTerminal(s.status)) {
      const timer = nextTimer(s);
      if (!timer) expect(waitsOnlyForEscalatedOperator(s), `no timer in ${s.status}`).toBe(true);
      expect(s.nextDeadline).toBe(timer ? new Date(timer.at).toISOString() : null);
    }
    // (d) violations never exceed the lapses of public visibility
    expect(s.retention.violations).toBeLessThanOrEqual(this.lapses);
    // (e) R-MUTUAL-CANCEL, R-ESCROW: a cancelled task was never accepted (an accepted one was paid in full), and its
    // escrow was settled by the event that cancelled it
    if (s.status === 'cancelled') {
      expect(s.acceptance.acceptedAt, 'an accepted (paid) task ended cancelled').toBeNull();
      expect(s.settlement?.at).toBe(s.cancellation?.at);
    }
    // (f) an open proposal is before acceptance and not past its answer-by (at it, its expiry is due in this
    // instant: another timer of the same instant may fire first); an open takedown not past its answer-by; a
    // task that ended has neither
    if (s.proposal) {
      expect(['in_retention', 'completed', 'cancelled']).not.toContain(s.status);
      expect(this.now).toBeLessThanOrEqual(Date.parse(s.proposal.answerBy));
    }
    if (s.takedown) {
      expect(s.status, 'a takedown request open on a task that ended').toBe('in_retention');
      expect(this.now).toBeLessThanOrEqual(Date.parse(s.takedown.answerBy));
    }
    // (g) R-NOT-PUBLIC-EXIT, R-ACCEPTANCE-7D: an open task takes its live item for public only when it is, on the
    // platform (the item's latest event in the platform's own order: time, then id, as the workflow orders them)
    if (!isTerminal(s.status) && s.publication.visibility === 'public' && s.publication.itemId) {
      expect(['published', 'restored'], `item ${s.publication.itemId} is public in the task, not on the platform`).toContain(this.platformState(s.publication.itemId));
    }
  }
}

function waitsOnlyForEscalatedOperator(s: TaskState): boolean {
  if ((s.status === 'script_review' || s.status === 'content_review') && s.phase.escalatedAt) return true;
  return s.status === 'awaiting_client_acceptance' && s.acceptance.complaint !== null && s.complaintEscalatedAt !== null && s.publication.visibility === 'public';
}

describe('task domain model (R-STAGE-DEADLINE, R-OPERATOR-RESOLVE, R-MUTUAL-CANCEL, R-TAKEDOWN, R-RETENTION-PENALTY)', () => {
  it('R-STAGE-DEADLINE: every reachable state has an exit, time alone ends it, every escrow ends once and adds up, violations <= lapses', () => {
    const runs = Number(process.env['MODEL_RUNS'] ?? 10_000);
    const reached = new Set<string>();
    const outcomes = new Set<string>();
    const counts = new Map<string, number>();
    fc.assert(
      fc.property(order, fc.array(step, { minLength: 10, maxLength: 60, size: 'max' }), (o, steps) => {
        const model = new Model(o);
        for (const s of steps) {
          if (s.kind === 'command') model.command(s.actor, s.command);
          else if (s.kind === 'progress') model.progress(s.choice);
          else if (s.kind === 'platform') model.platform(s);
          else model.wait(s.ms);
        }
        // (b) time alone, from here: a terminal state or an operator-only wait, within 400 days
        model.wait(400 * DAY);
        const s = model.state;
        expect(isTerminal(s.status) || waitsOnlyForEscalatedOperator(s), `stuck in ${s.status} waiting for ${JSON.stringify(nextTimer(s))}`).toBe(true);
        reached.add(model.deepest);
        counts.set(model.deepest, (counts.get(model.deepest) ?? 0) + 1);
        for (const e of model.outcomes) outcomes.add(e);
      }),
      { numRuns: runs },
    );
    if (process.env['MODEL_STATS']) console.log(counts, outcomes);
    // the runs are not vacuous: they reach retention and end in every kind of outcome
    expect([...reached]).toEqual(expect.arrayContaining(['in_retention', 'awaiting_client_acceptance']));
    expect([...outcomes].sort()).toEqual(
      expect.arrayContaining([
        'acceptance_expired',
        'declined',
        'delivery_overdue',
        'publication_overdue',
        'content_withdrawn',
        'operator_cancelled',
        'mutually_cancelled',
        'retention_served',
        'retention_broken',
        'taken_down',
        'complaint_upheld',
      ]),
    );
  });

  it('R-RETENTION-PENALTY: a mutation that forgets the lapse (a second violation for hidden -> deleted) is caught by invariant (d)', () => {
    // negative control: count lapses the way a broken implementation would not
    const model = new Model({ taskId: 'tsk_m', type: 'douyin_video', clientId: CLIENT.id, creatorId: CREATOR.id, brief: 'b', scriptRequired: false, retentionDays: 30, priceFen: 1000, orderedAt: new Date(START).toISOString() });
    model.command(CREATOR, { type: 'accept' });
    model.command(CREATOR, { type: 'submit', stage: 'content', body: 'v' });
    model.command(OPERATOR, { type: 'review', stage: 'content', decision: 'pass' });
    model.command(CLIENT, { type: 'confirm', stage: 'content', decision: 'confirm' });
    model.command(CREATOR, { type: 'publish', platformItemId: 'item-1' });
    model.platform({ kind: 'platform', item: 'item-1', event: 'published', back: 0, redeliver: -1 });
    model.platform({ kind: 'platform', item: 'item-1', event: 'hidden', back: 0, redeliver: -1 });
    model.platform({ kind: 'platform', item: 'item-1', event: 'deleted', back: 0, redeliver: -1 });
    expect(model.state.retention.violations).toBe(1);
    model.state.retention.violations += 1; // what counting the deletion again would do
    expect(() => model.check()).toThrow();
  });
});
