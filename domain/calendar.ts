/**
 * R-APPEAL-48WH: the working-day calendar. "48 hours of working days" (工作日48h) counts only time that elapses on
 * working days of the Asia/Shanghai calendar: weekends and public holidays are skipped, make-up working days (调休) count.
 * Pure and deterministic (runs in workflow sandboxes): no clock, no Intl, no time-zone database. The zone is a fixed
 * offset, local dates are computed by shifting epoch ms and reading UTC fields.
 */
import { CN_HOLIDAY_SCHEDULES, CN_ZONE_OFFSET_MINUTES, type HolidaySchedule } from './calendarData.js';
import { DAY, MINUTE } from './time.js';

/** A working-day calendar as plain (serialisable) data. Dates are ISO 'YYYY-MM-DD' in the calendar's zone. */
export interface WorkingCalendar {
  /** Fixed offset of the zone from UTC, e.g. 480 for Asia/Shanghai (UTC+08:00). */
  readonly zoneOffsetMinutes: number;
  /** Days off even if they fall on a weekday (public holidays). */
  readonly holidays: readonly string[];
  /** Working days even if they fall on a weekend (make-up working days, 调休). */
  readonly workdays: readonly string[];
  /** Years with official holiday data; outside them only weekends are skipped. */
  readonly coveredYears: readonly number[];
}

/** Upper bound on the days one computation may scan (about ten years): a larger span is a bug, not a deadline. */
export const MAX_SCAN_DAYS = 3660;

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
/** Largest |epoch ms| a Date can hold. */
const MAX_INSTANT = 8.64e15;

/*
 * Day numbers and ISO dates by arithmetic on the proleptic Gregorian calendar
 * (H. Hinnant's civil_from_days / days_from_civil), not through Date objects:
 * every workflow evaluates this module afresh (the SDK gives each its own
 * module instances) and builds the calendar below, so the conversions run a
 * few hundred times per new or replayed task.
 */
const floorDiv = (a: number, b: number): number => Math.floor(a / b);

