/**
 * The task-type catalogue: what differs between task types is data here, read
 * by the one task workflow (workflows/task.ts) through domain/task.ts. Adding a
 * type means adding a row, not copying the workflow. GET /v1/task-types serves it.
 */
import { MAX_REPUBLISHES } from './rules.js';

export const PLATFORMS = ['douyin', 'xigua', 'toutiao'] as const;
export type Platform = (typeof PLATFORMS)[number];

/** A measurable fact about the creator's bound account on the type's platform, checked when it applies (R-OPEN-APPLY). */
export type EligibilityMetric = 'fans' | 'originalPermission' | 'averageRecentPlays';

/** One eligibility condition: the metric must be at least `min` (numbers) or true (flags). */
export type EligibilityCondition =
  | { metric: 'fans' | 'averageRecentPlays'; min: number; description: string }
  | { metric: 'originalPermission'; required: true; description: string };

export interface TaskTypeDefinition {
  id: TaskTypeId;
  platform: Platform;
  name: string;
  nameZh: string;
  /**
   * The pre-content stage (script or outline), or null when the type has none.
   * The client decides at ordering whether it is required (R-SCRIPT-FLOW).
   * `clientRejectionLimit`: at that many client rejections the stage is over and
   * the task moves on to the content by itself (R-OUTLINE-3); null = no limit.
   */
  draft: { kind: 'script' | 'outline'; label: string; clientRejectionLimit: number | null } | null;
  /**
   * What the creator produces and the operator and client review.
   * `clientRejectionLimit`: rejections the client has in total; once used, it can
   * only confirm (R-ARTICLE-2); null = no limit.
   */
  content: { kind: 'video' | 'article' | 'micro_post' | 'answer'; label: string; clientRejectionLimit: number | null };
  /**
   * When the client reviews the content (R-TOUTIAO-ORDER): `before_publication`,
   * after the operator's review (the video types, R-CONTENT-FLOW); or
   * `after_publication`: the creator publishes in the platform's back-end linked to
   * the task, then the client reviews the live content; a rejection grants the one
   * modification it asks for, and confirming settles (R-PUBLISH-TIME).
   */
  clientReviews: 'before_publication' | 'after_publication';
  /** Who publishes once the client has confirmed the content (R-PUBLISH-CREATOR / R-PUBLISH-CLIENT). */
  publisher: 'creator' | 'client';
  /** R-PUBLISH-TIME: the client confirms the publication time when it accepts (settles). */
  clientConfirmsPublishTime: boolean;
  /** R-MODIFY-PERMISSION: changing published content needs the client's permission first. */
  modificationNeedsPermission: boolean;
  /** R-REPUBLISH-5: how often the content may be published again before acceptance. */
  maxRepublishes: number;
  /** Lowest retention the client may choose, in natural days (R-RETENTION-XIGUA). */
  minRetentionDays: number;
  /**
   * What the creator's account on `platform` must meet when the creator applies
   * to open this type (R-OPEN-APPLY, R-OPEN-XIGUA). Empty: a bound account suffices.
   */
  eligibility: readonly EligibilityCondition[];
  /** Seeds the rules come from. */
  seeds: readonly string[];
}

export const TASK_TYPE_IDS = [
  'douyin_video',
  'xigua_video',
  'toutiao_article',
  'toutiao_direct_article',
  'toutiao_micro_post',
  'toutiao_qa',
] as const;
export type TaskTypeId = (typeof TASK_TYPE_IDS)[number];

const toutiao = {
  platform: 'toutiao',
  // R-TOUTIAO-ORDER (seed 004): written and published in the MP back-end (关联星图任务), then the
  // client's review. Design: micro posts and Q&A answers are made in the same back-end, linked the
  // same way, so they follow the same order (README, "Choices").
  clientReviews: 'after_publication',
  publisher: 'creator',
  clientConfirmsPublishTime: true,
  maxRepublishes: MAX_REPUBLISHES,
  minRetentionDays: 1,
  eligibility: [],
  seeds: ['004'],
} as const;

