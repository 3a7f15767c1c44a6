/**
 * Access control over HTTP on the real stack, as a matrix: every authenticated
 * route the app serves × every role (wrong role → 403), the parties of one task
 * against outsiders of the same roles (wrong owner → 404, nothing leaks), and no
 * or a dead token (→ 401). Each refusal must change nothing; positive controls
 * make sure the matrix cannot pass by refusing everyone.
 */
import { randomUUID } from 'node:crypto';
import { count, eq } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../api/app.js';
import { USER_ROLES, type UserActor, type UserRole } from '../../api/auth.js';
import { TASK_ACTIONS, type TaskAction } from '../../api/tasks.js';
import { contactOf, mcnOf, offersOf } from '../../db/creators.js';
import { account, balanceOf, holdEscrow, settleEscrow, paidTopUp } from '../../db/ledger.js';
import {
  accounts,
  appeals,
  calendarDays,
  creatorCards,
  creatorOffers,
  creatorProfiles,
  idempotencyKeys,
  ledgerTransfers,
  mcnMemberships,
  platformAccounts,
  taskEvents,
  tasks,
  virtualNumberAssignments,
  virtualNumbers,
  withdrawals,
} from '../../db/schema/index.js';
import { TASK_QUEUE } from '../../temporal/config.js';
import { newActor } from '../helpers/accounts.js';
import { startApiStack, type ApiStack } from '../helpers/apiStack.js';

// ------------------------------------------------------------------ the cast

const clientA = newActor('client', 'brand-a');
const clientB = newActor('client', 'brand-b');
const creatorX = newActor('creator', 'creator-x');
const creatorY = newActor('creator', 'creator-y');
const mcnM = newActor('mcn', 'mcn-m');
const mcnN = newActor('mcn', 'mcn-n');
const operatorO = newActor('operator', 'op-o');

/** The parties of task T, one per role: the right owner for every role. */
const OWNER: Record<UserRole, UserActor> = { client: clientA, creator: creatorX, mcn: mcnM, operator: operatorO };
/** Outsiders of the same roles: the wrong owner. */
const OUTSIDERS: UserActor[] = [clientB, creatorY, mcnN];
const NAME = new Map<UserActor, string>([
  [clientA, 'client A'],
  [clientB, 'client B'],
  [creatorX, 'creator X'],
  [creatorY, 'creator Y'],
  [mcnM, 'MCN M'],
  [mcnN, 'MCN N'],
  [operatorO, 'operator O'],
]);
const nameOf = (a: UserActor) => NAME.get(a) ?? a.id;

const BRIEF = `Confidential launch brief ${randomUUID()}`;
const X_PHONE = '+8613900001111'; // what ensureCreator stores (test/helpers/accounts.ts)
const X_QUOTE = 100_000;

let api: ApiStack;
let taskT = '';
let withdrawalW = '';
const db = () => api.postgres.database.db;
const key = () => `k-${randomUUID()}`;

beforeAll(async () => {
  api = await startApiStack();
  await Promise.all([clientA, clientB, mcnM, mcnN, operatorO].map((a) => api.account(a)));
  await api.creator(creatorX, { douyin_video: X_QUOTE });
  await api.creator(creatorY, { douyin_video: 120_000 });

  await api.fund(clientA, 1_000_000);
  const managed = await api.call('PUT', `/v1/creators/${creatorX.id}/mcn`, { as: operatorO, body: { mcnId: mcnM.id } });
  expect(managed.status).toBe(200);
  const pool = await api.call('POST', '/v1/operator/virtual-numbers', { as: operatorO, body: { numbers: ['+8617000000001', '+8617000000002'] } });
  expect(pool.status).toBe(201);

  const ordered = await api.call('POST', '/v1/tasks', {
    as: clientA,
    body: { creatorId: creatorX.id, taskType: 'douyin_video', brief: BRIEF, scriptRequired: false },
    headers: { 'idempotency-key': key() },
  });
  expect(ordered.status).toBe(201);
  taskT = ordered.body.id;

  // M earns through X (R-PAYOUT: X's money goes to M) and withdraws some: withdrawal W
  const payer = `payer-${randomUUID().slice(0, 8)}`;
  const earning = `earning-${randomUUID()}`;
  await db().transaction(async (tx) => {
    await paidTopUp(tx, payer, 50_000, `topup:${earning}`);
    await holdEscrow(tx, earning, payer, 50_000);
  });
  await settleEscrow(db(), { taskId: earning, clientId: payer, creatorId: creatorX.id, outcome: 'payout' });
  const withdrawn = await api.call('POST', '/v1/wallets/me/withdrawals', { as: mcnM, body: { amountFen: 20_000 }, headers: { 'idempotency-key': key() } });
  expect(withdrawn.status).toBe(202);
  withdrawalW = withdrawn.body.withdrawalId;

  // A ordered from X: its virtual number for X is assigned once, here (a read that writes the first time)
  const vn = await api.call('GET', `/v1/creators/${creatorX.id}/contact`, { as: clientA });
  expect(vn.status).toBe(200);

  // let the asynchronous parts settle (T's projection, W's payout) so that "nothing changed" is exact
  await until(async () => {
    const [row] = await db().select().from(tasks).where(eq(tasks.id, taskT));
    const [w] = await db().select().from(withdrawals).where(eq(withdrawals.id, withdrawalW));
    const events = await db().select({ n: count() }).from(taskEvents).where(eq(taskEvents.taskId, taskT));
    return row!.version >= 1 && events[0]!.n >= 1 && w!.status !== 'pending';
  });
  let previous = JSON.stringify(await snapshot());
  for (let i = 0; i < 50; i++) {
    await sleep(100);
    const now = JSON.stringify(await snapshot());
    if (now === previous) break;
    previous = now;
  }
});
afterAll(async () => api?.stop());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(ok: () => Promise<boolean>, tries = 100): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await ok()) return;
    await sleep(100);
  }
  throw new Error('the stack did not settle');
}

