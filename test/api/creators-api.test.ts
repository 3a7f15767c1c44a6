/**
 * Accounts, creator onboarding, the plaza and ordering against it, over HTTP on
 * the real stack (Temporal dev server, embedded PostgreSQL, the real worker).
 */
import { randomUUID } from 'node:crypto';
import { count, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserActor } from '../../api/auth.js';
import { accounts, creatorCards, creditEvents, tasks } from '../../db/schema/index.js';
import { TEST_PASSWORD, newActor } from '../helpers/accounts.js';
import { startApiStack, type ApiStack } from '../helpers/apiStack.js';
import { until } from '../helpers/poll.js';

let api: ApiStack;
const operator: UserActor = { role: 'operator', id: `op-${randomUUID().slice(0, 8)}` };
beforeAll(async () => {
  api = await startApiStack();
  await api.account(operator);
});
afterAll(async () => api?.stop());

const db = () => api.postgres.database.db;
const key = () => `k-${randomUUID()}`;
const taskCount = async () => (await db().select({ n: count() }).from(tasks))[0]!.n;

async function fundedClient(amountFen = 100_000_000): Promise<UserActor> {
  const client = await api.account(newActor('client', 'brand'));
  await api.fund(client, amountFen);
  return client;
}

/** A creator going through onboarding over HTTP: contact, one platform account, the given metrics. */
async function onboardedCreator(platform: 'douyin' | 'xigua' | 'toutiao', metrics: { fans: number; originalPermission: boolean; recentPlays: number[] }, contact = true) {
  const creator = await api.account(newActor('creator'));
  const platformUserId = `${platform}-${randomUUID().slice(0, 8)}`;
  api.contentPlatform.setAccount({ platform, platformUserId, nickname: creator.id, ...metrics });
  if (contact) expect((await api.call('PUT', '/v1/creators/me/contact', { as: creator, body: { phone: '139 0000 2222', email: `${creator.id}@example.com` } })).status).toBe(200);
  expect((await api.call('POST', '/v1/creators/me/platform-accounts', { as: creator, body: { platform, platformUserId } })).status).toBe(201);
  return { creator, platformUserId };
}
const plays = (n: number) => Array.from({ length: 20 }, () => n);
const strong = { fans: 120_000, originalPermission: true, recentPlays: plays(9_000) };

const order = (as: UserActor, creatorId: string, extra: Record<string, unknown> = {}) =>
  api.call('POST', '/v1/tasks', {
    as,
    body: { creatorId, taskType: 'douyin_video', brief: 'A 30 second product video', scriptRequired: false, ...extra },
    headers: { 'idempotency-key': key() },
  });

describe('accounts', () => {
  it('signs up, signs in with the password (argon2id hash stored), and refuses a wrong password or a taken login', async () => {
    const login = `brand-${randomUUID().slice(0, 8)}@example.com`;
    const signup = await api.call('POST', '/v1/accounts', { body: { role: 'client', login: login.toUpperCase(), password: 'a long enough password', displayName: 'Brand' } });
    expect(signup.status).toBe(201);
    expect(signup.body).toMatchObject({ role: 'client', login, displayName: 'Brand' });
    const [row] = await db().select().from(accounts).where(eq(accounts.id, signup.body.id));
    expect(row!.passwordHash).toMatch(/^\$argon2id\$/);
    expect(JSON.stringify(signup.body)).not.toContain('argon2');

    expect((await api.call('POST', '/v1/accounts', { body: { role: 'client', login, password: 'another long password', displayName: 'X' } })).status).toBe(409);
    expect((await api.call('POST', '/v1/accounts', { body: { role: 'operator', login: `op-${login}`, password: 'a long enough password', displayName: 'X' } })).status).toBe(400);
    expect((await api.call('POST', '/v1/accounts', { body: { role: 'client', login: `short-${login}`, password: 'short', displayName: 'X' } })).status).toBe(400);

    const wrong = await api.call('POST', '/v1/sessions', { body: { login, password: 'not the password' } });
    expect(wrong.status).toBe(401);
    expect(wrong.type).toMatch(/problem\+json/);
    expect((await api.call('POST', '/v1/sessions', { body: { login: 'nobody@example.com', password: 'whatever it is' } })).status).toBe(401);

    const session = await api.call('POST', '/v1/sessions', { body: { login, password: 'a long enough password' } });
    expect(session.status).toBe(201);
    const me = await api.call('GET', '/v1/me', { headers: { authorization: `Bearer ${session.body.token}` } });
    expect(me.body).toMatchObject({ id: signup.body.id, role: 'client' });
  });

  it('honours a token only while its account exists, is enabled and has that role', async () => {
    const client = await api.account(newActor('client'));
    expect((await api.call('GET', '/v1/me', { as: client })).status).toBe(200);
    expect((await api.call('GET', '/v1/me', { as: { role: 'operator', id: client.id } })).status).toBe(401); // role not its own
    expect((await api.call('GET', '/v1/me', { as: newActor('client') })).status).toBe(401); // no such account
    await db().update(accounts).set({ disabledAt: new Date() }).where(eq(accounts.id, client.id));
    expect((await api.call('GET', '/v1/me', { as: client })).status).toBe(401);
    const login = `${client.id}@test.invalid`;
    expect((await api.call('POST', '/v1/sessions', { body: { login, password: TEST_PASSWORD } })).status).toBe(401);
  });
});

