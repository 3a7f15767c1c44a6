/**
 * Creators: onboarding (contact, platform accounts, opening task types, quotes,
 * the accepting switch), the creator plaza, public profiles, virtual numbers,
 * and MCN membership. Rules: domain/creators.ts; storage: db/creators.ts.
 *
 * R-CONTACT: a creator's real phone and email reach the creator itself, its MCN
 * and operators only. Clients get a virtual number, and only for a creator they
 * have ordered from.
 */
import { and, eq, ne } from 'drizzle-orm';
import type { z } from 'zod';
import { Router } from 'express';
import type { ContentPlatform } from '../adapters/contentPlatform.js';
import { PlatformAccountNotFound } from '../adapters/contentPlatform.js';
import type { Telephony } from '../adapters/telephony.js';
import type { Db } from '../db/client.js';
import {
  NoVirtualNumberLeft,
  PlatformAccountConflict,
  addVirtualNumbers,
  assignVirtualNumber,
  bindPlatformAccount,
  contactOf,
  creatorsOfMcn,
  mcnOf,
  offersOf,
  openOffer,
  platformAccountsOf,
  searchPlaza,
  setContact,
  updateOffer,
  type OfferRow,
  type PlazaCursor,
} from '../db/creators.js';
import { accounts, mcnMemberships, tasks } from '../db/schema/index.js';
import { DAY, normalizeEmail, normalizePhone, taskTypeOf, type Platform, type PlatformAccountMetrics } from '../domain/index.js';
import { clientPhoneOf, setClientPhone } from '../db/accounts.js';
import { visibleTaskOf } from './tasks.js';

/** R-CONTACT-CLIENT: how long after a task closed its creator can still call the client (disputes, appeals). */
export const CLIENT_CONTACT_DAYS = 30;
import { actorOf } from './auth.js';
import { decodeCursor, encodeCursor, isId } from './cursors.js';
import { newId } from './ids.js';
import { Problem, badRequest, notFound, orDomainProblem } from './problems.js';
import { BindPlatformAccountBody, ClientContactBody, ContactBody, CreatorIdParam, McnBody, OpenOfferBody, PlazaQuery, TaskTypeParam, UpdateOfferBody, VirtualNumbersBody } from './schemas.js';


export interface CreatorRoutesDeps {
  db: Db;
  contentPlatform: ContentPlatform;
  telephony: Telephony;
}

const domain = orDomainProblem;

export const offerView = (o: OfferRow) => ({
  taskType: o.taskType,
  platform: o.platform,
  quoteFen: o.quoteFen,
  accepting: o.accepting,
  discoverable: o.discoverable,
  missing: [...(o.quoteFen === null ? ['quote'] : []), ...(o.contactComplete ? [] : ['contact'])],
  openedAt: o.openedAt.toISOString(),
});

const rating = (o: { ratingCentis: number | null; ratingCount: number }) => ({ average: o.ratingCentis === null ? null : o.ratingCentis / 100, count: o.ratingCount });

const platformUnavailable = () => new Problem(503, 'platform-unavailable', 'The content platform did not answer', 'Try again in a moment');

