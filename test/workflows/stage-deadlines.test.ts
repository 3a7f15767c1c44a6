/**
 * No task waits forever (DOMAIN.md): both sides of every deadline of
 * R-STAGE-DEADLINE's table, R-REPUBLISH-GRACE, R-NOT-PUBLIC-EXIT and the
 * retention rules, and the operator's and parties' ways out (R-OPERATOR-RESOLVE,
 * R-MUTUAL-CANCEL, R-TAKEDOWN), on the time-skipping server with the real
 * activities (ledger, outbox, credit) over Postgres.
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { account, balanceOf, holdEscrow, paidTopUp } from '../../db/ledger.js';
import { CN_CALENDAR, DAY, HOUR, MINUTE, addWorkingTime, type TaskState } from '../../domain/index.js';
import { useWorkflowStack } from '../helpers/harness.js';
import { until } from '../helpers/poll.js';
import { CLIENT, CREATOR, act, creditOf, notificationsOf, order, projected, refusal, toPublished, waitFor } from '../helpers/tasks.js';
import { WithStartWorkflowOperation, WorkflowNotFoundError } from '@temporalio/client';
import { taskWorkflow } from '../../workflows/task.js';
import { acceptTaskUpdate } from '../../workflows/messages.js';

const { db, sleep, withTask, stack } = useWorkflowStack();
const PRICE = 1_500_000;

/** Escrows the task's price as an order would (top-up + hold), so settlements move real money. */
async function escrowed(taskId: string, clientId: string) {
  await db().transaction(async (tx) => {
    await paidTopUp(tx, clientId, PRICE, `topup:${taskId}`);
    await holdEscrow(tx, taskId, clientId, PRICE);
  });
  // the parties' balances before the settlement (tests share the accounts)
  base.client = await balanceOf(db(), account.client(clientId));
  base.creator = await balanceOf(db(), account.creator(CREATOR.id));
}
const base = { client: 0, creator: 0 };
/** The client's / creator's balance reaching `base + delta`. */
const clientGets = async (delta: number) => (await balanceBecomes(account.client(CLIENT.id), base.client + delta)) - base.client;
const creatorGets = async (delta: number) => (await balanceBecomes(account.creator(CREATOR.id), base.creator + delta)) - base.creator;
const balanceBecomes = (id: string, expected: number) => until(() => balanceOf(db(), id), (b) => b === expected, 100, 50);
const ms = (iso: string | null | undefined) => Date.parse(iso!);
const templatesOf = async (taskId: string) => (await notificationsOf(db(), taskId)).map((n) => `${n.recipientRole}:${n.template}`);
const waitForCredit = (taskId: string, n: number) => until(() => creditOf(db(), taskId), (rows) => rows.length >= n, 100, 50);

it('R-STAGE-DEADLINE: drafting: reminder 24 h before, still drafting just before the deadline, cancelled (delivery_overdue) with a full refund just after', () => {
  const taskId = `task-${randomUUID()}`;
  return withTask({ taskId, scriptRequired: false, draftDays: 3 }, async (h) => {
    await escrowed(taskId, CLIENT.id);
    const accepted = await act(h).accept();
    expect(accepted.phase.dueAt).toBe(new Date(ms(accepted.phase.enteredAt) + 3 * DAY).toISOString());
    expect(accepted.nextDeadline).toBe(new Date(ms(accepted.phase.dueAt) - DAY).toISOString());
    await sleep(2 * DAY - MINUTE);
    expect((await act(h).state()).phase.remindedAt).toBeNull();
    await sleep(2 * MINUTE);
    const reminded = await waitFor(h, (t) => t.phase.remindedAt !== null);
    expect(reminded.nextDeadline).toBe(reminded.phase.dueAt);
    await sleep(DAY - 2 * MINUTE);
    expect((await act(h).state()).status).toBe('content_drafting');
    await sleep(2 * MINUTE);
    const done = await waitFor(h, (t) => t.status === 'cancelled');
    expect(done.cancellation?.reason).toBe('delivery_overdue');
    expect(done.settlement).toMatchObject({ refundFen: PRICE, payoutFen: 0 });
    expect(await clientGets(PRICE)).toBe(PRICE);
    const sent = await until(() => templatesOf(taskId), (t) => t.length >= 4, 100, 50);
    expect(sent).toEqual(expect.arrayContaining(['creator:deadline_reminder', 'client:delivery_overdue', 'creator:delivery_overdue']));
  });
});