describe('creator onboarding', () => {
  it('R-OPEN-APPLY: a creator binds one account per platform and opens each task type separately, on a bound account of that platform', async () => {
    const { creator } = await onboardedCreator('toutiao', strong);
    // no Douyin account: opening a Douyin type names the missing account
    const noAccount = await api.call('POST', '/v1/creators/me/offers', { as: creator, body: { taskType: 'douyin_video', quoteFen: 100_000 } });
    expect(noAccount.status).toBe(422);
    expect(noAccount.body).toMatchObject({ code: 'not-eligible', unmet: [{ condition: 'platformAccountBound', actual: false, required: true }] });
    // Toutiao types open one by one
    expect((await api.call('POST', '/v1/creators/me/offers', { as: creator, body: { taskType: 'toutiao_article', quoteFen: 300_000 } })).status).toBe(201);
    const again = await api.call('POST', '/v1/creators/me/offers', { as: creator, body: { taskType: 'toutiao_article', quoteFen: 1 } });
    expect(again.status).toBe(400); // quote below the minimum: checked before anything else
    expect((await api.call('POST', '/v1/creators/me/offers', { as: creator, body: { taskType: 'toutiao_article' } })).body.code).toBe('already-open');
    const me = await api.call('GET', '/v1/creators/me', { as: creator });
    expect(me.body.offers.map((o: { taskType: string }) => o.taskType)).toEqual(['toutiao_article']);
    // one identity, several platforms; a second account on one platform is refused
    const douyinId = `dy-${randomUUID().slice(0, 8)}`;
    expect((await api.call('POST', '/v1/creators/me/platform-accounts', { as: creator, body: { platform: 'douyin', platformUserId: douyinId } })).status).toBe(201);
    expect((await api.call('POST', '/v1/creators/me/platform-accounts', { as: creator, body: { platform: 'douyin', platformUserId: `${douyinId}-2` } })).body.code).toBe('platform-already-bound');
    // an account bound to someone else cannot be bound again; an unknown one does not exist on the platform
    const other = await api.account(newActor('creator'));
    expect((await api.call('POST', '/v1/creators/me/platform-accounts', { as: other, body: { platform: 'douyin', platformUserId: douyinId } })).body.code).toBe('platform-account-taken');
    expect((await api.call('POST', '/v1/creators/me/platform-accounts', { as: other, body: { platform: 'douyin', platformUserId: 'missing-1' } })).body.code).toBe('platform-account-not-found');
    expect((await api.call('POST', '/v1/creators/me/offers', { as: creator, body: { taskType: 'douyin_video', quoteFen: 100_000 } })).status).toBe(201);
  });

  it('R-OPEN-XIGUA: xigua_video needs 10,000 fans, the original permission and 1,000 average plays over the latest 20 videos, read at application; a refusal names every unmet condition', async () => {
    const { creator, platformUserId } = await onboardedCreator('xigua', { fans: 9_999, originalPermission: false, recentPlays: [...plays(999), 50_000, 50_000] });
    const refused = await api.call('POST', '/v1/creators/me/offers', { as: creator, body: { taskType: 'xigua_video', quoteFen: 500_000 } });
    expect(refused.status).toBe(422);
    expect(refused.type).toMatch(/problem\+json/);
    // only the latest 20 count: the two older 50,000-play videos do not lift the average
    expect(refused.body.unmet).toEqual([
      { condition: 'fans', description: expect.any(String), actual: 9_999, required: 10_000 },
      { condition: 'originalPermission', description: expect.any(String), actual: false, required: true },
      { condition: 'averageRecentPlays', description: expect.any(String), actual: 999, required: 1_000 },
    ]);
    expect((await api.call('GET', '/v1/creators/me', { as: creator })).body.offers).toEqual([]);

    // one condition left unmet is named alone
    api.contentPlatform.setAccount({ platform: 'xigua', platformUserId, nickname: 'x', fans: 10_000, originalPermission: true, recentPlays: plays(999) });
    const oneLeft = await api.call('POST', '/v1/creators/me/offers', { as: creator, body: { taskType: 'xigua_video', quoteFen: 500_000 } });
    expect(oneLeft.body.unmet).toEqual([{ condition: 'averageRecentPlays', description: expect.any(String), actual: 999, required: 1_000 }]);

    // the metrics are read again at application: once the account qualifies, the type opens at exactly the thresholds
    api.contentPlatform.setAccount({ platform: 'xigua', platformUserId, nickname: 'x', fans: 10_000, originalPermission: true, recentPlays: plays(1_000) });
    const opened = await api.call('POST', '/v1/creators/me/offers', { as: creator, body: { taskType: 'xigua_video', quoteFen: 500_000 } });
    expect(opened.status).toBe(201);
    expect(opened.body).toMatchObject({ taskType: 'xigua_video', platform: 'xigua', quoteFen: 500_000, accepting: true, discoverable: true });
    const me = await api.call('GET', '/v1/creators/me', { as: creator });
    expect(me.body.platformAccounts[0]).toMatchObject({ fans: 10_000, originalPermission: true, averageRecentPlays: 1_000 });
    // the catalogue publishes the conditions as data
    const types = await api.call('GET', '/v1/task-types', { as: creator });
    expect(types.body.items.find((t: { id: string }) => t.id === 'xigua_video').eligibility.map((c: { metric: string }) => c.metric)).toEqual(['fans', 'originalPermission', 'averageRecentPlays']);
  });

  it('R-QUOTE: a quote per opened task type in whole fen, validated; an order takes the quote as its price', async () => {
    const { creator } = await onboardedCreator('douyin', strong);
    for (const quoteFen of [12.5, -100, 0, 99, 1_000_000_001, '50000']) {
      const res = await api.call('POST', '/v1/creators/me/offers', { as: creator, body: { taskType: 'douyin_video', quoteFen } });
      expect(res.status).toBe(400);
      expect(res.body.errors[0].path).toBe('quoteFen');
    }
    expect((await api.call('GET', '/v1/creators/me', { as: creator })).body.offers).toEqual([]);
    expect((await api.call('PATCH', '/v1/creators/me/offers/douyin_video', { as: creator, body: { quoteFen: 100_000 } })).body.code).toBe('task-type-not-opened');
    expect((await api.call('POST', '/v1/creators/me/offers', { as: creator, body: { taskType: 'douyin_video', quoteFen: 250_000 } })).status).toBe(201);
    expect((await api.call('PATCH', '/v1/creators/me/offers/douyin_video', { as: creator, body: { quoteFen: 1.5 } })).status).toBe(400);

    const client = await fundedClient();
    const first = await order(client, creator.id);
    expect(first.status).toBe(201);
    expect(first.body.priceFen).toBe(250_000);
    // the price is a snapshot: a new quote changes later orders, not this one
    expect((await api.call('PATCH', '/v1/creators/me/offers/douyin_video', { as: creator, body: { quoteFen: 300_000 } })).body.quoteFen).toBe(300_000);
    expect((await api.call('GET', `/v1/tasks/${first.body.id}`, { as: client })).body.task.priceFen).toBe(250_000);
    // a client that states the price it saw is protected from a quote that changed meanwhile
    const stale = await order(client, creator.id, { priceFen: 250_000 });
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({ code: 'quote-changed', quoteFen: 300_000 });
    expect((await order(client, creator.id, { priceFen: 300_000 })).body.priceFen).toBe(300_000);
  });

  it('R-DISCOVERABLE: only a creator with the type opened, a quote set and contact complete is found or ordered', async () => {
    const client = await fundedClient();
    const { creator } = await onboardedCreator('douyin', strong, false);
    const inPlaza = async () => {
      const res = await api.call('GET', `/v1/plaza/creators?taskType=douyin_video&minFans=${strong.fans}&maxPriceFen=${strong.fans}&limit=50`, { as: client });
      expect(res.status).toBe(200);
      return (res.body.items as { creatorId: string }[]).some((i) => i.creatorId === creator.id);
    };
    // not opened
    expect((await order(client, creator.id)).body.code).toBe('task-type-not-opened');
    // opened without a quote, without contact
    const opened = await api.call('POST', '/v1/creators/me/offers', { as: creator, body: { taskType: 'douyin_video' } });
    expect(opened.body).toMatchObject({ discoverable: false, missing: ['quote', 'contact'] });
    expect(await inPlaza()).toBe(false);
    expect((await api.call('GET', `/v1/creators/${creator.id}`, { as: client })).status).toBe(404);
    expect((await order(client, creator.id)).body).toMatchObject({ code: 'creator-not-discoverable', quoteSet: false, contactComplete: false });
    // quote set, contact still missing
    expect((await api.call('PATCH', '/v1/creators/me/offers/douyin_video', { as: creator, body: { quoteFen: 120_000 } })).body.missing).toEqual(['contact']);
    expect(await inPlaza()).toBe(false);
    // phone only is not complete (R-CONTACT needs both)
    await api.call('PUT', '/v1/creators/me/contact', { as: creator, body: { phone: '+86 139 0000 3333' } });
    expect(await inPlaza()).toBe(false);
    const before = await taskCount();
    const refused = await order(client, creator.id);
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({ code: 'creator-not-discoverable', quoteSet: true, contactComplete: false });
    expect(await taskCount()).toBe(before);
    // email too: found and orderable
    await api.call('PUT', '/v1/creators/me/contact', { as: creator, body: { email: 'Creator@Example.com' } });
    expect(await inPlaza()).toBe(true);
    expect((await api.call('GET', `/v1/creators/${creator.id}`, { as: client })).status).toBe(200);
    expect((await order(client, creator.id)).status).toBe(201);
    // clearing the email hides it again
    await api.call('PUT', '/v1/creators/me/contact', { as: creator, body: { email: null } });
    expect(await inPlaza()).toBe(false);
    // contact details are validated
    expect((await api.call('PUT', '/v1/creators/me/contact', { as: creator, body: { phone: '12345' } })).body.code).toBe('phone-invalid');
    expect((await api.call('PUT', '/v1/creators/me/contact', { as: creator, body: { email: 'not-an-email' } })).body.code).toBe('email-invalid');
  });

  it('R-ACCEPTING-SWITCH: with accepting off no new order goes through; tasks already ordered go on', async () => {
    const client = await fundedClient();
    const { creator } = await onboardedCreator('douyin', strong);
    await api.call('POST', '/v1/creators/me/offers', { as: creator, body: { taskType: 'douyin_video', quoteFen: 80_000 } });
    const earlier = await order(client, creator.id);
    expect(earlier.status).toBe(201);
    const off = await api.call('PATCH', '/v1/creators/me/offers/douyin_video', { as: creator, body: { accepting: false } });
    expect(off.body).toMatchObject({ accepting: false, discoverable: true });
    const before = await taskCount();
    const refused = await order(client, creator.id);
    expect(refused.status).toBe(422);
    expect(refused.body.code).toBe('creator-not-accepting');
    expect(await taskCount()).toBe(before);
    // still listed in the plaza, marked not accepting; acceptingOnly leaves it out
    const all = await api.call('GET', `/v1/plaza/creators?taskType=douyin_video&minFans=${strong.fans}&maxPriceFen=80000&limit=50`, { as: client });
    expect(all.body.items.find((i: { creatorId: string }) => i.creatorId === creator.id)).toMatchObject({ accepting: false });
    const acceptingOnly = await api.call('GET', `/v1/plaza/creators?taskType=douyin_video&minFans=${strong.fans}&maxPriceFen=80000&acceptingOnly=true&limit=50`, { as: client });
    expect(acceptingOnly.body.items.some((i: { creatorId: string }) => i.creatorId === creator.id)).toBe(false);
    // the earlier task goes on
    const accepted = await api.call('POST', `/v1/tasks/${earlier.body.id}/accept`, { as: creator, body: {} });
    expect(accepted.status).toBe(200);
    expect(accepted.body.task.status).toBe('content_drafting');
    // on again: orders go through
    await api.call('PATCH', '/v1/creators/me/offers/douyin_video', { as: creator, body: { accepting: true } });
    expect((await order(client, creator.id)).status).toBe(201);
  });

  it('R-IDLE-OK: a task type opened a year ago that never took an order has no consequence', async () => {
    const { creator } = await onboardedCreator('toutiao', strong);
    await api.call('POST', '/v1/creators/me/offers', { as: creator, body: { taskType: 'toutiao_qa', quoteFen: 30_000 } });
    await api.postgres.database.sql`update creator_offers set opened_at = now() - interval '400 days', updated_at = now() - interval '400 days' where creator_id = ${creator.id}`;
    const me = await api.call('GET', '/v1/creators/me', { as: creator });
    expect(me.body.offers[0]).toMatchObject({ taskType: 'toutiao_qa', accepting: true, discoverable: true });
    expect(await db().select().from(creditEvents).where(eq(creditEvents.creatorId, creator.id))).toEqual([]);
    expect(await db().select().from(creatorCards).where(eq(creatorCards.creatorId, creator.id))).toEqual([]);
    const client = await fundedClient();
    const res = await api.call('POST', '/v1/tasks', {
      as: client,
      body: { creatorId: creator.id, taskType: 'toutiao_qa', brief: 'Answer about tea', scriptRequired: false },
      headers: { 'idempotency-key': key() },
    });
    expect(res.status).toBe(201);
  });
});

