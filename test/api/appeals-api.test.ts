/**
 * R-APPEAL-48WH over HTTP on the real stack (Temporal dev server, embedded
 * PostgreSQL, the real worker): filing an appeal against one's own deduction,
 * the working-day deadline, visibility, the operator's decision (upheld restores
 * the points), the operators' queue by deadline, and the calendar as data.
 */
import { randomUUID } from 'node:crypto';
import { eq, isNull } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserActor } from '../../api/auth.js';
import { fileAppeal } from '../../db/appeals.js';
import { loadCalendar } from '../../db/calendar.js';
import { applyCreditChange, creditScoreOf } from '../../db/credit.js';
import { appeals, creditEvents } from '../../db/schema/index.js';
import { APPEAL_VERIFY_WORKING_MS, DAY, HOUR, INITIAL_CREDIT_POINTS, addWorkingTime, isWorkingDay, localDate } from '../../domain/index.js';
import { appealWorkflowId, startOrphanedAppeals } from '../../temporal/appeals.js';
import { TASK_QUEUE } from '../../temporal/config.js';
import { appealStateQuery } from '../../workflows/appealMessages.js';
import { newActor } from '../helpers/accounts.js';
import { startApiStack, type ApiStack } from '../helpers/apiStack.js';
import { resultHoldingTime } from '../helpers/stack.js';

let api: ApiStack;
let operator: UserActor;
beforeAll(async () => {
  api = await startApiStack();
  operator = await api.account(newActor('operator', 'op'));
});
afterAll(async () => api?.stop());

const db = () => api.postgres.database.db;
const PROBLEM = /^application\/problem\+json/;
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A credit change of `delta` for the creator (a card, as an operator gives it); returns the credit event id. */
async function creditEvent(creatorId: string, delta: number): Promise<number> {
  const key = `card:api-test-${randomUUID()}`;
  const reason = delta < 0 ? 'yellow card' : 'correction';
  await applyCreditChange(db(), { key, creatorId, delta, cause: 'card', reason, actor: operator, occurredAt: new Date() });
  const [row] = await db().select().from(creditEvents).where(eq(creditEvents.key, key));
  return row!.id;
}

async function creatorWithDeduction(points = 15): Promise<{ creator: UserActor; creditEventId: number }> {
  const creator = await api.account(newActor('creator'));
  return { creator, creditEventId: await creditEvent(creator.id, -points) };
}

const file = (as: UserActor, creditEventId: number, reason = 'Force majeure: the venue flooded', headers?: Record<string, string>) =>
  api.call('POST', '/v1/appeals', { as, body: { creditEventId, reason }, ...(headers ? { headers } : {}) });

async function scoreBecomes(creatorId: string, expected: number): Promise<number> {
  for (let i = 0; i < 100 && (await creditScoreOf(db(), creatorId)) !== expected; i++) await pause(50);
  return creditScoreOf(db(), creatorId);
}