// ------------------------------------------------------------------ state: what a refused request must not change

const rows = async (table: PgTable) => (await db().select({ n: count() }).from(table))[0]!.n;

async function snapshot() {
  const [row] = await db().select().from(tasks).where(eq(tasks.id, taskT));
  const live = await api.call('GET', `/v1/tasks/${taskT}`, { as: operatorO });
  const wallets = [account.client(clientA.id), account.client(clientB.id), account.creator(creatorX.id), account.creator(creatorY.id), account.mcn(mcnM.id), account.mcn(mcnN.id), account.escrow(taskT)];
  const offers = async (creatorId: string) => (await offersOf(db(), creatorId)).map((o) => ({ type: o.taskType, quote: o.quoteFen, accepting: o.accepting, discoverable: o.discoverable }));
  return {
    task: { status: row!.status, version: row!.version, closedAt: row!.closedAt, nextDeadline: row!.nextDeadline, updatedAt: row!.updatedAt },
    live: { status: live.body.task.status, version: live.body.task.version },
    balances: Object.fromEntries(await Promise.all(wallets.map(async (w) => [w, await balanceOf(db(), w)] as const))),
    rows: {
      accounts: await rows(accounts),
      tasks: await rows(tasks),
      taskEvents: await rows(taskEvents),
      transfers: await rows(ledgerTransfers),
      withdrawals: await rows(withdrawals),
      idempotencyKeys: await rows(idempotencyKeys),
      platformAccounts: await rows(platformAccounts),
      offers: await rows(creatorOffers),
      profiles: await rows(creatorProfiles),
      cards: await rows(creatorCards),
      appeals: await rows(appeals),
      calendarDays: await rows(calendarDays),
      virtualNumbers: await rows(virtualNumbers),
      virtualNumberAssignments: await rows(virtualNumberAssignments),
      mcnMemberships: await rows(mcnMemberships),
    },
    offers: { x: await offers(creatorX.id), y: await offers(creatorY.id) },
    contact: { x: await contactOf(db(), creatorX.id), y: await contactOf(db(), creatorY.id) },
    mcn: { x: await mcnOf(db(), creatorX.id), y: await mcnOf(db(), creatorY.id) },
  };
}

/** Runs `work` and asserts that nothing in the snapshot moved. */
async function changesNothing(work: () => Promise<void>): Promise<void> {
  const before = await snapshot();
  await work();
  expect(await snapshot()).toEqual(before);
}

// ------------------------------------------------------------------ responses

type Res = { status: number; type: string; body: any };
const PROBLEM_KEYS = ['type', 'title', 'status', 'detail', 'instance'];

function expectProblem(res: Res, status: number, slug: string, context: string) {
  expect(res.status, `${context}: status (body ${JSON.stringify(res.body)})`).toBe(status);
  expect(res.type, `${context}: content type`).toMatch(/^application\/problem\+json/);
  expect(res.body.status, context).toBe(status);
  expect(typeof res.body.title, context).toBe('string');
  expect(res.body.type, context).toBe(`https://starmap.dev/problems/${slug}`);
}

/** The body holds none of `secrets` (ids in the requested URL are allowed) and no fields but `allowedKeys`. */
function expectNoLeak(res: Res, url: string, secrets: string[], allowedKeys: string[], context: string) {
  const text = JSON.stringify(res.body);
  for (const secret of secrets) {
    if (url.includes(secret)) continue;
    expect(text, `${context}: leaks ${secret}`).not.toContain(secret);
  }
  for (const k of Object.keys(res.body ?? {})) expect(allowedKeys, `${context}: unexpected field ${k}`).toContain(k);
}
const TASK_SECRETS = () => [BRIEF, clientA.id, creatorX.id];
const X_CONTACT = () => [X_PHONE, X_PHONE.replace('+86', ''), `${creatorX.id.toLowerCase()}@creator.test`];

// ------------------------------------------------------------------ the routes

/** Valid bodies for the task actions: the first each action's schema accepts (a new action with a new body shape must add one). */
const ACTION_BODY_CANDIDATES: unknown[] = [
  {},
  { reason: 'Not what was agreed' },
  { body: 'Draft one' },
  { decision: 'pass' },
  { decision: 'confirm' },
  { platformItemId: 'item-1' },
  { outcome: 'dismissed', note: 'Checked, nothing wrong' },
  { days: 2 },
  { outcome: 'cancel', reason: 'Creator unreachable' },
  { agree: true },
];
function validActionBody(spec: TaskAction): unknown {
  const body = ACTION_BODY_CANDIDATES.find((b) => spec.body.safeParse(b).success);
  if (body === undefined) throw new Error(`add a valid body for the task action "${spec.path}" to ACTION_BODY_CANDIDATES`);
  return body;
}

