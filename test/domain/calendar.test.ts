/** The working-day calendar behind the 48-working-hour appeal deadline (pure, no servers). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CN_CALENDAR,
  MAX_SCAN_DAYS,
  addWorkingTime,
  calendarCovers,
  defineCalendar,
  isWorkingDay,
  localDate,
  workingTimeBetween,
  type WorkingCalendar,
} from '../../domain/calendar.js';
import { CN_HOLIDAY_SCHEDULES } from '../../domain/calendarData.js';
import { DAY, HOUR } from '../../domain/time.js';

/** Epoch ms of a local Asia/Shanghai time, e.g. at('2026-11-20T10:00'). */
const at = (local: string): number => Date.parse(`${local}:00+08:00`);
/** The same instant back as local Asia/Shanghai time 'YYYY-MM-DDTHH:mm'. */
const show = (ms: number): string => new Date(ms + 8 * HOUR).toISOString().slice(0, 16);
const due = (local: string, durationMs = 48 * HOUR, cal: WorkingCalendar = CN_CALENDAR): string => show(addWorkingTime(at(local), durationMs, cal));

describe('addWorkingTime', () => {
  it('R-APPEAL-48WH: an appeal filed Friday 10:00 is due Tuesday 10:00', () => {
    expect(due('2026-11-20T10:00')).toBe('2026-11-24T10:00'); // Fri 14h + Mon 24h + Tue 10h
    expect(workingTimeBetween(at('2026-11-20T10:00'), at('2026-11-24T10:00'), CN_CALENDAR)).toBe(48 * HOUR);
  });

  it('R-APPEAL-48WH: an appeal filed on a weekend is counted from Monday 00:00', () => {
    expect(due('2026-11-21T15:00')).toBe('2026-11-25T00:00'); // Saturday: Mon 24h + Tue 24h
    expect(due('2026-11-22T23:59', 10 * HOUR)).toBe('2026-11-23T10:00'); // Sunday
    expect(due('2026-11-21T15:00', 0)).toBe('2026-11-23T00:00');
  });

  it('R-APPEAL-48WH: public holidays are skipped (National Day 2026-10-01..07)', () => {
    expect(due('2026-09-30T10:00')).toBe('2026-10-09T10:00'); // Wed 14h, Thu Oct 8 24h, Fri Oct 9 10h
    expect(workingTimeBetween(at('2026-09-30T10:00'), at('2026-10-09T10:00'), CN_CALENDAR)).toBe(48 * HOUR);
    expect(workingTimeBetween(at('2026-10-01T00:00'), at('2026-10-08T00:00'), CN_CALENDAR)).toBe(0);
  });

  it('R-APPEAL-48WH: a make-up working day (调休) on a Saturday counts', () => {
    expect(due('2026-10-09T10:00')).toBe('2026-10-12T10:00'); // Fri 14h, make-up Sat Oct 10 24h, Sun skipped, Mon 10h
    expect(due('2026-09-30T10:00', 72 * HOUR)).toBe('2026-10-10T10:00'); // lands on the make-up Saturday
    expect(due('2026-10-10T09:00', 15 * HOUR)).toBe('2026-10-11T00:00'); // filed on it: counted from the filing time
  });

  it('R-APPEAL-48WH: Spring Festival 2026 and the turn of the year 2025/2026 follow the official schedule', () => {
    expect(due('2026-02-13T10:00')).toBe('2026-02-24T10:00'); // Fri 14h, make-up Sat Feb 14 24h, Feb 15..23 off, Tue 10h
    expect(due('2025-12-31T10:00')).toBe('2026-01-05T10:00'); // Wed 14h, Jan 1..3 off, make-up Sun Jan 4 24h, Mon 10h
    expect(due('2025-01-27T10:00')).toBe('2025-02-06T10:00'); // Mon 14h, Jan 28..Feb 4 off, Wed Feb 5 24h, Thu 10h
  });

  it('R-APPEAL-48WH: a start exactly at midnight counts the whole day; a deadline using up a day is its midnight', () => {
    expect(due('2026-11-23T00:00')).toBe('2026-11-25T00:00'); // Mon 00:00 + 48h
    expect(due('2026-11-20T00:00')).toBe('2026-11-24T00:00'); // Fri 24h + Mon 24h
    expect(due('2026-11-20T00:00', 24 * HOUR)).toBe('2026-11-21T00:00'); // the end of Friday, not Monday 00:00
    expect(addWorkingTime(at('2026-11-21T00:00'), 1, CN_CALENDAR)).toBe(at('2026-11-23T00:00') + 1); // Saturday midnight: from Monday
  });

  it('R-APPEAL-48WH: a zero duration is the start itself on a working day', () => {
    expect(addWorkingTime(at('2026-11-20T10:00'), 0, CN_CALENDAR)).toBe(at('2026-11-20T10:00'));
    expect(due('2026-10-01T12:00', 0)).toBe('2026-10-08T00:00'); // on a holiday: the next working day's 00:00
  });

  it('refuses negative or non-finite durations, invalid instants and spans beyond the scan bound', () => {
    expect(() => addWorkingTime(at('2026-11-20T10:00'), -1, CN_CALENDAR)).toThrow(RangeError);
    expect(() => addWorkingTime(at('2026-11-20T10:00'), Number.NaN, CN_CALENDAR)).toThrow(RangeError);
    expect(() => addWorkingTime(Number.POSITIVE_INFINITY, HOUR, CN_CALENDAR)).toThrow(RangeError);
    expect(() => addWorkingTime(at('2026-11-20T10:00'), MAX_SCAN_DAYS * DAY, CN_CALENDAR)).toThrow(/does not fit/);
    expect(() => workingTimeBetween(0, (MAX_SCAN_DAYS + 2) * DAY, CN_CALENDAR)).toThrow(RangeError);
  });
});