describe('filing', () => {
  it('R-APPEAL-48WH: a creator appeals its own deduction; dueAt is filedAt + 48 working hours; the workflow watches it', async () => {
    const { creator, creditEventId } = await creatorWithDeduction(15);
    const res = await file(creator, creditEventId);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ creatorId: creator.id, creditEventId, points: 15, status: 'open', escalatedAt: null, decidedAt: null });
    expect(res.body.id).toMatch(/^apl_/);
    const filedAt = Date.parse(res.body.filedAt);
    expect(res.body.dueAt).toBe(new Date(addWorkingTime(filedAt, APPEAL_VERIFY_WORKING_MS, await loadCalendar(db()))).toISOString());
    expect(Date.parse(res.body.dueAt) - filedAt).toBeGreaterThanOrEqual(48 * HOUR);
    const state = await api.env.client.workflow.getHandle(appealWorkflowId(res.body.id)).query(appealStateQuery);
    expect(state).toMatchObject({ appealId: res.body.id, status: 'open', dueAt: res.body.dueAt, points: 15 });
  });

  it("R-APPEAL-48WH: another creator's deduction is 404, a positive credit event 422, a second appeal of the same deduction 409, other roles 403", async () => {
    const { creator, creditEventId } = await creatorWithDeduction();
    const other = await creatorWithDeduction();
    const foreign = await file(creator, other.creditEventId);
    expect(foreign.status).toBe(404);
    expect(foreign.type).toMatch(PROBLEM);
    expect(foreign.body.code).toBe('credit-event-not-found');
    const missing = await file(creator, 987_654_321);
    expect(missing.status).toBe(404);

    const bonus = await file(creator, await creditEvent(creator.id, 5));
    expect(bonus.status).toBe(422);
    expect(bonus.type).toMatch(PROBLEM);
    expect(bonus.body.code).toBe('not-a-deduction');

    const first = await file(creator, creditEventId);
    expect(first.status).toBe(201);
    const second = await file(creator, creditEventId, 'Once more');
    expect(second.status).toBe(409);
    expect(second.type).toMatch(PROBLEM);
    expect(second.body).toMatchObject({ code: 'already-appealed', appealId: first.body.id });

    expect((await file(operator, creditEventId)).status).toBe(403);
    expect((await file(await api.account(newActor('client')), creditEventId)).status).toBe(403);
    const invalid = await api.call('POST', '/v1/appeals', { as: creator, body: { creditEventId: 'x', reason: '' } });
    expect(invalid.status).toBe(400);
    expect(invalid.type).toMatch(PROBLEM);
  });

  it('R-APPEAL-48WH: with an Idempotency-Key, a retried request answers the first appeal', async () => {
    const { creator, creditEventId } = await creatorWithDeduction();
    const key = `k-${randomUUID()}`;
    const first = await file(creator, creditEventId, 'Storm', { 'idempotency-key': key });
    expect(first.status).toBe(201);
    const retry = await file(creator, creditEventId, 'Storm', { 'idempotency-key': key });
    expect(retry.status).toBe(201);
    expect(retry.body.id).toBe(first.body.id);
  });
});

