/**
 * Every task type through the one task workflow, driven by the catalogue in
 * domain/taskTypes.ts. Douyin's own rules are in douyin-task.test.ts; here are
 * the rules a type changes, each named by its DOMAIN.md id.
 */
import { describe, expect, it } from 'vitest';
import { DAY, MINUTE, TASK_TYPE_IDS, taskTypeOf, validateOrder, DomainError, type TaskTypeId } from '../../domain/index.js';
import { useWorkflowStack } from '../helpers/harness.js';
import { CLIENT, CREATOR, act, order, projected, refusal, toPublished, waitFor, type TaskHandle } from '../helpers/tasks.js';

const { db, sleep, withTask } = useWorkflowStack();

/** Confirms the content of a task without a script and leaves it waiting for publication. */
async function toConfirmedContent(h: TaskHandle) {
  const a = act(h);
  await a.accept();
  await a.submitContent();
  await a.reviewContent('pass');
  return a.confirmContent('confirm');
}

describe('xigua_video', () => {
  it('R-PUBLISH-CLIENT: once the client confirms the video, the client publishes; the creator cannot', () =>
    withTask({ type: 'xigua_video', scriptRequired: false, retentionDays: 30 }, async (h) => {
      const a = act(h);
      expect((await toConfirmedContent(h)).status).toBe('awaiting_publication');
      expect(await refusal(a.publish('xg-1', CREATOR))).toMatchObject({ type: 'forbidden', code: 'wrong-role' });
      const linked = await a.publish('xg-1', CLIENT);
      expect(linked.publication.pendingItemId).toBe('xg-1');
      await a.platform('published', 'xg-1');
      const live = await waitFor(h, (t) => t.status === 'awaiting_client_acceptance');
      expect(live.publication.itemId).toBe('xg-1');
      const { events } = await projected(db(), h.workflowId, live.version);
      expect(events.find((e) => e.type === 'publication_linked')).toMatchObject({ actorRole: 'client', actorId: CLIENT.id });
    }));

  it('R-RETENTION-XIGUA: retention is at least 30 days, longer when the client asks; 30 by default', () => {
    const base = { taskId: 't', type: 'xigua_video', clientId: 'c', creatorId: 'k', brief: 'b', scriptRequired: false, priceFen: 1 };
    for (const days of [7, 15, 29]) {
      try {
        validateOrder({ ...base, retentionDays: days });
        throw new Error(`${days} days were accepted`);
      } catch (err) {
        expect(err).toBeInstanceOf(DomainError);
        expect((err as DomainError).kind).toBe('rule_violation');
        expect((err as DomainError).details).toMatchObject({ code: 'retention-below-minimum', minimum: 30 });
      }
    }
    expect(validateOrder({ ...base, retentionDays: 30 }).retentionDays).toBe(30);
    expect(validateOrder({ ...base, retentionDays: 90 }).retentionDays).toBe(90);
    expect(validateOrder(base).retentionDays).toBe(30);
    // douyin keeps its 7-day choice
    expect(validateOrder({ ...base, type: 'douyin_video', retentionDays: 7 }).retentionDays).toBe(7);
  });

  it('R-ACCEPTANCE-7D and R-RETENTION-CLOCK: auto-acceptance 7 days after the client published, then 30 days of retention', () =>
    withTask({ type: 'xigua_video', scriptRequired: false, retentionDays: 30 }, async (h) => {
      await toConfirmedContent(h);
      await act(h).publish('xg-1', CLIENT);
      await act(h).platform('published', 'xg-1');
      const live = await waitFor(h, (t) => t.status === 'awaiting_client_acceptance');
      await sleep(7 * DAY - MINUTE);
      expect((await act(h).state()).status).toBe('awaiting_client_acceptance');
      await sleep(2 * MINUTE);
      const accepted = await waitFor(h, (t) => t.status === 'in_retention');
      expect(accepted.acceptance.acceptedBy).toBe('auto');
      expect(Date.parse(accepted.retention.endsAt!) - Date.parse(live.publication.publishedAt!)).toBe(30 * DAY);
    }));
});