export function creatorRoutes({ db, contentPlatform, telephony }: CreatorRoutesDeps): Router {
  const router = Router();

  async function readPlatform(platform: Platform, platformUserId: string) {
    try {
      return await contentPlatform.accountProfile(platform, platformUserId);
    } catch (err) {
      if (err instanceof PlatformAccountNotFound) {
        throw new Problem(422, 'rule-violation', 'A rule refuses the action', `${platform} has no account ${platformUserId}`, { code: 'platform-account-not-found' });
      }
      throw platformUnavailable();
    }
  }

  async function creatorAccount(creatorId: string) {
    const [row] = await db
      .select()
      .from(accounts)
      .where(and(eq(accounts.id, creatorId), eq(accounts.role, 'creator')));
    return row;
  }

  // ------------------------------------------------------------ the creator's own profile

  router.get('/v1/creators/me', async (req, res) => {
    const actor = actorOf(req, 'creator');
    const [contact, bound, offers, mcnId] = await Promise.all([contactOf(db, actor.id), platformAccountsOf(db, actor.id), offersOf(db, actor.id), mcnOf(db, actor.id)]);
    res.json({
      creatorId: actor.id,
      contact,
      mcnId,
      platformAccounts: bound.map((a) => ({
        id: a.id,
        platform: a.platform,
        platformUserId: a.platformUserId,
        nickname: a.nickname,
        fans: a.fans,
        originalPermission: a.originalPermission,
        averageRecentPlays: a.averageRecentPlays,
        metricsAt: a.metricsAt.toISOString(),
      })),
      offers: offers.map(offerView),
    });
  });

  // R-CONTACT: phone and email, both needed to be found
  router.put('/v1/creators/me/contact', async (req, res) => {
    const actor = actorOf(req, 'creator');
    const body = ContactBody.parse(req.body);
    const change: { phone?: string | null; email?: string | null } = {};
    if (body.phone !== undefined) {
      change.phone = body.phone === null ? null : normalizePhone(body.phone);
      if (body.phone !== null && !change.phone) throw badRequest('The phone must be a mainland mobile number (11 digits, optionally +86)', { code: 'phone-invalid' });
    }
    if (body.email !== undefined) {
      change.email = body.email === null ? null : normalizeEmail(body.email);
      if (body.email !== null && !change.email) throw badRequest('The email address is not valid', { code: 'email-invalid' });
    }
    res.json(await setContact(db, actor.id, change));
  });

  // R-OPEN-APPLY: one account per platform; the platform vouches for it and reports its metrics
  router.post('/v1/creators/me/platform-accounts', async (req, res) => {
    const actor = actorOf(req, 'creator');
    const body = BindPlatformAccountBody.parse(req.body);
    const profile = await readPlatform(body.platform, body.platformUserId);
    try {
      const row = await bindPlatformAccount(db, newId('pa'), actor.id, profile);
      res.status(201).json({ id: row.id, platform: row.platform, platformUserId: row.platformUserId, nickname: row.nickname, fans: row.fans, originalPermission: row.originalPermission, averageRecentPlays: row.averageRecentPlays });
    } catch (err) {
      if (err instanceof PlatformAccountConflict) {
        const detail = err.code === 'platform-already-bound' ? `A ${body.platform} account is already bound to this creator` : 'The account is bound to another creator';
        throw new Problem(409, err.code, 'The platform account cannot be bound', detail, { code: err.code });
      }
      throw err;
    }
  });

  // R-OPEN-APPLY / R-OPEN-XIGUA: apply to open one task type; eligibility is checked on metrics read now
  router.post('/v1/creators/me/offers', async (req, res) => {
    const actor = actorOf(req, 'creator');
    const body = OpenOfferBody.parse(req.body);
    const type = taskTypeOf(body.taskType);
    const bound = (await platformAccountsOf(db, actor.id)).find((a) => a.platform === type.platform);
    const fresh: PlatformAccountMetrics | null = bound ? await readPlatform(type.platform, bound.platformUserId) : null;
    const row = await domain(() => openOffer(db, actor.id, body.taskType, fresh, body.quoteFen ?? null));
    res.status(201).location('/v1/creators/me').json(offerView(row));
  });

  // R-QUOTE, R-ACCEPTING-SWITCH
  router.patch('/v1/creators/me/offers/:taskType', async (req, res) => {
    const actor = actorOf(req, 'creator');
    const { taskType } = TaskTypeParam.parse(req.params);
    const body = UpdateOfferBody.parse(req.body);
    const row = await domain(() => updateOffer(db, actor.id, taskType, { ...(body.quoteFen !== undefined ? { quoteFen: body.quoteFen } : {}), ...(body.accepting !== undefined ? { accepting: body.accepting } : {}) }));
    res.json(offerView(row));
  });

  // ------------------------------------------------------------ the plaza (R-DESIGNATED)

  router.get('/v1/plaza/creators', async (req, res) => {
    actorOf(req);
    const parsed = PlazaQuery.parse(req.query);
    // a cursor carries the query it pages through: `?cursor=` alone continues it; the same cursor
    // with another query is refused (it would page another result set from a foreign position)
    const position = parsed.cursor ? decodePlazaCursor(parsed.cursor) : undefined;
    const asked = plazaFilters(parsed);
    const filtersGiven = Object.keys(req.query).some((k) => k !== 'cursor' && k !== 'limit');
    if (position && filtersGiven && JSON.stringify(position.q) !== JSON.stringify(asked)) {
      throw badRequest('The cursor belongs to another query: send it alone, or with the query it came from', { code: 'cursor-mismatch' });
    }
    const q: PlazaFilters & { limit: number } = { ...(position ? position.q : asked), limit: parsed.limit };
    if (q.minPriceFen !== undefined && q.maxPriceFen !== undefined && q.minPriceFen > q.maxPriceFen) throw badRequest('minPriceFen is above maxPriceFen', { code: 'price-range-invalid' });
    if (q.taskType && q.platform && taskTypeOf(q.taskType).platform !== q.platform) throw badRequest(`${q.taskType} is not a ${q.platform} task type`, { code: 'platform-mismatch' });
    const { items, next } = await searchPlaza(db, {
      platform: q.platform,
      taskType: q.taskType,
      minPriceFen: q.minPriceFen,
      maxPriceFen: q.maxPriceFen,
      minFans: q.minFans,
      minAveragePlays: q.minAveragePlays,
      acceptingOnly: q.acceptingOnly,
      sort: q.sort,
      limit: q.limit,
      after: position ? { v: position.v, c: position.c, t: position.t } : undefined,
    });
    res.json({
      items: items.map(({ ratingCentis, ratingCount, quoteFen, ...item }) => ({ ...item, quoteFen: quoteFen!, rating: rating({ ratingCentis, ratingCount }) })),
      nextCursor: next ? encodeCursor({ ...next, q: plazaFilters(q) }) : null,
    });
  });

  // a creator's public profile: what the plaza shows, never the contact details
  router.get('/v1/creators/:creatorId', async (req, res) => {
    const actor = actorOf(req);
    const { creatorId } = CreatorIdParam.parse(req.params);
    const account = await creatorAccount(creatorId);
    const privileged = actor.role === 'operator' || actor.id === creatorId || (actor.role === 'mcn' && account && (await mcnOf(db, creatorId)) === actor.id);
    const offers = account ? (await offersOf(db, creatorId)).filter((o) => privileged || o.discoverable) : [];
    if (!account || (!privileged && offers.length === 0)) throw notFound(`No creator ${creatorId}`); // R-DISCOVERABLE
    const bound = await platformAccountsOf(db, creatorId);
    res.json({
      creatorId,
      displayName: account.displayName,
      platformAccounts: bound.map((a) => ({ platform: a.platform, nickname: a.nickname, fans: a.fans, originalPermission: a.originalPermission, averageRecentPlays: a.averageRecentPlays })),
      offers: offers.map((o) => ({ ...offerView(o), rating: rating(o) })),
    });
  });

  // R-CONTACT: clients get the pair's virtual number; the creator, its MCN and operators the real contact
  router.get('/v1/creators/:creatorId/contact', async (req, res) => {
    const actor = actorOf(req, 'client', 'creator', 'mcn', 'operator');
    const { creatorId } = CreatorIdParam.parse(req.params);
    const account = await creatorAccount(creatorId);
    if (!account) throw notFound(`No creator ${creatorId}`);
    if (actor.role !== 'client') {
      const allowed = actor.role === 'operator' || actor.id === creatorId || (actor.role === 'mcn' && (await mcnOf(db, creatorId)) === actor.id);
      if (!allowed) throw notFound(`No creator ${creatorId}`);
      return res.json({ creatorId, ...(await contactOf(db, creatorId)) });
    }
    const [ordered] = await db
      .select({ id: tasks.id })
      .from(tasks)
      .where(and(eq(tasks.clientId, actor.id), eq(tasks.creatorId, creatorId), ne(tasks.status, 'cancelled')))
      .limit(1);
    if (!ordered) {
      // a creator the client cannot find stays unknown to it (R-DISCOVERABLE): same 404 as its profile
      if (!(await offersOf(db, creatorId)).some((o) => o.discoverable)) throw notFound(`No creator ${creatorId}`);
      throw new Problem(403, 'forbidden', 'Not allowed', 'A client reaches a creator it has a task with (not cancelled)', { code: 'no-task-with-creator' });
    }
    const contact = await contactOf(db, creatorId);
    if (!contact.phone) throw new Problem(409, 'contact-missing', 'The creator has no phone number', 'The creator has not given a phone number', { code: 'contact-missing' });
    try {
      const { number } = await assignVirtualNumber(db, actor.id, creatorId);
      // idempotent on the provider's side (the pair is the binding key): safe to repeat on every read
      await telephony.bind({ virtualNumber: number, forwardTo: contact.phone, bindingKey: `${actor.id}:${creatorId}` }).catch(() => {
        throw new Problem(503, 'telephony-unavailable', 'The virtual number could not be set up', 'Try again in a moment');
      });
      res.json({ creatorId, virtualNumber: number });
    } catch (err) {
      if (err instanceof NoVirtualNumberLeft) throw new Problem(503, 'virtual-numbers-exhausted', 'No virtual number is free', 'Operators add numbers to the pool; try again later');
      throw err;
    }
  });

  // R-CONTACT-CLIENT: the client's phone, which creators reach only through a virtual number
  router.put('/v1/clients/me/contact', async (req, res) => {
    const actor = actorOf(req, 'client');
    const body = ClientContactBody.parse(req.body);
    const phone = body.phone === null ? null : normalizePhone(body.phone);
    if (body.phone !== null && !phone) throw badRequest('The phone must be a mainland mobile number (11 digits, optionally +86)', { code: 'phone-invalid' });
    res.json({ clientId: actor.id, phone: await setClientPhone(db, actor.id, phone) });
  });

  // R-CONTACT-CLIENT: after accepting, the task's creator reaches the client through the pair's
  // virtual number (the same pool and AXB binding clients use); until CLIENT_CONTACT_DAYS after the task closed
  router.get('/v1/tasks/:taskId/client-contact', async (req, res) => {
    const actor = actorOf(req, 'creator');
    const task = await visibleTaskOf(db, req, actor);
    if (!task.acceptedAt) throw new Problem(409, 'invalid-state', 'The action does not fit the task state', 'The client can be called once the task is accepted', { code: 'not-accepted', taskStatus: task.status });
    if (task.closedAt && Date.now() - task.closedAt.getTime() > CLIENT_CONTACT_DAYS * DAY) {
      throw new Problem(409, 'invalid-state', 'The action does not fit the task state', `The task closed more than ${CLIENT_CONTACT_DAYS} days ago`, { code: 'contact-window-over', taskStatus: task.status });
    }
    const phone = await clientPhoneOf(db, task.clientId);
    if (!phone) throw new Problem(409, 'contact-missing', 'The client has no phone number', 'The client has not given a phone number', { code: 'contact-missing' });
    try {
      const { number } = await assignVirtualNumber(db, task.clientId, task.creatorId);
      // AXB: the pair's number X forwards the creator's calls to the client (the provider dedupes on the key)
      await telephony.bind({ virtualNumber: number, forwardTo: phone, bindingKey: `${task.clientId}:${task.creatorId}:client` }).catch(() => {
        throw new Problem(503, 'telephony-unavailable', 'The virtual number could not be set up', 'Try again in a moment');
      });
      res.json({ taskId: task.id, virtualNumber: number });
    } catch (err) {
      if (err instanceof NoVirtualNumberLeft) throw new Problem(503, 'virtual-numbers-exhausted', 'No virtual number is free', 'Operators add numbers to the pool; try again later');
      throw err;
    }
  });

  // ------------------------------------------------------------ MCN and operators

  router.get('/v1/mcn/creators', async (req, res) => {
    const actor = actorOf(req, 'mcn');
    const members = await creatorsOfMcn(db, actor.id);
    res.json({ items: members.map((m) => ({ creatorId: m.creatorId, displayName: m.displayName, since: m.since.toISOString(), offers: m.offers.map(offerView) })) });
  });

  // Operators record which MCN manages a creator; its payouts then go to the MCN (R-PAYOUT)
  router.put('/v1/creators/:creatorId/mcn', async (req, res) => {
    actorOf(req, 'operator');
    const { creatorId } = CreatorIdParam.parse(req.params);
    const { mcnId } = McnBody.parse(req.body);
    if (!(await creatorAccount(creatorId))) throw notFound(`No creator ${creatorId}`);
    if (mcnId === null) {
      await db.delete(mcnMemberships).where(eq(mcnMemberships.creatorId, creatorId));
    } else {
      const [mcn] = await db
        .select({ id: accounts.id })
        .from(accounts)
        .where(and(eq(accounts.id, mcnId), eq(accounts.role, 'mcn')));
      if (!mcn) throw new Problem(422, 'rule-violation', 'A rule refuses the action', `No MCN ${mcnId}`, { code: 'mcn-not-found' });
      await db.insert(mcnMemberships).values({ creatorId, mcnId }).onConflictDoUpdate({ target: mcnMemberships.creatorId, set: { mcnId } });
    }
    res.json({ creatorId, mcnId });
  });

  router.post('/v1/operator/virtual-numbers', async (req, res) => {
    actorOf(req, 'operator');
    const { numbers } = VirtualNumbersBody.parse(req.body);
    res.status(201).json({ added: await addVirtualNumbers(db, numbers) });
  });

  return router;
}