describe('R-CONTACT: clients only ever see a virtual number', () => {
  it('R-CONTACT: a client that ordered gets a virtual number of the pool bound to the real one; no client response carries the real phone or email', async () => {
    await api.call('POST', '/v1/operator/virtual-numbers', { as: operator, body: { numbers: ['+8617000000001', '+8617000000002', '+8617000000003'] } });
    const { creator } = await onboardedCreator('douyin', strong);
    const realPhone = '+8613900002222';
    const realEmail = `${creator.id}@example.com`;
    await api.call('POST', '/v1/creators/me/offers', { as: creator, body: { taskType: 'douyin_video', quoteFen: 90_000 } });
    const client = await fundedClient();
    const other = await fundedClient();

    // before ordering: no contact at all
    expect((await api.call('GET', `/v1/creators/${creator.id}/contact`, { as: client })).body.code).toBe('no-task-with-creator');
    const ordered = await order(client, creator.id);
    await order(other, creator.id);
    const contact = await api.call('GET', `/v1/creators/${creator.id}/contact`, { as: client });
    expect(contact.status).toBe(200);
    expect(contact.body.virtualNumber).toMatch(/^\+861700000000\d$/);
    expect(await api.call('GET', `/v1/creators/${creator.id}/contact`, { as: client })).toMatchObject({ body: { virtualNumber: contact.body.virtualNumber } });
    // the provider forwards the pair's number to the real one; another client of the same creator gets another number
    expect(api.telephony.bindings.get(`${client.id}:${creator.id}`)).toEqual({ virtualNumber: contact.body.virtualNumber, forwardTo: realPhone, bindingKey: `${client.id}:${creator.id}` });
    const otherNumber = (await api.call('GET', `/v1/creators/${creator.id}/contact`, { as: other })).body.virtualNumber;
    expect(otherNumber).not.toBe(contact.body.virtualNumber);

    // every response a client can get about this creator
    const responses = [
      contact,
      await api.call('GET', `/v1/creators/${creator.id}`, { as: client }),
      await api.call('GET', `/v1/plaza/creators?taskType=douyin_video&limit=50`, { as: client }),
      await api.call('GET', `/v1/plaza/creators?platform=douyin&sort=price_asc&maxPriceFen=90000&limit=50`, { as: client }),
      ordered,
      await api.call('GET', `/v1/tasks/${ordered.body.id}`, { as: client }),
      await api.call('GET', `/v1/tasks/${ordered.body.id}/events`, { as: client }),
      await api.call('GET', '/v1/tasks', { as: client }),
      await api.call('POST', `/v1/tasks/${ordered.body.id}/complaint`, { as: client, body: { reason: 'Not accepted yet' } }),
    ];
    const digits = realPhone.slice(3);
    for (const res of responses) {
      const text = JSON.stringify(res.body);
      expect(text).not.toContain(digits);
      expect(text.toLowerCase()).not.toContain(realEmail.toLowerCase());
    }
    // the creator itself and operators see the real contact
    expect((await api.call('GET', `/v1/creators/${creator.id}/contact`, { as: creator })).body).toMatchObject({ phone: realPhone, email: realEmail });
    expect((await api.call('GET', `/v1/creators/${creator.id}/contact`, { as: operator })).body).toMatchObject({ phone: realPhone });
    // another creator sees nothing
    expect((await api.call('GET', `/v1/creators/${creator.id}/contact`, { as: await api.account(newActor('creator')) })).status).toBe(404);
  });
});

