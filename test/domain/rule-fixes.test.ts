/**
 * The corrections of the rules (TaskState `fixes` 1, engine 7), each against the
 * scenario an outside review found (session 18), in the pure domain: the same
 * decide -> evolve -> due timers the workflow runs. Every case also runs with
 * `fixes` absent (a task that had not met them, replaying as it ran) to show
 * what the correction changes.
 */
import { describe, expect, it } from 'vitest';
import {
  DAY,
  DomainError,
  HOUR,
  RULE_FIXES,
  SYSTEM,
  decide,
  evolve,
  initialState,
  isStalePlatformEvent,
  nextTimer,
  orderedEvent,
  type Actor,
  type PlatformEventKind,
  type TaskState,
  type TaskTypeId,
  type UserCommand,
} from '../../domain/index.js';

const T0 = Date.parse('2026-03-02T02:00:00.000Z');
const CLIENT: Actor = { role: 'client', id: 'cli_f' };
const CREATOR: Actor = { role: 'creator', id: 'crt_f' };
const OPERATOR: Actor = { role: 'operator', id: 'op_f' };
const PLATFORM: Actor = { role: 'platform', id: 'content-platform' };

/** One task, driven as the workflow drives it. */
class Task {
  state: TaskState;
  now = T0;
  private platformEvents = 0;

  constructor(type: TaskTypeId, fixes: number, retentionDays = 30) {
    this.state = initialState({ taskId: 'tsk_fix', type, clientId: CLIENT.id, creatorId: CREATOR.id, brief: 'b', scriptRequired: false, retentionDays, priceFen: 100_000, orderedAt: new Date(T0).toISOString() }, T0, 2, true, true, fixes);
    evolve(this.state, orderedEvent(this.state), this.now);
  }

  do(actor: Actor, command: UserCommand): void {
    evolve(this.state, decide(this.state, { ...command, actor }, this.now), this.now);
  }

  /** The refusal's code, or null when the command was accepted (and applied). */
  try(actor: Actor, command: UserCommand): string | null {
    try {
      this.do(actor, command);
      return null;
    } catch (err) {
      if (err instanceof DomainError) return String(err.details?.['code'] ?? err.kind);
      throw err;
    }
  }

  platform(kind: PlatformEventKind, itemId: string, redelivery?: { eventId: string; occurredAt: string }): { eventId: string; occurredAt: string } {
    const sent = redelivery ?? { eventId: `evt-${++this.platformEvents}`, occurredAt: new Date(this.now).toISOString() };
    const event = { ...sent, kind, itemId };
    if (!isStalePlatformEvent(this.state, event)) evolve(this.state, decide(this.state, { type: 'platform', ...event, actor: PLATFORM }, this.now), this.now);
    return sent;
  }

  /** Advances time, firing each timer that falls due on the way. */
  wait(ms: number): void {
    const until = this.now + ms;
    for (let timer = nextTimer(this.state); timer && timer.at <= until; timer = nextTimer(this.state)) {
      this.now = Math.max(this.now, timer.at);
      evolve(this.state, decide(this.state, { type: 'timer', timer: timer.kind, actor: SYSTEM }, this.now), this.now);
    }
    this.now = until;
  }

  /** Ordered -> accepted -> content passed and confirmed: waiting for the creator to publish. */
  toPublication(): this {
    this.do(CREATOR, { type: 'accept' });
    this.do(CREATOR, { type: 'submit', stage: 'content', body: 'v1' });
    this.do(OPERATOR, { type: 'review', stage: 'content', decision: 'pass' });
    this.do(CLIENT, { type: 'confirm', stage: 'content', decision: 'confirm' });
    expect(this.state.status).toBe('awaiting_publication');
    return this;
  }

  /** ... then published and live: waiting for the client's acceptance. */
  toLive(itemId = 'item-1'): this {
    this.toPublication();
    this.do(CREATOR, { type: 'publish', platformItemId: itemId });
    this.platform('published', itemId);
    expect(this.state.status).toBe('awaiting_client_acceptance');
    return this;
  }
}

