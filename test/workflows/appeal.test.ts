/**
 * R-APPEAL-48WH: an appeal against a deduction is answered within 48 hours
 * counted on working days only (weekends and holidays skipped, holidays as data);
 * unanswered, it escalates once; upheld, it restores the points. Time-skipping
 * server, real Postgres, the real activities and the calendar of db/calendar.ts.
 */
import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import type { WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserActor } from '../../api/auth.js';
import { appealById, fileAppeal, type AppealRow } from '../../db/appeals.js';
import { deleteCalendarDay, loadCalendar, setCalendarDay } from '../../db/calendar.js';
import { applyCreditChange, creditScoreOf } from '../../db/credit.js';
import { creditEvents, notifications } from '../../db/schema/index.js';
import { DAY, HOUR, INITIAL_CREDIT_POINTS, MINUTE, addWorkingTime, localDate, workingTimeBetween, type WorkingCalendar } from '../../domain/index.js';
import { appealInputOf, appealWorkflowId } from '../../temporal/appeals.js';
import { appealWorkflow } from '../../workflows/appeal.js';
import { appealStateQuery, decideAppealUpdate, type AppealState } from '../../workflows/appealMessages.js';
import { AppealStatusKey } from '../../workflows/searchAttributes.js';
import { ensureAccount, newActor } from '../helpers/accounts.js';
import { startWorkflowStack, type WorkflowStack } from '../helpers/stack.js';
import { refusal } from '../helpers/tasks.js';

let stack: WorkflowStack;
beforeAll(async () => {
  stack = await startWorkflowStack();
});
afterAll(async () => stack?.stop());

const db = () => stack.postgres.database.db;
const OPERATOR: UserActor = { role: 'operator', id: 'op-appeals' };
const POINTS = 20;
type AppealHandle = WorkflowHandle<typeof appealWorkflow>;

/** Epoch ms of a local Asia/Shanghai time; and back. */
const at = (local: string): number => Date.parse(`${local}:00+08:00`);
const show = (ms: number): string => new Date(ms + 8 * HOUR).toISOString().slice(0, 16);
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `read` until `done` holds (effects of activities land asynchronously). */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string, tries = 200): Promise<T> {
  let last: T | undefined;
  for (let i = 0; i < tries; i++) {
    last = await read();
    if (done(last)) return last;
    await pause(50);
  }
  throw new Error(`${what}: condition not reached; last: ${JSON.stringify(last)}`);
}

/**
 * The next Friday 10:00 (Asia/Shanghai) after `fromMs` whose following `days` days are ordinary
 * (no holiday and no make-up working day in `cal`), so the test controls every special day itself.
 */
function nextPlainFriday(fromMs: number, cal: WorkingCalendar, days: number): number {
  const special = new Set([...cal.holidays, ...cal.workdays]);
  let day = Math.floor((fromMs + 8 * HOUR) / DAY) + 1; // local day number, from tomorrow
  for (let i = 0; i < 400; i++, day++) {
    if ((day + 4) % 7 !== 5) continue; // 1970-01-01 was a Thursday: (day + 4) % 7 is the weekday, 5 = Friday
    const friday = day * DAY + 10 * HOUR - 8 * HOUR;
    const span = Array.from({ length: days + 1 }, (_, k) => localDate(friday + k * DAY, cal));
    if (span.every((d) => !special.has(d))) return friday;
  }
  throw new Error('no plain Friday within 400 days');
}

/** Waits until the appeal workflow has no workflow task or activity in flight (the test server must not skip time then). */
async function settle(h: AppealHandle): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const { raw } = await h.describe();
    const busy = (raw.pendingActivities?.length ?? 0) > 0 || raw.pendingWorkflowTask != null;
    if (!busy) return;
    await pause(25);
  }
  throw new Error(`appeal ${h.workflowId} did not settle`);
}