describe('the creator plaza (R-DESIGNATED)', () => {
  it('R-DESIGNATED: searches by platform, task type, price range, fans and plays, sorted, with cursor pagination that visits every match once', async () => {
    const tag = randomUUID().slice(0, 6);
    const made: { id: string; fans: number; quote: number; avg: number }[] = [];
    for (let i = 0; i < 7; i++) {
      const fans = 3_000_000 + i * 1_000 + (i % 2) * 1; // a distinctive band so other tests' creators stay out
      const avg = 70_000 + ((i * 37) % 7) * 100;
      const quote = 7_770_000 + ((i * 3) % 7) * 10_000;
      const { creator } = await onboardedCreator('xigua', { fans, originalPermission: true, recentPlays: plays(avg) });
      await api.call('POST', '/v1/creators/me/offers', { as: creator, body: { taskType: 'xigua_video', quoteFen: quote } });
      made.push({ id: creator.id, fans, quote, avg });
    }
    const client = await api.account(newActor('client', `plaza-${tag}`));
    const band = 'minFans=3000000&maxPriceFen=7830000&minPriceFen=7770000';
    const all = async (query: string) => {
      const out: { creatorId: string; fans: number; quoteFen: number; averageRecentPlays: number }[] = [];
      let cursor: string | null = null;
      do {
        const res: { status: number; body: { items: typeof out; nextCursor: string | null } } = await api.call('GET', `/v1/plaza/creators?${query}&limit=3${cursor ? `&cursor=${cursor}` : ''}`, { as: client });
        expect(res.status).toBe(200);
        out.push(...res.body.items);
        cursor = res.body.nextCursor;
      } while (cursor);
      return out;
    };
    const byFans = await all(`taskType=xigua_video&${band}&sort=fans_desc`);
    expect(byFans.map((i) => i.creatorId)).toEqual([...made].sort((a, b) => b.fans - a.fans || a.id.localeCompare(b.id)).map((m) => m.id));
    const byPrice = await all(`platform=xigua&${band}&sort=price_asc`);
    expect(byPrice.map((i) => i.creatorId)).toEqual([...made].sort((a, b) => a.quote - b.quote || a.id.localeCompare(b.id)).map((m) => m.id));
    const byPriceDesc = await all(`platform=xigua&${band}&sort=price_desc`);
    expect(byPriceDesc.map((i) => i.creatorId)).toEqual([...made].sort((a, b) => b.quote - a.quote || b.id.localeCompare(a.id)).map((m) => m.id));
    const byPlays = await all(`taskType=xigua_video&${band}&sort=plays_desc&minAveragePlays=70300`);
    expect(byPlays.map((i) => i.creatorId)).toEqual([...made].filter((m) => m.avg >= 70_300).sort((a, b) => b.avg - a.avg || a.id.localeCompare(b.id)).map((m) => m.id));
    const cheap = await all(`taskType=xigua_video&minFans=3000000&minPriceFen=7770000&maxPriceFen=7790000&sort=price_asc`);
    expect(cheap.map((i) => i.creatorId).sort()).toEqual(made.filter((m) => m.quote <= 7_790_000).map((m) => m.id).sort());
    expect(cheap.every((i) => i.quoteFen >= 7_770_000 && i.quoteFen <= 7_790_000)).toBe(true);

    // bad queries are 400s
    for (const q of ['sort=random', 'minPriceFen=10&maxPriceFen=5', 'platform=douyin&taskType=xigua_video', 'cursor=bm90LWpzb24', 'limit=500', 'minFans=-1', 'extra=1']) {
      const res = await api.call('GET', `/v1/plaza/creators?${q}`, { as: client });
      expect(res.status).toBe(400);
      expect(res.type).toMatch(/problem\+json/);
    }
  });
});