interface RouteCase {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** As the app registers it (express syntax). */
  pattern: string;
  path: () => string;
  /** The roles the route serves, with the status their party (OWNER[role]) gets; every other role must get 403. */
  allowed: Partial<Record<UserRole, number>>;
  /** A valid body: refused roles send it, so only the role can be the reason for the refusal. */
  body?: () => unknown;
  /** An invalid body the allowed roles send: 400 proves the role check let them through, and nothing is written. */
  probe?: unknown;
  /** Send an Idempotency-Key (money and task writes). */
  keyed?: boolean;
}

const everyone = (status: number): Record<UserRole, number> => ({ client: status, creator: status, mcn: status, operator: status });
const onlyFor = (roles: readonly UserRole[], status: number): Partial<Record<UserRole, number>> => Object.fromEntries(roles.map((r) => [r, status]));
const INVALID = { unexpectedField: true };

const ROUTES: RouteCase[] = [
  { method: 'GET', pattern: '/v1/me', path: () => '/v1/me', allowed: everyone(200) },
  { method: 'GET', pattern: '/v1/task-types', path: () => '/v1/task-types', allowed: everyone(200) },
  // tasks
  {
    method: 'POST',
    pattern: '/v1/tasks',
    path: () => '/v1/tasks',
    allowed: { client: 400 },
    body: () => ({ creatorId: creatorX.id, taskType: 'douyin_video', brief: 'Ordered by the wrong role', scriptRequired: false }),
    probe: INVALID,
    keyed: true,
  },
  { method: 'GET', pattern: '/v1/tasks', path: () => '/v1/tasks', allowed: everyone(200) },
  { method: 'GET', pattern: '/v1/tasks/:taskId', path: () => `/v1/tasks/${taskT}`, allowed: everyone(200) },
  { method: 'GET', pattern: '/v1/tasks/:taskId/events', path: () => `/v1/tasks/${taskT}/events`, allowed: everyone(200) },
  ...TASK_ACTIONS.map(
    (spec): RouteCase => ({
      method: 'POST',
      pattern: `/v1/tasks/:taskId/${spec.path}`,
      path: () => `/v1/tasks/${taskT}/${spec.path}`,
      allowed: onlyFor(spec.roles, 400),
      body: () => validActionBody(spec),
      probe: INVALID,
      keyed: true,
    }),
  ),
  // wallets
  { method: 'GET', pattern: '/v1/wallets/me', path: () => '/v1/wallets/me', allowed: onlyFor(['client', 'creator', 'mcn'], 200) },
  { method: 'GET', pattern: '/v1/wallets/me/transfers', path: () => '/v1/wallets/me/transfers', allowed: onlyFor(['client', 'creator', 'mcn'], 200) },
  { method: 'POST', pattern: '/v1/wallets/me/top-ups', path: () => '/v1/wallets/me/top-ups', allowed: { client: 400 }, body: () => ({ amountFen: 50_000 }), probe: { amountFen: 0 }, keyed: true },
  {
    method: 'POST',
    pattern: '/v1/wallets/me/withdrawals',
    path: () => '/v1/wallets/me/withdrawals',
    allowed: { creator: 400, mcn: 400 },
    body: () => ({ amountFen: 1_000 }),
    probe: { amountFen: 0 },
    keyed: true,
  },
  // W is M's: its creator X passes the role check but does not own it
  { method: 'GET', pattern: '/v1/wallets/me/top-ups/:topUpId', path: () => '/v1/wallets/me/top-ups/tu_0000000000000000', allowed: { client: 404 } },
  { method: 'GET', pattern: '/v1/wallets/me/withdrawals/:withdrawalId', path: () => `/v1/wallets/me/withdrawals/${withdrawalW}`, allowed: { creator: 404, mcn: 200 } },
  // creators
  { method: 'GET', pattern: '/v1/creators/me', path: () => '/v1/creators/me', allowed: { creator: 200 } },
  { method: 'PUT', pattern: '/v1/creators/me/contact', path: () => '/v1/creators/me/contact', allowed: { creator: 400 }, body: () => ({ phone: '13900009999', email: 'hijack@example.com' }), probe: {} },
  {
    method: 'POST',
    pattern: '/v1/creators/me/platform-accounts',
    path: () => '/v1/creators/me/platform-accounts',
    allowed: { creator: 400 },
    body: () => ({ platform: 'xigua', platformUserId: 'xigua-hijack' }),
    probe: {},
  },
  { method: 'POST', pattern: '/v1/creators/me/offers', path: () => '/v1/creators/me/offers', allowed: { creator: 400 }, body: () => ({ taskType: 'toutiao_qa', quoteFen: 50_000 }), probe: {} },
  {
    method: 'PATCH',
    pattern: '/v1/creators/me/offers/:taskType',
    path: () => '/v1/creators/me/offers/douyin_video',
    allowed: { creator: 400 },
    body: () => ({ quoteFen: 1_000, accepting: false }),
    probe: {},
  },
  { method: 'GET', pattern: '/v1/plaza/creators', path: () => '/v1/plaza/creators', allowed: everyone(200) },
  { method: 'GET', pattern: '/v1/creators/:creatorId', path: () => `/v1/creators/${creatorX.id}`, allowed: everyone(200) },
  // every role may ask; what it gets depends on the owner (matrix 2)
  { method: 'GET', pattern: '/v1/creators/:creatorId/contact', path: () => `/v1/creators/${creatorX.id}/contact`, allowed: everyone(200) },
  { method: 'GET', pattern: '/v1/mcn/creators', path: () => '/v1/mcn/creators', allowed: { mcn: 200 } },
  // R-CONTACT-CLIENT: only the task's creator (409 here: client A gave no phone)
  { method: 'PUT', pattern: '/v1/clients/me/contact', path: () => '/v1/clients/me/contact', allowed: { client: 400 }, body: () => ({ phone: '13900002222' }), probe: {} },
  { method: 'GET', pattern: '/v1/tasks/:taskId/client-contact', path: () => `/v1/tasks/${taskT}/client-contact`, allowed: { creator: 409 } },
  { method: 'PUT', pattern: '/v1/creators/:creatorId/mcn', path: () => `/v1/creators/${creatorX.id}/mcn`, allowed: { operator: 400 }, body: () => ({ mcnId: mcnN.id }), probe: {} },
  { method: 'POST', pattern: '/v1/operator/virtual-numbers', path: () => '/v1/operator/virtual-numbers', allowed: { operator: 400 }, body: () => ({ numbers: ['+8617000009999'] }), probe: {} },
  // credit and cards (R-CREDIT, R-CARDS): X, its MCN M and operators read them; client A gets the 404 of a missing creator
  { method: 'GET', pattern: '/v1/creators/:creatorId/credit', path: () => `/v1/creators/${creatorX.id}/credit`, allowed: { client: 404, creator: 200, mcn: 200, operator: 200 } },
  { method: 'GET', pattern: '/v1/creators/:creatorId/cards', path: () => `/v1/creators/${creatorX.id}/cards`, allowed: { client: 404, creator: 200, mcn: 200, operator: 200 } },
  {
    method: 'POST',
    pattern: '/v1/creators/:creatorId/cards',
    path: () => `/v1/creators/${creatorX.id}/cards`,
    allowed: { operator: 400 },
    body: () => ({ color: 'red', reason: 'Given by the wrong role', observationDays: 30, points: 50 }),
    probe: {},
  },
  { method: 'GET', pattern: '/v1/operator/queues/reviews', path: () => '/v1/operator/queues/reviews', allowed: { operator: 200 } },
  { method: 'GET', pattern: '/v1/operator/queues/complaints', path: () => '/v1/operator/queues/complaints', allowed: { operator: 200 } },
  // every fen lands: operators list stranded escrows and release one
  { method: 'GET', pattern: '/v1/operator/escrows/stranded', path: () => '/v1/operator/escrows/stranded', allowed: { operator: 200 } },
  {
    method: 'POST',
    pattern: '/v1/operator/escrows/:taskId/release',
    path: () => `/v1/operator/escrows/${taskT}/release`,
    allowed: { operator: 400 },
    body: () => ({ note: 'Released by the wrong role' }),
    probe: {},
  },
  // appeals and the working-day calendar (R-APPEAL-48WH): creators file and read their own; operators decide and keep the calendar
  { method: 'POST', pattern: '/v1/appeals', path: () => '/v1/appeals', allowed: { creator: 400 }, body: () => ({ creditEventId: 1, reason: 'Filed by the wrong role' }), probe: {} },
  { method: 'GET', pattern: '/v1/appeals', path: () => '/v1/appeals', allowed: { creator: 200, operator: 200 } },
  { method: 'GET', pattern: '/v1/appeals/:appealId', path: () => `/v1/appeals/apl_${randomUUID()}`, allowed: { creator: 404, operator: 404 } },
  {
    method: 'POST',
    pattern: '/v1/appeals/:appealId/decision',
    path: () => `/v1/appeals/apl_${randomUUID()}/decision`,
    allowed: { operator: 400 },
    body: () => ({ outcome: 'upheld', note: 'Decided by the wrong role' }),
    probe: {},
  },
  { method: 'GET', pattern: '/v1/operator/appeals', path: () => '/v1/operator/appeals', allowed: { operator: 200 } },
  { method: 'GET', pattern: '/v1/operator/calendar', path: () => '/v1/operator/calendar', allowed: { operator: 200 } },
  { method: 'PUT', pattern: '/v1/operator/calendar/:day', path: () => '/v1/operator/calendar/2031-01-01', allowed: { operator: 400 }, body: () => ({ kind: 'holiday', name: 'x' }), probe: {} },
  { method: 'DELETE', pattern: '/v1/operator/calendar/:day', path: () => '/v1/operator/calendar/2031-01-01', allowed: { operator: 404 } },
  // post-campaign data and ratings (R-RATE): every party of T reads; only its client rates (T is not rated yet: 404)
  { method: 'GET', pattern: '/v1/tasks/:taskId/metrics', path: () => `/v1/tasks/${taskT}/metrics`, allowed: everyone(200) },
  { method: 'GET', pattern: '/v1/tasks/:taskId/rating', path: () => `/v1/tasks/${taskT}/rating`, allowed: everyone(404) },
  { method: 'POST', pattern: '/v1/tasks/:taskId/rating', path: () => `/v1/tasks/${taskT}/rating`, allowed: { client: 400 }, body: () => ({ stars: 5, comment: 'Rated by the wrong role' }), probe: INVALID },
  // R-RATE the other way: every party of T reads; only its creator rates the client
  { method: 'GET', pattern: '/v1/tasks/:taskId/client-rating', path: () => `/v1/tasks/${taskT}/client-rating`, allowed: everyone(404) },
  { method: 'POST', pattern: '/v1/tasks/:taskId/client-rating', path: () => `/v1/tasks/${taskT}/client-rating`, allowed: { creator: 400 }, body: () => ({ stars: 5, comment: 'Rated by the wrong role' }), probe: INVALID },
  // R-EVIDENCE: every party of T exports its evidence (JSON, the printable page, a link to it)
  { method: 'GET', pattern: '/v1/tasks/:taskId/evidence', path: () => `/v1/tasks/${taskT}/evidence`, allowed: everyone(200) },
  { method: 'GET', pattern: '/v1/tasks/:taskId/evidence.html', path: () => `/v1/tasks/${taskT}/evidence.html`, allowed: everyone(200) },
  { method: 'GET', pattern: '/v1/tasks/:taskId/evidence-link', path: () => `/v1/tasks/${taskT}/evidence-link`, allowed: everyone(200) },
];