/** Skips the test server's clock to `targetMs` once the appeal has settled. */
async function advanceTo(targetMs: number, h?: AppealHandle): Promise<void> {
  if (h) await settle(h);
  const nowMs = await stack.env.currentTimeMs();
  if (targetMs > nowMs) await stack.skip(targetMs - nowMs);
}

/** A creator with a deduction of POINTS (a card), recorded at `atMs`. */
async function creatorWithDeduction(atMs: number): Promise<{ creator: UserActor; creditEventId: number }> {
  const creator = newActor('creator');
  await ensureAccount(db(), creator);
  const key = `card:test-${randomUUID()}`;
  const occurredAt = new Date(atMs);
  await applyCreditChange(db(), { key, creatorId: creator.id, delta: -POINTS, cause: 'card', reason: 'yellow card', actor: OPERATOR, occurredAt });
  const [event] = await db().select().from(creditEvents).where(eq(creditEvents.key, key));
  return { creator, creditEventId: event!.id };
}

/** Files through db/appeals.ts, so dueAt comes from the calendar (built-in + calendar_days). */
const fileAt = (creatorId: string, creditEventId: number, reason: string, filedAtMs: number) =>
  fileAppeal(db(), { id: `apl-${randomUUID()}`, creatorId, creditEventId, reason, filedAt: new Date(filedAtMs) });

const escalations = (appealId: string) => db().select().from(notifications).where(eq(notifications.key, `appeal:${appealId}:escalated`));
const restorations = (appealId: string) =>
  db()
    .select()
    .from(creditEvents)
    .where(and(eq(creditEvents.appealId, appealId), eq(creditEvents.cause, 'appeal_upheld')));
const searchStatus = async (h: AppealHandle) => (await h.describe()).typedSearchAttributes.get(AppealStatusKey);
const decide = (h: AppealHandle, outcome: 'upheld' | 'rejected', note = 'checked with the platform', actor: UserActor = OPERATOR) =>
  h.executeUpdate(decideAppealUpdate, { args: [{ actor, outcome, note }] });

/** Runs `body` with a fresh worker; an appeal left open is settled, then terminated. */
async function withWorker(body: (start: (row: AppealRow) => Promise<AppealHandle>) => Promise<void>): Promise<void> {
  const { worker, taskQueue } = await stack.worker();
  const started: AppealHandle[] = [];
  await worker.runUntil(async () => {
    const start = async (row: AppealRow) => {
      const h = await stack.env.client.workflow.start(appealWorkflow, { taskQueue, workflowId: appealWorkflowId(row.id), args: [appealInputOf(row)] });
      started.push(h);
      await until(() => h.query(appealStateQuery), (s) => s.status === 'open', 'workflow started');
      return h;
    };
    try {
      await body(start);
    } finally {
      for (const h of started) {
        const { status } = await h.describe();
        if (status.name !== 'RUNNING') continue;
        await settle(h).catch((err: unknown) => console.error(String(err)));
        await h.terminate('test finished').catch(() => undefined);
      }
    }
  });
}