describe('R-OBSERVATION-WARN', () => {
  it('R-OBSERVATION-WARN: ordering a creator in an observation period answers with a warning; the order goes through once the client acknowledges it', async () => {
    const { creator } = await onboardedCreator('douyin', strong);
    await api.call('POST', '/v1/creators/me/offers', { as: creator, body: { taskType: 'douyin_video', quoteFen: 60_000 } });
    const now = Date.now();
    const endsAt = new Date(now + 20 * 86_400_000);
    await db().insert(creatorCards).values({
      id: `card_${randomUUID()}`,
      creatorId: creator.id,
      color: 'yellow',
      reason: 'Late delivery',
      observationDays: 30,
      issuedBy: operator.id,
      issuedAt: new Date(now - 10 * 86_400_000),
      lastViolationAt: new Date(now - 10 * 86_400_000),
      observationEndsAt: endsAt,
    });
    const client = await fundedClient();
    const before = await taskCount();
    const warned = await order(client, creator.id);
    expect(warned.status).toBe(409);
    expect(warned.body).toMatchObject({ code: 'observation-warning', observationEndsAt: endsAt.toISOString() });
    expect(await taskCount()).toBe(before);
    expect((await api.call('GET', '/v1/wallets/me', { as: client })).body.balanceFen).toBe(100_000_000);
    const confirmed = await order(client, creator.id, { acknowledgeObservationWarning: true });
    expect(confirmed.status).toBe(201);
    expect(confirmed.body.warnings).toEqual([{ code: 'creator-in-observation', observationEndsAt: endsAt.toISOString() }]);
    // once the observation has ended there is no warning
    await db().update(creatorCards).set({ observationEndsAt: new Date(now - 1000) }).where(eq(creatorCards.creatorId, creator.id));
    const after = await order(client, creator.id);
    expect(after.status).toBe(201);
    expect(after.body.warnings).toEqual([]);
  });
});

