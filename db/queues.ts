/**
 * Operator work queues, read from the task read model (`tasks`): content and
 * scripts awaiting operator review (R-SCRIPT-FLOW, R-CONTENT-FLOW) and open
 * client complaints (R-COMPLAINT). Oldest first, a page at a time; the cursor
 * carries the sort key as Postgres text so a page boundary is exact (µs).
 */
import { and, asc, inArray, isNull, sql, type SQL } from 'drizzle-orm';
import type { Db } from './client.js';
import { tasks } from './schema/index.js';

export type ReviewStage = 'script' | 'content';
const REVIEW_STATUS: Record<ReviewStage, 'script_review' | 'content_review'> = { script: 'script_review', content: 'content_review' };

/** Keyset position: the sort key as Postgres text, and the task id. */
export interface QueueCursor {
  t: string;
  i: string;
}

const stageOf = sql<ReviewStage>`(case when ${tasks.status} = 'script_review' then 'script' else 'content' end)`;
const current = sql`(${tasks.snapshot} -> ${stageOf})`;

/** Tasks waiting for an operator's review, longest waiting first (`since`: when the read model last changed, i.e. entered review). */
export async function reviewQueue(db: Db, q: { stage?: ReviewStage | undefined; limit: number; after?: QueueCursor | undefined }) {
  const statuses = q.stage ? [REVIEW_STATUS[q.stage]] : Object.values(REVIEW_STATUS);
  const where: SQL[] = [inArray(tasks.status, statuses)];
  if (q.after) where.push(sql`(${tasks.updatedAt}, ${tasks.id}) > (${q.after.t}::timestamptz, ${q.after.i})`);
  const rows = await db
    .select({
      taskId: tasks.id,
      taskType: tasks.type,
      stage: stageOf,
      status: tasks.status,
      clientId: tasks.clientId,
      creatorId: tasks.creatorId,
      revision: sql<number | null>`(${current} ->> 'revision')::int`,
      operatorRejections: sql<number | null>`(${current} ->> 'operatorRejections')::int`,
      submittedAt: sql<string | null>`${current} -> 'current' ->> 'submittedAt'`,
      since: tasks.updatedAt,
      position: sql<string>`${tasks.updatedAt}::text`,
    })
    .from(tasks)
    .where(and(...where))
    .orderBy(asc(tasks.updatedAt), asc(tasks.id))
    .limit(q.limit + 1);
  return page(rows, q.limit);
}

const complaint = sql`(${tasks.snapshot} -> 'acceptance' -> 'complaint')`;
// openedAt is an ISO 8601 string written by the workflow (domain/task.ts)
const openedAt = sql`((${complaint} ->> 'openedAt')::timestamptz)`;

/**
 * Tasks with an open client complaint, oldest complaint first. A JSON null is
 * not SQL NULL, so "open" is `jsonb_typeof(...) = 'object'`. Closed tasks are
 * left out: their workflow is gone and nothing can resolve the complaint.
 */
export async function complaintQueue(db: Db, q: { limit: number; after?: QueueCursor | undefined }) {
  const where: SQL[] = [sql`jsonb_typeof(${complaint}) = 'object'`, isNull(tasks.closedAt)];
  if (q.after) where.push(sql`(${openedAt}, ${tasks.id}) > (${q.after.t}::timestamptz, ${q.after.i})`);
  const rows = await db
    .select({
      taskId: tasks.id,
      taskType: tasks.type,
      status: tasks.status,
      clientId: tasks.clientId,
      creatorId: tasks.creatorId,
      reason: sql<string>`${complaint} ->> 'reason'`,
      openedAt: sql<string>`${complaint} ->> 'openedAt'`,
      complaintsFiled: sql<number | null>`(${tasks.snapshot} -> 'acceptance' ->> 'complaintsFiled')::int`,
      position: sql<string>`${openedAt}::text`,
    })
    .from(tasks)
    .where(and(...where))
    .orderBy(openedAt, asc(tasks.id))
    .limit(q.limit + 1);
  return page(rows, q.limit);
}

function page<T extends { taskId: string; position: string }>(rows: T[], limit: number): { items: Omit<T, 'position'>[]; next: QueueCursor | null } {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items: items.map(({ position: _p, ...item }) => item), next: rows.length > limit && last ? { t: last.position, i: last.taskId } : null };
}
