/**
 * Durations, limits and constants of the task lifecycle, each tagged with the
 * DOMAIN.md rule it implements. Workflow code and the API both import these.
 */
import { DAY, HOUR } from './time.js';

/** R-ACCEPT-24H: the creator must accept within 24 hours of the order. */
export const ACCEPT_WINDOW_MS = 24 * HOUR;
/** R-ACCEPT-NOTIFY (design): the phone reminder goes out 2 hours before the acceptance deadline. */
export const ACCEPT_REMINDER_BEFORE_MS = 2 * HOUR;
/** R-ACCEPTANCE-7D: auto-acceptance 7 natural days after publication. */
export const AUTO_ACCEPT_AFTER_MS = 7 * DAY;
/** R-REPUBLISH-5: before acceptance the creator may republish at most 5 times. */
export const MAX_REPUBLISHES = 5;
/** R-RETENTION-CHOICE: preset retention periods, the default, and the custom maximum (natural days). */
export const RETENTION_PRESET_DAYS = [7, 15, 30, 60] as const;
export const DEFAULT_RETENTION_DAYS = 30;
export const MIN_RETENTION_DAYS = 1;
export const MAX_RETENTION_DAYS = 365;
/** R-RETENTION-PENALTY: points deducted for deleting or hiding content within retention. */
export const RETENTION_VIOLATION_POINTS = 25;
/** R-CREDIT (design): every creator starts at 100 credit points. */
export const INITIAL_CREDIT_POINTS = 100;

/** Free-text limits for briefs, reasons and submissions. */
export const MAX_BRIEF_CHARS = 5_000;
export const MAX_REASON_CHARS = 1_000;
export const MAX_SUBMISSION_CHARS = 20_000;

/** R-QUOTE (design bounds): a quote is a whole number of fen from ¥1 to ¥10,000,000. */
export const MIN_QUOTE_FEN = 100;
export const MAX_QUOTE_FEN = 1_000_000_000;
/** R-OPEN-XIGUA: "average plays of the latest 20 videos". */
export const RECENT_ITEMS_FOR_AVERAGE = 20;

/** R-APPEAL-48WH: an appeal is verified within 48 hours counted on working days only (domain/calendar.ts). */
export const APPEAL_VERIFY_WORKING_MS = 48 * HOUR;

// ---------------------------------------------------------------------------
// No task waits forever (R-STAGE-DEADLINE and the rules beside it)

/** R-STAGE-DEADLINE: the creator's drafting round lasts `draftDays` (set at order, 1..30, default 7). */
export const DEFAULT_DRAFT_DAYS = 7;
export const MIN_DRAFT_DAYS = 1;
export const MAX_DRAFT_DAYS = 30;
/** R-STAGE-DEADLINE: one extension of a running drafting deadline adds 1..30 days. */
export const MAX_DRAFT_EXTENSION_DAYS = 30;
/** R-STAGE-DEADLINE: drafting and client-confirmation reminders go out 24 h before the deadline. */
export const STAGE_REMINDER_BEFORE_MS = 24 * HOUR;
/** R-STAGE-DEADLINE: operator review and open complaints escalate after 24 working hours (R-APPEAL-48WH's calendar). */
export const OPERATOR_ESCALATION_WORKING_MS = 24 * HOUR;
/** R-STAGE-DEADLINE: the client confirms a script/outline or content within 7 natural days, or it is deemed confirmed. */
export const CLIENT_CONFIRM_WINDOW_MS = 7 * DAY;
/** R-STAGE-DEADLINE: confirmed content is published within 7 natural days of the confirmation. */
export const PUBLICATION_WINDOW_MS = 7 * DAY;
/** R-REPUBLISH-GRACE: a deletion before acceptance is a republication step if a new publication is public within 24 h. */
export const REPUBLISH_GRACE_MS = 24 * HOUR;
/** R-NOT-PUBLIC-EXIT: 72 h not public before acceptance ends the task (content_withdrawn, full refund). */
export const NOT_PUBLIC_EXIT_MS = 72 * HOUR;
/** R-MUTUAL-CANCEL: the other party answers a cancellation proposal within 48 h; silence refuses. */
export const MUTUAL_CANCEL_ANSWER_MS = 48 * HOUR;
/** R-MUTUAL-CANCEL: after the first content submission the creator keeps 10 % unless both agree on another split. */
export const MUTUAL_CANCEL_CREATOR_SHARE_PERCENT = 10;
/** R-TAKEDOWN: the client answers a takedown request within 48 h; silence refuses. */
export const TAKEDOWN_ANSWER_MS = 48 * HOUR;