describe('MCN', () => {
  it('an MCN lists its creators and reads (not acts on) their tasks; not other creators\' tasks', async () => {
    const mcn = await api.account(newActor('mcn'));
    const { creator } = await onboardedCreator('douyin', strong);
    await api.call('POST', '/v1/creators/me/offers', { as: creator, body: { taskType: 'douyin_video', quoteFen: 70_000 } });
    const { creator: outsider } = await onboardedCreator('douyin', strong);
    await api.call('POST', '/v1/creators/me/offers', { as: outsider, body: { taskType: 'douyin_video', quoteFen: 70_000 } });
    expect((await api.call('PUT', `/v1/creators/${creator.id}/mcn`, { as: operator, body: { mcnId: mcn.id } })).status).toBe(200);
    expect((await api.call('PUT', `/v1/creators/${creator.id}/mcn`, { as: operator, body: { mcnId: creator.id } })).body.code).toBe('mcn-not-found');

    const client = await fundedClient();
    const mine = (await order(client, creator.id)).body.id as string;
    const theirs = (await order(client, outsider.id)).body.id as string;

    const members = await api.call('GET', '/v1/mcn/creators', { as: mcn });
    expect(members.body.items).toEqual([expect.objectContaining({ creatorId: creator.id, offers: [expect.objectContaining({ taskType: 'douyin_video' })] })]);
    const listed = await api.call('GET', '/v1/tasks', { as: mcn });
    expect(listed.body.items.map((t: { id: string }) => t.id)).toEqual([mine]);
    expect((await api.call('GET', `/v1/tasks/${mine}`, { as: mcn })).status).toBe(200);
    expect((await api.call('GET', `/v1/tasks/${mine}/events`, { as: mcn })).status).toBe(200);
    expect((await api.call('GET', `/v1/tasks/${theirs}`, { as: mcn })).status).toBe(404);
    expect((await api.call('POST', `/v1/tasks/${mine}/accept`, { as: mcn, body: {} })).status).toBe(403);
    // an MCN reads its creators' real contact; the creator's tasks stay the creator's to act on
    expect((await api.call('GET', `/v1/creators/${creator.id}/contact`, { as: mcn })).body.phone).toBe('+8613900002222');
    expect((await api.call('GET', `/v1/creators/${outsider.id}/contact`, { as: mcn })).status).toBe(404);
  });
});

