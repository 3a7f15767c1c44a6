/**
 * The task read model: the only module that writes `tasks` and `task_events`,
 * with the queries that read them (lists, history, operator queues, orphans).
 *
 *   insertOrder   the order's row, inside the order's transaction (with the escrow);
 *                 engine 6: with the state its `ordered` event makes (version 1),
 *                 and `recordOrderEvent` writes that event beside it
 *   projectTask   the workflow's state and new events, in one statement, never backwards
 *                 (alone, or in a caller's transaction beside a settlement)
 *   markStarted   the order's workflow runs (the orphan sweep leaves it alone)
 *
 * Every deadline on the row derives from the order's `orderedAt`, which the
 * workflow receives in its input: the answer to the order, the workflow, the row
 * and the list agree to the millisecond, also for a task started late.
 */
import { and, asc, desc, eq, getTableColumns, inArray, isNull, lt, sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import { perExecution, preparedOnce, type Db, type Tx } from './client.js';
import { accounts, mcnMemberships, taskEvents, tasks, type TaskRow } from './schema/index.js';
import { attentionOf, placeOrder, waitingFor, type TaskEvent, type TaskOrder, type TaskState, type TaskStatus } from '../domain/index.js';

const date = (value: string | null | undefined): Date | null => (value ? new Date(value) : null);

/** The columns derived from the workflow's state (what SQL filters and sorts on). */
export function taskColumns(task: TaskState) {
  const closed = task.cancellation?.at ?? task.completion?.at ?? null;
  const reviewing = task.status === 'script_review' || task.status === 'content_review';
  const stage = task.status === 'script_review' ? task.script : task.content;
  const complaint = task.acceptance.complaint;
  return {
    status: task.status,
    acceptedAt: date(task.acceptedAt),
    publishedAt: date(task.publication.firstPublishedAt),
    finalPublishedAt: date(task.publication.publishedAt),
    republishCount: task.publication.republishCount,
    deliveryAcceptedAt: date(task.acceptance.acceptedAt),
    retentionEndsAt: date(task.retention.endsAt),
    nextDeadline: date(task.nextDeadline),
    closedAt: date(closed),
    closeReason: task.cancellation?.reason ?? task.completion?.kind ?? null,
    stageEnteredAt: date(task.phase?.enteredAt),
    escalatedAt: date(reviewing ? task.phase?.escalatedAt : complaint ? task.complaintEscalatedAt : null),
    waitingFor: task.phase ? waitingFor(task) : null,
    attention: task.phase ? attentionOf(task) : [],
    currentRevision: reviewing ? stage.revision : null,
    operatorRejections: reviewing ? stage.operatorRejections : null,
    submittedAt: reviewing ? date(stage.current?.submittedAt) : null,
    complaintReason: complaint?.reason ?? null,
    complaintFiledAt: complaint ? date(complaint.filedAt ?? complaint.openedAt) : null,
    complaintsFiled: task.acceptance.complaintsFiled,
    snapshot: task,
    version: task.version,
  };
}

type OrderFields = Pick<TaskOrder, 'taskId' | 'type' | 'clientId' | 'creatorId' | 'brief' | 'scriptRequired' | 'retentionDays' | 'priceFen' | 'draftDays' | 'payoutAccount'> & {
  orderedAt: string;
  acceptDeadline: string;
};

/** The order's own columns: written by the order (or by the first projection of a task started without the API), never rewritten. */
function orderColumns(order: OrderFields) {
  return {
    id: order.taskId,
    type: order.type,
    clientId: order.clientId,
    creatorId: order.creatorId,
    brief: order.brief,
    scriptRequired: order.scriptRequired,
    retentionDays: order.retentionDays,
    priceFen: order.priceFen,
    draftDays: order.draftDays ?? 7,
    payoutAccount: order.payoutAccount ?? null,
    orderedAt: new Date(order.orderedAt),
    acceptDeadline: new Date(order.acceptDeadline),
  };
}

/**
 * The order's row, written in the order's transaction (R-ESCROW holds the price beside it). Undefined when the
 * key was used. With `placed` (engine 6, domain placeOrder) the row is the state after the order's event, at
 * version 1, as the workflow's own projection of it would be; otherwise version 0 until the workflow projects.
 */
export async function insertOrder(
  tx: Tx,
  order: TaskOrder & { orderedAt: string; acceptDeadline: string },
  key: { idempotencyKey: string; requestHash: string },
  placed?: TaskState,
): Promise<TaskRow | undefined> {
  const [row] = await tx
    .insert(tasks)
    .values({
      ...orderColumns(order),
      ...(placed
        ? taskColumns(placed)
        : {
            status: 'awaiting_acceptance' satisfies TaskStatus,
            nextDeadline: new Date(order.acceptDeadline),
            stageEnteredAt: new Date(order.orderedAt),
            waitingFor: 'creator',
          }),
      idempotencyKey: key.idempotencyKey,
      requestHash: key.requestHash,
    })
    .onConflictDoNothing({ target: [tasks.clientId, tasks.idempotencyKey] })
    .returning();
  return row;
}

/**
 * Engine 6: what the order makes of the new task (domain placeOrder), from the order exactly as its row will
 * give it to the workflow (`orderOf`), so the workflow started from that row reaches the same state.
 */
export const placedOrder = (order: OrderFields, fixes?: number) => placeOrder(orderOf(orderColumns(order)), fixes);

/** Engine 6: the order's event (and what is written with it, `alongside`: its messages) in one statement, once. */
export async function recordOrderEvent(tx: Tx, task: TaskState, event: TaskEvent, alongside: SQLWrapper[] = []): Promise<void> {
  await together(tx, [eventsInsert(task, [event]), ...alongside]);
}

/** The task's workflow runs: the API once its start succeeded (a projection of the workflow says so too). */
export async function markStarted(db: Db, taskId: string): Promise<void> {
  await db.update(tasks).set({ workflowStartedAt: sql`now()` }).where(and(eq(tasks.id, taskId), isNull(tasks.workflowStartedAt)));
}

/** The order the workflow receives, from its row: the same `orderedAt` the answer gave. */
export const orderOf = (row: Pick<TaskRow, 'id' | 'type' | 'clientId' | 'creatorId' | 'brief' | 'scriptRequired' | 'retentionDays' | 'priceFen' | 'orderedAt' | 'draftDays' | 'payoutAccount'>): TaskOrder & { orderedAt: string } => ({
  taskId: row.id,
  type: row.type as TaskOrder['type'],
  clientId: row.clientId,
  creatorId: row.creatorId,
  brief: row.brief,
  scriptRequired: row.scriptRequired,
  retentionDays: row.retentionDays,
  priceFen: row.priceFen,
  orderedAt: row.orderedAt.toISOString(),
  draftDays: row.draftDays,
  ...(row.payoutAccount ? { payoutAccount: row.payoutAccount } : {}),
});

export async function taskById(db: Tx, taskId: string): Promise<TaskRow | undefined> {
  const [row] = await db.select().from(tasks).where(eq(tasks.id, taskId));
  return row;
}

/** What a task's actions need to know of its row (who its parties are, whether it is closed), without the snapshot. */
export type TaskParties = Pick<TaskRow, 'id' | 'clientId' | 'creatorId' | 'status' | 'closedAt'>;

/** A task's parties and status (a prepared query: every action asks it). */
export async function taskPartiesById(db: Db, taskId: string): Promise<TaskParties | undefined> {
  return (await partiesQuery(db).execute({ taskId }))[0];
}
const partyColumns = { id: tasks.id, clientId: tasks.clientId, creatorId: tasks.creatorId, status: tasks.status, closedAt: tasks.closedAt };
const partiesQuery = preparedOnce((db) =>
  db
    .select(partyColumns)
    .from(tasks)
    .where(eq(tasks.id, sql.placeholder('taskId')))
    .prepare('task_parties'),
);

/**
 * Whether the account `actorId` is enabled with `role`, and the parties of task
 * `taskId` (undefined when there is none), in one statement: a request about
 * one task (api/auth.ts) checks its bearer's account and reads the task's
 * parties together instead of one after the other.
 */
export async function taskPartiesForActor(db: Db, taskId: string, actorId: string, role: string): Promise<{ active: boolean; parties: TaskParties | undefined }> {
  const [row] = await partiesForActorQuery(db).execute({ taskId, actorId, role });
  if (!row) throw new Error('the one-row query answered no row');
  const { active, ...parties } = row;
  return { active, parties: parties.id === null ? undefined : (parties as TaskParties) };
}
const partiesForActorQuery = preparedOnce((db) =>
  db
    .select({
      active: sql<boolean>`exists (select 1 from ${accounts} where ${accounts.id} = ${sql.placeholder('actorId')} and ${accounts.role} = ${sql.placeholder('role')} and ${accounts.disabledAt} is null)`,
      ...partyColumns,
    })
    // one row whatever matches: the account's answer with the task's columns, null when there is no such task
    .from(sql`(select 1) as one`)
    .leftJoin(tasks, eq(tasks.id, sql.placeholder('taskId')))
    .prepare('task_parties_for_actor'),
);

export async function taskByKey(db: Tx, clientId: string, idempotencyKey: string): Promise<TaskRow | undefined> {
  const [row] = await db.select().from(tasks).where(and(eq(tasks.clientId, clientId), eq(tasks.idempotencyKey, idempotencyKey)));
  return row;
}

/**
 * Projects the task's state and its new events to Postgres in one statement
 * (the row's upsert and the events' insert as data-modifying CTEs: atomic
 * without a transaction, one round trip instead of four); a late or retried
 * write changes nothing. `alongside`: other inserts that must land with the
 * events or not at all (the outbox's messages, built by their own module).
 */
export async function projectTask(db: Tx, task: TaskState, events: TaskEvent[], alongside: SQLWrapper[] = []): Promise<void> {
  await together(db, [taskUpsert(task), ...(events.length > 0 ? [eventsInsert(task, events)] : []), ...alongside]);
}

/** Data-modifying statements run as one (all but the last as CTEs): one round trip, one snapshot. */
async function together(db: Tx, parts: SQLWrapper[]): Promise<void> {
  const last = parts.at(-1)!;
  if (parts.length === 1) return void (await db.execute(last.getSQL()));
  const ctes = sql.join(
    parts.slice(0, -1).map((part, i) => sql`${sql.raw(`part${i}`)} as (${part.getSQL()})`),
    sql`, `,
  );
  await db.execute(sql`with ${ctes} ${last.getSQL()}`);
}

/**
 * The row's upsert and the events' insert are statements of fixed text (per set of columns: one), built from
 * the schema once and reading their values from one jsonb parameter each (`jsonb_populate_record(set)` gives
 * every column its type). drizzle's insert builder, run for each projection, allocated ~1.7 MB and took ~3 ms
 * of the API's and worker's CPU per lifecycle (bench:lifecycle, session 15); this builds one JSON string and
 * the text is prepared once per connection (db/client.ts preparingClient).
 */
const quoted = (name: string) => `"${name}"`;
const tasksColumnName = (() => {
  const columns = getTableColumns(tasks);
  return (key: string): string => {
    const column = (columns as Record<string, { name: string } | undefined>)[key];
    if (!column) throw new Error(`tasks has no column ${key}`);
    return column.name;
  };
})();
const upsertTexts = new Map<string, { head: string; tail: string; names: string[] }>();

/** The row's upsert: never backwards (a lower or equal version changes nothing). */
function taskUpsert(task: TaskState): SQL {
  const columns = taskColumns(task);
  // A task started without the API (tests, tools) gets a key of its own.
  const row: Record<string, unknown> = { ...orderColumns(task), idempotencyKey: `workflow:${task.taskId}`, requestHash: '', ...columns };
  const keys = Object.keys(row);
  const shape = keys.join(',');
  let text = upsertTexts.get(shape);
  if (!text) {
    const names = keys.map(tasksColumnName);
    const [started, version] = [quoted(tasks.workflowStartedAt.name), quoted(tasks.version.name)];
    const inserted = names.map(quoted).join(', ');
    // the order's own columns (ordered_at, accept_deadline, price, key) are the order's: never rewritten;
    // a projection is the workflow running (the orphan sweep's mark, if the API's was lost)
    const updated = Object.keys(columns).map((k) => `${quoted(tasksColumnName(k))} = excluded.${quoted(tasksColumnName(k))}`);
    text = {
      head: `insert into "tasks" (${inserted}, ${started}) select ${inserted}, now() from jsonb_populate_record(null::"tasks", `,
      tail:
        `::jsonb) on conflict (${quoted(tasks.id.name)}) do update set ${updated.join(', ')}, ${quoted(tasks.updatedAt.name)} = now(), ` +
        `${started} = coalesce("tasks".${started}, now()) where "tasks".${version} < excluded.${version}`,
      names,
    };
    upsertTexts.set(shape, text);
  }
  const json: Record<string, unknown> = {};
  keys.forEach((key, i) => (json[text.names[i]!] = row[key]));
  return sql`${sql.raw(text.head)}${JSON.stringify(json)}${sql.raw(text.tail)}`;
}

/** The events' columns (the schema's names) and their values; `id` and `recorded_at` take their defaults. */
const EVENT_VALUES: Array<[{ name: string }, (task: TaskState, e: TaskEvent) => unknown]> = [
  [taskEvents.taskId, (task) => task.taskId],
  [taskEvents.seq, (_, e) => e.seq],
  [taskEvents.type, (_, e) => e.type],
  [taskEvents.actorRole, (_, e) => e.actor.role],
  [taskEvents.actorId, (_, e) => e.actor.id],
  [taskEvents.reason, (_, e) => e.reason ?? null],
  [taskEvents.payload, (_, e) => e.payload],
  [taskEvents.occurredAt, (_, e) => new Date(e.at).toISOString()],
  [taskEvents.updateId, (_, e) => e.updateId ?? null],
];
const EVENTS_INSERT = (() => {
  const names = EVENT_VALUES.map(([column]) => quoted(column.name)).join(', ');
  return {
    head: `insert into "task_events" (${names}) select ${names} from jsonb_populate_recordset(null::"task_events", `,
    tail: `::jsonb) on conflict (${quoted(taskEvents.taskId.name)}, ${quoted(taskEvents.seq.name)}) do nothing`,
  };
})();

/** The events' insert, once each (task id, seq). */
function eventsInsert(task: TaskState, events: TaskEvent[]): SQL {
  const rows = events.map((e) => Object.fromEntries(EVENT_VALUES.map(([column, value]) => [column.name, value(task, e)])));
  return sql`${sql.raw(EVENTS_INSERT.head)}${JSON.stringify(rows)}${sql.raw(EVENTS_INSERT.tail)}`;
}

/**
 * Whether the task has an event decided by this Temporal Update (a task action's request, retried with its
 * Idempotency-Key after its first try closed the task and the workflow ended, finds what that try did).
 */
export async function hasEventOfUpdate(db: Tx, taskId: string, updateId: string): Promise<boolean> {
  const [row] = await db
    .select({ seq: taskEvents.seq })
    .from(taskEvents)
    .where(and(eq(taskEvents.taskId, taskId), eq(taskEvents.updateId, updateId)))
    .limit(1);
  return row !== undefined;
}

/** A task's history, in order. */
export async function eventsOf(db: Tx, taskId: string) {
  return db.select().from(taskEvents).where(eq(taskEvents.taskId, taskId)).orderBy(taskEvents.seq);
}

export interface TaskListFilter {
  clientId?: string | undefined;
  creatorId?: string | undefined;
  mcnId?: string | undefined;
  status?: string | undefined;
  beforeId?: string | undefined;
  limit: number;
}

/** Tasks newest first (ids sort by time), a page at a time; `limit + 1` rows tell whether a next page exists. */
export async function listTasks(db: Db, f: TaskListFilter): Promise<{ items: TaskRow[]; more: boolean }> {
  const where: SQL[] = [];
  if (f.clientId) where.push(eq(tasks.clientId, f.clientId));
  if (f.creatorId) where.push(eq(tasks.creatorId, f.creatorId));
  if (f.mcnId) where.push(inArray(tasks.creatorId, db.select({ id: mcnMemberships.creatorId }).from(mcnMemberships).where(eq(mcnMemberships.mcnId, f.mcnId))));
  if (f.status) where.push(eq(tasks.status, f.status));
  if (f.beforeId) where.push(lt(tasks.id, f.beforeId));
  const rows = await perExecution(db)
    .select()
    .from(tasks)
    .where(and(...where))
    .orderBy(desc(tasks.id))
    .limit(f.limit + 1);
  return { items: rows.slice(0, f.limit), more: rows.length > f.limit };
}

/**
 * Orders recorded whose workflow start is not confirmed (Temporal unreachable when the API answered 503, or the
 * API gone before it marked the start) and older than `graceMs`. Starting one again is harmless (the workflow
 * id is the task id).
 */
export async function unstartedTasks(db: Db, graceMs: number, limit = 100): Promise<TaskRow[]> {
  return perExecution(db)
    .select()
    .from(tasks)
    .where(and(isNull(tasks.workflowStartedAt), lt(tasks.createdAt, sql`now() - make_interval(secs => ${graceMs / 1000})`)))
    .limit(limit);
}

// ---------------------------------------------------------------------------
// Operator queues (R-SCRIPT-FLOW, R-CONTENT-FLOW, R-COMPLAINT, R-STAGE-DEADLINE)

export type ReviewStage = 'script' | 'content';
const REVIEW_STATUS: Record<ReviewStage, 'script_review' | 'content_review'> = { script: 'script_review', content: 'content_review' };

/** Keyset position: the sort key as Postgres text (exact to the µs), and the task id. */
export interface QueueCursor {
  t: string;
  i: string;
}

/**
 * Submissions waiting for an operator's review, longest waiting first: the
 * order in which they escalate (24 working hours after they entered review), so
 * escalated ones lead the queue.
 */
export async function reviewQueue(db: Db, q: { stage?: ReviewStage | undefined; limit: number; after?: QueueCursor | undefined }) {
  const statuses = q.stage ? [REVIEW_STATUS[q.stage]] : Object.values(REVIEW_STATUS);
  const since = sql<Date>`coalesce(${tasks.stageEnteredAt}, ${tasks.updatedAt})`;
  const where: SQL[] = [inArray(tasks.status, statuses)];
  if (q.after) where.push(sql`(${since}, ${tasks.id}) > (${q.after.t}::timestamptz, ${q.after.i})`);
  const rows = await perExecution(db)
    .select({
      taskId: tasks.id,
      taskType: tasks.type,
      stage: sql<ReviewStage>`(case when ${tasks.status} = 'script_review' then 'script' else 'content' end)`,
      status: tasks.status,
      clientId: tasks.clientId,
      creatorId: tasks.creatorId,
      revision: tasks.currentRevision,
      operatorRejections: tasks.operatorRejections,
      submittedAt: tasks.submittedAt,
      since: tasks.stageEnteredAt,
      escalatedAt: tasks.escalatedAt,
      position: sql<string>`${since}::text`,
    })
    .from(tasks)
    .where(and(...where))
    .orderBy(asc(since), asc(tasks.id))
    .limit(q.limit + 1);
  return page(rows, q.limit);
}

/** Tasks with an open client complaint, oldest complaint first (escalated ones lead). Closed tasks are left out. */
export async function complaintQueue(db: Db, q: { limit: number; after?: QueueCursor | undefined }) {
  const where: SQL[] = [sql`${tasks.complaintFiledAt} is not null`, sql`${tasks.closedAt} is null`];
  if (q.after) where.push(sql`(${tasks.complaintFiledAt}, ${tasks.id}) > (${q.after.t}::timestamptz, ${q.after.i})`);
  const rows = await perExecution(db)
    .select({
      taskId: tasks.id,
      taskType: tasks.type,
      status: tasks.status,
      clientId: tasks.clientId,
      creatorId: tasks.creatorId,
      reason: tasks.complaintReason,
      openedAt: tasks.complaintFiledAt,
      complaintsFiled: tasks.complaintsFiled,
      escalatedAt: tasks.escalatedAt,
      position: sql<string>`${tasks.complaintFiledAt}::text`,
    })
    .from(tasks)
    .where(and(...where))
    .orderBy(asc(tasks.complaintFiledAt), asc(tasks.id))
    .limit(q.limit + 1);
  return page(rows, q.limit);
}

function page<T extends { taskId: string; position: string }>(rows: T[], limit: number): { items: Omit<T, 'position'>[]; next: QueueCursor | null } {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items: items.map(({ position: _p, ...item }) => item), next: rows.length > limit && last ? { t: last.position, i: last.taskId } : null };
}
