/**
 * R-APPEAL-48WH: official public holidays (法定节假日) and make-up working days (调休) of mainland China, as data.
 * One block per year, copied from the State Council General Office notice on the holiday arrangements of that year
 * (国务院办公厅关于<year>年部分节假日安排的通知). To add a year, append a block; `defineCalendar` (calendar.ts) checks it.
 * Holiday ranges are inclusive and may contain weekend days (they are days off either way).
 */

/** One named holiday period: every date from `from` to `to` (inclusive, 'YYYY-MM-DD') is a day off. */
export interface HolidayPeriod {
  readonly name: string;
  readonly from: string;
  readonly to: string;
}

/** The holiday schedule of one calendar year. */
export interface HolidaySchedule {
  readonly year: number;
  /** The notice the data comes from. */
  readonly source: string;
  readonly holidays: readonly HolidayPeriod[];
  /** 调休: Saturdays and Sundays that are working days. */
  readonly workdays: readonly string[];
}

/** 2025: 国办发明电〔2024〕12号 (published 2024-11-12). */
const CN_2025: HolidaySchedule = {
  year: 2025,
  source: '国务院办公厅关于2025年部分节假日安排的通知 (国办发明电〔2024〕12号)',
  holidays: [
    { name: '元旦', from: '2025-01-01', to: '2025-01-01' },
    { name: '春节', from: '2025-01-28', to: '2025-02-04' },
    { name: '清明节', from: '2025-04-04', to: '2025-04-06' },
    { name: '劳动节', from: '2025-05-01', to: '2025-05-05' },
    { name: '端午节', from: '2025-05-31', to: '2025-06-02' },
    { name: '国庆节、中秋节', from: '2025-10-01', to: '2025-10-08' },
  ],
  workdays: ['2025-01-26', '2025-02-08', '2025-04-27', '2025-09-28', '2025-10-11'],
};

/** 2026: 国办发明电〔2025〕7号 (published November 2025; the dates are as recalled, the notice number should be re-checked). */
const CN_2026: HolidaySchedule = {
  year: 2026,
  source: '国务院办公厅关于2026年部分节假日安排的通知 (国办发明电〔2025〕7号)',
  holidays: [
    { name: '元旦', from: '2026-01-01', to: '2026-01-03' },
    { name: '春节', from: '2026-02-15', to: '2026-02-23' },
    { name: '清明节', from: '2026-04-04', to: '2026-04-06' },
    { name: '劳动节', from: '2026-05-01', to: '2026-05-05' },
    { name: '端午节', from: '2026-06-19', to: '2026-06-21' },
    { name: '中秋节', from: '2026-09-25', to: '2026-09-27' },
    { name: '国庆节', from: '2026-10-01', to: '2026-10-07' },
  ],
  workdays: ['2026-01-04', '2026-02-14', '2026-02-28', '2026-05-09', '2026-09-20', '2026-10-10'],
};

/** Every year with official data, oldest first. */
export const CN_HOLIDAY_SCHEDULES: readonly HolidaySchedule[] = [CN_2025, CN_2026];

/** Asia/Shanghai is UTC+08:00 all year (no daylight saving since 1991). */
export const CN_ZONE_OFFSET_MINUTES = 8 * 60;
