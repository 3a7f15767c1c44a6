/**
 * After acceptance, over HTTP on the real stack: post-campaign data for both
 * parties, and the client's one rating of the creator, shown in the plaza (R-RATE).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserActor } from '../../api/auth.js';
import { newActor } from '../helpers/accounts.js';
import { startApiStack, type ApiStack } from '../helpers/apiStack.js';
import { until } from '../helpers/poll.js';

let api: ApiStack;
const operator = newActor('operator');
beforeAll(async () => {
  api = await startApiStack();
  await api.account(operator);
});
afterAll(async () => api?.stop());

const key = () => `k-${randomUUID()}`;

/** Orders a Douyin task and drives it over HTTP to the client's acceptance. */
async function acceptedTask(client: UserActor, creator: UserActor): Promise<string> {
  const ordered = await api.call('POST', '/v1/tasks', {
    as: client,
    body: { creatorId: creator.id, taskType: 'douyin_video', brief: 'A tea review', scriptRequired: false },
    headers: { 'idempotency-key': key() },
  });
  expect(ordered.status).toBe(201);
  const id = ordered.body.id as string;
  const act = async (as: UserActor, path: string, body: object = {}) => expect((await api.call('POST', `/v1/tasks/${id}/${path}`, { as, body })).status).toBe(200);
  await act(creator, 'accept');
  await act(creator, 'content', { body: 'media://video/1' });
  await act(operator, 'content/review', { decision: 'pass' });
  await act(client, 'content/decision', { decision: 'confirm' });
  await act(creator, 'publication', { platformItemId: `dy-${id}` });
  expect((await api.platform({ eventId: randomUUID(), taskId: id, itemId: `dy-${id}`, kind: 'published', occurredAt: new Date().toISOString() })).status).toBe(202);
  await until(
    () => api.call('GET', `/v1/tasks/${id}`, { as: client }),
    (r) => r.body.task.status === 'awaiting_client_acceptance',
  );
  return id;
}