const label = (r: RouteCase) => `${r.method} ${r.pattern}`;
const allowedRoles = (r: RouteCase) => USER_ROLES.filter((role) => r.allowed[role] !== undefined);
const refusedRoles = (r: RouteCase) => USER_ROLES.filter((role) => r.allowed[role] === undefined);
const headersFor = (r: RouteCase): Record<string, string> => (r.keyed ? { 'idempotency-key': key() } : {});

/** The routes after authentication: every /v1 route except sign-up, sign-in and the HMAC-signed platform callback. */
const PUBLIC_ROUTES = new Set(['POST /v1/accounts', 'POST /v1/sessions', 'POST /v1/platform/events', 'POST /v1/payments/notifications']);

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}
function servedRoutes(stack: Layer[]): string[] {
  return stack.flatMap((layer) => {
    if (layer.route) return Object.keys(layer.route.methods).map((m) => `${m.toUpperCase()} ${layer.route!.path}`);
    return layer.handle?.stack ? servedRoutes(layer.handle.stack) : [];
  });
}

// ------------------------------------------------------------------ matrix 1: roles

describe('access matrix 1 — role checks: every route refuses every role it does not serve (403)', () => {
  it('covers every authenticated route the app serves (a new route must join the matrix)', () => {
    const app = createApp({
      db: db(),
      temporal: api.env.client,
      auth: api.auth,
      taskQueue: TASK_QUEUE,
      platformSecret: api.platformSecret,
      contentPlatform: api.contentPlatform,
      telephony: api.telephony,
      payments: api.payments,
    });
    const served = servedRoutes((app as unknown as { router: { stack: Layer[] } }).router.stack);
    const authenticated = served.filter((r) => r.split(' ')[1]!.startsWith('/v1/') && !PUBLIC_ROUTES.has(r));
    expect(authenticated.length).toBeGreaterThanOrEqual(30);
    expect([...authenticated].sort()).toEqual(ROUTES.map(label).sort());
    for (const spec of TASK_ACTIONS) expect(authenticated).toContain(`POST /v1/tasks/:taskId/${spec.path}`);
  });

  it('an MCN reads its creators\' tasks but takes no task action; operators act only on reviews, complaints and the resolution of a task (R-OPERATOR-RESOLVE)', () => {
    for (const spec of TASK_ACTIONS) expect(spec.roles, spec.path).not.toContain('mcn');
    const operatorActions = TASK_ACTIONS.filter((s) => s.roles.includes('operator')).map((s) => s.path);
    for (const path of operatorActions) expect(path).toMatch(/(^|\/)(review|resolution)$/);
  });

  it('POST /v1/tasks/{T}/publication: client A is a party of T but not the publisher of a Douyin task → 403 wrong-role, nothing changes', async () => {
    // the route serves clients (they publish Xigua tasks); the task type decides who publishes this one
    await changesNothing(async () => {
      const url = `/v1/tasks/${taskT}/publication`;
      const res = await api.call('POST', url, { as: clientA, body: { platformItemId: 'item-1' }, headers: { 'idempotency-key': key() } });
      expectProblem(res, 403, 'forbidden', `client A POST ${url}`);
      expect(res.body).toMatchObject({ code: 'wrong-role', requiredRole: 'creator' });
      expectNoLeak(res, url, [BRIEF], [...PROBLEM_KEYS, 'code', 'requiredRole'], `client A POST ${url}`);
    });
  });

  for (const route of ROUTES) {
    const refused = refusedRoles(route);
    if (refused.length > 0) {
      it(`${label(route)}: ${refused.join(', ')} → 403 forbidden, nothing changes`, async () => {
        await changesNothing(async () => {
          for (const role of refused) {
            const url = route.path();
            const res = await api.call(route.method, url, { as: OWNER[role], body: route.body?.(), headers: headersFor(route) });
            const context = `${label(route)} as ${role}`;
            expectProblem(res, 403, 'forbidden', context);
            expect([...(res.body.requiredRoles ?? [])].sort(), `${context}: requiredRoles`).toEqual(allowedRoles(route).sort());
            expect(res.body.role, context).toBe(role);
            expectNoLeak(res, url, [BRIEF], [...PROBLEM_KEYS, 'requiredRoles', 'role'], context);
          }
        });
      });
    }
    const allowed = allowedRoles(route);
    it(`${label(route)}: ${allowed.join(', ')} pass the role check (positive control)`, async () => {
      await changesNothing(async () => {
        for (const role of allowed) {
          const body = route.body ? route.probe : undefined;
          const res = await api.call(route.method, route.path(), { as: OWNER[role], body, headers: headersFor(route) });
          expect(res.status, `${label(route)} as ${nameOf(OWNER[role])}: ${JSON.stringify(res.body)}`).toBe(route.allowed[role]);
        }
      });
    });
  }
});