describe('visibility and decision', () => {
  it('R-APPEAL-48WH: a creator sees its own appeals only; operators see all; others get 404', async () => {
    const a = await creatorWithDeduction();
    const b = await creatorWithDeduction();
    const appealA = (await file(a.creator, a.creditEventId)).body;
    const appealB = (await file(b.creator, b.creditEventId)).body;

    const listA = await api.call('GET', '/v1/appeals', { as: a.creator });
    expect(listA.status).toBe(200);
    expect(listA.body.items.map((x: { id: string }) => x.id)).toEqual([appealA.id]);
    expect((await api.call('GET', `/v1/appeals?creatorId=${b.creator.id}`, { as: a.creator })).status).toBe(403);
    expect((await api.call('GET', `/v1/appeals/${appealA.id}`, { as: a.creator })).body).toMatchObject({ id: appealA.id, status: 'open' });
    const hidden = await api.call('GET', `/v1/appeals/${appealA.id}`, { as: b.creator });
    expect(hidden.status).toBe(404);
    expect(hidden.type).toMatch(PROBLEM);
    expect((await api.call('GET', `/v1/appeals/${appealA.id}`, { as: await api.account(newActor('client')) })).status).toBe(403);

    expect((await api.call('GET', `/v1/appeals/${appealB.id}`, { as: operator })).status).toBe(200);
    const all = await api.call('GET', '/v1/appeals?status=open&limit=100', { as: operator });
    const ids = all.body.items.map((x: { id: string }) => x.id);
    expect(ids).toEqual(expect.arrayContaining([appealA.id, appealB.id]));
    expect(all.body.items.every((x: { status: string }) => x.status === 'open')).toBe(true);
    const page = await api.call('GET', '/v1/appeals?limit=1', { as: operator });
    expect(page.body.items).toHaveLength(1);
    expect(page.body.nextCursor).toEqual(expect.any(String));
    const next = await api.call('GET', `/v1/appeals?limit=1&cursor=${page.body.nextCursor}`, { as: operator });
    expect(next.body.items[0].id < page.body.items[0].id).toBe(true);
    expect((await api.call('GET', '/v1/appeals', { as: await api.account(newActor('client')) })).status).toBe(403);
  });

  it('R-APPEAL-48WH: only an operator decides; upheld restores the points once; a second decision is 409', async () => {
    const { creator, creditEventId } = await creatorWithDeduction(25);
    expect(await creditScoreOf(db(), creator.id)).toBe(INITIAL_CREDIT_POINTS - 25);
    const appeal = (await file(creator, creditEventId)).body;
    const path = `/v1/appeals/${appeal.id}/decision`;

    const byCreator = await api.call('POST', path, { as: creator, body: { outcome: 'upheld', note: 'me' } });
    expect(byCreator.status).toBe(403);
    expect(byCreator.type).toMatch(PROBLEM);
    expect((await api.call('POST', path, { as: operator, body: { outcome: 'upheld' } })).status).toBe(400);
    expect((await api.call('POST', path, { as: operator, body: { outcome: 'maybe', note: 'x' } })).status).toBe(400);
    const unknown = '/v1/appeals/apl_00000000-0000-7000-8000-000000000000/decision';
    expect((await api.call('POST', unknown, { as: operator, body: { outcome: 'upheld', note: 'x' } })).status).toBe(404);

    const decided = await api.call('POST', path, { as: operator, body: { outcome: 'upheld', note: 'Flood confirmed' } });
    expect(decided.status).toBe(200);
    expect(decided.body).toMatchObject({ id: appeal.id, status: 'upheld', decidedBy: `operator:${operator.id}`, decisionNote: 'Flood confirmed' });
    expect(await scoreBecomes(creator.id, INITIAL_CREDIT_POINTS)).toBe(INITIAL_CREDIT_POINTS);
    const restore = await db().select().from(creditEvents).where(eq(creditEvents.appealId, appeal.id));
    expect(restore).toHaveLength(1);
    expect(restore[0]).toMatchObject({ cause: 'appeal_upheld', delta: 25, actorId: operator.id, key: `appeal:${appeal.id}:restore` });

    // the same decision again is answered again; another one is refused
    const replay = await api.call('POST', path, { as: operator, body: { outcome: 'upheld', note: 'Flood confirmed' } });
    expect(replay.status).toBe(200);
    const again = await api.call('POST', path, { as: operator, body: { outcome: 'rejected', note: 'Changed my mind' } });
    expect(again.status).toBe(409);
    expect(again.type).toMatch(PROBLEM);
    expect(again.body.code).toBe('already-decided');
    expect(await creditScoreOf(db(), creator.id)).toBe(INITIAL_CREDIT_POINTS);
    const result = await resultHoldingTime<{ status: string }>(api.env, appealWorkflowId(appeal.id));
    expect(result.status).toBe('upheld');
  });

  it('R-APPEAL-48WH: a rejected appeal keeps the deduction', async () => {
    const { creator, creditEventId } = await creatorWithDeduction(10);
    const appeal = (await file(creator, creditEventId)).body;
    const res = await api.call('POST', `/v1/appeals/${appeal.id}/decision`, { as: operator, body: { outcome: 'rejected', note: 'Documented violation' } });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('rejected');
    await resultHoldingTime<{ status: string }>(api.env, appealWorkflowId(appeal.id));
    expect(await creditScoreOf(db(), creator.id)).toBe(INITIAL_CREDIT_POINTS - 10);
  });
});

