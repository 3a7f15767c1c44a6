/**
 * The task workflow's messages. User actions are Updates (they answer, and a
 * synchronous validator refuses what does not fit the state before anything
 * is written); content-platform events are Signals; one Query returns the whole
 * state. The API imports these definitions; workflows/task.ts handles them.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Actor, ClientDecision, ComplaintOutcome, PlatformEventKind, ResolveOutcome, ReviewDecision, TaskState } from '../domain/index.js';

export interface ActorInput {
  actor: Actor;
}
export interface ReasonInput extends ActorInput {
  reason: string;
}
export interface SubmitInput extends ActorInput {
  body: string;
}
export interface ReviewInput extends ActorInput {
  decision: ReviewDecision;
  reason?: string | undefined;
}
export interface ConfirmInput extends ActorInput {
  decision: ClientDecision;
  reason?: string | undefined;
}
export interface PublishInput extends ActorInput {
  platformItemId: string;
}
export interface AcceptDeliveryInput extends ActorInput {
  /** R-PUBLISH-TIME: required for task types whose client confirms the publication time. */
  publishTime?: string | undefined;
}
export interface ResolveComplaintInput extends ActorInput {
  outcome: ComplaintOutcome;
  note: string;
}
export interface PlatformEventInput {
  eventId: string;
  kind: PlatformEventKind;
  itemId: string;
  /** The platform's own time of the event (R-RETENTION-PENALTY: an item's events apply in this order, each once). */
  occurredAt?: string | undefined;
}
export interface ExtendDraftInput extends ActorInput {
  days: number;
}
export interface ResolveTaskInput extends ActorInput {
  outcome: ResolveOutcome;
  reason: string;
  refundFen?: number | undefined;
}
export interface ProposeCancellationInput extends ActorInput {
  reason: string;
  refundFen?: number | undefined;
}
export interface AnswerInput extends ActorInput {
  agree: boolean;
  reason?: string | undefined;
}

// creator
export const acceptTaskUpdate = defineUpdate<TaskState, [ActorInput]>('acceptTask');
export const declineTaskUpdate = defineUpdate<TaskState, [ReasonInput]>('declineTask');
export const submitScriptUpdate = defineUpdate<TaskState, [SubmitInput]>('submitScript');
export const submitContentUpdate = defineUpdate<TaskState, [SubmitInput]>('submitContent');
export const requestTakedownUpdate = defineUpdate<TaskState, [ReasonInput]>('requestTakedown');
export const publishContentUpdate = defineUpdate<TaskState, [PublishInput]>('publishContent');
// operator
export const reviewScriptUpdate = defineUpdate<TaskState, [ReviewInput]>('reviewScript');
export const reviewContentUpdate = defineUpdate<TaskState, [ReviewInput]>('reviewContent');
export const resolveComplaintUpdate = defineUpdate<TaskState, [ResolveComplaintInput]>('resolveComplaint');
export const resolveTaskUpdate = defineUpdate<TaskState, [ResolveTaskInput]>('resolveTask');
// client
export const confirmScriptUpdate = defineUpdate<TaskState, [ConfirmInput]>('confirmScript');
export const confirmContentUpdate = defineUpdate<TaskState, [ConfirmInput]>('confirmContent');
export const acceptDeliveryUpdate = defineUpdate<TaskState, [AcceptDeliveryInput]>('acceptDelivery');
export const grantModificationUpdate = defineUpdate<TaskState, [ActorInput]>('grantModification');
export const fileComplaintUpdate = defineUpdate<TaskState, [ReasonInput]>('fileComplaint');
export const extendDraftDeadlineUpdate = defineUpdate<TaskState, [ExtendDraftInput]>('extendDraftDeadline');
export const answerTakedownUpdate = defineUpdate<TaskState, [AnswerInput]>('answerTakedown');
// client or creator
export const proposeCancellationUpdate = defineUpdate<TaskState, [ProposeCancellationInput]>('proposeCancellation');
export const answerCancellationUpdate = defineUpdate<TaskState, [AnswerInput]>('answerCancellation');
// content platform
export const platformEventSignal = defineSignal<[PlatformEventInput]>('platformEvent');

export const taskStateQuery = defineQuery<TaskState>('taskState');