describe('workingTimeBetween', () => {
  it('R-APPEAL-48WH: measures the working time used, 0 when the end is not after the start', () => {
    expect(workingTimeBetween(at('2026-11-20T10:00'), at('2026-11-23T12:00'), CN_CALENDAR)).toBe(26 * HOUR); // Fri 14h + Mon 12h
    expect(workingTimeBetween(at('2026-11-21T01:00'), at('2026-11-22T23:00'), CN_CALENDAR)).toBe(0); // a weekend
    expect(workingTimeBetween(at('2026-11-24T10:00'), at('2026-11-20T10:00'), CN_CALENDAR)).toBe(0);
    expect(workingTimeBetween(at('2026-11-20T10:00'), at('2026-11-20T10:00'), CN_CALENDAR)).toBe(0);
  });

  it('R-APPEAL-48WH: shows the working time left before a deadline', () => {
    const filed = at('2026-11-20T10:00');
    const deadline = addWorkingTime(filed, 48 * HOUR, CN_CALENDAR);
    expect(workingTimeBetween(at('2026-11-22T12:00'), deadline, CN_CALENDAR)).toBe(34 * HOUR); // Sunday: Mon 24h + Tue 10h left
  });
});

describe('isWorkingDay and the data', () => {
  it('R-APPEAL-48WH: weekdays work, weekends and holidays do not, make-up days do', () => {
    expect(isWorkingDay('2026-11-20', CN_CALENDAR)).toBe(true); // Friday
    expect(isWorkingDay('2026-11-21', CN_CALENDAR)).toBe(false); // Saturday
    expect(isWorkingDay('2026-10-01', CN_CALENDAR)).toBe(false); // National Day (Thursday)
    expect(isWorkingDay('2026-10-10', CN_CALENDAR)).toBe(true); // make-up Saturday
    expect(isWorkingDay('2026-09-20', CN_CALENDAR)).toBe(true); // make-up Sunday
    expect(isWorkingDay('2025-10-08', CN_CALENDAR)).toBe(false); // 2025 National Day + Mid-Autumn (Wednesday)
    expect(isWorkingDay('2025-01-26', CN_CALENDAR)).toBe(true); // 2025 make-up Sunday
  });

  it('refuses malformed or impossible dates', () => {
    for (const bad of ['2026-02-30', '2026-2-3', '20261120', '2026-13-01', '']) expect(() => isWorkingDay(bad, CN_CALENDAR)).toThrow(RangeError);
  });

  it('R-APPEAL-48WH: the official schedules of 2025 and 2026 are loaded', () => {
    expect(CN_CALENDAR.coveredYears).toEqual([2025, 2026]);
    expect(CN_CALENDAR.zoneOffsetMinutes).toBe(480);
    const offIn = (year: number) => CN_CALENDAR.holidays.filter((d) => d.startsWith(`${year}-`)).length;
    expect(offIn(2025)).toBe(1 + 8 + 3 + 5 + 3 + 8);
    expect(offIn(2026)).toBe(3 + 9 + 3 + 5 + 3 + 3 + 7);
    expect(CN_CALENDAR.workdays).toEqual([
      ...['2025-01-26', '2025-02-08', '2025-04-27', '2025-09-28', '2025-10-11'],
      ...['2026-01-04', '2026-02-14', '2026-02-28', '2026-05-09', '2026-09-20', '2026-10-10'],
    ]);
    for (const s of CN_HOLIDAY_SCHEDULES) expect(s.source).toMatch(/国办发明电/);
  });

  it('defineCalendar refuses inconsistent data', () => {
    const year = (patch: object) => [{ year: 2030, source: 'test', holidays: [], workdays: [], ...patch }];
    expect(() => defineCalendar(year({ workdays: ['2030-01-02'] }), 480)).toThrow(/not a Saturday or Sunday/); // a Wednesday
    expect(() => defineCalendar(year({ holidays: [{ name: 'x', from: '2030-01-05', to: '2030-01-06' }], workdays: ['2030-01-05'] }), 480)).toThrow(/both/);
    expect(() => defineCalendar(year({ holidays: [{ name: 'x', from: '2030-01-06', to: '2030-01-05' }] }), 480)).toThrow(RangeError);
    expect(() => defineCalendar([...year({}), ...year({})], 480)).toThrow(/duplicate/);
    expect(() => defineCalendar(year({}), 8.5)).toThrow(/offset/);
  });
});

