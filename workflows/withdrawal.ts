/**
 * One withdrawal = one run of `withdrawalWorkflow` (workflow id `withdrawal-<id>`).
 * The API has already moved the amount from the wallet into the withdrawal's
 * hold account; this workflow asks the payout provider to pay (retrying while it
 * is unreachable) and then either books the payout or returns the money.
 */
import { ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';

const { sendPayout, finishWithdrawal } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', maximumInterval: '30 minutes' },
});

export interface WithdrawalInput {
  withdrawalId: string;
  accountId: string;
  amountFen: number;
}

export async function withdrawalWorkflow(input: WithdrawalInput): Promise<{ status: 'paid' | 'failed'; reference?: string; reason?: string }> {
  try {
    const reference = await sendPayout(input);
    await finishWithdrawal({ withdrawalId: input.withdrawalId, paid: true, reference });
    return { status: 'paid', reference };
  } catch (err) {
    const refusal = err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === 'PayoutRejected' ? err.cause : null;
    if (!refusal) throw err;
    await finishWithdrawal({ withdrawalId: input.withdrawalId, paid: false, reason: refusal.message });
    return { status: 'failed', reason: refusal.message };
  }
}