it('R-STAGE-DEADLINE: the client extends a running drafting deadline before it passes; the creator cannot; the task lives to the new deadline', () =>
  withTask({ scriptRequired: true, draftDays: 2 }, async (h) => {
    const a = act(h);
    const accepted = await a.accept();
    expect(accepted.status).toBe('script_drafting');
    expect(await refusal(a.extendDraft(3, CREATOR))).toMatchObject({ type: 'forbidden' });
    expect(await refusal(a.extendDraft(31))).toMatchObject({ type: 'invalid_input', code: 'days-invalid' });
    await sleep(DAY + 12 * HOUR);
    const extended = await a.extendDraft(3);
    expect(extended.phase.dueAt).toBe(new Date(ms(accepted.phase.dueAt) + 3 * DAY).toISOString());
    await sleep(DAY); // past the old deadline
    expect((await a.state()).status).toBe('script_drafting');
    await sleep(3 * DAY);
    expect((await waitFor(h, (t) => t.status === 'cancelled')).cancellation?.reason).toBe('delivery_overdue');
  }));

it('R-STAGE-DEADLINE: operator review escalates once after 24 working hours (not before), operators are told, and it is never decided automatically', () =>
  withTask({ scriptRequired: false }, async (h) => {
    const a = act(h);
    await a.accept();
    const inReview = await a.submitContent();
    const due = addWorkingTime(ms(inReview.phase.enteredAt), 24 * HOUR, CN_CALENDAR);
    expect(inReview.nextDeadline).toBe(new Date(due).toISOString());
    await sleep(due - ms(inReview.phase.enteredAt) - MINUTE);
    expect((await a.state()).phase.escalatedAt).toBeNull();
    await sleep(2 * MINUTE);
    const escalated = await waitFor(h, (t) => t.phase.escalatedAt !== null);
    expect(escalated.status).toBe('content_review');
    expect(escalated.nextDeadline).toBeNull();
    const sent = await until(() => templatesOf(h.workflowId), (t) => t.includes('operator:review_escalated'), 100, 50);
    expect(sent.filter((t) => t === 'operator:review_escalated')).toHaveLength(1);
    await sleep(60 * DAY);
    expect((await a.state()).status).toBe('content_review');
    expect((await a.reviewContent('pass')).status).toBe('content_confirmation');
  }));

it('R-STAGE-DEADLINE: the client confirms within 7 days (reminded 24 h before) or the content is deemed confirmed (by: deadline)', () =>
  withTask({ scriptRequired: false }, async (h) => {
    const a = act(h);
    await a.accept();
    await a.submitContent();
    const waiting = await a.reviewContent('pass');
    expect(waiting.phase.dueAt).toBe(new Date(ms(waiting.phase.enteredAt) + 7 * DAY).toISOString());
    await sleep(6 * DAY + MINUTE);
    expect((await waitFor(h, (t) => t.phase.remindedAt !== null)).status).toBe('content_confirmation');
    await sleep(DAY - 2 * MINUTE);
    expect((await a.state()).status).toBe('content_confirmation');
    await sleep(2 * MINUTE);
    const deemed = await waitFor(h, (t) => t.status === 'awaiting_publication');
    expect(deemed.content.confirmedAt).not.toBeNull();
    const sent = await until(() => templatesOf(h.workflowId), (t) => t.includes('creator:deemed_confirmed'), 100, 50);
    expect(sent).toEqual(expect.arrayContaining(['client:deadline_reminder', 'client:deemed_confirmed', 'creator:deemed_confirmed']));
  }));