// ------------------------------------------------------------------ matrix 2: ownership

const missingTask = () => `tsk_${randomUUID()}`;
/** The response with the task id masked: a wrong owner must get exactly what a missing task gets. */
const masked = (res: Res, id: string) => JSON.parse(JSON.stringify(res.body).replaceAll(id, '<task>'));

describe('access matrix 2 — ownership: outsiders of the right role get 404 and learn nothing', () => {
  for (const outsider of OUTSIDERS) {
    const who = nameOf(outsider);

    it(`${who} cannot read task T, its events or its evidence (404, the same answer as for a task that does not exist)`, async () => {
      await changesNothing(async () => {
        for (const suffix of ['', '/events', '/evidence', '/evidence.html', '/evidence-link']) {
          const url = `/v1/tasks/${taskT}${suffix}`;
          const res = await api.call('GET', url, { as: outsider });
          expectProblem(res, 404, 'not-found', `${who} GET ${url}`);
          expectNoLeak(res, url, TASK_SECRETS(), PROBLEM_KEYS, `${who} GET ${url}`);
          const other = missingTask();
          const missing = await api.call('GET', `/v1/tasks/${other}${suffix}`, { as: outsider });
          expect(masked(res, taskT)).toEqual(masked(missing, other));
        }
      });
    });

    const actions = TASK_ACTIONS.filter((spec) => spec.roles.includes(outsider.role));
    if (actions.length > 0) {
      it(`${who} cannot act on task T: ${actions.map((a) => a.path).join(', ')} → 404, nothing changes`, async () => {
        await changesNothing(async () => {
          for (const spec of actions) {
            const url = `/v1/tasks/${taskT}/${spec.path}`;
            const res = await api.call('POST', url, { as: outsider, body: validActionBody(spec), headers: { 'idempotency-key': key() } });
            expectProblem(res, 404, 'not-found', `${who} POST ${url}`);
            expectNoLeak(res, url, TASK_SECRETS(), PROBLEM_KEYS, `${who} POST ${url}`);
            const other = missingTask();
            const missing = await api.call('POST', `/v1/tasks/${other}/${spec.path}`, { as: outsider, body: validActionBody(spec), headers: { 'idempotency-key': key() } });
            expect(masked(res, taskT)).toEqual(masked(missing, other));
          }
        });
      });
    } else {
      it(`${who} has no task action at all: each one is 403 before the task is even looked up`, async () => {
        await changesNothing(async () => {
          for (const spec of TASK_ACTIONS) {
            const res = await api.call('POST', `/v1/tasks/${taskT}/${spec.path}`, { as: outsider, body: validActionBody(spec) });
            expectProblem(res, 403, 'forbidden', `${who} POST ${spec.path}`);
            expectNoLeak(res, `/v1/tasks/${taskT}/${spec.path}`, TASK_SECRETS(), [...PROBLEM_KEYS, 'requiredRoles', 'role'], `${who} POST ${spec.path}`);
          }
        });
      });
    }

    it(`${who} does not find task T in GET /v1/tasks, whatever the filter`, async () => {
      const queries = ['', '?limit=100', '?status=awaiting_acceptance', `?creatorId=${creatorX.id}`, `?clientId=${clientA.id}`, `?clientId=${clientA.id}&creatorId=${creatorX.id}`];
      for (const query of queries) {
        const url = `/v1/tasks${query}`;
        const res = await api.call('GET', url, { as: outsider });
        // a client may not filter by another client, a creator not by another creator: 403; otherwise an empty answer
        const filtersOthers = (outsider.role === 'client' && query.includes('clientId=')) || (outsider.role === 'creator' && query.includes('creatorId='));
        if (filtersOthers) {
          expectProblem(res, 403, 'forbidden', `${who} GET ${url}`);
        } else {
          expect(res.status, `${who} GET ${url}`).toBe(200);
          expect(res.body.items.map((t: { id: string }) => t.id)).not.toContain(taskT);
        }
        expectNoLeak(res, url, [taskT, BRIEF], res.status === 200 ? ['items', 'nextCursor'] : PROBLEM_KEYS, `${who} GET ${url}`);
      }
    });

    it(`${who} cannot read M's withdrawal W`, async () => {
      const url = `/v1/wallets/me/withdrawals/${withdrawalW}`;
      const res = await api.call('GET', url, { as: outsider });
      if (outsider.role === 'client') expectProblem(res, 403, 'forbidden', `${who} GET ${url}`);
      else expectProblem(res, 404, 'not-found', `${who} GET ${url}`);
      expectNoLeak(res, url, [mcnM.id], [...PROBLEM_KEYS, 'requiredRoles', 'role'], `${who} GET ${url}`);
    });
  }

  it("creator X, though M's creator, cannot read M's withdrawal W (404)", async () => {
    const url = `/v1/wallets/me/withdrawals/${withdrawalW}`;
    const res = await api.call('GET', url, { as: creatorX });
    expectProblem(res, 404, 'not-found', `creator X GET ${url}`);
    expectNoLeak(res, url, [mcnM.id], PROBLEM_KEYS, 'creator X');
  });

  it("creator Y cannot change X's offers: its PATCH reaches its own offers only, and there is no route to another creator's", async () => {
    const xOffers = async () => (await offersOf(db(), creatorX.id)).map((o) => ({ type: o.taskType, quote: o.quoteFen, accepting: o.accepting }));
    const before = await xOffers();
    expect(before).toEqual([{ type: 'douyin_video', quote: X_QUOTE, accepting: true }]);
    for (const method of ['PATCH', 'PUT', 'POST']) {
      const url = `/v1/creators/${creatorX.id}/offers/douyin_video`;
      const res = await api.call(method, url, { as: creatorY, body: { quoteFen: 100, accepting: false } });
      expectProblem(res, 404, 'not-found', `creator Y ${method} ${url}`);
    }
    const own = await api.call('PATCH', '/v1/creators/me/offers/douyin_video', { as: creatorY, body: { quoteFen: 130_000 } });
    expect(own.status).toBe(200);
    expect(own.body.quoteFen).toBe(130_000);
    expect((await offersOf(db(), creatorY.id)).find((o) => o.taskType === 'douyin_video')?.quoteFen).toBe(130_000);
    expect(await xOffers()).toEqual(before);
    const again = await api.call('PATCH', '/v1/creators/me/offers/douyin_video', { as: creatorY, body: { quoteFen: 120_000 } });
    expect(again.status).toBe(200);
  });

  it("creator Y and MCN N cannot read X's real contact (404, as for no creator); their view of X's public profile holds no contact", async () => {
    await changesNothing(async () => {
      for (const outsider of [creatorY, mcnN]) {
        const url = `/v1/creators/${creatorX.id}/contact`;
        const res = await api.call('GET', url, { as: outsider });
        expectProblem(res, 404, 'not-found', `${nameOf(outsider)} GET ${url}`);
        expectNoLeak(res, url, [...X_CONTACT(), mcnM.id, clientA.id], PROBLEM_KEYS, `${nameOf(outsider)} GET ${url}`);
        const nobody = `creator-${randomUUID().slice(0, 8)}`;
        const missing = await api.call('GET', `/v1/creators/${nobody}/contact`, { as: outsider });
        expect(JSON.parse(JSON.stringify(res.body).replaceAll(creatorX.id, '<c>'))).toEqual(JSON.parse(JSON.stringify(missing.body).replaceAll(nobody, '<c>')));

        const profile = await api.call('GET', `/v1/creators/${creatorX.id}`, { as: outsider });
        expect(profile.status).toBe(200);
        expectNoLeak(profile, `/v1/creators/${creatorX.id}`, [...X_CONTACT(), mcnM.id, clientA.id, BRIEF], ['creatorId', 'displayName', 'platformAccounts', 'offers'], `${nameOf(outsider)} profile`);
      }
    });
  });

  it('client B, who never ordered from X, gets no virtual number for X (403 no-task-with-creator) and nothing of the contact', async () => {
    await changesNothing(async () => {
      const url = `/v1/creators/${creatorX.id}/contact`;
      const res = await api.call('GET', url, { as: clientB });
      expectProblem(res, 403, 'forbidden', `client B GET ${url}`);
      expect(res.body.code).toBe('no-task-with-creator');
      expectNoLeak(res, url, [...X_CONTACT(), '+86170', mcnM.id, clientA.id, taskT], [...PROBLEM_KEYS, 'code'], 'client B contact');
    });
  });

  it('MCN N does not list X among its creators; MCN M does', async () => {
    const n = await api.call('GET', '/v1/mcn/creators', { as: mcnN });
    expect(n.status).toBe(200);
    expect(n.body.items).toEqual([]);
    const m = await api.call('GET', '/v1/mcn/creators', { as: mcnM });
    expect(m.body.items.map((c: { creatorId: string }) => c.creatorId)).toEqual([creatorX.id]);
  });
});

