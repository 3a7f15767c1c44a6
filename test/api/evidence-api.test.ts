/**
 * R-EVIDENCE over HTTP on the real stack: one task driven through its whole
 * life by its parties (a script rejected by the client with a reason, content
 * rejected by the operator, publication and the platform's reports, a complaint
 * dismissed, acceptance and payout, a retention violation, its appeal upheld),
 * then its evidence bundle: every kind of entry in time order, the money, the
 * digest, who gets it, the printable page (escaped, self-contained, in Chinese)
 * and its link, rendered in headless Chromium.
 */
import { createHash, randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserActor } from '../../api/auth.js';
import { EvidenceDocumentSchema } from '../../api/schemas.js';
import { ENTRY_KINDS, canonicalJson, type EvidenceDocument, type EvidenceEntry } from '../../api/evidenceBundle.js';
import { appeals, creditEvents } from '../../db/schema/index.js';
import { ensureAccount, newActor } from '../helpers/accounts.js';
import { startApiStack, type ApiStack } from '../helpers/apiStack.js';
import { visit } from '../helpers/chromium.js';

const client = newActor('client', 'brand');
const otherClient = newActor('client', 'brand-other');
const creator = newActor('creator', 'creator');
const otherCreator = newActor('creator', 'creator-other');
const mcn = newActor('mcn', 'mcn');
const otherMcn = newActor('mcn', 'mcn-other');
const operator = newActor('operator', 'op');

const PRICE = 880_000;
const BRIEF = '60 秒开箱视频 <b>Brand & "Co"</b>';
const SCRIPT_1 = 'Scene 1: 开箱 <script>alert("x")</script>';
const SCRIPT_2 = 'Scene 1: 开箱\nScene 2: 续航测试';
const CLIENT_REJECTION = '请加入电池续航测试 & <em>show the box</em>';
const OPERATOR_REJECTION = 'Logo 太小 (too small)';
const CONTENT_1 = 'media://video/1';
const CONTENT_2 = 'media://video/2';
const COMPLAINT = '视频中产品名称读错了';
const DISMISSAL = '已核实：名称正确 / checked, the name is right';
const APPEAL_REASON = '平台故障导致隐藏 (platform outage)';
const ITEM = 'douyin-7300001';

let api: ApiStack;
let taskId = '';
const db = () => api.postgres.database.db;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined | null | false>, tries = 150): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const value = await probe();
    if (value) return value;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function act(as: UserActor, path: string, body: unknown) {
  const res = await api.call('POST', `/v1/tasks/${taskId}/${path}`, { as, body });
  expect(res.status, `${path}: ${JSON.stringify(res.body)}`).toBe(200);
  return res.body.task as { status: string };
}

const statusIs = (status: string) => until(`status ${status}`, async () => (await api.call('GET', `/v1/tasks/${taskId}`, { as: operator })).body.task?.status === status);

let platformClock = Date.now();
async function platform(kind: 'published' | 'hidden') {
  platformClock += 1000;
  const res = await api.platform({ eventId: `e-${randomUUID()}`, taskId, itemId: ITEM, kind, occurredAt: new Date(platformClock).toISOString() });
  expect(res.status).toBe(202);
}

/** A raw GET: the exact bytes, the headers. */
async function get(path: string, as?: UserActor, headers: Record<string, string> = {}) {
  const res = await fetch(`${api.baseUrl}${path}`, { headers: { ...headers, ...(as ? { authorization: `Bearer ${await api.auth.sign(as)}` } : {}) } });
  const bytes = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, bytes, text: bytes.toString('utf8') };
}
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest();