it('R-STAGE-DEADLINE: the creator publishes within 7 days of the confirmation or the task is cancelled (publication_overdue) with a full refund', () => {
  const taskId = `task-${randomUUID()}`;
  return withTask({ taskId, scriptRequired: false }, async (h) => {
    await escrowed(taskId, CLIENT.id);
    const a = act(h);
    await a.accept();
    await a.submitContent();
    await a.reviewContent('pass');
    const confirmed = await a.confirmContent('confirm');
    expect(confirmed.phase.dueAt).toBe(new Date(ms(confirmed.phase.enteredAt) + 7 * DAY).toISOString());
    await sleep(7 * DAY - MINUTE);
    expect((await a.state()).status).toBe('awaiting_publication');
    await sleep(2 * MINUTE);
    const done = await waitFor(h, (t) => t.status === 'cancelled');
    expect(done.cancellation?.reason).toBe('publication_overdue');
    expect(await clientGets(PRICE)).toBe(PRICE);
  });
});

it('R-STAGE-DEADLINE: Xigua: a client who never publishes the confirmed video settles to the creator after 7 days (by deadline)', () => {
  const taskId = `task-${randomUUID()}`;
  return withTask({ taskId, type: 'xigua_video', scriptRequired: false, retentionDays: 30 }, async (h) => {
    await escrowed(taskId, CLIENT.id);
    const a = act(h);
    await a.accept();
    await a.submitContent();
    await a.reviewContent('pass');
    await a.confirmContent('confirm');
    await sleep(7 * DAY - MINUTE);
    expect((await a.state()).status).toBe('awaiting_publication');
    await sleep(2 * MINUTE);
    const done = await waitFor(h, (t) => t.status === 'completed');
    expect(done.completion?.kind).toBe('settled_unpublished');
    expect(await creatorGets(PRICE)).toBe(PRICE);
    expect(await balanceOf(db(), account.escrow(taskId))).toBe(0);
  });
});

it('R-REPUBLISH-GRACE: deleted before acceptance and republished within 24 hours costs nothing', () =>
  withTask({ scriptRequired: false, retentionDays: 30 }, async (h) => {
    const a = act(h);
    await toPublished(h, 'v1');
    await sleep(DAY);
    await a.platform('deleted', 'v1');
    await waitFor(h, (t) => t.publication.visibility === 'deleted');
    await sleep(20 * HOUR);
    await a.publish('v2');
    await a.platform('published', 'v2');
    const republished = await waitFor(h, (t) => t.publication.itemId === 'v2');
    expect(republished.lapse).toBeNull();
    await sleep(2 * DAY);
    const s = await a.state();
    expect(s.retention.violations).toBe(0);
    expect(s.status).toBe('awaiting_client_acceptance');
    expect(await creditOf(db(), h.workflowId)).toEqual([]);
  }));

it('R-REPUBLISH-GRACE, R-NOT-PUBLIC-EXIT: deleted and not republished: -25 at 24 hours (not before), cancelled as content_withdrawn with a full refund at 72 hours', () => {
  const taskId = `task-${randomUUID()}`;
  return withTask({ taskId, scriptRequired: false, retentionDays: 30 }, async (h) => {
    await escrowed(taskId, CLIENT.id);
    const a = act(h);
    await toPublished(h, 'v1');
    await a.platform('deleted', 'v1');
    const deleted = await waitFor(h, (t) => t.publication.visibility === 'deleted');
    expect(deleted.nextDeadline).toBe(new Date(ms(deleted.lapse!.since) + DAY).toISOString());
    await sleep(DAY - MINUTE);
    expect((await a.state()).retention.violations).toBe(0);
    await sleep(2 * MINUTE);
    expect((await waitFor(h, (t) => t.retention.violations === 1)).status).toBe('awaiting_client_acceptance');
    expect((await waitForCredit(h.workflowId, 1)).map((c) => c.delta)).toEqual([-25]);
    await sleep(2 * DAY - 2 * MINUTE);
    expect((await a.state()).status).toBe('awaiting_client_acceptance');
    await sleep(2 * MINUTE);
    const done = await waitFor(h, (t) => t.status === 'cancelled');
    expect(done.cancellation?.reason).toBe('content_withdrawn');
    expect(done.retention.violations).toBe(1);
    expect(await clientGets(PRICE)).toBe(PRICE);
  });
});

