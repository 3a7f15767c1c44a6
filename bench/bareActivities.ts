/**
 * The one local activity of the "bare+LA" variant (bench/workflows/bare.ts):
 * one insert per state change into a table of the benchmark's own, idempotent
 * by (task, seq) as Starmap's projection is.
 */
import type postgres from 'postgres';

export interface BareEvent {
  taskId: string;
  seq: number;
  kind: string;
}

export const BARE_EVENTS_DDL = `create table if not exists bench_bare_events (
  task_id text not null, seq integer not null, kind text not null, at timestamptz not null default now(), primary key (task_id, seq))`;

export const createBareActivities = (sql: postgres.Sql) => ({
  async recordEvent(event: BareEvent): Promise<void> {
    await sql`insert into bench_bare_events (task_id, seq, kind) values (${event.taskId}, ${event.seq}, ${event.kind}) on conflict do nothing`;
  },
});

export type BareActivities = ReturnType<typeof createBareActivities>;