beforeAll(async () => {
  api = await startApiStack();
  for (const [actor, name] of [
    [client, '星河电子品牌部'],
    [otherClient, 'other brand'],
    [mcn, '青禾 MCN'],
    [otherMcn, 'other MCN'],
    [operator, '运营小王'],
  ] as const) {
    await ensureAccount(db(), actor, name);
  }
  await ensureAccount(db(), creator, '小鹿去旅行');
  await api.creator(creator, { douyin_video: PRICE });
  await api.creator(otherCreator, { douyin_video: PRICE });
  expect((await api.call('PUT', `/v1/creators/${creator.id}/mcn`, { as: operator, body: { mcnId: mcn.id } })).status).toBe(200);
  await api.fund(client, 2_000_000);

  const ordered = await api.call('POST', '/v1/tasks', {
    as: client,
    body: { creatorId: creator.id, taskType: 'douyin_video', brief: BRIEF, scriptRequired: true, priceFen: PRICE },
    headers: { 'idempotency-key': `order-${randomUUID()}` },
  });
  expect(ordered.status).toBe(201);
  taskId = ordered.body.id;
  await statusIs('awaiting_acceptance');

  await act(creator, 'accept', {});
  await act(creator, 'script', { body: SCRIPT_1 });
  await act(operator, 'script/review', { decision: 'pass' });
  await act(client, 'script/decision', { decision: 'reject', reason: CLIENT_REJECTION });
  await act(creator, 'script', { body: SCRIPT_2 });
  await act(operator, 'script/review', { decision: 'pass' });
  await act(client, 'script/decision', { decision: 'confirm' });
  await act(creator, 'content', { body: CONTENT_1 });
  await act(operator, 'content/review', { decision: 'reject', reason: OPERATOR_REJECTION });
  await act(creator, 'content', { body: CONTENT_2 });
  await act(operator, 'content/review', { decision: 'pass' });
  await act(client, 'content/decision', { decision: 'confirm' });
  await act(creator, 'publication', { platformItemId: ITEM });
  await platform('published');
  await statusIs('awaiting_client_acceptance');
  await act(client, 'complaint', { reason: COMPLAINT });
  await act(operator, 'complaint/resolution', { outcome: 'dismissed', note: DISMISSAL });
  await act(client, 'acceptance', {});
  await statusIs('in_retention');
  // R-RETENTION-PENALTY: hidden in retention costs 25 points; the creator appeals and the operator upholds it
  await platform('hidden');
  const deduction = await until('the retention penalty', async () => (await db().select().from(creditEvents).where(eq(creditEvents.taskId, taskId)))[0]);
  const filed = await api.call('POST', '/v1/appeals', { as: creator, body: { creditEventId: deduction.id, reason: APPEAL_REASON } });
  expect(filed.status).toBe(201);
  const decided = await api.call('POST', `/v1/appeals/${filed.body.id}/decision`, { as: operator, body: { outcome: 'upheld', note: '属实 confirmed' } });
  expect(decided.status).toBe(200);
  await until('the restoration', async () => (await db().select().from(creditEvents).where(eq(creditEvents.appealId, filed.body.id))).length === 1);
  await until('the appeal decided', async () => (await db().select().from(appeals).where(eq(appeals.id, filed.body.id)))[0]?.decidedAt);
  // the payout and the last projection are asynchronous: wait until the bundle stops changing
  let previous = '';
  await until('a settled record', async () => {
    const now = (await get(`/v1/tasks/${taskId}/evidence`, operator)).text;
    const doc = JSON.parse(now) as EvidenceDocument;
    const settled = now === previous && doc.money.paidOutFen === PRICE;
    previous = now;
    return settled;
  });
});
afterAll(async () => api?.stop());

async function bundle(as: UserActor = client) {
  const res = await get(`/v1/tasks/${taskId}/evidence`, as);
  expect(res.status, res.text).toBe(200);
  return { ...res, doc: JSON.parse(res.text) as EvidenceDocument };
}
const ofKind = (doc: EvidenceDocument, kind: EvidenceEntry['kind']) => doc.entries.filter((e) => e.kind === kind);
const event = (e: EvidenceEntry) => e.data['event'];
const payload = (e: EvidenceEntry) => e.data['payload'] as Record<string, unknown>;