/** Days since 1970-01-01 of year-month-day (month 1–12). */
const daysFromCivil = (year: number, month: number, dayOfMonth: number): number => {
  const y = month <= 2 ? year - 1 : year;
  const era = floorDiv(y, 400);
  const yoe = y - era * 400;
  const doy = floorDiv(153 * (month > 2 ? month - 3 : month + 9) + 2, 5) + dayOfMonth - 1;
  const doe = yoe * 365 + floorDiv(yoe, 4) - floorDiv(yoe, 100) + doy;
  return era * 146097 + doe - 719468;
};

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/** ISO date of a day number (days since 1970-01-01). */
const isoOfDay = (day: number): string => {
  const z = day + 719468;
  const era = floorDiv(z, 146097);
  const doe = z - era * 146097;
  const yoe = floorDiv(doe - floorDiv(doe, 1460) + floorDiv(doe, 36524) - floorDiv(doe, 146096), 365);
  const doy = doe - (365 * yoe + floorDiv(yoe, 4) - floorDiv(yoe, 100));
  const mp = floorDiv(5 * doy + 2, 153);
  const dayOfMonth = doy - floorDiv(153 * mp + 2, 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  // outside 0000–9999 an ISO date needs a sign and six digits: as Date writes it
  if (year < 0 || year > 9999) return new Date(day * DAY).toISOString().slice(0, -14);
  return `${pad(year, 4)}-${pad(month, 2)}-${pad(dayOfMonth, 2)}`;
};

/** Day number of an ISO date; throws on malformed or impossible dates such as '2026-02-30'. */
const dayOfIso = (date: string): number => {
  const m = ISO_DATE.exec(date);
  const day = m ? daysFromCivil(Number(m[1]), Number(m[2]), Number(m[3])) : NaN;
  // the round trip refuses month 13, day 0, 30 February and the like
  if (!Number.isInteger(day) || isoOfDay(day) !== date) throw new RangeError(`Not an ISO date (YYYY-MM-DD): ${JSON.stringify(date)}`);
  return day;
};

/** 0 = Sunday … 6 = Saturday; 1970-01-01 was a Thursday. */
const weekdayOf = (day: number): number => (((day + 4) % 7) + 7) % 7;
const isWeekend = (day: number): boolean => {
  const wd = weekdayOf(day);
  return wd === 0 || wd === 6;
};

const assertInstant = (name: string, ms: number): void => {
  if (!Number.isFinite(ms) || Math.abs(ms) > MAX_INSTANT) throw new RangeError(`${name} is not a valid instant: ${ms}`);
};

/** The calendar's dates as day-number sets, built once per calendar object. */
interface DayIndex {
  readonly offsetMs: number;
  readonly holidays: ReadonlySet<number>;
  readonly workdays: ReadonlySet<number>;
}

const indexes = new WeakMap<WorkingCalendar, DayIndex>();

const indexOf = (cal: WorkingCalendar): DayIndex => {
  const cached = indexes.get(cal);
  if (cached) return cached;
  const offset = cal.zoneOffsetMinutes;
  if (!Number.isInteger(offset) || Math.abs(offset) > 14 * 60) throw new RangeError(`Invalid zone offset: ${offset} minutes`);
  const holidays = new Set(cal.holidays.map(dayOfIso));
  const workdays = new Set(cal.workdays.map(dayOfIso));
  for (const day of workdays) if (holidays.has(day)) throw new RangeError(`${isoOfDay(day)} is both a holiday and a make-up working day`);
  const index: DayIndex = { offsetMs: offset * MINUTE, holidays, workdays };
  indexes.set(cal, index);
  return index;
};

const isWorking = (day: number, index: DayIndex): boolean => index.workdays.has(day) || (!index.holidays.has(day) && !isWeekend(day));

/**
 * Builds a calendar from yearly schedules (see calendarData.ts), checking the data: valid dates, ranges in order,
 * make-up working days on weekends only, no date both a holiday and a working day, one schedule per year.
 */
export const defineCalendar = (schedules: readonly HolidaySchedule[], zoneOffsetMinutes: number): WorkingCalendar => {
  const holidays: string[] = [];
  const workdays: string[] = [];
  const years = new Set<number>();
  for (const s of schedules) {
    if (!Number.isInteger(s.year) || years.has(s.year)) throw new RangeError(`Invalid or duplicate holiday schedule year: ${s.year}`);
    years.add(s.year);
    for (const p of s.holidays) {
      const from = dayOfIso(p.from);
      const to = dayOfIso(p.to);
      if (to < from || to - from > 31) throw new RangeError(`Holiday period ${p.name} of ${s.year} is not a range of at most a month: ${p.from}..${p.to}`);
      for (let day = from; day <= to; day++) holidays.push(isoOfDay(day));
    }
    for (const w of s.workdays) {
      if (!isWeekend(dayOfIso(w))) throw new RangeError(`Make-up working day ${w} of ${s.year} is not a Saturday or Sunday`);
      workdays.push(w);
    }
  }
  const cal: WorkingCalendar = Object.freeze({
    zoneOffsetMinutes,
    holidays: Object.freeze([...new Set(holidays)].sort()),
    workdays: Object.freeze([...new Set(workdays)].sort()),
    coveredYears: Object.freeze([...years].sort((a, b) => a - b)),
  });
  indexOf(cal); // validates the offset and that no date is both a holiday and a working day
  return cal;
};

/** R-APPEAL-48WH: the mainland China calendar (Asia/Shanghai, UTC+08:00) with the official holidays of calendarData.ts. */
export const CN_CALENDAR: WorkingCalendar = defineCalendar(CN_HOLIDAY_SCHEDULES, CN_ZONE_OFFSET_MINUTES);

/** The local date ('YYYY-MM-DD') of an instant in the calendar's zone. */
export const localDate = (ms: number, cal: WorkingCalendar): string => {
  assertInstant('ms', ms);
  return isoOfDay(Math.floor((ms + indexOf(cal).offsetMs) / DAY));
};

/** R-APPEAL-48WH: whether a local date ('YYYY-MM-DD') is a working day: a weekday that is not a holiday, or a make-up working day. */
export const isWorkingDay = (date: string, cal: WorkingCalendar): boolean => isWorking(dayOfIso(date), indexOf(cal));

/**
 * R-APPEAL-48WH: the instant at which `durationMs` of working-day time has elapsed since `startMs`. Whole working days
 * count 24 hours; time on non-working days is skipped. Counting starts at `startMs`, or at 00:00 of the next working
 * day if `startMs` falls on a non-working day (so a zero duration then yields that 00:00). A deadline that uses up a
 * working day exactly is its midnight (the end of that day), never an instant inside a non-working day.
 * Example: Friday 10:00 + 48h = Tuesday 10:00 (Friday 14h, Monday 24h, Tuesday 10h).
 */
export const addWorkingTime = (startMs: number, durationMs: number, cal: WorkingCalendar): number => {
  assertInstant('startMs', startMs);
  if (!Number.isFinite(durationMs) || durationMs < 0) throw new RangeError(`durationMs must be a finite number >= 0: ${durationMs}`);
  const index = indexOf(cal);
  const local = startMs + index.offsetMs;
  let remaining = durationMs;
  let day = Math.floor(local / DAY);
  for (let scanned = 0; scanned < MAX_SCAN_DAYS; scanned++, day++) {
    if (!isWorking(day, index)) continue;
    const from = Math.max(local, day * DAY);
    const available = day * DAY + DAY - from;
    if (remaining <= available) return from + remaining - index.offsetMs;
    remaining -= available;
  }
  throw new RangeError(`Working time of ${durationMs} ms does not fit in ${MAX_SCAN_DAYS} days`);
};

/**
 * R-APPEAL-48WH: the working-day time (ms) that elapses between two instants, e.g. how much of an appeal's 48 working
 * hours is used or left. 0 when `toMs` is not after `fromMs`. Inverse of addWorkingTime:
 * `workingTimeBetween(s, addWorkingTime(s, d)) === d`.
 */
export const workingTimeBetween = (fromMs: number, toMs: number, cal: WorkingCalendar): number => {
  assertInstant('fromMs', fromMs);
  assertInstant('toMs', toMs);
  if (toMs <= fromMs) return 0;
  const index = indexOf(cal);
  const from = fromMs + index.offsetMs;
  const to = toMs + index.offsetMs;
  const lastDay = Math.floor(to / DAY);
  let day = Math.floor(from / DAY);
  if (lastDay - day > MAX_SCAN_DAYS) throw new RangeError(`Span of more than ${MAX_SCAN_DAYS} days`);
  let total = 0;
  for (; day <= lastDay; day++) {
    if (!isWorking(day, index)) continue;
    const start = Math.max(from, day * DAY);
    const end = Math.min(to, day * DAY + DAY);
    if (end > start) total += end - start;
  }
  return total;
};

/** R-APPEAL-48WH: whether the local year of an instant has official holiday data (otherwise only weekends are skipped; callers may warn). */
export const calendarCovers = (ms: number, cal: WorkingCalendar): boolean => {
  assertInstant('ms', ms);
  return cal.coveredYears.includes(new Date(ms + indexOf(cal).offsetMs).getUTCFullYear());
};
