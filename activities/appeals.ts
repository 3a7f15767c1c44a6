/**
 * R-APPEAL-48WH: the appeal workflow's activities. Idempotent like every
 * activity: escalation updates the row only while it is open and sends the
 * operators' notification through the outbox under `appeal:<id>:escalated`
 * (sent once); a decision is recorded once, an upheld appeal's points are
 * restored under the credit key `appeal:<id>:restore` (applied once), and the
 * creator is told the outcome under `appeal:<id>:decided` (sent once).
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { Notifier } from '../adapters/notifier.js';
import type { Db } from '../db/client.js';
import { markEscalated, recordDecision } from '../db/appeals.js';
import { notifyOnce } from './outbox.js';
import { DomainError, type Actor } from '../domain/index.js';

/** Who is told about an escalated appeal: the operators' on-call group. */
export const OPERATORS: Actor = { role: 'operator', id: 'operators' };

export const escalationKey = (appealId: string): string => `appeal:${appealId}:escalated`;

export interface EscalateAppealInput {
  appealId: string;
  creatorId: string;
  points: number;
  dueAt: string;
  /** Workflow time of the escalation. */
  escalatedAt: string;
}

export interface DecideAppealInput {
  appealId: string;
  outcome: 'upheld' | 'rejected';
  actor: Actor;
  note: string;
  /** Workflow time of the decision. */
  decidedAt: string;
}

export const createAppealActivities = ({ db, notifier }: { db: Db; notifier: Notifier }) => ({
  /** R-APPEAL-48WH: the deadline passed unanswered: the row becomes escalated and the operators are told, once. */
  async escalateAppeal(input: EscalateAppealInput): Promise<{ status: string }> {
    const row = await markEscalated(db, input.appealId, new Date(input.escalatedAt));
    // decided meanwhile (the decision raced the timer): nothing to escalate
    if (row.status !== 'escalated') return { status: row.status };
    await notifyOnce(db, notifier, {
      idempotencyKey: escalationKey(input.appealId),
      channel: 'sms',
      recipient: OPERATORS,
      template: 'appeal_escalated',
      params: { appealId: input.appealId, creatorId: input.creatorId, points: input.points, dueAt: input.dueAt },
    });
    return { status: row.status };
  },

  /** R-APPEAL-48WH: records the operator's decision; an upheld appeal restores the points in the same transaction. */
  async decideAppeal(input: DecideAppealInput): Promise<{ status: string }> {
    try {
      const row = await recordDecision(db, { ...input, decidedAt: new Date(input.decidedAt) });
      // the creator learns the outcome (once: the outbox key)
      await notifyOnce(db, notifier, {
        idempotencyKey: `appeal:${input.appealId}:decided`,
        channel: 'sms',
        recipient: { role: 'creator', id: row.creatorId },
        template: 'appeal_decided',
        params: { appealId: input.appealId, outcome: row.status, points: row.status === 'upheld' ? row.points : 0 },
      });
      return { status: row.status };
    } catch (err) {
      if (err instanceof DomainError) throw ApplicationFailure.create({ type: err.kind, message: err.message, details: [err.details], nonRetryable: true });
      throw err;
    }
  },
});