describe('operator queue', () => {
  it('R-APPEAL-48WH: open and escalated appeals, closest deadline first, with the working time left', async () => {
    // an overdue appeal (filed directly, a week ago) and two fresh ones
    const late = await creatorWithDeduction();
    const weekAgo = new Date(Date.now() - 7 * DAY);
    const { creator: lateCreator, creditEventId: lateEvent } = late;
    const overdue = await fileAppeal(db(), { id: `apl_${randomUUID()}`, creatorId: lateCreator.id, creditEventId: lateEvent, reason: 'old', filedAt: weekAgo });
    const a = await creatorWithDeduction();
    const b = await creatorWithDeduction();
    const first = (await file(a.creator, a.creditEventId)).body;
    const second = (await file(b.creator, b.creditEventId)).body;

    const res = await api.call('GET', '/v1/operator/appeals', { as: operator });
    expect(res.status).toBe(200);
    const items = res.body.items as { id: string; dueAt: string; status: string; workingTimeLeftMs: number; overdue: boolean }[];
    const dues = items.map((x) => Date.parse(x.dueAt));
    expect(dues).toEqual([...dues].sort((x, y) => x - y));
    expect(items.every((x) => x.status === 'open' || x.status === 'escalated')).toBe(true);
    const ids = items.map((x) => x.id);
    expect(ids.indexOf(overdue.id)).toBeLessThan(ids.indexOf(first.id));
    expect(ids.indexOf(first.id)).toBeLessThan(ids.indexOf(second.id));
    expect(items.find((x) => x.id === overdue.id)).toMatchObject({ overdue: true, workingTimeLeftMs: 0 });
    const fresh = items.find((x) => x.id === second.id)!;
    expect(fresh.overdue).toBe(false);
    expect(fresh.workingTimeLeftMs).toBeGreaterThan(47 * HOUR);
    expect(fresh.workingTimeLeftMs).toBeLessThanOrEqual(48 * HOUR);

    const soon = await api.call('GET', '/v1/operator/appeals?dueWithinHours=1', { as: operator });
    expect(soon.body.items.map((x: { id: string }) => x.id)).toContain(overdue.id);
    expect(soon.body.items.map((x: { id: string }) => x.id)).not.toContain(second.id);
    expect((await api.call('GET', '/v1/operator/appeals', { as: a.creator })).status).toBe(403);
  });
});

describe('calendar', () => {
  it('R-APPEAL-48WH: an operator enters a 2027 holiday, listed with the built-in data; a weekday make-up working day or a bad date is refused', async () => {
    const before = await api.call('GET', '/v1/operator/calendar?year=2027', { as: operator });
    expect(before.status).toBe(200);
    expect(before.body).toMatchObject({ year: 2027, hasData: false, items: [] });
    const put = await api.call('PUT', '/v1/operator/calendar/2027-01-01', { as: operator, body: { kind: 'holiday', name: '元旦' } });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ day: '2027-01-01', kind: 'holiday', name: '元旦', origin: 'database', source: `operator:${operator.id}` });
    const after = await api.call('GET', '/v1/operator/calendar?year=2027', { as: operator });
    expect(after.body.hasData).toBe(true);
    expect(after.body.items).toEqual([expect.objectContaining({ day: '2027-01-01', kind: 'holiday', origin: 'database' })]);

    const builtIn = await api.call('GET', '/v1/operator/calendar?year=2026', { as: operator });
    expect(builtIn.body.items).toEqual(expect.arrayContaining([expect.objectContaining({ day: '2026-10-10', kind: 'workday', origin: 'built-in' })]));

    const weekday = await api.call('PUT', '/v1/operator/calendar/2027-01-06', { as: operator, body: { kind: 'workday', name: '调休' } });
    expect(weekday.status).toBe(422);
    expect(weekday.type).toMatch(PROBLEM);
    expect(weekday.body.code).toBe('workday-not-weekend');
    const impossible = await api.call('PUT', '/v1/operator/calendar/2027-02-30', { as: operator, body: { kind: 'holiday', name: 'x' } });
    expect(impossible.status).toBe(400);
    expect(impossible.type).toMatch(PROBLEM);
    const creator = await api.account(newActor('creator'));
    expect((await api.call('PUT', '/v1/operator/calendar/2027-01-02', { as: creator, body: { kind: 'holiday', name: 'x' } })).status).toBe(403);

    expect((await api.call('DELETE', '/v1/operator/calendar/2027-01-01', { as: operator })).status).toBe(204);
    expect((await api.call('DELETE', '/v1/operator/calendar/2027-01-01', { as: operator })).status).toBe(404);
    expect((await api.call('GET', '/v1/operator/calendar?year=2027', { as: operator })).body.items).toEqual([]);
  });

  it('R-APPEAL-48WH: a holiday entered for the next working day moves the deadline of an appeal filed after it', async () => {
    const calBefore = await loadCalendar(db());
    const nowMs = Date.now();
    let next = nowMs + DAY;
    while (!isWorkingDay(localDate(next, calBefore), calBefore)) next += DAY;
    const day = localDate(next, calBefore);
    const put = await api.call('PUT', `/v1/operator/calendar/${day}`, { as: operator, body: { kind: 'holiday', name: 'Test holiday' } });
    expect(put.status).toBe(200);
    try {
      const { creator, creditEventId } = await creatorWithDeduction();
      const res = await file(creator, creditEventId);
      expect(res.status).toBe(201);
      const filedAt = Date.parse(res.body.filedAt);
      const withHoliday = addWorkingTime(filedAt, APPEAL_VERIFY_WORKING_MS, await loadCalendar(db()));
      expect(res.body.dueAt).toBe(new Date(withHoliday).toISOString());
      expect(withHoliday).toBeGreaterThan(addWorkingTime(filedAt, APPEAL_VERIFY_WORKING_MS, calBefore)); // a day later
    } finally {
      expect((await api.call('DELETE', `/v1/operator/calendar/${day}`, { as: operator })).status).toBe(204);
    }
  });
});