describe('R-APPEAL-48WH: the deadline counts working days only', () => {
  it('R-APPEAL-48WH: across a weekend: filed Friday 10:00, still open Monday 23:00, escalated once after Tuesday 10:00, then upheld restores the points', () =>
    withWorker(async (start) => {
      const friday = nextPlainFriday(await stack.env.currentTimeMs(), await loadCalendar(db()), 5);
      const { creator, creditEventId } = await creatorWithDeduction(friday - DAY);
      await advanceTo(friday);
      const row = await fileAt(creator.id, creditEventId, 'Force majeure: the venue flooded', friday);
      expect(row.dueAt.getTime()).toBe(friday + 4 * DAY); // Fri 14h + Mon 24h + Tue 10h
      expect(show(row.dueAt.getTime())).toMatch(/T10:00$/);
      expect(row).toMatchObject({ status: 'open', points: POINTS });
      expect(await creditScoreOf(db(), creator.id)).toBe(INITIAL_CREDIT_POINTS - POINTS);
      const h = await start(row);
      expect(await until(() => searchStatus(h), (s) => s === 'open', 'search attribute open')).toBe('open');

      await advanceTo(friday + 3 * DAY + 13 * HOUR, h); // Monday 23:00: 38 working hours used
      expect((await h.query(appealStateQuery)).status).toBe('open');
      expect((await appealById(db(), row.id))!.status).toBe('open');
      expect(await escalations(row.id)).toHaveLength(0);

      await advanceTo(row.dueAt.getTime() + MINUTE, h); // Tuesday 10:01
      const escalated = await until(() => appealById(db(), row.id), (r) => r!.status === 'escalated', 'row escalated');
      expect(escalated!.escalatedAt!.getTime()).toBeGreaterThanOrEqual(row.dueAt.getTime());
      const [sms] = await until(() => escalations(row.id), (n) => n.length === 1 && n[0]!.sentAt !== null, 'escalation notification');
      expect(sms).toMatchObject({ recipientRole: 'operator', recipientId: 'operators', channel: 'sms', template: 'appeal_escalated', taskId: null });
      expect(sms!.params).toMatchObject({ appealId: row.id, creatorId: creator.id, points: POINTS });
      expect((await h.query(appealStateQuery)).status).toBe('escalated');
      expect(await until(() => searchStatus(h), (s) => s === 'escalated', 'search attribute escalated')).toBe('escalated');

      // escalated appeals wait for their decision; escalation never repeats
      await advanceTo(row.dueAt.getTime() + 2 * DAY, h);
      expect(await escalations(row.id)).toHaveLength(1);
      expect(stack.notifier.delivered.filter((m) => m.idempotencyKey === `appeal:${row.id}:escalated`)).toHaveLength(1);

      const decided: AppealState = await decide(h, 'upheld', 'Flood confirmed by the venue');
      expect(decided).toMatchObject({ status: 'upheld', decision: { outcome: 'upheld', actor: OPERATOR, note: 'Flood confirmed by the venue' } });
      expect((await stack.resultOf<{ status: string }>(h.workflowId)).status).toBe('upheld');
      expect(await searchStatus(h)).toBe('upheld');
      const after = (await appealById(db(), row.id))!;
      expect(after).toMatchObject({ status: 'upheld', decidedBy: 'operator:op-appeals', decisionNote: 'Flood confirmed by the venue' });
      const restored = await restorations(row.id);
      expect(restored).toHaveLength(1);
      expect(restored[0]).toMatchObject({ key: `appeal:${row.id}:restore`, delta: POINTS, creatorId: creator.id, actorRole: 'operator', actorId: OPERATOR.id });
      expect(await creditScoreOf(db(), creator.id)).toBe(INITIAL_CREDIT_POINTS);
      // the creator is told the outcome, once
      const told = await db().select().from(notifications).where(eq(notifications.key, `appeal:${row.id}:decided`));
      expect(told).toHaveLength(1);
      expect(told[0]).toMatchObject({ recipientRole: 'creator', recipientId: creator.id, template: 'appeal_decided', params: { outcome: 'upheld', points: POINTS } });
    }));

  it('R-APPEAL-48WH: across a holiday entered as data (Monday off): filed Friday 10:00, still open Tuesday 23:00, due and escalated Wednesday 10:00', () =>
    withWorker(async (start) => {
      const friday = nextPlainFriday(await stack.env.currentTimeMs(), await loadCalendar(db()), 6);
      const monday = localDate(friday + 3 * DAY, await loadCalendar(db()));
      await setCalendarDay(db(), monday, { kind: 'holiday', name: 'Test holiday', source: 'test' });
      try {
        const cal = await loadCalendar(db());
        expect(workingTimeBetween(friday + 3 * DAY - 10 * HOUR, friday + 4 * DAY - 10 * HOUR, cal)).toBe(0); // Monday counts nothing
        const { creator, creditEventId } = await creatorWithDeduction(friday - DAY);
        await advanceTo(friday);
        const row = await fileAt(creator.id, creditEventId, 'Hospitalised', friday);
        expect(row.dueAt.getTime()).toBe(friday + 5 * DAY); // Fri 14h + Tue 24h + Wed 10h
        expect(row.dueAt.getTime()).toBe(addWorkingTime(friday, 48 * HOUR, cal));
        const h = await start(row);

        await advanceTo(friday + 4 * DAY + 13 * HOUR, h); // Tuesday 23:00: 38 working hours used
        expect((await h.query(appealStateQuery)).status).toBe('open');
        expect((await appealById(db(), row.id))!.status).toBe('open');
        expect(await escalations(row.id)).toHaveLength(0);

        await advanceTo(row.dueAt.getTime() + MINUTE, h); // Wednesday 10:01
        await until(() => appealById(db(), row.id), (r) => r!.status === 'escalated', 'row escalated');
        await until(() => escalations(row.id), (n) => n.length === 1, 'escalation notification');
        expect(await until(() => searchStatus(h), (s) => s === 'escalated', 'search attribute escalated')).toBe('escalated');

        await decide(h, 'rejected', 'No evidence');
        expect((await stack.resultOf<{ status: string }>(h.workflowId)).status).toBe('rejected');
      } finally {
        await deleteCalendarDay(db(), monday);
      }
    }));

  it('R-APPEAL-48WH: decided before the deadline, an appeal never escalates', () =>
    withWorker(async (start) => {
      const friday = nextPlainFriday(await stack.env.currentTimeMs(), await loadCalendar(db()), 5);
      const { creator, creditEventId } = await creatorWithDeduction(friday - DAY);
      await advanceTo(friday);
      const row = await fileAt(creator.id, creditEventId, 'Platform outage', friday);
      const h = await start(row);
      await advanceTo(friday + 3 * DAY, h); // Monday 10:00
      // the validator refuses before anything is written
      expect(await refusal(decide(h, 'upheld', 'mine', { role: 'creator', id: creator.id }))).toMatchObject({ type: 'forbidden', code: 'wrong-role' });
      expect(await refusal(decide(h, 'upheld', '   '))).toMatchObject({ type: 'invalid_input', code: 'note-required' });
      expect((await decide(h, 'upheld', 'Outage confirmed')).status).toBe('upheld');
      expect((await stack.resultOf<{ status: string }>(h.workflowId)).status).toBe('upheld');

      await advanceTo(row.dueAt.getTime() + DAY);
      const after = (await appealById(db(), row.id))!;
      expect(after).toMatchObject({ status: 'upheld', escalatedAt: null });
      expect(after.decidedAt!.getTime()).toBeLessThan(row.dueAt.getTime());
      expect(await escalations(row.id)).toHaveLength(0);
      expect(await restorations(row.id)).toHaveLength(1);
      expect(await creditScoreOf(db(), creator.id)).toBe(INITIAL_CREDIT_POINTS);
    }));

  it('R-APPEAL-48WH: a rejected appeal restores nothing', () =>
    withWorker(async (start) => {
      const now = await stack.env.currentTimeMs();
      const { creator, creditEventId } = await creatorWithDeduction(now - HOUR);
      const row = await fileAt(creator.id, creditEventId, 'Not my fault', now);
      const h = await start(row);
      expect((await decide(h, 'rejected', 'The violation is documented')).status).toBe('rejected');
      expect((await stack.resultOf<{ status: string }>(h.workflowId)).status).toBe('rejected');
      expect(await searchStatus(h)).toBe('rejected');
      expect((await appealById(db(), row.id))!).toMatchObject({ status: 'rejected', decisionNote: 'The violation is documented' });
      expect(await restorations(row.id)).toHaveLength(0);
      expect(await creditScoreOf(db(), creator.id)).toBe(INITIAL_CREDIT_POINTS - POINTS);
    }));
});