describe('toutiao_article', () => {
  it('R-OUTLINE-3: the client may reject the outline; the 3rd rejection moves the task on to writing by itself', () =>
    withTask({ type: 'toutiao_article', scriptRequired: true }, async (h) => {
      const a = act(h);
      await a.accept();
      for (let i = 1; i <= 2; i++) {
        await a.submitScript(`outline ${i}`);
        await a.reviewScript('pass');
        const s = await a.confirmScript('reject', `not yet (${i})`);
        expect(s.status).toBe('script_drafting');
      }
      await a.submitScript('outline 3');
      await a.reviewScript('pass');
      const third = await a.confirmScript('reject', 'still not it');
      expect(third.status).toBe('content_drafting');
      expect(third.script.clientRejections).toBe(3);
      const { events } = await projected(db(), h.workflowId, third.version);
      expect(events.at(-1)).toMatchObject({ type: 'client_rejected', reason: 'still not it', payload: { stage: 'script', advances: true } });
    }));

  it('R-OUTLINE-3: operator rejections do not use up the client\'s three', () =>
    withTask({ type: 'toutiao_article', scriptRequired: true }, async (h) => {
      const a = act(h);
      await a.accept();
      for (let i = 0; i < 4; i++) {
        await a.submitScript();
        expect((await a.reviewScript('reject', 'format')).status).toBe('script_drafting');
      }
      await a.submitScript();
      await a.reviewScript('pass');
      expect((await a.confirmScript('reject', 'one')).status).toBe('script_drafting');
    }));

  it('R-ARTICLE-2: the client has two rejections of the article in total; a third is refused and it can only confirm', () =>
    withTask({ type: 'toutiao_article', scriptRequired: false }, async (h) => {
      const a = act(h);
      await a.accept();
      for (let i = 1; i <= 2; i++) {
        await a.submitContent(`article ${i}`);
        await a.reviewContent('pass');
        expect((await a.confirmContent('reject', `revise ${i}`)).status).toBe('content_drafting');
      }
      await a.submitContent('article 3');
      await a.reviewContent('pass');
      const third = await refusal(a.confirmContent('reject', 'once more'));
      expect(third).toMatchObject({ type: 'rule_violation', code: 'rejection-limit-reached' });
      expect(third.message).toMatch(/only confirm/);
      expect((await a.confirmContent('confirm')).status).toBe('awaiting_publication');
    }));

  it('R-PUBLISH-TIME: the client confirms the publication time when it settles; a wrong or missing time is refused', () =>
    withTask({ type: 'toutiao_article', scriptRequired: false, retentionDays: 15 }, async (h) => {
      const live = await toPublished(h, 'tt-1');
      const publishedAt = live.publication.publishedAt!;
      expect(await refusal(act(h).acceptDelivery())).toMatchObject({ type: 'invalid_input', code: 'publishTime-required' });
      const wrong = new Date(Date.parse(publishedAt) - 3600_000).toISOString();
      expect(await refusal(act(h).acceptDelivery(CLIENT, wrong))).toMatchObject({ type: 'rule_violation', code: 'publish-time-mismatch' });
      const settled = await act(h).acceptDelivery(CLIENT, publishedAt);
      expect(settled.status).toBe('in_retention');
      expect(settled.acceptance.publishTimeConfirmed).toBe(publishedAt);
    }));

  it('R-PUBLISH-TIME and R-ACCEPTANCE-7D: without the client, settlement happens 7 days after publication and records the time', () =>
    withTask({ type: 'toutiao_article', scriptRequired: false }, async (h) => {
      const live = await toPublished(h, 'tt-1');
      await sleep(7 * DAY + MINUTE);
      const s = await waitFor(h, (t) => t.status === 'in_retention');
      expect(s.acceptance).toMatchObject({ acceptedBy: 'auto', publishTimeConfirmed: live.publication.publishedAt });
    }));

  it('R-MODIFY-PERMISSION: a published article changes only after the client grants permission, recorded in the history', () =>
    withTask({ type: 'toutiao_article', scriptRequired: false }, async (h) => {
      const a = act(h);
      await toPublished(h, 'tt-1');
      expect(await refusal(a.publish('tt-2'))).toMatchObject({ type: 'rule_violation', code: 'modification-permission-required' });
      expect(await refusal(a.grantModification(CREATOR))).toMatchObject({ type: 'forbidden' });
      const granted = await a.grantModification();
      expect(granted.publication.modificationGrantedAt).not.toBeNull();
      await a.publish('tt-2');
      await a.platform('published', 'tt-2');
      const changed = await waitFor(h, (t) => t.publication.itemId === 'tt-2');
      expect(changed.publication.modificationGrantedAt).toBeNull(); // one permission, one change
      expect(await refusal(a.publish('tt-3'))).toMatchObject({ code: 'modification-permission-required' });
      const { events } = await projected(db(), h.workflowId, changed.version);
      expect(events.find((e) => e.type === 'modification_granted')).toMatchObject({ actorRole: 'client', actorId: CLIENT.id });
    }));
});

