/**
 * Every task type through the one task workflow, driven by the catalogue in
 * domain/taskTypes.ts. Douyin's own rules are in douyin-task.test.ts; here are
 * the rules a type changes, each named by its DOMAIN.md id.
 */
import { describe, expect, it } from 'vitest';
import { DAY, MINUTE, TASK_TYPE_IDS, stagesOf, taskTypeOf, validateOrder, DomainError, type TaskTypeId } from '../../domain/index.js';
import { useWorkflowStack } from '../helpers/harness.js';
import { CLIENT, CREATOR, act, creditOf, notificationsOf, order, projected, refusal, toPublished, waitFor, type TaskHandle } from '../helpers/tasks.js';

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

  it('R-TOUTIAO-ORDER: the article is written and published first; the client reviews the live article, a rejection grants the one modification it asks for, and confirming settles', () =>
    withTask({ type: 'toutiao_article', scriptRequired: false, retentionDays: 15 }, async (h) => {
      const a = act(h);
      await a.accept();
      const written = await a.submitContent('article 1');
      expect(written.publishFirst).toBe(true);
      expect(written.status).toBe('awaiting_publication'); // no review before publication
      expect(await refusal(a.reviewContent('pass'))).toMatchObject({ type: 'invalid_state' });
      expect(await refusal(a.confirmContent('confirm'))).toMatchObject({ type: 'invalid_state', code: 'not-content-confirmation' });
      await a.publish('tt-1');
      await a.platform('published', 'tt-1');
      const live = await waitFor(h, (t) => t.status === 'awaiting_client_acceptance');
      expect(live.publication.itemId).toBe('tt-1');
      // the creator cannot change the live article on its own (R-MODIFY-PERMISSION)
      expect(await refusal(a.publish('tt-x'))).toMatchObject({ code: 'modification-permission-required' });
      expect(await refusal(a.confirmContent('reject', ''))).toMatchObject({ type: 'invalid_input' });
      const rejected = await a.confirmContent('reject', 'The second paragraph misnames the product');
      expect(rejected.status).toBe('content_drafting');
      expect(rejected.content.lastRejection).toMatchObject({ by: 'client', reason: 'The second paragraph misnames the product' });
      expect(rejected.publication.modificationGrantedAt).not.toBeNull(); // the rejection grants the modification
      expect(rejected.publication.visibility).toBe('public'); // the article stays up meanwhile
      await sleep(2 * DAY);
      expect((await a.submitContent('article 2')).status).toBe('awaiting_publication');
      // modified in place in the MP back-end: the same item, live again at once as the final publication
      const modified = await a.publish('tt-1');
      expect(modified.status).toBe('awaiting_client_acceptance');
      expect(Date.parse(modified.publication.publishedAt!)).toBeGreaterThan(Date.parse(live.publication.publishedAt!));
      expect(modified.publication.modificationGrantedAt).toBeNull(); // one rejection, one modification
      expect(await refusal(a.publish('tt-2'))).toMatchObject({ code: 'modification-permission-required' });
      // R-PUBLISH-TIME: confirming the live article confirms its publication time and settles, in one action
      const settled = await a.confirmContent('confirm');
      expect(settled.status).toBe('in_retention');
      expect(settled.acceptance).toMatchObject({ acceptedBy: 'client', publishTimeConfirmed: modified.publication.publishedAt });
      expect(settled.settlement).toMatchObject({ refundFen: 0, payoutFen: settled.priceFen });
      // R-RETENTION-CLOCK: retention counts from the final publication (the modification)
      expect(Date.parse(settled.retention.endsAt!) - Date.parse(modified.publication.publishedAt!)).toBe(15 * DAY);
      const { events } = await projected(db(), h.workflowId, settled.version);
      expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['submitted', 'published', 'client_rejected', 'delivery_accepted']));
      expect(events.find((e) => e.type === 'client_rejected')).toMatchObject({ actorRole: 'client', payload: { stage: 'content', revision: 1, live: true } });
    }));

  it('R-TOUTIAO-ORDER, R-DECISION-NOTIFY: a rejected live article sends the creator one SMS with the reason', () =>
    withTask({ type: 'toutiao_article', scriptRequired: false }, async (h) => {
      await toPublished(h, 'tt-1');
      await act(h).confirmContent('reject', 'Wrong product name');
      let sms: Awaited<ReturnType<typeof notificationsOf>> = [];
      for (let i = 0; i < 100 && !sms.some((n) => n.sentAt !== null); i++) {
        await new Promise((r) => setTimeout(r, 50));
        sms = (await notificationsOf(db(), h.workflowId)).filter((n) => n.template === 'content_rejected');
      }
      expect(sms).toHaveLength(1);
      expect(sms[0]).toMatchObject({ recipientRole: 'creator', recipientId: CREATOR.id });
      expect(JSON.stringify(sms[0]!.params)).toContain('Wrong product name');
    }));

  it('R-ARTICLE-2: the client has two rejections of the live article in total; a third is refused and it can only confirm', () =>
    withTask({ type: 'toutiao_article', scriptRequired: false }, async (h) => {
      const a = act(h);
      await toPublished(h, 'tt-1');
      for (let i = 1; i <= 2; i++) {
        expect((await a.confirmContent('reject', `revise ${i}`)).status).toBe('content_drafting');
        await a.submitContent(`article ${i + 1}`);
        expect((await a.publish('tt-1')).status).toBe('awaiting_client_acceptance');
      }
      const third = await refusal(a.confirmContent('reject', 'once more'));
      expect(third).toMatchObject({ type: 'rule_violation', code: 'rejection-limit-reached' });
      expect(third.message).toMatch(/only confirm/);
      expect((await a.confirmContent('confirm')).status).toBe('in_retention');
    }));

  it('R-TOUTIAO-ORDER: a revision may also go live as a new article, which the platform reports; an open complaint must be decided before a rejection', () =>
    withTask({ type: 'toutiao_direct_article', scriptRequired: false }, async (h) => {
      const a = act(h);
      await toPublished(h, 'zf-1');
      await a.complain('Off-brief');
      expect(await refusal(a.confirmContent('reject', 'also this'))).toMatchObject({ code: 'complaint-open' });
      await a.dismissComplaint('Matches the brief');
      await a.confirmContent('reject', 'Add the price');
      await a.submitContent('article 2');
      expect((await a.publish('zf-2')).publication.pendingItemId).toBe('zf-2');
      await a.platform('published', 'zf-2');
      const s = await waitFor(h, (t) => t.status === 'awaiting_client_acceptance' && t.publication.itemId === 'zf-2');
      expect(s.publication.republishCount).toBe(1);
    }));

  it('R-TOUTIAO-ORDER, R-REPUBLISH-GRACE: deleting the live article while it is revised is a violation only if nothing is public within 24 hours', () =>
    withTask({ type: 'toutiao_article', scriptRequired: false, retentionDays: 30 }, async (h) => {
      const a = act(h);
      await toPublished(h, 'tt-1');
      await a.confirmContent('reject', 'Rewrite the title');
      await a.platform('deleted', 'tt-1');
      const lapsed = await waitFor(h, (t) => t.publication.visibility === 'deleted');
      expect(lapsed.retention.violations).toBe(0);
      expect(lapsed.nextDeadline).toBe(new Date(Date.parse(lapsed.lapse!.since) + DAY).toISOString());
      await sleep(DAY + MINUTE);
      const s = await waitFor(h, (t) => t.retention.violations === 1);
      expect(s.status).toBe('content_drafting');
      expect((await creditOf(db(), h.workflowId)).map((c) => c.delta)).toEqual([-25]);
    }));

  it('R-PUBLISH-TIME: settling confirms the live publication time without retyping it; a time sent that is not the live one is refused', () =>
    withTask({ type: 'toutiao_article', scriptRequired: false, retentionDays: 15 }, async (h) => {
      const live = await toPublished(h, 'tt-1');
      const publishedAt = live.publication.publishedAt!;
      const wrong = new Date(Date.parse(publishedAt) - 3600_000).toISOString();
      expect(await refusal(act(h).acceptDelivery(CLIENT, wrong))).toMatchObject({ type: 'rule_violation', code: 'publish-time-mismatch' });
      const settled = await act(h).acceptDelivery(CLIENT);
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

  it('R-TOUTIAO-ORDER: a micro post goes live first too and has no rejection limit; confirming settles with the publication time', () =>
    withTask({ type: 'toutiao_micro_post', scriptRequired: false }, async (h) => {
      const a = act(h);
      await toPublished(h, 'wtt-1');
      for (let i = 0; i < 3; i++) {
        expect((await a.confirmContent('reject', 'again')).status).toBe('content_drafting');
        await a.submitContent(`post ${i + 2}`);
        await a.publish('wtt-1'); // no permission needed for a micro post (its own modification anyway)
      }
      const live = await a.state();
      expect(live.content.clientRejections).toBe(3);
      const settled = await a.confirmContent('confirm');
      expect(settled.status).toBe('in_retention');
      expect(settled.acceptance.publishTimeConfirmed).toBe(live.publication.publishedAt);
    }));

  it('R-RETENTION-PENALTY applies to Toutiao content too: hiding a settled direct article costs 25 points', () =>
    withTask({ type: 'toutiao_direct_article', scriptRequired: false, retentionDays: 7 }, async (h) => {
      const a = act(h);
      await toPublished(h, 'zf-1');
      await a.acceptDelivery();
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

it('R-TOUTIAO-ORDER: the order is data in the catalogue: Toutiao content is reviewed after publication, videos before', () => {
  for (const id of TASK_TYPE_IDS) {
    const def = taskTypeOf(id);
    expect(def.clientReviews).toBe(def.platform === 'toutiao' ? 'after_publication' : 'before_publication');
    const stages = stagesOf(def);
    const published = stages.indexOf(`publication_by_${def.publisher}`);
    const review = stages.findIndex((s) => s.startsWith('client_review_of_live_') || s.startsWith('client_confirmation_of_'));
    expect(review > published).toBe(def.clientReviews === 'after_publication');
  }
});
