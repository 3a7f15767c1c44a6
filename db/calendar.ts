/**
 * R-APPEAL-48WH: the working-day calendar as data. The built-in schedules
 * (domain/calendarData.ts, official notices) are merged with `calendar_days`
 * rows that operators maintain (next year's notice, an extra holiday); a row
 * for a date overrides the built-in entry for that date. Every change is
 * checked by the domain rules (`defineCalendar`) before it is stored.
 *
 * Deadlines already computed (an appeal's dueAt) keep their value: a calendar
 * change applies to appeals filed after it.
 */
import { and, eq, gte, lte } from 'drizzle-orm';
import type { Db } from './client.js';
import { calendarDays } from './schema/index.js';
import { CN_HOLIDAY_SCHEDULES, CN_ZONE_OFFSET_MINUTES, type HolidaySchedule } from '../domain/calendarData.js';
import { DAY, DomainError, defineCalendar, type WorkingCalendar } from '../domain/index.js';

export type CalendarDayKind = 'holiday' | 'workday';

/** One non-ordinary day: a holiday on a weekday or weekend, or a make-up working day (调休) on a weekend. */
export interface CalendarDay {
  day: string;
  kind: CalendarDayKind;
  name: string;
  source: string;
  /** `built-in`: domain/calendarData.ts; `database`: a calendar_days row (overrides the built-in entry of that date). */
  origin: 'built-in' | 'database';
}

const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;

/** Whether `day` is a real calendar date 'YYYY-MM-DD' (not '2027-02-30'). */
export const isIsoDay = (day: string): boolean => {
  if (!ISO_DAY.test(day)) return false;
  const ms = Date.parse(`${day}T00:00:00Z`);
  return Number.isFinite(ms) && new Date(ms).toISOString().slice(0, 10) === day;
};

/** The built-in days (one entry per date; later periods of a year win over earlier ones, as in defineCalendar's sets). */
export function builtInDays(schedules: readonly HolidaySchedule[] = CN_HOLIDAY_SCHEDULES): Map<string, CalendarDay> {
  const days = new Map<string, CalendarDay>();
  for (const s of schedules) {
    for (const p of s.holidays) {
      for (let d = Date.parse(`${p.from}T00:00:00Z`); d <= Date.parse(`${p.to}T00:00:00Z`); d += DAY) {
        const day = new Date(d).toISOString().slice(0, 10);
        days.set(day, { day, kind: 'holiday', name: p.name, source: s.source, origin: 'built-in' });
      }
    }
    for (const day of s.workdays) days.set(day, { day, kind: 'workday', name: '调休', source: s.source, origin: 'built-in' });
  }
  return days;
}

/**
 * The calendar from built-in days overridden by `rows`, checked by the domain rules.
 * Throws a DomainError (rule_violation) when the data breaks a rule, e.g. a make-up working day on a weekday.
 */
export function mergeCalendar(rows: readonly { day: string; kind: string; name: string }[]): WorkingCalendar {
  const days = builtInDays();
  for (const r of rows) days.set(r.day, { day: r.day, kind: r.kind as CalendarDayKind, name: r.name, source: 'database', origin: 'database' });
  const years = new Map<number, { holidays: { name: string; from: string; to: string }[]; workdays: string[] }>();
  for (const d of days.values()) {
    const year = Number(d.day.slice(0, 4));
    const entry = years.get(year) ?? { holidays: [], workdays: [] };
    if (d.kind === 'holiday') entry.holidays.push({ name: d.name, from: d.day, to: d.day });
    else entry.workdays.push(d.day);
    years.set(year, entry);
  }
  const schedules: HolidaySchedule[] = [...years].map(([year, e]) => ({ year, source: 'merged', holidays: e.holidays, workdays: e.workdays }));
  try {
    return defineCalendar(schedules, CN_ZONE_OFFSET_MINUTES);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    const code = /not a Saturday or Sunday/.test(err.message) ? 'workday-not-weekend' : 'calendar-invalid';
    throw new DomainError('rule_violation', `R-APPEAL-48WH: ${err.message}`, { code });
  }
}

/** R-APPEAL-48WH: the calendar every deadline is computed with (built-in data + calendar_days). */
export async function loadCalendar(db: Db): Promise<WorkingCalendar> {
  const rows = await db.select({ day: calendarDays.day, kind: calendarDays.kind, name: calendarDays.name }).from(calendarDays);
  return mergeCalendar(rows);
}

/**
 * Adds or replaces the entry of one date. Refused (DomainError) when the date is not a real date
 * (invalid_input `invalid-date`) or the calendar would break a rule (rule_violation `workday-not-weekend`, `calendar-invalid`).
 */
export async function setCalendarDay(db: Db, day: string, entry: { kind: CalendarDayKind; name: string; source: string }): Promise<CalendarDay> {
  if (!isIsoDay(day)) throw new DomainError('invalid_input', `Not a date (YYYY-MM-DD): ${day}`, { code: 'invalid-date' });
  if (entry.kind !== 'holiday' && entry.kind !== 'workday') {
    throw new DomainError('invalid_input', `Unknown kind ${String(entry.kind)}`, { code: 'invalid-kind' });
  }
  // One entry per date: checking this date against the others is the whole check (no cross-date rule to race on).
  const rows = await db.select({ day: calendarDays.day, kind: calendarDays.kind, name: calendarDays.name }).from(calendarDays);
  mergeCalendar([...rows.filter((r) => r.day !== day), { day, ...entry }]);
  await db
    .insert(calendarDays)
    .values({ day, kind: entry.kind, name: entry.name, source: entry.source })
    .onConflictDoUpdate({ target: calendarDays.day, set: { kind: entry.kind, name: entry.name, source: entry.source, updatedAt: new Date() } });
  return { day, ...entry, origin: 'database' };
}

/** Removes the database entry of a date (the built-in entry, if any, applies again); false when there was none. */
export async function deleteCalendarDay(db: Db, day: string): Promise<boolean> {
  if (!isIsoDay(day)) throw new DomainError('invalid_input', `Not a date (YYYY-MM-DD): ${day}`, { code: 'invalid-date' });
  const gone = await db.delete(calendarDays).where(eq(calendarDays.day, day)).returning({ day: calendarDays.day });
  return gone.length > 0;
}

/** The non-ordinary days of a year, built-in and database (a database row replaces the built-in entry), in date order. */
export async function calendarDaysOf(db: Db, year: number): Promise<CalendarDay[]> {
  const from = `${String(year).padStart(4, '0')}-01-01`;
  const to = `${String(year).padStart(4, '0')}-12-31`;
  const days = new Map([...builtInDays()].filter(([day]) => day >= from && day <= to));
  const rows = await db
    .select()
    .from(calendarDays)
    .where(and(gte(calendarDays.day, from), lte(calendarDays.day, to)));
  for (const r of rows) days.set(r.day, { day: r.day, kind: r.kind as CalendarDayKind, name: r.name, source: r.source, origin: 'database' });
  return [...days.values()].sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
}