describe('R-EVIDENCE: the bundle', () => {
  it('R-EVIDENCE: holds every kind of entry, in time order, with a header naming the task, its parties, price and status', async () => {
    const { doc } = await bundle();
    // the answer is what the OpenAPI document says it is (strict: no field left undocumented)
    expect(EvidenceDocumentSchema.strict().parse(doc)).toEqual(doc);
    expect(doc.format).toBe('starmap.evidence/1');
    expect(doc.task).toMatchObject({
      id: taskId,
      type: 'douyin_video',
      typeNameZh: '抖音传播任务',
      status: 'in_retention',
      brief: BRIEF,
      priceFen: PRICE,
      client: { id: client.id, displayName: '星河电子品牌部' },
      creator: { id: creator.id, displayName: '小鹿去旅行' },
      mcn: { id: mcn.id, displayName: '青禾 MCN' },
      payoutAccount: `mcn:${mcn.id}`,
    });
    expect([...new Set(doc.entries.map((e) => e.kind))].sort()).toEqual([...ENTRY_KINDS].sort());
    const times = doc.entries.map((e) => Date.parse(e.at));
    for (let i = 1; i < times.length; i++) expect(times[i], `entry ${i} (${doc.entries[i]!.source}) is before entry ${i - 1}`).toBeGreaterThanOrEqual(times[i - 1]!);
    expect(doc.asOf).toBe(doc.entries.at(-1)!.at);
    // every task event of the history is there, each once
    const history = (await api.call('GET', `/v1/tasks/${taskId}/events`, { as: client })).body.items as { seq: number }[];
    const seqs = doc.entries.filter((e) => e.source.startsWith('task_events#')).map((e) => e.data['seq']);
    expect([...seqs].sort((a, b) => Number(a) - Number(b))).toEqual(history.map((e) => e.seq));
  });

  it('R-EVIDENCE: every submitted version with its body and revision; every review and client decision with actor and reason', async () => {
    const { doc } = await bundle();
    const submissions = ofKind(doc, 'submission').map((e) => ({ ...payload(e), actor: e.actor }));
    expect(submissions).toEqual([
      { stage: 'script', revision: 1, body: SCRIPT_1, actor: { role: 'creator', id: creator.id } },
      { stage: 'script', revision: 2, body: SCRIPT_2, actor: { role: 'creator', id: creator.id } },
      { stage: 'content', revision: 1, body: CONTENT_1, actor: { role: 'creator', id: creator.id } },
      { stage: 'content', revision: 2, body: CONTENT_2, actor: { role: 'creator', id: creator.id } },
    ]);
    const reviews = ofKind(doc, 'review').map((e) => [event(e), payload(e)['stage'], payload(e)['revision'], e.actor, e.data['reason']]);
    expect(reviews).toEqual([
      ['review_passed', 'script', 1, { role: 'operator', id: operator.id }, null],
      ['review_passed', 'script', 2, { role: 'operator', id: operator.id }, null],
      ['review_rejected', 'content', 1, { role: 'operator', id: operator.id }, OPERATOR_REJECTION],
      ['review_passed', 'content', 2, { role: 'operator', id: operator.id }, null],
    ]);
    const decisions = ofKind(doc, 'client_decision').map((e) => [event(e), payload(e)['stage'], payload(e)['revision'], e.actor, e.data['reason']]);
    expect(decisions).toEqual([
      ['client_rejected', 'script', 1, { role: 'client', id: client.id }, CLIENT_REJECTION],
      ['client_confirmed', 'script', 2, { role: 'client', id: client.id }, null],
      ['client_confirmed', 'content', 2, { role: 'client', id: client.id }, null],
    ]);
  });

  it('R-EVIDENCE: publications, the platform events, the complaint and its resolution', async () => {
    const { doc } = await bundle();
    expect(ofKind(doc, 'publication').map((e) => [event(e), payload(e)['itemId'], e.actor?.role])).toEqual([
      ['publication_linked', ITEM, 'creator'],
      ['published', ITEM, 'platform'],
    ]);
    // hidden in retention: one violation (R-RETENTION-PENALTY), from the platform's report
    expect(ofKind(doc, 'platform_event').map((e) => [event(e), payload(e)['from'], payload(e)['to'], payload(e)['points'], e.actor?.role])).toEqual([['retention_violated', 'public', 'hidden', 25, 'platform']]);
    const complaint = ofKind(doc, 'complaint');
    expect(complaint.map((e) => [event(e), e.actor, e.data['reason']])).toEqual([
      ['complaint_filed', { role: 'client', id: client.id }, COMPLAINT],
      ['complaint_dismissed', { role: 'operator', id: operator.id }, DISMISSAL],
    ]);
    expect(ofKind(doc, 'lifecycle').map(event)).toEqual(expect.arrayContaining(['accepted', 'delivery_accepted']));
  });

  it('R-EVIDENCE: the ledger transfers of the task (hold, then payout to the MCN) sum to the price; credit changes it caused and the appeal against them', async () => {
    const { doc } = await bundle();
    const transfers = ofKind(doc, 'transfer').map((e) => e.data);
    expect(transfers.map((t) => [t['transferKind'], t['fromAccount'], t['toAccount'], t['amountFen']])).toEqual([
      ['escrow_hold', `client:${client.id}`, `escrow:${taskId}`, PRICE],
      ['payout', `escrow:${taskId}`, `mcn:${mcn.id}`, PRICE],
    ]);
    const into = transfers.filter((t) => t['toAccount'] === `escrow:${taskId}`).reduce((n, t) => n + Number(t['amountFen']), 0);
    const out = transfers.filter((t) => t['fromAccount'] === `escrow:${taskId}`).reduce((n, t) => n + Number(t['amountFen']), 0);
    expect(into).toBe(PRICE);
    expect(out).toBe(PRICE);
    expect(doc.money).toEqual({ heldFen: PRICE, refundedFen: 0, paidOutFen: PRICE, inEscrowFen: 0 });
    // the hold commits with the order (its time is the order's; the workflow records \`ordered\` when it starts), the payout follows the acceptance
    const at = (pick: (e: EvidenceEntry) => boolean) => doc.entries.findIndex(pick);
    const hold = at((e) => e.data['transferKind'] === 'escrow_hold');
    expect(Date.parse(doc.entries[hold]!.at)).toBeGreaterThanOrEqual(Date.parse(doc.task.orderedAt));
    expect(hold).toBeLessThan(at((e) => event(e) === 'accepted'));
    expect(at((e) => event(e) === 'delivery_accepted')).toBeLessThan(at((e) => e.data['transferKind'] === 'payout'));

    const credit = ofKind(doc, 'credit_change').map((e) => [e.data['cause'], e.data['delta']]);
    expect(credit).toEqual([
      ['retention_violation', -25],
      ['appeal_upheld', 25],
    ]);
    const appeal = ofKind(doc, 'appeal').map((e) => [e.data['step'], e.actor?.role, e.data['reason'] ?? e.data['outcome']]);
    expect(appeal).toEqual([
      ['filed', 'creator', APPEAL_REASON],
      ['decided', 'operator', 'upheld'],
    ]);
    expect(doc.entries.findIndex((e) => e.data['step'] === 'filed')).toBeGreaterThan(doc.entries.findIndex((e) => e.data['cause'] === 'retention_violation'));
  });
});

