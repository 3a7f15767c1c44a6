/**
 * The task workflow moves the escrow: a refund when the task is cancelled, the
 * payout when it is accepted (R-ESCROW, R-PAYOUT), on the time-skipping server.
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { account, balanceOf, holdEscrow, paidTopUp, transfer, transfersOfTask } from '../../db/ledger.js';
import { eventsOf, taskById } from '../../db/tasks.js';
import { mcnMemberships } from '../../db/schema/index.js';
import { DAY, HOUR } from '../../domain/index.js';
import { useWorkflowStack } from '../helpers/harness.js';
import { until } from '../helpers/poll.js';
import { CLIENT, CREATOR, act, toPublished, waitFor } from '../helpers/tasks.js';

const { db, sleep, withTask } = useWorkflowStack();

async function escrowed(taskId: string, clientId: string, priceFen: number) {
  await db().transaction(async (tx) => {
    await paidTopUp(tx, clientId, priceFen, `topup:${taskId}`);
    await holdEscrow(tx, taskId, clientId, priceFen);
  });
}
const balanceBecomes = (id: string, expected: number) => until(() => balanceOf(db(), id), (b) => b === expected, 100, 50);

it('R-ESCROW: a task that expires after 24 hours refunds its escrow to the client in full', async () => {
  const taskId = `task-${randomUUID()}`;
  const clientId = `brand-${randomUUID().slice(0, 8)}`;
  await escrowed(taskId, clientId, 123_456);
  await withTask({ taskId, clientId }, async (h) => {
    await sleep(23 * HOUR);
    expect(await balanceOf(db(), account.client(clientId))).toBe(0);
    await sleep(2 * HOUR);
    await waitFor(h, (t) => t.status === 'cancelled');
    expect(await balanceBecomes(account.client(clientId), 123_456)).toBe(123_456);
    expect(await balanceOf(db(), account.escrow(taskId))).toBe(0);
  });
});

it('R-PAYOUT: auto-acceptance pays the creator at once; an MCN creator is paid into the MCN wallet', async () => {
  const taskId = `task-${randomUUID()}`;
  const creatorId = `creator-${randomUUID().slice(0, 8)}`;
  const mcnId = `mcn-${randomUUID().slice(0, 8)}`;
  await db().insert(mcnMemberships).values({ creatorId, mcnId });
  await escrowed(taskId, CLIENT.id, 900_000);
  await withTask({ taskId, creatorId, scriptRequired: false }, async (h) => {
    const a = act(h);
    await a.accept({ role: 'creator', id: creatorId });
    await a.submitContent('video', { role: 'creator', id: creatorId });
    await a.reviewContent('pass');
    await a.confirmContent('confirm');
    await a.publish('item-1', { role: 'creator', id: creatorId });
    await a.platform('published', 'item-1');
    await waitFor(h, (t) => t.status === 'awaiting_client_acceptance');
    await sleep(7 * DAY + HOUR);
    await waitFor(h, (t) => t.status === 'in_retention');
    expect(await balanceBecomes(account.mcn(mcnId), 900_000)).toBe(900_000);
    expect(await balanceOf(db(), account.creator(creatorId))).toBe(0);
    expect(await balanceOf(db(), account.escrow(taskId))).toBe(0);
  });
});

it('R-PAYOUT: the client accepting pays an independent creator once, whatever happens after', async () => {
  const taskId = `task-${randomUUID()}`;
  await escrowed(taskId, CLIENT.id, 10_000);
  const before = await balanceOf(db(), account.creator(CREATOR.id));
  await withTask({ taskId, scriptRequired: false, retentionDays: 7 }, async (h) => {
    await toPublished(h, 'item-1');
    await act(h).acceptDelivery();
    await act(h).platform('deleted', 'item-1'); // a retention violation costs credit, not money
    await waitFor(h, (t) => t.status === 'completed');
    expect(await balanceBecomes(account.creator(CREATOR.id), before + 10_000)).toBe(before + 10_000);
  });
});

it('R-ESCROW: a settlement the ledger refuses moves nothing twice; the task records effect_failed and goes on (engine 3: in the projection)', async () => {
  const taskId = `task-${randomUUID()}`;
  await escrowed(taskId, CLIENT.id, 10_000);
  // someone already took the escrow's settlement id elsewhere: the payout's transfer conflicts with it
  await db().transaction((tx) => transfer(tx, { id: `escrow:${taskId}:settle`, from: account.escrow(taskId), to: account.client(CLIENT.id), amountFen: 1, kind: 'escrow_refund', taskId }));
  const before = await balanceOf(db(), account.creator(CREATOR.id));
  await withTask({ taskId, scriptRequired: false }, async (h) => {
    await toPublished(h, 'item-1');
    await act(h).acceptDelivery();
    const task = await waitFor(h, (t) => t.failedEffects === 1);
    expect(task.status).toBe('in_retention');
    const rows = await until(() => eventsOf(db(), taskId), (events) => events.some((e) => e.type === 'effect_failed'), 100, 50);
    const failed = rows.find((e) => e.type === 'effect_failed')!;
    expect(failed.payload).toMatchObject({ effect: 'settle' });
    expect(String((failed.payload as { message: string }).message)).toMatch(/escrow:.*:settle/);
    // the read model took the acceptance in the same transaction the refusal was rolled back from
    expect((await taskById(db(), taskId))?.status).toBe('in_retention');
    expect(await balanceOf(db(), account.creator(CREATOR.id))).toBe(before);
    expect(await balanceOf(db(), account.escrow(taskId))).toBe(9_999);
    expect((await transfersOfTask(db(), taskId)).map((t) => t.id).sort()).toEqual([`escrow:${taskId}:hold`, `escrow:${taskId}:settle`]);
  });
});