type PlazaFilters = Omit<z.infer<typeof PlazaQuery>, 'cursor' | 'limit'>;

/** The query a plaza page answers, normalised (no undefined keys, fixed key order), as its cursor carries it. */
function plazaFilters(q: PlazaFilters): PlazaFilters {
  const keys = ['platform', 'taskType', 'minPriceFen', 'maxPriceFen', 'minFans', 'minAveragePlays', 'acceptingOnly', 'sort'] as const;
  return Object.fromEntries(keys.filter((k) => q[k] !== undefined).map((k) => [k, q[k]])) as PlazaFilters;
}

function decodePlazaCursor(cursor: string): PlazaCursor & { q: PlazaFilters } {
  return decodeCursor(cursor, ({ v, c, t, q }) => {
    const query = PlazaQuery.omit({ cursor: true, limit: true }).safeParse(q);
    if (!query.success) return null;
    const sort = query.data.sort;
    // every sort key is a whole number (fen, counts, rating ×100): anything else was not made by us
    const inRange = typeof v === 'number' && (sort === 'rating_desc' ? v >= -1 && v <= 500 : v >= 0);
    return Number.isSafeInteger(v) && inRange && isId(c) && isId(t) ? { v: v, c, t, q: plazaFilters(query.data) } : null;
  });
}
