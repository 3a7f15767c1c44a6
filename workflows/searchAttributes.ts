import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Search attributes every task workflow keeps current, so an operator finds
 * stuck tasks in the Temporal UI. scripts/start.ts registers them on the dev
 * server; docker-compose registers them on the production-shaped stack.
 */
export const TaskStatusKey = defineSearchAttributeKey('TaskStatus', SearchAttributeType.KEYWORD);
export const TaskTypeKey = defineSearchAttributeKey('TaskType', SearchAttributeType.KEYWORD);
export const ClientIdKey = defineSearchAttributeKey('ClientId', SearchAttributeType.KEYWORD);
export const CreatorIdKey = defineSearchAttributeKey('CreatorId', SearchAttributeType.KEYWORD);
export const NextDeadlineKey = defineSearchAttributeKey('NextDeadline', SearchAttributeType.DATETIME);
/**
 * R-STAGE-DEADLINE: what an operator must look at (review_escalated, complaint_escalated, effect_failed,
 * projection_failing); `TaskAttention IS NOT NULL` lists them in the Temporal UI.
 */
export const TaskAttentionKey = defineSearchAttributeKey('TaskAttention', SearchAttributeType.KEYWORD_LIST);

/** R-APPEAL-48WH: an appeal workflow's status (open, escalated, upheld, rejected); escalated ones are the operators' to-do. */
export const AppealStatusKey = defineSearchAttributeKey('AppealStatus', SearchAttributeType.KEYWORD);

export const TASK_SEARCH_ATTRIBUTES = [TaskStatusKey, TaskTypeKey, ClientIdKey, CreatorIdKey, NextDeadlineKey, TaskAttentionKey, AppealStatusKey] as const;
