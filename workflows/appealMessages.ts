/**
 * R-APPEAL-48WH: the appeal workflow's messages. An operator decides with the
 * `decideAppeal` Update (its validator refuses a non-operator, a second
 * decision and a missing note before anything is written); one Query returns
 * the whole state. The API imports these; workflows/appeal.ts handles them.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { Actor } from '../domain/index.js';

export type AppealStatus = 'open' | 'escalated' | 'upheld' | 'rejected';
export type AppealOutcome = 'upheld' | 'rejected';

export interface AppealInput {
  appealId: string;
  creatorId: string;
  /** Points restored if upheld. */
  points: number;
  /** ISO instants; dueAt is filedAt + 48 working hours (db/appeals.ts computed it with the calendar). */
  filedAt: string;
  dueAt: string;
}

export interface AppealDecisionInput {
  actor: Actor;
  outcome: AppealOutcome;
  note: string;
}

export interface AppealState extends AppealInput {
  status: AppealStatus;
  escalatedAt: string | null;
  decision: { outcome: AppealOutcome; actor: Actor; note: string; at: string } | null;
}

export const decideAppealUpdate = defineUpdate<AppealState, [AppealDecisionInput]>('decideAppeal');
export const appealStateQuery = defineQuery<AppealState>('appealState');