it('R-RETENTION-PENALTY: hidden then deleted within retention is one violation (-25 once); a hidden callback redelivered after 500 other events still counts once', () =>
  withTask({ scriptRequired: false, retentionDays: 60 }, async (h) => {
    const a = act(h);
    await toPublished(h, 'v1');
    await a.acceptDelivery();
    await sleep(3 * DAY);
    await a.platform('hidden', 'v1', 'evt-hide');
    await waitFor(h, (t) => t.retention.violations === 1);
    await a.platform('restored', 'v1', 'evt-restore');
    await waitFor(h, (t) => t.publication.visibility === 'public');
    for (let i = 0; i < 500; i += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, j) => a.platform('published', `other-${i + j}`)));
    }
    await a.platform('hidden', 'v1', 'evt-hide'); // the same callback, delivered again much later
    await sleep(HOUR);
    const s = await a.state();
    expect(s.publication.visibility).toBe('public');
    expect(s.retention.violations).toBe(1);
    await a.platform('hidden', 'v1', 'evt-hide-2'); // a new lapse
    await waitFor(h, (t) => t.retention.violations === 2);
    await a.platform('deleted', 'v1', 'evt-delete'); // same lapse: no third
    const broken = await waitFor(h, (t) => t.status === 'completed');
    expect(broken.completion?.kind).toBe('retention_broken');
    expect(broken.retention.violations).toBe(2);
    expect((await waitForCredit(h.workflowId, 2)).map((c) => c.delta)).toEqual([-25, -25]);
  }));

it('R-OPERATOR-RESOLVE: an operator cancels with a partial refund (the rest to the creator), audited and both told; a client cannot', () => {
  const taskId = `task-${randomUUID()}`;
  return withTask({ taskId, scriptRequired: false }, async (h) => {
    await escrowed(taskId, CLIENT.id);
    const a = act(h);
    await a.accept();
    await a.submitContent();
    expect(await refusal(a.resolve('cancel', 'no', undefined, CLIENT))).toMatchObject({ type: 'forbidden' });
    expect(await refusal(a.resolve('cancel', 'too much', PRICE + 1))).toMatchObject({ type: 'invalid_input', code: 'refund-invalid' });
    const done = await a.resolve('cancel', 'creator unreachable, half the work done', 1_000_000);
    expect(done.status).toBe('cancelled');
    expect(done.cancellation).toMatchObject({ reason: 'operator_cancelled', note: 'creator unreachable, half the work done' });
    expect(await clientGets(1_000_000)).toBe(1_000_000);
    expect(await creatorGets(500_000)).toBe(500_000);
    expect(await balanceOf(db(), account.escrow(taskId))).toBe(0);
    const sent = await until(() => templatesOf(taskId), (t) => t.includes('creator:operator_resolved'), 100, 50);
    expect(sent).toEqual(expect.arrayContaining(['client:operator_resolved', 'creator:operator_resolved']));
  });
});

it('R-OPERATOR-RESOLVE: in retention the escrow is paid already: cancel is refused, settle closes the task', () =>
  withTask({ scriptRequired: false }, async (h) => {
    const a = act(h);
    await toPublished(h, 'v1');
    await a.acceptDelivery();
    expect(await refusal(a.resolve('cancel', 'late complaint'))).toMatchObject({ type: 'invalid_state', code: 'already-settled' });
    const closed = await a.resolve('settle', 'content verified, closing the watch');
    expect(closed.status).toBe('completed');
    expect(closed.completion?.kind).toBe('operator_settled');
  }));