describe('an appeal filed while Temporal was unreachable', () => {
  it('R-APPEAL-48WH: the sweep starts the workflow of a kept appeal that never started, once, and marks it', async () => {
    const { creator, creditEventId } = await creatorWithDeduction(10);
    // what the API keeps when the start fails: the row, no workflow
    const row = await fileAppeal(db(), { id: `apl_${randomUUID()}`, creatorId: creator.id, creditEventId, reason: 'Network outage', filedAt: new Date(Date.now() - 5 * 60_000) });
    expect(row.workflowStartedAt).toBeNull();
    expect(await startOrphanedAppeals(db(), api.env.client, TASK_QUEUE)).toBeGreaterThanOrEqual(1);
    const state = await api.env.client.workflow.getHandle(appealWorkflowId(row.id)).query(appealStateQuery);
    expect(state.status).toBe('open');
    const [marked] = await db().select().from(appeals).where(eq(appeals.id, row.id));
    expect(marked!.workflowStartedAt).not.toBeNull();
    // nothing left to start
    const again = await db().select().from(appeals).where(isNull(appeals.workflowStartedAt));
    expect(again.map((a) => a.id)).not.toContain(row.id);
  });
  it('R-APPEAL-48WH: deciding an appeal whose workflow never started starts and decides it in one update-with-start; the decision is kept once', async () => {
    const { creator, creditEventId } = await creatorWithDeduction(12);
    // kept by the API while Temporal was down: the row, no workflow
    const row = await fileAppeal(db(), { id: `apl_${randomUUID()}`, creatorId: creator.id, creditEventId, reason: 'Power cut', filedAt: new Date() });
    const handle = api.env.client.workflow.getHandle(appealWorkflowId(row.id));
    expect(await handle.describe().then(() => 'exists', () => 'absent')).toBe('absent');
    const path = `/v1/appeals/${row.id}/decision`;
    const decided = await api.call('POST', path, { as: operator, body: { outcome: 'upheld', note: 'Outage confirmed' }, headers: { 'idempotency-key': `d-${randomUUID()}` } });
    expect(decided.status).toBe(200);
    expect(decided.body.status).toBe('upheld');
    expect((await resultHoldingTime<{ status: string }>(api.env, appealWorkflowId(row.id))).status).toBe('upheld');
    // the closed workflow is never started again: the same decision is answered, another refused
    expect((await api.call('POST', path, { as: operator, body: { outcome: 'upheld', note: 'Outage confirmed' } })).status).toBe(200);
    expect((await api.call('POST', path, { as: operator, body: { outcome: 'rejected', note: 'No' } })).status).toBe(409);
    let count = 0;
    for await (const _ of api.env.client.workflow.list({ query: `WorkflowId = '${appealWorkflowId(row.id)}'` })) count += 1;
    expect(count).toBe(1);
  });
});