describe('rule fixes 1 (engine 7): corrected rules, with the old behaviour for tasks that replay as they ran', () => {
  it('a new task runs under the newest corrections; rules 1 under none', () => {
    expect(new Task('douyin_video', RULE_FIXES).state.fixes).toBe(RULE_FIXES);
    const legacy = initialState({ taskId: 't', type: 'douyin_video', clientId: 'c', creatorId: 'r', brief: 'b', scriptRequired: false, retentionDays: 30, priceFen: 1 }, T0, 1);
    expect(legacy.fixes).toBeUndefined();
  });

  it('R-MUTUAL-CANCEL: a proposal still open at acceptance lapses; agreeing later cancels nothing (the creator was paid)', () => {
    const t = new Task('douyin_video', RULE_FIXES).toLive();
    t.wait(6 * DAY);
    t.do(CLIENT, { type: 'propose_cancellation', reason: 'changed plans', refundFen: 90_000 });
    expect(t.state.proposal).not.toBeNull();
    t.wait(1 * DAY + HOUR); // day 7 after publication: accepted automatically, paid in full
    expect(t.state.status).toBe('in_retention');
    expect(t.state.settlement).toMatchObject({ refundFen: 0, payoutFen: 100_000 });
    expect(t.state.proposal).toBeNull();
    expect(t.try(CREATOR, { type: 'answer_cancellation', agree: true })).toBe('no-open-proposal');
    expect(t.state.status).toBe('in_retention');

    // what the old rules did (tasks that replay as they ran): the paid task ends "mutually cancelled"
    const old = new Task('douyin_video', 0).toLive();
    old.wait(6 * DAY);
    old.do(CLIENT, { type: 'propose_cancellation', reason: 'changed plans', refundFen: 90_000 });
    old.wait(1 * DAY + HOUR);
    expect(old.try(CREATOR, { type: 'answer_cancellation', agree: true })).toBeNull();
    expect(old.state.status).toBe('cancelled');
  });

  it('R-MUTUAL-CANCEL: an answer at or after the 48-hour deadline is refused even before the expiry timer ran (silence refused it)', () => {
    const t = new Task('douyin_video', RULE_FIXES);
    t.do(CREATOR, { type: 'accept' });
    t.do(CLIENT, { type: 'propose_cancellation', reason: 'changed plans' });
    const answerBy = Date.parse(t.state.proposal!.answerBy);
    expect(answerBy - t.now).toBe(48 * HOUR);
    t.now = answerBy; // an update handled in the same activation as the timer's firing, before it
    expect(t.try(CREATOR, { type: 'answer_cancellation', agree: true })).toBe('answer-window-closed');
    expect(t.state.status).toBe('content_drafting');
    t.now = answerBy - 1;
    expect(t.try(CREATOR, { type: 'answer_cancellation', agree: true })).toBeNull();
    expect(t.state.status).toBe('cancelled');
    expect(t.state.settlement).toMatchObject({ refundFen: 100_000, payoutFen: 0 });
  });

  it('R-TAKEDOWN: the client answers within 48 hours; at the deadline the answer is refused', () => {
    const t = new Task('douyin_video', RULE_FIXES).toLive();
    t.do(CLIENT, { type: 'accept_delivery' });
    t.do(CREATOR, { type: 'request_takedown', reason: 'rebrand' });
    t.now = Date.parse(t.state.takedown!.answerBy);
    expect(t.try(CLIENT, { type: 'answer_takedown', agree: true })).toBe('answer-window-closed');
    expect(t.state.status).toBe('in_retention');
  });

  it('R-NOT-PUBLIC-EXIT, R-REPUBLISH-GRACE: linking a deleted item again after an upheld complaint is refused, so the grace and the exit run on', () => {
    const t = new Task('douyin_video', RULE_FIXES).toLive('item-1');
    t.do(CLIENT, { type: 'file_complaint', reason: 'wrong product shown' });
    t.do(OPERATOR, { type: 'resolve_complaint', outcome: 'upheld_fix', note: 'fix the product shot' });
    t.do(CREATOR, { type: 'submit', stage: 'content', body: 'v2' });
    t.do(OPERATOR, { type: 'review', stage: 'content', decision: 'pass' });
    t.do(CLIENT, { type: 'confirm', stage: 'content', decision: 'confirm' });
    expect(t.state.status).toBe('awaiting_publication');
    t.platform('deleted', 'item-1');
    expect(t.state.publication.visibility).toBe('deleted');
    expect(t.state.retention.violations).toBe(0); // a deletion before acceptance: 24 hours to republish
    expect(t.try(CREATOR, { type: 'publish', platformItemId: 'item-1' })).toBe('content-not-public');
    expect(t.state.publication.visibility).toBe('deleted');
    t.wait(24 * HOUR);
    expect(t.state.retention.violations).toBe(1);
    t.wait(48 * HOUR);
    expect(t.state.status).toBe('cancelled');
    expect(t.state.cancellation?.reason).toBe('content_withdrawn');
    expect(t.state.settlement).toMatchObject({ refundFen: 100_000, payoutFen: 0 });

    // the old rules: the deleted item "published" again, public, and auto-accepted 7 days later
    const old = new Task('douyin_video', 0).toLive('item-1');
    old.do(CLIENT, { type: 'file_complaint', reason: 'wrong product shown' });
    old.do(OPERATOR, { type: 'resolve_complaint', outcome: 'upheld_fix', note: 'fix it' });
    old.do(CREATOR, { type: 'submit', stage: 'content', body: 'v2' });
    old.do(OPERATOR, { type: 'review', stage: 'content', decision: 'pass' });
    old.do(CLIENT, { type: 'confirm', stage: 'content', decision: 'confirm' });
    old.platform('deleted', 'item-1');
    expect(old.try(CREATOR, { type: 'publish', platformItemId: 'item-1' })).toBeNull();
    expect(old.state.publication.visibility).toBe('public');
  });

  it('R-NOT-PUBLIC-EXIT: a hidden item is linked again once the platform reports it restored', () => {
    const t = new Task('douyin_video', RULE_FIXES).toLive('item-1');
    t.do(CLIENT, { type: 'file_complaint', reason: 'wrong product shown' });
    t.do(OPERATOR, { type: 'resolve_complaint', outcome: 'upheld_fix', note: 'fix it' });
    t.platform('hidden', 'item-1');
    expect(t.state.retention.violations).toBe(1); // hiding is never a step of a republication
    t.do(CREATOR, { type: 'submit', stage: 'content', body: 'v2' });
    t.do(OPERATOR, { type: 'review', stage: 'content', decision: 'pass' });
    t.do(CLIENT, { type: 'confirm', stage: 'content', decision: 'confirm' });
    expect(t.try(CREATOR, { type: 'publish', platformItemId: 'item-1' })).toBe('content-not-public');
    t.platform('restored', 'item-1');
    expect(t.try(CREATOR, { type: 'publish', platformItemId: 'item-1' })).toBeNull();
    expect(t.state.status).toBe('awaiting_client_acceptance');
    expect(t.state.publication.visibility).toBe('public');
  });

  it('R-NOT-PUBLIC-EXIT, R-REPUBLISH-GRACE: a video task revising live content keeps both (deletion graced 24 h, not public 72 h ends it)', () => {
    const t = new Task('douyin_video', RULE_FIXES).toLive('item-1');
    t.do(CLIENT, { type: 'file_complaint', reason: 'wrong product shown' });
    t.do(OPERATOR, { type: 'resolve_complaint', outcome: 'upheld_fix', note: 'fix it' });
    expect(t.state.status).toBe('content_drafting');
    t.platform('deleted', 'item-1');
    expect(t.state.retention.violations).toBe(0);
    expect(nextTimer(t.state)?.kind).toBe('republish_grace');
    t.wait(24 * HOUR);
    expect(t.state.retention.violations).toBe(1);
    t.wait(48 * HOUR);
    expect(t.state.cancellation?.reason).toBe('content_withdrawn');

    // the old rules: -25 at once, and nothing ends the lapse but the drafting deadline
    const old = new Task('douyin_video', 0).toLive('item-1');
    old.do(CLIENT, { type: 'file_complaint', reason: 'wrong product shown' });
    old.do(OPERATOR, { type: 'resolve_complaint', outcome: 'upheld_fix', note: 'fix it' });
    old.platform('deleted', 'item-1');
    expect(old.state.retention.violations).toBe(1);
    expect(nextTimer(old.state)?.kind).toBe('remind_deadline');
  });

  it('R-PUBLISH-CREATOR: the platform reporting the item live before the content may be published is kept; linking it then publishes at once', () => {
    const t = new Task('douyin_video', RULE_FIXES);
    t.do(CREATOR, { type: 'accept' });
    t.do(CREATOR, { type: 'submit', stage: 'content', body: 'v1' });
    t.do(OPERATOR, { type: 'review', stage: 'content', decision: 'pass' });
    expect(t.state.status).toBe('content_confirmation');
    const early = t.now;
    const sent = t.platform('published', 'item-9');
    expect(t.state.publication.reported).toEqual({ itemId: 'item-9', at: new Date(early).toISOString() });
    t.now += 2 * HOUR;
    t.do(CLIENT, { type: 'confirm', stage: 'content', decision: 'confirm' });
    t.platform('published', 'item-9', sent); // a redelivery changes nothing
    t.do(CREATOR, { type: 'publish', platformItemId: 'item-9' });
    expect(t.state.status).toBe('awaiting_client_acceptance');
    expect(t.state.publication.publishedAt).toBe(new Date(early).toISOString());

    // the old rules: the report was ignored and its redelivery is stale: the link waits until publication_overdue
    const old = new Task('douyin_video', 0);
    old.do(CREATOR, { type: 'accept' });
    old.do(CREATOR, { type: 'submit', stage: 'content', body: 'v1' });
    old.do(OPERATOR, { type: 'review', stage: 'content', decision: 'pass' });
    const lost = old.platform('published', 'item-9');
    old.do(CLIENT, { type: 'confirm', stage: 'content', decision: 'confirm' });
    old.platform('published', 'item-9', lost);
    old.do(CREATOR, { type: 'publish', platformItemId: 'item-9' });
    expect(old.state.status).toBe('awaiting_publication');
    old.wait(8 * DAY);
    expect(old.state.cancellation?.reason).toBe('publication_overdue');
  });

  it('R-NOT-PUBLIC-EXIT: an item reported live and then hidden is not live when linked; once restored it goes live', () => {
    const t = new Task('douyin_video', RULE_FIXES).toPublication();
    t.platform('published', 'item-5');
    expect(t.state.publication.reported?.itemId).toBe('item-5');
    t.now += HOUR;
    t.platform('hidden', 'item-5');
    expect(t.state.publication.reported).toBeNull();
    t.do(CREATOR, { type: 'publish', platformItemId: 'item-5' });
    expect(t.state.status).toBe('awaiting_publication'); // linked, waiting for the platform to show it
    expect(t.state.publication.pendingItemId).toBe('item-5');
    t.now += HOUR;
    t.platform('restored', 'item-5');
    expect(t.state.status).toBe('awaiting_client_acceptance');
    expect(t.state.publication).toMatchObject({ itemId: 'item-5', visibility: 'public', publishedAt: new Date(t.now).toISOString() });

    // the old rules: the hidden item linked is taken for live, public content
    const old = new Task('douyin_video', 0).toPublication();
    old.platform('published', 'item-5');
    old.now += HOUR;
    old.platform('hidden', 'item-5');
    old.do(CREATOR, { type: 'publish', platformItemId: 'item-5' });
    expect(old.state.publication.visibility).toBe('public');
  });

  it('R-REPUBLISH-5: a new item linked while awaiting publication counts as a republication (limit 5) as after publication', () => {
    const t = new Task('toutiao_micro_post', RULE_FIXES);
    t.do(CREATOR, { type: 'accept' });
    let item = 0;
    const publishNew = () => {
      const id = `item-${++item}`;
      t.do(CREATOR, { type: 'publish', platformItemId: id });
      t.platform('published', id);
    };
    // micro posts: the client reviews the live post and may reject it without limit (R-TOUTIAO-ORDER)
    t.do(CREATOR, { type: 'submit', stage: 'content', body: 'v1' });
    publishNew();
    for (let round = 0; round < 5; round++) {
      t.do(CLIENT, { type: 'confirm', stage: 'content', decision: 'reject', reason: 'another angle' });
      t.do(CREATOR, { type: 'submit', stage: 'content', body: `v${round + 2}` });
      expect(t.state.status).toBe('awaiting_publication');
      publishNew();
    }
    expect(t.state.publication.republishCount).toBe(5);
    t.do(CLIENT, { type: 'confirm', stage: 'content', decision: 'reject', reason: 'again' });
    t.do(CREATOR, { type: 'submit', stage: 'content', body: 'v7' });
    expect(t.try(CREATOR, { type: 'publish', platformItemId: 'item-new' })).toBe('republish-limit-reached');
    // the live post may still be modified in place (the rejection granted that modification)
    expect(t.try(CREATOR, { type: 'publish', platformItemId: `item-${item}` })).toBeNull();
    expect(t.state.status).toBe('awaiting_client_acceptance');
  });
});