describe('calendarCovers', () => {
  it('R-APPEAL-48WH: outside the covered years only weekends are skipped, and calendarCovers says so', () => {
    expect(calendarCovers(at('2026-10-01T10:00'), CN_CALENDAR)).toBe(true);
    expect(calendarCovers(at('2025-01-01T00:00'), CN_CALENDAR)).toBe(true); // 2024-12-31T16:00Z, already 2025 in Shanghai
    expect(calendarCovers(at('2024-12-31T23:59'), CN_CALENDAR)).toBe(false);
    expect(calendarCovers(at('2027-01-01T00:00'), CN_CALENDAR)).toBe(false);
    expect(calendarCovers(at('2027-10-01T10:00'), CN_CALENDAR)).toBe(false);
    expect(isWorkingDay('2027-10-01', CN_CALENDAR)).toBe(true); // National Day 2027 has no data yet: a plain Friday
    expect(due('2027-10-01T10:00')).toBe('2027-10-05T10:00'); // weekend still skipped
  });
});

describe('properties', () => {
  const cals = { CN_CALENDAR, weekendsOnly: defineCalendar([], 480), utc: defineCalendar(CN_HOLIDAY_SCHEDULES, 0) };
  const start = fc.integer({ min: at('2024-06-01T00:00'), max: at('2027-06-01T00:00') });
  const duration = fc.oneof(fc.integer({ min: 0, max: 30 * DAY }), fc.integer({ min: 0, max: 4 }).map((d) => d * DAY), fc.constantFrom(0, 48 * HOUR));
  const cal = fc.constantFrom(...Object.values(cals));
  const isMidnight = (ms: number, c: WorkingCalendar) => (ms + c.zoneOffsetMinutes * 60_000) % DAY === 0;

  it('R-APPEAL-48WH: workingTimeBetween(s, addWorkingTime(s, d)) === d, the result is >= s and monotonic in d', () => {
    fc.assert(
      fc.property(start, duration, duration, cal, (s, d1, d2, c) => {
        const [lo, hi] = d1 <= d2 ? [d1, d2] : [d2, d1];
        const end = addWorkingTime(s, lo, c);
        expect(workingTimeBetween(s, end, c)).toBe(lo);
        expect(end).toBeGreaterThanOrEqual(s);
        expect(addWorkingTime(s, hi, c)).toBeGreaterThanOrEqual(end);
        if (lo > 0) expect(workingTimeBetween(s, end - 1, c)).toBeLessThan(lo); // the earliest such instant
      }),
      { numRuns: 2000 },
    );
  });

  it('R-APPEAL-48WH: the deadline never lands strictly inside a non-working day', () => {
    fc.assert(
      fc.property(start, duration, cal, (s, d, c) => {
        const end = addWorkingTime(s, d, c);
        const onWorkingDay = isWorkingDay(localDate(end, c), c);
        const endOfWorkingDay = isMidnight(end, c) && isWorkingDay(localDate(end - 1, c), c);
        expect(onWorkingDay || endOfWorkingDay).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('R-APPEAL-48WH: dates by arithmetic (each workflow builds the calendar afresh, without Date objects)', () => {
  it('a local date is the one Date gives, from year -200 to 9999, and across the day boundary of the zone', () => {
    fc.assert(
      fc.property(fc.integer({ min: -6_400_000_000_000_000, max: 253_402_300_799_000 - 8 * HOUR }), (ms) => {
        expect(localDate(ms, CN_CALENDAR)).toBe(new Date(ms + 8 * HOUR).toISOString().slice(0, -14));
      }),
      { numRuns: 5_000 },
    );
    expect(localDate(Date.parse('2026-12-31T15:59:59.999Z'), CN_CALENDAR)).toBe('2026-12-31');
    expect(localDate(Date.parse('2026-12-31T16:00:00Z'), CN_CALENDAR)).toBe('2027-01-01');
  });

  it('impossible dates are refused, leap days only in leap years', () => {
    for (const date of ['2026-02-29', '2100-02-29', '2026-04-31', '2026-13-01', '2026-00-10', '2026-01-00', '2026-1-01', '2026-01-01T00:00']) {
      expect(() => isWorkingDay(date, CN_CALENDAR), date).toThrow(RangeError);
    }
    for (const date of ['2024-02-29', '2000-02-29', '0001-01-01', '9999-12-31']) expect(() => isWorkingDay(date, CN_CALENDAR), date).not.toThrow();
  });
});
