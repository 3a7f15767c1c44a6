/**
 * Every fen lands (README "Operations", the withdrawal that stays pending): a
 * withdrawal whose payout went out but whose ledger step failed for good (a
 * ledger bug: TransferConflict or InsufficientFunds, non-retryable) ends its
 * workflow failed, with the hold still held and `starmap_withdrawals_pending`
 * counting it. The operator's way out, once the cause is fixed, is Temporal's
 * reset to the workflow task that scheduled the ledger step: the new run
 * takes the payout's result from the history and runs only the ledger step
 * again — the provider is not asked to pay twice. On the real dev server
 * (the time-skipping server does not reset), with the workflow's own code
 * and activities that stand in for the provider and the ledger.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Client, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { temporal } from '@temporalio/proto';
import { devServerArgs } from '../../temporal/devServer.js';
import { withdrawalWorkflowId } from '../../temporal/ids.js';
import { withdrawalWorkflow } from '../../workflows/withdrawal.js';
import { startDevServer, type DevServer } from '../helpers/devServer.js';

let server: DevServer;
beforeAll(async () => {
  server = await startDevServer(devServerArgs());
});
afterAll(async () => server?.stop());

it('every fen lands: a withdrawal whose ledger step failed for good is reset to that step by an operator; the payout is not sent again and the withdrawal ends paid', async () => {
  const calls = { payouts: 0, ledger: [] as string[] };
  let ledgerBroken = true;
  const workerConnection = await NativeConnection.connect({ address: server.address });
  const worker = await Worker.create({
    connection: workerConnection,
    taskQueue: 'withdrawals-reset',
    workflowsPath: fileURLToPath(new URL('../../workflows/withdrawal.ts', import.meta.url)),
    activities: {
      sendPayout: () => {
        calls.payouts += 1;
        return Promise.resolve('provider-ref-1');
      },
      finishWithdrawal: (input: { paid: boolean; reference?: string }) => {
        if (ledgerBroken) {
          calls.ledger.push('refused');
          return Promise.reject(ApplicationFailure.create({ type: 'TransferConflict', message: 'withdrawal:w-1:settle exists with other content', nonRetryable: true }));
        }
        calls.ledger.push(input.paid ? `paid ${input.reference}` : 'returned');
        return Promise.resolve();
      },
    },
  });
  const client = new Client({ connection: server.connection });
  const workflowId = withdrawalWorkflowId('w-1');
  await worker.runUntil(async () => {
    const first = await client.workflow.start(withdrawalWorkflow, { taskQueue: 'withdrawals-reset', workflowId, args: [{ withdrawalId: 'w-1', accountId: 'creator:c-1', amountFen: 10_000 }] });
    await expect(first.result()).rejects.toBeInstanceOf(WorkflowFailedError);
    expect(calls).toEqual({ payouts: 1, ledger: ['refused'] });

    // the operator fixes the ledger, then resets to the workflow task that scheduled finishWithdrawal
    ledgerBroken = false;
    const events = (await first.fetchHistory()).events ?? [];
    const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'finishWithdrawal')!;
    const attrs = scheduled.activityTaskScheduledEventAttributes as temporal.api.history.v1.IActivityTaskScheduledEventAttributes;
    const resetTo = attrs.workflowTaskCompletedEventId!;
    expect(events.find((e) => Number(e.eventId) === Number(resetTo))?.workflowTaskCompletedEventAttributes).toBeTruthy();
    const { runId } = await (server.connection.workflowService.resetWorkflowExecution({
      namespace: 'default',
      workflowExecution: { workflowId, runId: first.firstExecutionRunId },
      workflowTaskFinishEventId: resetTo,
      reason: 'ledger fixed; run the ledger step again',
      requestId: 'reset-w-1',
    }) as Promise<temporal.api.workflowservice.v1.IResetWorkflowExecutionResponse>);
    const outcome = await client.workflow.getHandle(workflowId, runId ?? undefined).result();
    expect(outcome).toEqual({ status: 'paid', reference: 'provider-ref-1' });
  });
  await workerConnection.close();
  expect(calls).toEqual({ payouts: 1, ledger: ['refused', 'paid provider-ref-1'] });
}, 120_000);