it('R-MUTUAL-CANCEL: before the first content submission the client gets 100 %; the proposer cannot answer its own proposal', () => {
  const taskId = `task-${randomUUID()}`;
  return withTask({ taskId, scriptRequired: true }, async (h) => {
    await escrowed(taskId, CLIENT.id);
    const a = act(h);
    await a.accept();
    const proposed = await a.proposeCancel('campaign dropped', CLIENT);
    expect(proposed.proposal).toMatchObject({ by: 'client', refundFen: PRICE, payoutFen: 0 });
    expect(await refusal(a.answerCancel(true, CLIENT))).toMatchObject({ code: 'own-proposal' });
    const done = await a.answerCancel(true, CREATOR);
    expect(done.cancellation?.reason).toBe('mutually_cancelled');
    expect(await clientGets(PRICE)).toBe(PRICE);
  });
});

it('R-MUTUAL-CANCEL: after the first content submission 90 % / 10 %; silence refuses after 48 hours and the task goes on', () => {
  const taskId = `task-${randomUUID()}`;
  return withTask({ taskId, scriptRequired: false }, async (h) => {
    await escrowed(taskId, CLIENT.id);
    const a = act(h);
    await a.accept();
    await a.submitContent();
    const proposed = await a.proposeCancel('we cannot agree on the brief', CREATOR);
    expect(proposed.proposal).toMatchObject({ by: 'creator', refundFen: PRICE * 0.9, payoutFen: PRICE * 0.1 });
    await sleep(48 * HOUR - MINUTE);
    expect((await a.state()).proposal).not.toBeNull();
    await sleep(2 * MINUTE);
    const refused = await waitFor(h, (t: TaskState) => t.proposal === null);
    expect(refused.status).toBe('content_review');
    await a.proposeCancel('again', CREATOR);
    const done = await a.answerCancel(true, CLIENT);
    expect(done.settlement).toMatchObject({ refundFen: 1_350_000, payoutFen: 150_000 });
    expect(await creatorGets(150_000)).toBe(150_000);
    expect(await clientGets(1_350_000)).toBe(1_350_000);
  });
});

it('R-TAKEDOWN: unanswered for 48 hours the request is refused and retention goes on; agreed, retention ends and a later deletion is no violation', () =>
  withTask({ scriptRequired: false, retentionDays: 60 }, async (h) => {
    const a = act(h);
    await toPublished(h, 'v1');
    expect(await refusal(a.requestTakedown('rebrand'))).toMatchObject({ code: 'not-in-retention' });
    await a.acceptDelivery();
    await a.requestTakedown('rebrand');
    await sleep(48 * HOUR + MINUTE);
    expect((await waitFor(h, (t) => t.takedown === null)).status).toBe('in_retention');
    await a.requestTakedown('rebrand, asking again');
    const agreed = await a.answerTakedown(true);
    expect(agreed.status).toBe('completed');
    expect(agreed.completion?.kind).toBe('taken_down');
    // the task is over: a deletion reaching its workflow (still finishing) changes nothing, and one after it closed has no task to touch
    await a.platform('deleted', 'v1').catch((err: unknown) => {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    });
    await sleep(HOUR);
    expect((await stack().resultOf<{ status: string }>(h.workflowId)).status).toBe('completed');
    expect((await a.state()).retention.violations).toBe(0);
    expect(await creditOf(db(), h.workflowId)).toEqual([]);
  }));


it('R-ACCEPT-24H: an acceptance that reaches the workflow in its very first task is recorded after the order (ordered is event 1)', async () => {
  const { worker, taskQueue } = await stack().worker();
  await worker.runUntil(async () => {
    const o = order({ scriptRequired: false });
    const start = new WithStartWorkflowOperation(taskWorkflow, { taskQueue, workflowId: o.taskId, args: [o], workflowIdConflictPolicy: 'FAIL' });
    const accepted = await stack().env.client.workflow.executeUpdateWithStart(acceptTaskUpdate, { args: [{ actor: CREATOR }], startWorkflowOperation: start });
    expect(accepted.status).toBe('content_drafting');
    const { events } = await projected(db(), o.taskId, accepted.version);
    expect(events.slice(0, 2).map((e) => [e.seq, e.type])).toEqual([
      [1, 'ordered'],
      [2, 'accepted'],
    ]);
    await (await start.workflowHandle()).terminate('test finished');
  });
});
