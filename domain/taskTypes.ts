/**
 * The task-type catalogue: what differs between task types is data here, read
 * by the one task workflow (workflows/task.ts). Adding a type means adding a
 * row, not copying the workflow.
 */
export type Platform = 'douyin' | 'xigua' | 'toutiao';

export interface TaskTypeDefinition {
  id: TaskTypeId;
  platform: Platform;
  name: string;
  nameZh: string;
  /** The pre-content stage (script or outline); the client decides at ordering whether it is required. */
  draft: { kind: 'script' | 'outline'; label: string } | null;
  /** What the creator produces and the operator and client review. */
  content: { kind: 'video' | 'article' | 'micro_post' | 'answer'; label: string };
  /** Who publishes once the client has confirmed the content (R-PUBLISH-CREATOR / R-PUBLISH-CLIENT). */
  publisher: 'creator' | 'client';
  /** Lowest retention the client may choose, in natural days. */
  minRetentionDays: number;
  /** Seeds the rule comes from, for the catalogue endpoint. */
  seeds: string[];
}

export const TASK_TYPE_IDS = ['douyin_video'] as const;
export type TaskTypeId = (typeof TASK_TYPE_IDS)[number];

export const TASK_TYPES: Record<TaskTypeId, TaskTypeDefinition> = {
  douyin_video: {
    id: 'douyin_video',
    platform: 'douyin',
    name: 'Douyin video task',
    nameZh: '抖音传播任务',
    draft: { kind: 'script', label: 'script' },
    content: { kind: 'video', label: 'video' },
    publisher: 'creator',
    minRetentionDays: 1,
    seeds: ['000', '001'],
  },
};

export const isTaskTypeId = (value: string): value is TaskTypeId =>
  (TASK_TYPE_IDS as readonly string[]).includes(value);

export const taskTypeOf = (id: TaskTypeId): TaskTypeDefinition => TASK_TYPES[id];