describe('toutiao direct article, micro post and Q&A', () => {
  it.each(['toutiao_direct_article', 'toutiao_micro_post', 'toutiao_qa'] as const)(
    'R-SCRIPT-FLOW: %s has no outline stage: ordering one is refused and acceptance leads straight to the content',
    (type) =>
      withTask({ type, scriptRequired: false }, async (h) => {
        expect(() => validateOrder({ ...order({ type, scriptRequired: true }), type })).toThrow(/no script or outline stage/);
        const s = await act(h).accept();
        expect(s.status).toBe('content_drafting');
        expect(await refusal(act(h).submitScript())).toMatchObject({ type: 'rule_violation', code: 'script-not-required' });
      }),
  );

  it('R-CONTENT-FLOW: a micro post has no rejection limit; publish, then settle with the publication time', () =>
    withTask({ type: 'toutiao_micro_post', scriptRequired: false }, async (h) => {
      const a = act(h);
      await a.accept();
      for (let i = 0; i < 3; i++) {
        await a.submitContent();
        await a.reviewContent('pass');
        expect((await a.confirmContent('reject', 'again')).status).toBe('content_drafting');
      }
      await a.submitContent();
      await a.reviewContent('pass');
      await a.confirmContent('confirm');
      await a.publish('wtt-1');
      await a.platform('published', 'wtt-1');
      const live = await waitFor(h, (t) => t.status === 'awaiting_client_acceptance');
      expect((await a.acceptDelivery(CLIENT, live.publication.publishedAt!)).status).toBe('in_retention');
    }));

  it('R-ARTICLE-2: a direct article also has two client rejections; R-RETENTION-PENALTY applies to Toutiao content too', () =>
    withTask({ type: 'toutiao_direct_article', scriptRequired: false, retentionDays: 7 }, async (h) => {
      const a = act(h);
      await a.accept();
      for (let i = 0; i < 2; i++) {
        await a.submitContent();
        await a.reviewContent('pass');
        await a.confirmContent('reject', 'revise');
      }
      await a.submitContent();
      await a.reviewContent('pass');
      expect(await refusal(a.confirmContent('reject', 'third'))).toMatchObject({ code: 'rejection-limit-reached' });
      await a.confirmContent('confirm');
      await a.publish('zf-1');
      await a.platform('published', 'zf-1');
      const live = await waitFor(h, (t) => t.status === 'awaiting_client_acceptance');
      await a.acceptDelivery(CLIENT, live.publication.publishedAt!);
      await a.platform('hidden', 'zf-1');
      const s = await waitFor(h, (t) => t.retention.violations === 1);
      expect(s.status).toBe('in_retention');
    }));
});

it('the catalogue holds every type of DOMAIN.md with its stages as data', () => {
  expect([...TASK_TYPE_IDS].sort()).toEqual(['douyin_video', 'toutiao_article', 'toutiao_direct_article', 'toutiao_micro_post', 'toutiao_qa', 'xigua_video']);
  const publisher = (id: TaskTypeId) => taskTypeOf(id).publisher;
  expect(publisher('xigua_video')).toBe('client');
  expect(publisher('douyin_video')).toBe('creator');
  expect(taskTypeOf('toutiao_article').draft?.kind).toBe('outline');
});