describe('R-EVIDENCE: the digest', () => {
  it('R-EVIDENCE: Repr-Digest and X-Evidence-SHA256 are the SHA-256 of the exact body; the bytes are canonical (sorted keys) and the same for the same record', async () => {
    const first = await bundle();
    const digest = sha256(first.bytes);
    expect(first.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(first.headers.get('x-evidence-sha256')).toBe(digest.toString('hex'));
    expect(first.headers.get('repr-digest')).toBe(`sha-256=:${digest.toString('base64')}:`);
    expect(first.headers.get('etag')).toBe(`"sha256-${digest.toString('hex')}"`);
    expect(first.headers.get('cache-control')).toBe('private, no-store');
    // RFC 8785: re-canonicalising the parsed body gives the body back, byte for byte
    expect(canonicalJson(JSON.parse(first.text))).toBe(first.text);
    expect(first.text.startsWith('{"asOf":')).toBe(true);
    await sleep(20);
    const second = await bundle(operator);
    expect(second.bytes.equals(first.bytes)).toBe(true);
    expect(second.headers.get('x-evidence-generated-at')).not.toBe(first.headers.get('x-evidence-generated-at'));
  });
});

describe('R-EVIDENCE: who gets it', () => {
  it('R-EVIDENCE: the client, the creator, the creator\'s MCN and operators get the same bundle', async () => {
    const digests = new Set<string>();
    for (const party of [client, creator, mcn, operator]) {
      const res = await bundle(party);
      digests.add(res.headers.get('x-evidence-sha256')!);
      const link = await api.call('GET', `/v1/tasks/${taskId}/evidence-link`, { as: party });
      expect(link.status).toBe(200);
      expect(link.body.url).toMatch(new RegExp(`^/v1/tasks/${taskId}/evidence\\.html\\?token=`));
    }
    expect(digests.size).toBe(1);
  });

  it('R-EVIDENCE: another client, creator or MCN gets 404, the answer for a task that does not exist; no token is 401', async () => {
    const missing = `tsk_${randomUUID()}`;
    const mask = (text: string, id: string) => JSON.parse(text.replaceAll(id, '<task>'));
    for (const outsider of [otherClient, otherCreator, otherMcn]) {
      for (const suffix of ['evidence', 'evidence.html', 'evidence-link']) {
        const res = await get(`/v1/tasks/${taskId}/${suffix}`, outsider);
        expect(res.status, `${outsider.id} ${suffix}`).toBe(404);
        expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(res.text).not.toContain(client.id);
        expect(res.text).not.toContain(creator.id);
        const none = await get(`/v1/tasks/${missing}/${suffix}`, outsider);
        expect(mask(res.text, taskId)).toEqual(mask(none.text, missing));
      }
    }
    for (const suffix of ['evidence', 'evidence.html', 'evidence-link']) expect((await get(`/v1/tasks/${taskId}/${suffix}`)).status).toBe(401);
  });
});

describe('R-EVIDENCE: the printable page', () => {
  it('R-EVIDENCE: zh-CN, UTF-8, self-contained, every user string escaped, and it prints the digest of the JSON the same record gives', async () => {
    const json = await bundle();
    const page = await get(`/v1/tasks/${taskId}/evidence.html`, creator);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    const html = page.text;
    expect(html).toMatch(/^<!DOCTYPE html>\n<html lang="zh-CN">/);
    expect(html).toContain('<meta charset="utf-8">');
    expect(html).toContain('任务证据包');
    const digest = sha256(json.bytes).toString('hex');
    expect(html).toContain(`<code id="sha256">${digest}</code>`);
    expect(page.headers.get('x-evidence-sha256')).toBe(digest);
    // self-contained: no script, no external asset
    expect(html).not.toMatch(/<script|<link|<img|<iframe|src=|url\(|@import/i);
    expect(html).not.toMatch(/https?:\/\//);
    // escaped: the user's markup is text
    expect(html).not.toContain('<script>alert("x")</script>');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(html).not.toContain('<em>show the box</em>');
    expect(html).toContain('&lt;em&gt;show the box&lt;/em&gt;');
    expect(html).not.toContain('<b>Brand');
    expect(html).toContain('小鹿去旅行');
    expect(html).toContain('¥8,800.00');
    // the page embeds the very bytes it hashed
    const embedded = /<pre class="json" id="evidence-json">([^<]*)<\/pre>/.exec(html)?.[1];
    expect(embedded).toBeDefined();
    const unescaped = embedded!.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&quot;', '"').replaceAll('&#39;', "'").replaceAll('&amp;', '&');
    expect(unescaped).toBe(json.text);
  });

  it('R-EVIDENCE: the link opens the page without a bearer token for 5 minutes, for this task only; it is no bearer token', async () => {
    const link = await api.call('GET', `/v1/tasks/${taskId}/evidence-link`, { as: mcn });
    const expiresIn = Date.parse(link.body.expiresAt) - Date.now();
    expect(expiresIn).toBeGreaterThan(4 * 60_000);
    expect(expiresIn).toBeLessThanOrEqual(5 * 60_000);
    const page = await get(link.body.url);
    expect(page.status).toBe(200);
    expect(page.text).toContain(taskId);
    expect(page.text).toContain('MCN');
    const token = new URL(link.body.url, api.baseUrl).searchParams.get('token')!;
    // not a bearer token, not for another task, not once expired, not tampered with
    expect((await get(`/v1/tasks/${taskId}/evidence`, undefined, { authorization: `Bearer ${token}` })).status).toBe(401);
    const ordered = await api.call('POST', '/v1/tasks', {
      as: client,
      body: { creatorId: creator.id, taskType: 'douyin_video', brief: 'another task', scriptRequired: false },
      headers: { 'idempotency-key': `order-${randomUUID()}` },
    });
    expect(ordered.status).toBe(201);
    expect((await get(`/v1/tasks/${ordered.body.id}/evidence.html?token=${token}`)).status).toBe(401);
    const expired = await api.auth.signLink(mcn, `evidence:${taskId}`, -10);
    expect((await get(`/v1/tasks/${taskId}/evidence.html?token=${expired}`)).status).toBe(401);
    const tampered = `${token.slice(0, -4)}${token.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
    expect((await get(`/v1/tasks/${taskId}/evidence.html?token=${tampered}`)).status).toBe(401);
    expect((await get(`/v1/tasks/${taskId}/evidence.html?token=not-a-token`)).status).toBe(401);
    expect((await get(`/v1/tasks/${taskId}/evidence.html?token=`)).status).toBe(401);
    expect((await get(`/v1/tasks/${taskId}/evidence.html?token=${token}&token=${token}`)).status).toBe(400);
    // an MCN that no longer manages the creator cannot use the link it got
    const outsiderLink = await api.auth.signLink(otherMcn, `evidence:${taskId}`, 60);
    expect((await get(`/v1/tasks/${taskId}/evidence.html?token=${outsiderLink}`)).status).toBe(404);
  });

  it('R-EVIDENCE: headless Chromium renders the page from its link: the Chinese title, the task id and the digest; screenshot test-artefacts/evidence.png', async () => {
    const digest = sha256((await bundle()).bytes).toString('hex');
    const link = await api.call('GET', `/v1/tasks/${taskId}/evidence-link`, { as: client });
    const url = `${api.baseUrl}${link.body.url}`;
    const page = await visit(url, { waitFor: taskId, screenshot: 'evidence', width: 1280, height: 1200 });
    const dom = page.dom;
    expect(dom).toContain('<title>任务证据包 Evidence bundle · ' + taskId + '</title>');
    expect(dom).toMatch(/<h1>任务证据包/);
    expect(dom).toContain(taskId);
    expect(dom).toContain(`<code id="sha256">${digest}</code>`);
    expect(dom).toContain('抖音传播任务');
    // the rendered document's embedded JSON still hashes to the printed digest
    const embedded = /<pre class="json" id="evidence-json">([^<]*)<\/pre>/.exec(dom)?.[1] ?? '';
    const text = embedded.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&quot;', '"').replaceAll('&amp;', '&');
    expect(sha256(text).toString('hex')).toBe(digest);
    expect(statSync(page.screenshot!).size).toBeGreaterThan(50_000);
  });
});