describe('R-APPEAL-48WH: filing and the calendar as data', () => {
  it('R-APPEAL-48WH: a make-up working day (调休) on a Saturday counts and a holiday on Monday does not: Friday 10:00 is due Tuesday 10:00', async () => {
    // 2030: far from the other tests' clock, and outside the built-in data
    await setCalendarDay(db(), '2030-03-11', { kind: 'holiday', name: 'Test holiday', source: 'test' });
    await setCalendarDay(db(), '2030-03-09', { kind: 'workday', name: '调休', source: 'test' });
    try {
      const { creator, creditEventId } = await creatorWithDeduction(at('2030-03-07T10:00'));
      const row = await fileAt(creator.id, creditEventId, 'Storm', at('2030-03-08T10:00'));
      expect(show(row.dueAt.getTime())).toBe('2030-03-12T10:00'); // Fri 14h + Sat 24h + Tue 10h
    } finally {
      await deleteCalendarDay(db(), '2030-03-11');
      await deleteCalendarDay(db(), '2030-03-09');
    }
  });

  it('R-APPEAL-48WH: the calendar refuses a make-up working day on a weekday or an impossible date; a database row overrides the built-in entry', async () => {
    await expect(setCalendarDay(db(), '2030-03-13', { kind: 'workday', name: 'x', source: 'test' })).rejects.toMatchObject({
      kind: 'rule_violation',
      details: { code: 'workday-not-weekend' },
    });
    await expect(setCalendarDay(db(), '2030-02-30', { kind: 'holiday', name: 'x', source: 'test' })).rejects.toMatchObject({
      kind: 'invalid_input',
      details: { code: 'invalid-date' },
    });
    // 2026-10-10 is a built-in make-up Saturday; a row turns it into a day off
    expect((await loadCalendar(db())).workdays).toContain('2026-10-10');
    await setCalendarDay(db(), '2026-10-10', { kind: 'holiday', name: 'override', source: 'test' });
    try {
      const cal = await loadCalendar(db());
      expect(cal.workdays).not.toContain('2026-10-10');
      expect(cal.holidays).toContain('2026-10-10');
    } finally {
      await deleteCalendarDay(db(), '2026-10-10');
    }
    expect((await loadCalendar(db())).workdays).toContain('2026-10-10');
  });

  it("R-APPEAL-48WH: only the creator's own deductions can be appealed, once", async () => {
    const { creator, creditEventId } = await creatorWithDeduction(at('2030-03-07T10:00'));
    const other = await creatorWithDeduction(at('2030-03-07T10:00'));
    const filedAt = new Date(at('2030-03-08T10:00'));
    await expect(fileAt(creator.id, other.creditEventId, 'x', filedAt.getTime())).rejects.toMatchObject({
      details: { code: 'credit-event-not-found' },
    });
    const bonusKey = `card:bonus-${randomUUID()}`;
    await applyCreditChange(db(), { key: bonusKey, creatorId: creator.id, delta: 5, cause: 'card', reason: 'bonus', actor: OPERATOR, occurredAt: filedAt });
    const [bonus] = await db().select().from(creditEvents).where(eq(creditEvents.key, bonusKey));
    await expect(fileAppeal(db(), { id: `apl-${randomUUID()}`, creatorId: creator.id, creditEventId: bonus!.id, reason: 'x', filedAt })).rejects.toMatchObject({
      kind: 'rule_violation',
      details: { code: 'not-a-deduction' },
    });
    const first = await fileAppeal(db(), { id: `apl-${randomUUID()}`, creatorId: creator.id, creditEventId, reason: 'x', filedAt });
    await expect(fileAppeal(db(), { id: `apl-${randomUUID()}`, creatorId: creator.id, creditEventId, reason: 'again', filedAt })).rejects.toMatchObject({
      kind: 'invalid_state',
      details: { code: 'already-appealed', appealId: first.id },
    });
  });
});
