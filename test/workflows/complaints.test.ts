/**
 * R-COMPLAINT: a client complaint before acceptance stops auto-acceptance until
 * an operator resolves it. Dismissed (tested in douyin-task.test.ts): the clock
 * goes on. Upheld: the operator either asks the creator to fix the content or
 * cancels the task with a full refund. Time-skipping server, real Postgres.
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { account, balanceOf, holdEscrow, paidTopUp } from '../../db/ledger.js';
import { DAY, HOUR, MINUTE } from '../../domain/index.js';
import { useWorkflowStack } from '../helpers/harness.js';
import { until } from '../helpers/poll.js';
import { CLIENT, CREATOR, act, notificationsOf, projected, refusal, toPublished, waitFor } from '../helpers/tasks.js';

const { db, sleep, withTask } = useWorkflowStack();

const balanceBecomes = (id: string, expected: number) => until(() => balanceOf(db(), id), (b) => b === expected, 100, 50);

it('R-COMPLAINT: upheld with a fix, the content goes back to the creator, through review and the client, is published again, and the 7-day clock restarts from the new publication', () =>
  withTask({ scriptRequired: false }, async (h) => {
    const a = act(h);
    await toPublished(h, 'v1');
    await sleep(2 * DAY);
    await a.complain('The logo is missing');
    await sleep(9 * DAY); // no auto-acceptance while the complaint is open
    expect((await a.state()).status).toBe('awaiting_client_acceptance');
    expect(await refusal(a.upholdComplaint('upheld_fix', 'Add the logo', CLIENT))).toMatchObject({ type: 'forbidden' });
    const fixing = await a.upholdComplaint('upheld_fix', 'The brief asked for the logo');
    expect(fixing.status).toBe('content_drafting');
    expect(fixing.acceptance.complaint).toBeNull();
    // R-STAGE-DEADLINE: a new drafting round with its own deadline (draftDays, 7 by default)
    expect(fixing.nextDeadline).toBe(new Date(Date.parse(fixing.phase.enteredAt) + 6 * DAY).toISOString()); // its reminder, 24 h before
    expect(fixing.phase.dueAt).toBe(new Date(Date.parse(fixing.phase.enteredAt) + 7 * DAY).toISOString());
    expect(fixing.content.lastRejection).toMatchObject({ by: 'operator', reason: expect.stringContaining('The logo is missing') });
    // the operator's decision is not a second complaint to resolve
    expect(await refusal(a.dismissComplaint('again'))).toMatchObject({ type: 'invalid_state', code: 'no-open-complaint' });
    await sleep(6 * DAY + 12 * 60 * 60_000); // nothing auto-accepts while the creator revises (within its 7 days)
    expect((await a.state()).status).toBe('content_drafting');

    await a.submitContent('video v2, with logo');
    await a.reviewContent('pass');
    await a.confirmContent('confirm');
    await a.publish('v2');
    await a.platform('published', 'v2');
    const republished = await waitFor(h, (t) => t.status === 'awaiting_client_acceptance' && t.publication.itemId === 'v2');
    expect(republished.publication.republishCount).toBe(1);
    expect(Date.parse(republished.nextDeadline!) - Date.parse(republished.publication.publishedAt!)).toBe(7 * DAY);
    await sleep(7 * DAY - MINUTE);
    expect((await a.state()).status).toBe('awaiting_client_acceptance');
    await sleep(2 * MINUTE);
    expect((await waitFor(h, (t) => t.status === 'in_retention')).acceptance.acceptedBy).toBe('auto');
    const { events } = await projected(db(), h.workflowId);
    expect(events.map((e) => e.type)).toContain('complaint_upheld');
    const sms = await notificationsOf(db(), h.workflowId);
    expect(sms.filter((n) => n.template === 'content_fix_requested')).toHaveLength(1);
  }));

it('R-COMPLAINT: upheld with a cancellation, the task is cancelled and the client refunded in full; the creator is paid nothing', async () => {
  const taskId = `task-${randomUUID()}`;
  const clientId = `brand-${randomUUID().slice(0, 8)}`;
  await db().transaction(async (tx) => {
    await paidTopUp(tx, clientId, 480_000, `topup:${taskId}`);
    await holdEscrow(tx, taskId, clientId, 480_000);
  });
  await withTask({ taskId, clientId, scriptRequired: false }, async (h) => {
    const a = act(h);
    const client = { role: 'client' as const, id: clientId };
    await toPublished(h, 'item-1', { client });
    await a.complain('Published on the wrong account', client);
    await sleep(3 * HOUR);
    const cancelled = await a.upholdComplaint('upheld_cancel', 'Verified: wrong account');
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.cancellation).toMatchObject({ reason: 'complaint_upheld', note: 'Verified: wrong account' });
    expect(await balanceBecomes(account.client(clientId), 480_000)).toBe(480_000);
    expect(await balanceOf(db(), account.escrow(taskId))).toBe(0);
    expect(await balanceOf(db(), account.creator(CREATOR.id))).toBe(0);
    const { row } = await projected(db(), taskId, cancelled.version);
    expect(row.closeReason).toBe('complaint_upheld');
    let sms = await notificationsOf(db(), taskId);
    for (let i = 0; i < 50 && sms.filter((n) => n.template === 'task_cancelled').length < 2; i++) {
      await new Promise((r) => setTimeout(r, 50));
      sms = await notificationsOf(db(), taskId);
    }
    expect(sms.filter((n) => n.template === 'task_cancelled').map((n) => n.recipientRole).sort()).toEqual(['client', 'creator']);
  });
});

it('R-COMPLAINT: an unknown outcome is refused and changes nothing', () =>
  withTask({ scriptRequired: false }, async (h) => {
    const a = act(h);
    await toPublished(h);
    await a.complain('Too short');
    const before = await a.state();
    expect(await refusal(h.executeUpdate('resolveComplaint', { args: [{ actor: { role: 'operator', id: 'op' }, outcome: 'refund_half', note: 'x' }] }))).toMatchObject({
      type: 'invalid_input',
      code: 'outcome-invalid',
    });
    expect((await a.state()).version).toBe(before.version);
  }));

it('R-COMPLAINT: accepting the delivery ends an open complaint; an upheld outcome never reaches a settled (paid) task', () =>
  withTask({ scriptRequired: false }, async (h) => {
    const a = act(h);
    await toPublished(h);
    await a.complain('Colours are off');
    const accepted = await a.acceptDelivery();
    expect(accepted.status).toBe('in_retention');
    expect(accepted.acceptance.complaint).toBeNull();
    expect(await refusal(a.upholdComplaint('upheld_cancel', 'too late'))).toMatchObject({ type: 'invalid_state', code: 'no-open-complaint' });
    expect(await refusal(a.upholdComplaint('upheld_fix', 'too late'))).toMatchObject({ type: 'invalid_state' });
    expect((await a.state()).status).toBe('in_retention');
  }));

it('R-COMPLAINT: a fix made in place (the live item edited, linked again) is the new publication at once; the 7-day clock restarts', () =>
  withTask({ scriptRequired: false }, async (h) => {
    const a = act(h);
    await toPublished(h, 'live-1');
    await a.complain('Wrong price in the caption');
    await a.upholdComplaint('upheld_fix', 'Fix the caption');
    await a.submitContent('caption fixed');
    await a.reviewContent('pass');
    await a.confirmContent('confirm');
    await sleep(HOUR);
    const fixed = await a.publish('live-1');
    expect(fixed.status).toBe('awaiting_client_acceptance');
    expect(fixed.publication).toMatchObject({ itemId: 'live-1', republishCount: 1, visibility: 'public' });
    expect(Date.parse(fixed.nextDeadline!) - Date.parse(fixed.publication.publishedAt!)).toBe(7 * DAY);
  }));