describe('R-CONTACT-CLIENT: the creator reaches the client through a virtual number, after accepting', () => {
  it('before acceptance no number; after it the pair’s virtual number, never the real phone; another creator gets 404; the client’s phone is validated', async () => {
    const client = await fundedClient();
    const creator = await api.creator(newActor('creator'), { douyin_video: 50_000 });
    await api.call('POST', '/v1/operator/virtual-numbers', { as: operator, body: { numbers: ['+8617100000001', '+8617100000002', '+8617100000003'] } });
    const ordered = await api.call('POST', '/v1/tasks', { as: client, body: { creatorId: creator.id, taskType: 'douyin_video', brief: 'Call me', scriptRequired: false }, headers: { 'idempotency-key': key() } });
    expect(ordered.status).toBe(201);
    const path = `/v1/tasks/${ordered.body.id}/client-contact`;
    expect((await api.call('GET', path, { as: creator })).body.code).toBe('not-accepted');
    await until(() => api.call('POST', `/v1/tasks/${ordered.body.id}/accept`, { as: creator, body: {} }), (r) => r.status === 200);
    expect((await api.call('GET', path, { as: creator })).body.code).toBe('contact-missing');
    expect((await api.call('PUT', '/v1/clients/me/contact', { as: client, body: { phone: '12345' } })).status).toBe(400);
    expect((await api.call('PUT', '/v1/clients/me/contact', { as: creator, body: { phone: '13900002222' } })).status).toBe(403);
    expect((await api.call('PUT', '/v1/clients/me/contact', { as: client, body: { phone: '139 0000 2222' } })).body).toMatchObject({ clientId: client.id, phone: '+8613900002222' });
    const reached = await api.call('GET', path, { as: creator });
    expect(reached.status).toBe(200);
    // a number of the pool (the file's earlier tests added numbers too; a free one is picked at random)
    expect(reached.body.virtualNumber).toMatch(/^\+8617[01]0000000\d$/);
    expect(JSON.stringify(reached.body)).not.toContain('13900002222');
    // the same pair number both ways (AXB): what the client gets for the creator
    const other = await api.call('GET', `/v1/creators/${creator.id}/contact`, { as: client });
    expect(other.body.virtualNumber).toBe(reached.body.virtualNumber);
    expect(api.telephony.bindings.get(`${client.id}:${creator.id}:client`)).toMatchObject({ virtualNumber: reached.body.virtualNumber, forwardTo: '+8613900002222' });
    // the client and other creators do not use this route
    expect((await api.call('GET', path, { as: client })).status).toBe(403);
    expect((await api.call('GET', path, { as: await api.creator(newActor('creator'), { douyin_video: 50_000 }) })).status).toBe(404);
  });
});