// ------------------------------------------------------------------ matrix 3: no identity

describe('access matrix 3 — unauthenticated: no token, a bad token, or a token of no such account → 401', () => {
  const roleMismatch: UserActor = { role: 'operator', id: clientA.id }; // A's id, not A's role
  for (const route of ROUTES) {
    it(`${label(route)}: 401 without a token, with a malformed or forged token, for a missing account and for a role the account does not have`, async () => {
      await changesNothing(async () => {
        const url = route.path();
        const attempts: Array<[string, { as?: UserActor; headers?: Record<string, string> }]> = [
          ['no token', {}],
          ['malformed token', { headers: { authorization: 'Bearer not.a.token' } }],
          ['not a bearer token', { headers: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` } }],
          ['token of a missing account', { as: newActor('client', 'ghost') }],
          ['token with a role the account does not have', { as: roleMismatch }],
        ];
        for (const [what, options] of attempts) {
          const res = await api.call(route.method, url, { ...options, body: route.body?.(), headers: { ...headersFor(route), ...(options.headers ?? {}) } });
          expectProblem(res, 401, 'unauthenticated', `${label(route)} with ${what}`);
          expectNoLeak(res, url, TASK_SECRETS(), PROBLEM_KEYS, `${label(route)} with ${what}`);
        }
      });
    });
  }

  it('variants of a path (letter case, doubled or trailing slashes, percent-encoding) do not get around authentication', async () => {
    const variants = ['/V1/me', '/v1/ME', '/v1//me', '/v1/me/', '/v1/%6De', `/V1/TASKS/${taskT}`, `/v1/tasks/${taskT}/`, `/v1/tasks/${taskT}//events`, `/v1/wallets/me/top-ups/`];
    for (const path of variants) {
      const res = await api.call('GET', path);
      expectProblem(res, 401, 'unauthenticated', `GET ${path}`);
      expectNoLeak(res, path, TASK_SECRETS(), PROBLEM_KEYS, `GET ${path}`);
    }
  });

  it('a token of a missing account is refused for every role, on every route', async () => {
    for (const role of USER_ROLES) {
      const ghost = newActor(role, 'ghost');
      for (const route of ROUTES) {
        const res = await api.call(route.method, route.path(), { as: ghost, body: route.body?.(), headers: headersFor(route) });
        expectProblem(res, 401, 'unauthenticated', `${label(route)} as a missing ${role}`);
      }
    }
  });
});

// ------------------------------------------------------------------ positive controls

describe('access positive controls — the parties do get in (the matrix cannot pass by refusing everyone)', () => {
  it("A, X, M and O read task T (with its brief) and its events", async () => {
    for (const party of [clientA, creatorX, mcnM, operatorO]) {
      const res = await api.call('GET', `/v1/tasks/${taskT}`, { as: party });
      expect(res.status, nameOf(party)).toBe(200);
      expect(res.body.task).toMatchObject({ taskId: taskT, brief: BRIEF, clientId: clientA.id, creatorId: creatorX.id });
      const events = await api.call('GET', `/v1/tasks/${taskT}/events`, { as: party });
      expect(events.status, nameOf(party)).toBe(200);
      expect(events.body.items.map((e: { type: string }) => e.type)).toContain('ordered');
    }
  });

  it('A, X, M and O find task T in GET /v1/tasks', async () => {
    for (const party of [clientA, creatorX, mcnM, operatorO]) {
      const res = await api.call('GET', '/v1/tasks?limit=100', { as: party });
      expect(res.status, nameOf(party)).toBe(200);
      expect(res.body.items.map((t: { id: string }) => t.id), nameOf(party)).toContain(taskT);
    }
    const byCreator = await api.call('GET', `/v1/tasks?creatorId=${creatorX.id}`, { as: mcnM });
    expect(byCreator.body.items.map((t: { id: string }) => t.id)).toEqual([taskT]);
  });

  it("X, M and O read X's real contact; A, who ordered from X, gets a virtual number and never the real one", async () => {
    for (const party of [creatorX, mcnM, operatorO]) {
      const res = await api.call('GET', `/v1/creators/${creatorX.id}/contact`, { as: party });
      expect(res.status, nameOf(party)).toBe(200);
      expect(res.body.phone, nameOf(party)).toBe(X_PHONE);
    }
    const a = await api.call('GET', `/v1/creators/${creatorX.id}/contact`, { as: clientA });
    expect(a.status).toBe(200);
    expect(a.body.virtualNumber).toMatch(/^\+86170/);
    expectNoLeak(a, '', X_CONTACT(), ['creatorId', 'virtualNumber'], 'client A contact');
  });

  it('M reads its withdrawal W', async () => {
    const res = await api.call('GET', `/v1/wallets/me/withdrawals/${withdrawalW}`, { as: mcnM });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ withdrawalId: withdrawalW, amountFen: 20_000 });
  });

  it('the wrong-role refusals above are real refusals of a working route: the right role can write (a top-up by A moves money)', async () => {
    const before = (await api.call('GET', '/v1/wallets/me', { as: clientA })).body.balanceFen as number;
    const res = await api.call('POST', '/v1/wallets/me/top-ups', { as: clientA, body: { amountFen: 1 }, headers: { 'idempotency-key': key() } });
    expect(res.status).toBe(201);
    expect((await api.notifyPayment(api.payments.confirm(res.body.topUpId))).status).toBe(200);
    expect((await api.call('GET', '/v1/wallets/me', { as: clientA })).body.balanceFen).toBe(before + 1);
  });
});