export const TASK_TYPES: Record<TaskTypeId, TaskTypeDefinition> = {
  douyin_video: {
    id: 'douyin_video',
    platform: 'douyin',
    name: 'Douyin video task',
    nameZh: '抖音传播任务',
    draft: { kind: 'script', label: 'script', clientRejectionLimit: null },
    content: { kind: 'video', label: 'video', clientRejectionLimit: null },
    clientReviews: 'before_publication',
    publisher: 'creator',
    clientConfirmsPublishTime: false,
    modificationNeedsPermission: false,
    maxRepublishes: MAX_REPUBLISHES,
    minRetentionDays: 1,
    eligibility: [], // design: the seeds name no threshold for Douyin; a bound Douyin account suffices
    seeds: ['000', '001'],
  },
  xigua_video: {
    id: 'xigua_video',
    platform: 'xigua',
    name: 'Xigua mid-length video task',
    nameZh: '西瓜中视频传播任务',
    draft: { kind: 'script', label: 'script', clientRejectionLimit: null },
    content: { kind: 'video', label: 'video', clientRejectionLimit: null },
    clientReviews: 'before_publication',
    publisher: 'client', // R-PUBLISH-CLIENT
    clientConfirmsPublishTime: false,
    modificationNeedsPermission: false,
    maxRepublishes: MAX_REPUBLISHES,
    minRetentionDays: 30, // R-RETENTION-XIGUA
    // R-OPEN-XIGUA (seed 002): all three at application time
    eligibility: [
      { metric: 'fans', min: 10_000, description: 'video fans on Toutiao + Xigua of the Xigua account' },
      { metric: 'originalPermission', required: true, description: 'the account has the "original" (原创) permission' },
      { metric: 'averageRecentPlays', min: 1_000, description: 'average plays of the latest 20 videos' },
    ],
    seeds: ['002'],
  },
  toutiao_article: {
    ...toutiao,
    id: 'toutiao_article',
    name: 'Toutiao commissioned article',
    nameZh: '头条撰稿文章',
    draft: { kind: 'outline', label: 'outline', clientRejectionLimit: 3 }, // R-OUTLINE-3
    content: { kind: 'article', label: 'article', clientRejectionLimit: 2 }, // R-ARTICLE-2
    modificationNeedsPermission: true, // R-MODIFY-PERMISSION
  },
  toutiao_direct_article: {
    ...toutiao,
    id: 'toutiao_direct_article',
    name: 'Toutiao direct article',
    nameZh: '直发文章',
    draft: null, // design: no outline
    content: { kind: 'article', label: 'article', clientRejectionLimit: 2 }, // design: an article, R-ARTICLE-2 applies
    modificationNeedsPermission: true,
  },
  toutiao_micro_post: {
    ...toutiao,
    id: 'toutiao_micro_post',
    name: 'Toutiao micro post',
    nameZh: '微头条撰稿',
    draft: null,
    content: { kind: 'micro_post', label: 'micro post', clientRejectionLimit: null },
    modificationNeedsPermission: false,
  },
  toutiao_qa: {
    ...toutiao,
    id: 'toutiao_qa',
    name: 'Toutiao Q&A answer',
    nameZh: '问答撰稿',
    draft: null,
    content: { kind: 'answer', label: 'answer', clientRejectionLimit: null },
    modificationNeedsPermission: false,
  },
};

export const isTaskTypeId = (value: string): value is TaskTypeId =>
  (TASK_TYPE_IDS as readonly string[]).includes(value);

export const taskTypeOf = (id: TaskTypeId): TaskTypeDefinition => TASK_TYPES[id];

/** The steps a frontend draws for a type, in order. */
export function stagesOf(def: TaskTypeDefinition): string[] {
  const draft = def.draft ? [`${def.draft.kind} (optional)`] : [];
  const settle = def.clientConfirmsPublishTime ? 'client_confirms_publish_time_and_settles' : 'client_acceptance';
  if (def.clientReviews === 'after_publication') {
    // R-TOUTIAO-ORDER: publication first, then the client's review of the live content
    return ['acceptance_by_creator', ...draft, def.content.kind, `publication_by_${def.publisher}`, `client_review_of_live_${def.content.kind}`, settle, 'retention'];
  }
  return ['acceptance_by_creator', ...draft, def.content.kind, `operator_review_of_${def.content.kind}`, `client_confirmation_of_${def.content.kind}`, `publication_by_${def.publisher}`, settle, 'retention'];
}
