/**
 * Issue #12, items 9 and 10: bad input gets a clear problem+json 4xx and
 * changes nothing; secrets stay out of logs; sign-in is rate limited and
 * password hashing bounded; Temporal is not published; production refuses
 * fakes unless allowed.
 */
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { randomUUID } from 'node:crypto';
import express from 'express';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakesRefused, checkFakes } from '../../adapters/fakes.js';
import { HASHING_QUEUE, HASHING_SLOTS, withHashingSlot } from '../../api/passwords.js';
import { problemHandler } from '../../api/problems.js';
import { RateLimiter } from '../../api/rateLimit.js';
import { domainProblem } from '../../api/problems.js';
import { accounts } from '../../db/schema/index.js';
import { newActor } from '../helpers/accounts.js';
import { startApiStack, type ApiStack } from '../helpers/apiStack.js';

let api: ApiStack;
beforeAll(async () => {
  api = await startApiStack();
});
afterAll(async () => api?.stop());

const PROBLEM = /^application\/problem\+json/;
const db = () => api.postgres.database.db;
const accountCount = async () => (await db().select().from(accounts)).length;

describe('bad input: a clear 4xx problem, nothing changed', () => {
  it('a 3,000-character login is a 400 at sign-up and sign-in, never a database error; no account is made', async () => {
    const before = await accountCount();
    const login = `${'a'.repeat(3_000)}@example.com`;
    const up = await api.call('POST', '/v1/accounts', { body: { role: 'client', login, password: 'a long enough password', displayName: 'X' } });
    expect(up.status).toBe(400);
    expect(up.type).toMatch(PROBLEM);
    const signIn = await api.call('POST', '/v1/sessions', { body: { login, password: 'a long enough password' } });
    expect(signIn.status).toBe(400);
    expect(await accountCount()).toBe(before);
  });

  it('malformed %-encoding in a path is a 400 problem, not a 500', async () => {
    const client = await api.account(newActor('client'));
    for (const path of ['/v1/tasks/%E0%A4%A', '/v1/creators/%ZZ', '/v1/appeals/%']) {
      const res = await api.call('GET', path, { as: client });
      expect(res.status, path).toBe(400);
      expect(res.type).toMatch(PROBLEM);
    }
  });

  it('a known path with another method is a 405 with Allow; an unknown path a 404', async () => {
    const client = await api.account(newActor('client'));
    const del = await api.call('DELETE', '/v1/tasks', { as: client });
    expect(del.status).toBe(405);
    expect(del.type).toMatch(PROBLEM);
    expect(del.headers['allow']).toBe('GET, HEAD, POST');
    const put = await api.call('PUT', '/v1/wallets/me/top-ups', { as: client, body: {} });
    expect(put.status).toBe(405);
    expect(put.headers['allow']).toBe('POST');
    const patch = await api.call('PATCH', `/v1/tasks/tsk_x/accept`, { as: client, body: {} });
    expect(patch.headers['allow']).toBe('POST');
    expect((await api.call('GET', '/v1/nowhere', { as: client })).status).toBe(404);
  });

  it('oversized headers are a 431 with a problem+json body', async () => {
    const url = new URL(api.baseUrl);
    const res = await new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
      const req = httpRequest({ host: url.hostname, port: url.port, path: '/livez', headers: { 'x-filler': 'x'.repeat(40_000) } }, (r) => {
        let body = '';
        r.on('data', (c: Buffer) => (body += c.toString()));
        r.on('end', () => resolve({ status: r.statusCode ?? 0, type: String(r.headers['content-type']), body }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(res.status).toBe(431);
    expect(res.type).toMatch(PROBLEM);
    expect(JSON.parse(res.body)).toMatchObject({ status: 431, type: expect.stringContaining('headers-too-large') });
  });

  it('a token without exp is refused; the Bearer scheme is case-insensitive', async () => {
    const client = await api.account(newActor('client'));
    const token = await api.auth.sign(client);
    for (const scheme of ['bearer', 'BEARER', 'Bearer']) {
      expect((await api.call('GET', '/v1/me', { headers: { authorization: `${scheme} ${token}` } })).status, scheme).toBe(200);
    }
    // a token signed with the API's key but without exp never expires: refused
    const forever = await new SignJWT({ role: 'client' }).setProtectedHeader({ alg: 'HS256' }).setSubject(client.id).setIssuer('starmap').setAudience('starmap-api').setIssuedAt().sign(api.jwtKey);
    const res = await api.call('GET', '/v1/me', { headers: { authorization: `Bearer ${forever}` } });
    expect(res.status).toBe(401);
    expect(res.type).toMatch(PROBLEM);
  });

  it('a plaza cursor carries its query: alone it continues the same search; with another query it is a 400 cursor-mismatch', async () => {
    const client = await api.account(newActor('client'));
    const tag = randomUUID().slice(0, 6);
    for (let i = 0; i < 3; i++) await api.creator(newActor('creator', `plaza-${tag}-${i}`), { xigua_video: 300_000 + i });
    const query = 'taskType=xigua_video&sort=price_asc&minPriceFen=300000&maxPriceFen=300002';
    const first = await api.call('GET', `/v1/plaza/creators?${query}&limit=1`, { as: client });
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(1);
    const cursor = first.body.nextCursor as string;
    const alone = await api.call('GET', `/v1/plaza/creators?cursor=${cursor}&limit=5`, { as: client });
    expect(alone.status).toBe(200);
    expect(alone.body.items.map((c: { quoteFen: number }) => c.quoteFen)).toEqual([300_001, 300_002]);
    const same = await api.call('GET', `/v1/plaza/creators?${query}&cursor=${cursor}&limit=5`, { as: client });
    expect(same.body.items).toEqual(alone.body.items);
    const other = await api.call('GET', `/v1/plaza/creators?taskType=douyin_video&cursor=${cursor}`, { as: client });
    expect(other.status).toBe(400);
    expect(other.body.code).toBe('cursor-mismatch');
  });

  it('one slug for one kind of 400: a domain refusal of input is the same invalid-request as the boundary', () => {
    expect(domainProblem('invalid_input', 'x').slug).toBe('invalid-request');
  });
});

describe('secrets and trust boundary', () => {
  it('a 500 logs the error class and route, never the query parameters (hashes, e-mails, phone numbers)', async () => {
    const lines: string[] = [];
    const app = express();
    app.use((_req, res, next) => {
      res.locals['requestId'] = 'req-test-1';
      next();
    });
    app.get('/boom/:id', () => {
      const cause = Object.assign(new Error('duplicate key value violates unique constraint'), { code: '23505' });
      throw Object.assign(new Error('Failed query: insert into "accounts" ("login", "password_hash") values ($1, $2)\nparams: ceo@brand.example,$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA,+8613900001111'), { cause });
    });
    app.use(problemHandler((line, err) => lines.push(`${line} ${err instanceof Error ? `${err.message} ${JSON.stringify(err)}` : JSON.stringify(err ?? null)}`)));
    const server = app.listen(0);
    let requestId = '';
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as { port: number }).port}/boom/1`);
      expect(res.status).toBe(500);
      requestId = ((await res.json()) as { requestId?: string }).requestId ?? '';
    } finally {
      server.close();
    }
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('/boom/:id');
    expect(lines[0]).toContain('23505');
    for (const secret of ['ceo@brand.example', '$argon2id', '+8613900001111']) expect(lines[0]).not.toContain(secret);
    // the answer's request id is the one in the log line
    expect(requestId).toBe('req-test-1');
    expect(lines[0]).toContain('req-test-1');
  });

  it('every answer carries an X-Request-Id: the caller\'s when it is a sane token, else a new one', async () => {
    const given = await fetch(`${api.baseUrl}/livez`, { headers: { 'x-request-id': 'gateway-abc.123' } });
    expect(given.headers.get('x-request-id')).toBe('gateway-abc.123');
    const odd = await fetch(`${api.baseUrl}/livez`, { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(odd.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const problem = await fetch(`${api.baseUrl}/v1/nowhere`);
    expect(problem.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('sign-in is rate limited per login (429 + Retry-After), and the limiter forgets after its window', async () => {
    const login = `rate-${randomUUID().slice(0, 8)}@example.com`;
    const answers: number[] = [];
    let retryAfter: string | undefined;
    for (let i = 0; i < 11; i++) {
      const res = await api.call('POST', '/v1/sessions', { body: { login, password: 'not the password at all' } });
      answers.push(res.status);
      if (res.status === 429) retryAfter = res.headers['retry-after'];
    }
    expect(answers.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(answers[10]).toBe(429);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    let now = 0;
    const limiter = new RateLimiter(2, 60_000, () => now);
    limiter.take('k', 'tries');
    limiter.take('k', 'tries');
    expect(() => limiter.take('k', 'tries')).toThrow(/At most 2/);
    now = 60_001;
    expect(() => limiter.take('k', 'tries')).not.toThrow();
  });

  it(`password hashing runs at most ${HASHING_SLOTS} at once; past a queue of ${HASHING_QUEUE} a request is a 503 busy at once`, async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let concurrent = 0;
    let peak = 0;
    const work = () =>
      withHashingSlot(async () => {
        concurrent += 1;
        peak = Math.max(peak, concurrent);
        await gate;
        concurrent -= 1;
      });
    const accepted = Array.from({ length: HASHING_SLOTS + HASHING_QUEUE }, work);
    await new Promise((r) => setTimeout(r, 10));
    await expect(work()).rejects.toMatchObject({ status: 503, slug: 'busy' });
    release();
    await Promise.all(accepted);
    expect(peak).toBe(HASHING_SLOTS);
  });

  it("docker-compose.yml publishes neither Temporal's gRPC nor, beyond the host's loopback, its UI", () => {
    const compose = readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8');
    const service = (name: string) => {
      const start = compose.indexOf(`\n  ${name}:\n`);
      const rest = compose.slice(start + name.length + 4);
      const end = rest.search(/\n {2}[a-z-]+:\n/);
      return end === -1 ? rest : rest.slice(0, end);
    };
    expect(service('temporal')).not.toMatch(/\n {4}ports:/);
    const published = [...service('temporal-ui').matchAll(/- "([^"]+)"/g)].map((m) => m[1]!);
    expect(published.length).toBeGreaterThan(0);
    for (const p of published) expect(p.startsWith('127.0.0.1:')).toBe(true);
    expect(compose).not.toMatch(/"7233:7233"/);
  });

  it('production refuses fakes unless STARMAP_ALLOW_FAKES=1; development runs on them and says so', () => {
    expect(() => checkFakes(['payout provider'], { NODE_ENV: 'production' })).toThrow(FakesRefused);
    expect(() => checkFakes(['payout provider'], { NODE_ENV: 'production', STARMAP_ALLOW_FAKES: 'yes' })).toThrow(/payout provider/);
    expect(checkFakes(['payout provider'], { NODE_ENV: 'production', STARMAP_ALLOW_FAKES: '1' })).toMatch(/STARMAP_ALLOW_FAKES=1/);
    expect(checkFakes(['payout provider'], { NODE_ENV: 'development' })).toMatch(/fake outside systems: payout provider/);
    expect(checkFakes([], { NODE_ENV: 'production' })).toBeNull();
  });
});