describe('post-campaign data and ratings (R-RATE)', () => {
  it('R-RATE both ways: after settlement the creator rates the client once; the client\'s average appears on the tasks creators are asked to accept', async () => {
    const creator = await api.creator(newActor('creator'), { douyin_video: 55_500 });
    const second = await api.creator(newActor('creator'), { douyin_video: 55_500 });
    const client = await api.account(newActor('client'));
    await api.fund(client, 1_000_000);
    const first = await acceptedTask(client, creator);
    const early = await api.call('POST', `/v1/tasks/${first}/client-rating`, { as: creator, body: { stars: 5, comment: 'Clear brief' } });
    expect(early.status).toBe(409);
    expect(early.body.code).toBe('not-settled');
    expect((await api.call('POST', `/v1/tasks/${first}/acceptance`, { as: client, body: {} })).status).toBe(200);
    const rated = await until(
      () => api.call('POST', `/v1/tasks/${first}/client-rating`, { as: creator, body: { stars: 3, comment: 'Slow to answer' } }),
      (r) => r.status !== 409 || r.body.code !== 'not-settled',
    );
    expect(rated.status).toBe(201);
    expect(rated.body).toMatchObject({ taskId: first, clientId: client.id, stars: 3, comment: 'Slow to answer' });
    // once; only the task's creator; every party reads it
    const again = await api.call('POST', `/v1/tasks/${first}/client-rating`, { as: creator, body: { stars: 5, comment: 'changed my mind' } });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('already-rated');
    expect((await api.call('POST', `/v1/tasks/${first}/client-rating`, { as: client, body: { stars: 5, comment: 'self' } })).status).toBe(403);
    expect((await api.call('POST', `/v1/tasks/${first}/client-rating`, { as: second, body: { stars: 1, comment: 'x' } })).status).toBe(404);
    expect((await api.call('GET', `/v1/tasks/${first}/client-rating`, { as: client })).body.stars).toBe(3);
    // the client's own rating of the creator is a separate, independent rating
    expect((await api.call('GET', `/v1/tasks/${first}/rating`, { as: client })).status).toBe(404);

    // a new task for another creator shows the client's average where the creator decides to accept
    const { status, body } = await api.call('POST', '/v1/tasks', {
      as: client,
      body: { creatorId: second.id, taskType: 'douyin_video', brief: 'A second campaign', scriptRequired: false },
      headers: { 'idempotency-key': `rate-both-${first}` },
    });
    expect(status).toBe(201);
    expect(body.clientRating).toEqual({ average: 3, count: 1 });
    const listed = await api.call('GET', '/v1/tasks?status=awaiting_acceptance', { as: second });
    expect(listed.body.items.find((t: { id: string }) => t.id === body.id).clientRating).toEqual({ average: 3, count: 1 });
    const detail = await api.call('GET', `/v1/tasks/${body.id}`, { as: second });
    expect(detail.body.clientRating).toEqual({ average: 3, count: 1 });
  });


  it('R-RATE: after settlement the client rates the creator once (1-5 with a comment); the average appears in the plaza; both see the post-campaign data', async () => {
    const creator = await api.creator(newActor('creator'), { douyin_video: 66_600 });
    const client = await api.account(newActor('client'));
    const other = await api.account(newActor('client'));
    for (const c of [client, other]) await api.fund(c, 1_000_000);

    const first = await acceptedTask(client, creator);
    // not before settlement
    const early = await api.call('POST', `/v1/tasks/${first}/rating`, { as: client, body: { stars: 5, comment: 'Great' } });
    expect(early.status).toBe(409);
    expect(early.body.code).toBe('not-settled');
    expect((await api.call('POST', `/v1/tasks/${first}/acceptance`, { as: client, body: {} })).status).toBe(200);
    await until(
      () => api.call('GET', `/v1/tasks?status=in_retention`, { as: client }),
      (r) => r.body.items.some((t: { id: string }) => t.id === first),
    );

    // bad input, the wrong party, the wrong role
    for (const body of [{ stars: 0, comment: 'x' }, { stars: 6, comment: 'x' }, { stars: 4.5, comment: 'x' }, { stars: 4 }, { stars: 4, comment: '' }]) {
      expect((await api.call('POST', `/v1/tasks/${first}/rating`, { as: client, body })).status).toBe(400);
    }
    expect((await api.call('POST', `/v1/tasks/${first}/rating`, { as: other, body: { stars: 1, comment: 'x' } })).status).toBe(404);
    expect((await api.call('POST', `/v1/tasks/${first}/rating`, { as: creator, body: { stars: 5, comment: 'x' } })).status).toBe(403);
    expect((await api.call('GET', `/v1/tasks/${first}/rating`, { as: client })).status).toBe(404);

    const rated = await api.call('POST', `/v1/tasks/${first}/rating`, { as: client, body: { stars: 5, comment: 'On time, on brief' } });
    expect(rated.status).toBe(201);
    expect(rated.body).toMatchObject({ stars: 5, comment: 'On time, on brief', creatorId: creator.id });
    const again = await api.call('POST', `/v1/tasks/${first}/rating`, { as: client, body: { stars: 1, comment: 'changed my mind' } });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('already-rated');
    expect((await api.call('GET', `/v1/tasks/${first}/rating`, { as: creator })).body.stars).toBe(5);

    const second = await acceptedTask(other, creator);
    await api.call('POST', `/v1/tasks/${second}/acceptance`, { as: other, body: {} });
    await until(
      () => api.call('POST', `/v1/tasks/${second}/rating`, { as: other, body: { stars: 4, comment: 'Good' } }),
      (r) => r.status === 201,
    );
    // the plaza shows the average of both ratings and sorts by it
    const plaza = await api.call('GET', `/v1/plaza/creators?taskType=douyin_video&sort=rating_desc&limit=50`, { as: client });
    const item = plaza.body.items.find((i: { creatorId: string }) => i.creatorId === creator.id);
    expect(item.rating).toEqual({ average: 4.5, count: 2 });
    const ratings = plaza.body.items.map((i: { rating: { average: number | null } }) => i.rating.average ?? -1);
    expect(ratings).toEqual([...ratings].sort((a: number, b: number) => b - a));
    expect((await api.call('GET', `/v1/creators/${creator.id}`, { as: client })).body.offers[0].rating).toEqual({ average: 4.5, count: 2 });

    // post-campaign data: the first reading is taken at acceptance; client and creator both see it, others do not
    const series = await until(
      () => api.call('GET', `/v1/tasks/${first}/metrics`, { as: client }),
      (r) => r.body.series.length > 0,
    );
    expect(series.body.series[0]).toMatchObject({ itemId: `dy-${first}`, source: 'collected' });
    expect((await api.call('GET', `/v1/tasks/${first}/metrics`, { as: creator })).body.series.length).toBeGreaterThan(0);
    expect((await api.call('GET', `/v1/tasks/${first}/metrics`, { as: other })).status).toBe(404);
  });
});
