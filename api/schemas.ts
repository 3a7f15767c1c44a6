/**
 * Request and response schemas (zod). The routes validate with them and the
 * OpenAPI document is generated from them (api/openapi.ts): one source.
 */
import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import {
  COMPLAINT_OUTCOMES,
  MAX_QUOTE_FEN,
  MIN_QUOTE_FEN,
  PLATFORMS,
  MAX_BRIEF_CHARS,
  DEFAULT_DRAFT_DAYS,
  MAX_DRAFT_DAYS,
  MAX_DRAFT_EXTENSION_DAYS,
  MIN_DRAFT_DAYS,
  MAX_REASON_CHARS,
  MAX_RETENTION_DAYS,
  MAX_SUBMISSION_CHARS,
  MIN_RETENTION_DAYS,
  TASK_STATUSES,
  TASK_TYPE_IDS,
} from '../domain/index.js';
import type { TaskState as DomainTaskState } from '../domain/index.js';

import { MAX_TOP_UP_FEN } from '../db/ledger.js';
import { ID_PATTERN } from './ids.js';
import { MIN_PASSWORD_CHARS } from './passwords.js';

extendZodWithOpenApi(z);

/** An account or other id (api/ids.ts ID_PATTERN). */
export const AccountId = z.string().regex(ID_PATTERN, 'letters, digits and _.:- (at most 64)');
const id = AccountId;
/**
 * JavaScript's whitespace (what \s and String.prototype.trim take), spelt out for the document:
 * the fuzzer generates from patterns with Python's regular expressions, whose \s is another set.
 */
export const JS_SPACE = '\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff';
/** Text the route trims: at least one character that is not whitespace (the document says so with a pattern). */
export const text = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .openapi({ pattern: `[^${JS_SPACE}]` });

export const TaskIdParam = z.object({ taskId: z.string().regex(/^tsk_[0-9a-f-]{36}$/, 'a task id').openapi({ example: 'tsk_0b6f1c9e-3c36-4c4e-9a55-2f1d8f1e6a11' }) });

export const CreateTaskBody = z
  .object({
    creatorId: id.openapi({ description: 'The designated creator (R-DESIGNATED)' }),
    taskType: z.enum(TASK_TYPE_IDS),
    brief: text(MAX_BRIEF_CHARS).openapi({ description: 'Requirements the creator accepts' }),
    scriptRequired: z.boolean().openapi({ description: 'Whether a script is reviewed before the content (R-SCRIPT-FLOW)' }),
    retentionDays: z
      .number()
      .int()
      .min(MIN_RETENTION_DAYS)
      .max(MAX_RETENTION_DAYS)
      .optional()
      .openapi({ description: 'R-RETENTION-CHOICE: 7, 15, 30, 60 or custom up to 365; default 30; fixed once ordered' }),
    priceFen: z
      .number()
      .int()
      .positive()
      .max(Number.MAX_SAFE_INTEGER)
      .optional()
      .openapi({
        description:
          "R-ORDER-FIELDS: the price is the creator's current quote, kept as a snapshot. Optional: the quote the client saw; if the quote has changed since, the order is refused (409 quote-changed) instead of charging another price.",
      }),
    acknowledgeObservationWarning: z
      .boolean()
      .optional()
      .openapi({ description: 'R-OBSERVATION-WARN: true to order a creator in an observation period after seeing the warning (409 observation-warning)' }),
    draftDays: z
      .number()
      .int()
      .min(MIN_DRAFT_DAYS)
      .max(MAX_DRAFT_DAYS)
      .optional()
      .openapi({ description: `R-STAGE-DEADLINE: days the creator has for each drafting round (script/outline or content), ${MIN_DRAFT_DAYS}-${MAX_DRAFT_DAYS}, default ${DEFAULT_DRAFT_DAYS}` }),
  })
  .strict()
  .openapi('CreateTask');

export const ListTasksQuery = z
  .object({
    clientId: id.optional(),
    creatorId: id.optional(),
    status: z.enum(TASK_STATUSES).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: z.string().max(200).optional().openapi({ description: 'nextCursor of the previous page' }),
  })
  .strict();

export const ReasonBody = z.object({ reason: text(MAX_REASON_CHARS) }).strict().openapi('Reason');
export const SubmitBody = z.object({ body: text(MAX_SUBMISSION_CHARS).openapi({ description: 'The script, or a reference to the uploaded media' }) }).strict().openapi('Submission');
// a decision with a condition on another field is a union on the deciding field: the document
// then says what the server checks (a rejection needs a reason) instead of a looser object
const rejection = z.object({ decision: z.literal('reject'), reason: text(MAX_REASON_CHARS) }).strict();
export const ReviewBody = z
  .discriminatedUnion('decision', [z.object({ decision: z.literal('pass'), reason: text(MAX_REASON_CHARS).optional() }).strict(), rejection])
  .openapi('OperatorReview', { description: 'pass, or reject with a reason' });
export const ConfirmBody = z
  .discriminatedUnion('decision', [z.object({ decision: z.literal('confirm'), reason: text(MAX_REASON_CHARS).optional() }).strict(), rejection])
  .openapi('ClientDecision', { description: 'confirm, or reject with a reason' });
export const PublishBody = z.object({ platformItemId: text(200).openapi({ description: 'The content platform item the creator published for this task' }) }).strict().openapi('Publication');
export const ResolveComplaintBody = z
  .object({
    outcome: z.enum(COMPLAINT_OUTCOMES).openapi({
      description: 'R-COMPLAINT: dismissed (the acceptance clock goes on), upheld_fix (the creator revises the content), upheld_cancel (cancelled, full refund)',
    }),
    note: text(MAX_REASON_CHARS),
  })
  .strict()
  .openapi('ComplaintResolution');
export const EmptyBody = z.object({}).strict();
const fenAmount = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
export const ExtendDraftBody = z
  .object({ days: z.number().int().min(1).max(MAX_DRAFT_EXTENSION_DAYS).openapi({ description: 'R-STAGE-DEADLINE: days added to the running drafting deadline' }) })
  .strict()
  .openapi('DraftDeadlineExtension');
export const ResolveTaskBody = z
  .object({
    outcome: z.enum(['cancel', 'settle']).openapi({ description: 'R-OPERATOR-RESOLVE: cancel (refund, the rest to the creator) or settle to the creator' }),
    reason: text(MAX_REASON_CHARS),
    refundFen: fenAmount.optional().openapi({ description: 'cancel: the refund to the client, 1..price (default: the whole price); the rest goes to the creator' }),
  })
  .strict()
  .openapi('TaskResolution');
export const ProposeCancellationBody = z
  .object({
    reason: text(MAX_REASON_CHARS),
    refundFen: fenAmount.optional().openapi({ description: 'R-MUTUAL-CANCEL: the refund to the client (0..price); default 100 % before the first content submission, 90 % after it' }),
  })
  .strict()
  .openapi('CancellationProposal');
export const AnswerBody = z
  .discriminatedUnion('agree', [
    z.object({ agree: z.literal(true), reason: text(MAX_REASON_CHARS).optional() }).strict(),
    z.object({ agree: z.literal(false), reason: text(MAX_REASON_CHARS) }).strict(),
  ])
  .openapi('Answer', { description: 'agree, or refuse with a reason' });
export const AcceptanceBody = z
  .object({ publishTime: z.iso.datetime({ offset: true }).optional().openapi({ description: 'R-PUBLISH-TIME: optional. Accepting a Toutiao task confirms the live publication time by itself; a time sent here must be that time (a check that the client saw the current publication)' }) })
  .strict()
  .openapi('Acceptance');

const platformEventBase = { eventId: text(100), taskId: TaskIdParam.shape.taskId, itemId: text(200) };
const occurredAt = z.iso
  .datetime({ offset: true })
  .openapi({ description: "R-RETENTION-PENALTY: the platform's own time of the event; a platform item's events apply in this order, and a redelivered or older one changes nothing. Required except for metrics." });
/** Publication and visibility events carry the platform time; metrics carry the counts (and no kind but `metrics` does). */
export const PlatformEventBody = z
  .discriminatedUnion('kind', [
    z.object({ ...platformEventBase, kind: z.enum(['published', 'hidden', 'deleted', 'restored']), occurredAt }).strict(),
    z
      .object({
        ...platformEventBase,
        kind: z.literal('metrics'),
        occurredAt: occurredAt.optional(),
        metrics: z
          .object({
            plays: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
            likes: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
            comments: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
            shares: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
            observedAt: z.iso.datetime(),
          })
          .strict(),
      })
      .strict(),
  ])
  .openapi('PlatformEvent');

export const AmountBody = z.object({ amountFen: z.number().int().positive().max(Number.MAX_SAFE_INTEGER) }).strict().openapi('Amount');
export const TopUpBody = z.object({ amountFen: z.number().int().positive().max(MAX_TOP_UP_FEN) }).strict().openapi('TopUpRequest');
export const StatementQuery = z
  .object({ limit: z.coerce.number().int().min(1).max(100).default(20), cursor: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional().openapi({ description: 'nextCursor of the previous page' }) })
  .strict();
export const McnBody = z.object({ mcnId: id.nullable() }).strict().openapi('McnMembership');

export const TaskSummary = z
  .object({
    id: z.string(),
    type: z.string(),
    status: z.enum(TASK_STATUSES),
    clientId: z.string(),
    creatorId: z.string(),
    priceFen: z.number().int(),
    retentionDays: z.number().int(),
    scriptRequired: z.boolean(),
    orderedAt: z.string(),
    acceptDeadline: z.string(),
    nextDeadline: z.string().nullable(),
    finalPublishedAt: z.string().nullable(),
    retentionEndsAt: z.string().nullable(),
    closedAt: z.string().nullable(),
    closeReason: z.string().nullable(),
    version: z.number().int(),
    clientRating: z
      .object({ average: z.number().nullable(), count: z.number().int() })
      .openapi({ description: "R-RATE: the client's average as creators rated it (1-5, two decimals; null before the first rating)" }),
  })
  .openapi('TaskSummary');

export const TaskPage = z.object({ items: z.array(TaskSummary), nextCursor: z.string().nullable() }).openapi('TaskPage');

// ---------------------------------------------------------------- the task state (domain/taskState.ts TaskState)

const time = z.string().openapi({ description: 'ISO 8601' });
const submission = z.object({ revision: z.number().int(), body: z.string(), submittedAt: time });
const rejectionRecord = z.object({ by: z.enum(['operator', 'client']), actorId: z.string(), reason: z.string(), revision: z.number().int(), at: time });
const stage = z
  .object({
    revision: z.number().int(),
    current: submission.nullable(),
    operatorRejections: z.number().int(),
    clientRejections: z.number().int(),
    lastRejection: rejectionRecord.nullable(),
    confirmedAt: time.nullable(),
  })
  .openapi('TaskStage');
const visibility = z.enum(['public', 'hidden', 'deleted']);
/** The whole task state as the workflow holds it (and the read model stores it); kept equal to TaskState by a type check below. */
export const TaskState = z
  .object({
    taskId: z.string(),
    type: z.enum(TASK_TYPE_IDS),
    clientId: z.string(),
    creatorId: z.string(),
    brief: z.string(),
    scriptRequired: z.boolean(),
    retentionDays: z.number().int(),
    priceFen: z.number().int(),
    orderedAt: time,
    draftDays: z.number().int(),
    payoutAccount: z.string().optional(),
    rules: z.union([z.literal(1), z.literal(2)]).openapi({ description: '1: ordered before R-STAGE-DEADLINE; 2: every state has a deadline' }),
    decisionSms: z.boolean().optional().openapi({ description: 'R-DECISION-NOTIFY applies (false for tasks ordered before it)' }),
    publishFirst: z.boolean().optional().openapi({ description: 'R-TOUTIAO-ORDER: the client reviews the content after it went live (Toutiao types ordered since the rule)' }),
    status: z.enum(TASK_STATUSES),
    acceptDeadline: time,
    reminderSentAt: time.nullable(),
    acceptedAt: time.nullable(),
    script: stage,
    content: stage,
    publication: z.object({
      itemId: z.string().nullable(),
      pendingItemId: z.string().nullable(),
      reported: z.object({ itemId: z.string(), at: time }).nullable(),
      firstPublishedAt: time.nullable(),
      publishedAt: time.nullable(),
      visibility: visibility.nullable(),
      republishCount: z.number().int(),
      modificationGrantedAt: time.nullable(),
    }),
    acceptance: z.object({
      pausedMs: z.number().int(),
      complaint: z.object({ reason: z.string(), openedAt: time, filedAt: time.optional() }).nullable(),
      complaintsFiled: z.number().int(),
      acceptedAt: time.nullable(),
      acceptedBy: z.enum(['client', 'auto']).nullable(),
      publishTimeConfirmed: time.nullable(),
    }),
    retention: z.object({ endsAt: time.nullable(), violations: z.number().int() }),
    cancellation: z
      .object({
        reason: z.enum(['acceptance_expired', 'declined', 'complaint_upheld', 'delivery_overdue', 'publication_overdue', 'content_withdrawn', 'operator_cancelled', 'mutually_cancelled']),
        note: z.string().nullable(),
        at: time,
      })
      .nullable(),
    completion: z.object({ kind: z.enum(['retention_served', 'retention_broken', 'settled_unpublished', 'operator_settled', 'taken_down']), at: time }).nullable(),
    phase: z.object({ status: z.enum(TASK_STATUSES), enteredAt: time, dueAt: time.nullable(), remindedAt: time.nullable(), escalatedAt: time.nullable() }),
    lapse: z.object({ since: time, visibility: z.enum(['hidden', 'deleted']), withinRetention: z.boolean(), violated: z.boolean() }).nullable(),
    complaintEscalatedAt: time.nullable(),
    proposal: z
      .object({ by: z.enum(['client', 'creator']), actorId: z.string(), reason: z.string(), refundFen: z.number().int(), payoutFen: z.number().int(), proposedAt: time, answerBy: time })
      .nullable(),
    takedown: z.object({ reason: z.string(), requestedAt: time, answerBy: time }).nullable(),
    settlement: z.object({ refundFen: z.number().int(), payoutFen: z.number().int(), at: time, seq: z.number().int() }).nullable(),
    failedEffects: z.number().int(),
    nextDeadline: time.nullable(),
    platformEventIds: z.array(z.string()),
    platformClock: z.record(z.string(), z.string()),
    version: z.number().int(),
  })
  .openapi('TaskState');

export const TaskDetail = z
  .object({
    task: TaskState,
    source: z.enum(['workflow', 'projection', 'snapshot']).openapi({
      description: 'workflow: live; projection: the last state of a finished workflow; snapshot: Temporal did not answer, the last stored state (with version and asOf)',
    }),
    version: z.number().int().optional(),
    asOf: time.optional(),
    clientRating: z
      .object({ average: z.number().nullable(), count: z.number().int() })
      .openapi({ description: "R-RATE: the client's average as creators rated it, shown to the creator asked to accept" }),
  })
  .openapi('TaskDetail');
// the document's task state is the domain's: a field added to one and not the other fails the type check
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const taskStateIsDomain: Same<z.infer<typeof TaskState>, DomainTaskState> = true;
void taskStateIsDomain;

export const TaskAnswer = z.object({ task: TaskState }).openapi('TaskAnswer');

export const TaskEvent = z
  .object({
    seq: z.number().int(),
    type: z.string(),
    actor: z.object({ role: z.string(), id: z.string() }),
    reason: z.string().nullable(),
    payload: z.unknown(),
    at: time,
  })
  .openapi('TaskEvent');

export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    code: z.string().optional(),
    taskStatus: z.string().optional(),
  })
  .catchall(z.unknown())
  .openapi('Problem');

// ---------------------------------------------------------------- accounts

const password = z.string().min(MIN_PASSWORD_CHARS, `at least ${MIN_PASSWORD_CHARS} characters`).max(256);
/** An e-mail address, at most 254 characters (RFC 5321): a longer one is a 400, never a database error. */
export const MAX_LOGIN_CHARS = 254;
// the document shows what the pipe's end accepts: zod's email pattern, at most 254 characters (the
// server also trims and lowercases first, so it takes a little more than the document says)
const login = z
  .string()
  .max(MAX_LOGIN_CHARS * 2)
  .trim()
  .toLowerCase()
  .pipe(z.email().max(MAX_LOGIN_CHARS))
  .openapi({ description: 'An email address; sign-in name', type: 'string', format: 'email', pattern: z.regexes.email.source, maxLength: MAX_LOGIN_CHARS });
export const SignUpBody = z
  .object({
    role: z.enum(['client', 'creator', 'mcn']).openapi({ description: 'Operator accounts are created by operations, not by sign-up' }),
    login,
    password,
    displayName: text(100),
  })
  .strict()
  .openapi('SignUp');
export const SessionBody = z.object({ login, password: z.string().min(1).max(256) }).strict().openapi('SignIn');
export const Account = z.object({ id: z.string(), role: z.string(), login: z.string(), displayName: z.string(), createdAt: z.string() }).openapi('Account');
export const Session = z.object({ token: z.string(), tokenType: z.literal('Bearer'), expiresAt: z.string(), account: Account }).openapi('Session');

// ---------------------------------------------------------------- creators

export const CreatorIdParam = z.object({ creatorId: id });
/** Neither whitespace nor @ (normalizeEmail's pattern). */
const NOT_SPACE_OR_AT = `[^@${JS_SPACE}]`;
export const TaskTypeParam = z.object({ taskType: z.enum(TASK_TYPE_IDS) });
// the route normalises both (domain normalizePhone, normalizeEmail; 400 phone-invalid, email-invalid):
// the document gives the forms they accept (a phone may also carry spaces and dashes)
export const ClientContactBody = z
  .object({
    phone: z
      .string()
      .max(20)
      .nullable()
      .openapi({ description: "Mainland mobile number; creators of the client's accepted tasks reach it only through a virtual number (R-CONTACT-CLIENT); null removes it", pattern: '^(\\+?86)?1[3-9][0-9]{9}$' }),
  })
  .strict()
  .openapi('ClientContact');
export const ContactBody = z
  .object({
    phone: z
      .string()
      .max(20)
      .nullable()
      .optional()
      .openapi({ description: 'Mainland mobile number (spaces and dashes ignored); null clears it; never shown to clients (R-CONTACT)', pattern: '^(\\+?86)?1[3-9][0-9]{9}$' }),
    email: z
      .string()
      .max(254)
      .nullable()
      .optional()
      .openapi({ description: 'null clears it', pattern: `^${NOT_SPACE_OR_AT}+@${NOT_SPACE_OR_AT}+\\.${NOT_SPACE_OR_AT}+$` }),
  })
  .strict()
  .refine((b) => b.phone !== undefined || b.email !== undefined, { message: 'give phone, email or both' })
  .openapi('Contact', { minProperties: 1 });
export const BindPlatformAccountBody = z.object({ platform: z.enum(PLATFORMS), platformUserId: text(64) }).strict().openapi('BindPlatformAccount');
const quoteFen = z.number().int().min(MIN_QUOTE_FEN).max(MAX_QUOTE_FEN).openapi({ description: 'R-QUOTE: price of one customised piece, integer fen' });
export const OpenOfferBody = z.object({ taskType: z.enum(TASK_TYPE_IDS), quoteFen: quoteFen.optional() }).strict().openapi('OpenTaskType');
export const UpdateOfferBody = z
  .object({ quoteFen: quoteFen.optional(), accepting: z.boolean().optional().openapi({ description: 'R-ACCEPTING-SWITCH' }) })
  .strict()
  .refine((b) => b.quoteFen !== undefined || b.accepting !== undefined, { message: 'give quoteFen, accepting or both' })
  .openapi('UpdateOffer', { minProperties: 1 });
export const Offer = z
  .object({
    taskType: z.string(),
    platform: z.string(),
    quoteFen: z.number().int().nullable(),
    accepting: z.boolean(),
    discoverable: z.boolean(),
    missing: z.array(z.string()).openapi({ description: 'What keeps the offer from being found (R-DISCOVERABLE)' }),
    openedAt: z.string(),
  })
  .openapi('Offer');

const flag = z.enum(['true', 'false']).transform((v) => v === 'true');
const fen = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
export const PlazaQuery = z
  .object({
    platform: z.enum(PLATFORMS).optional(),
    taskType: z.enum(TASK_TYPE_IDS).optional(),
    minPriceFen: fen.optional(),
    maxPriceFen: fen.optional(),
    minFans: fen.optional(),
    minAveragePlays: fen.optional(),
    acceptingOnly: flag.optional(),
    sort: z.enum(['fans_desc', 'plays_desc', 'price_asc', 'price_desc', 'rating_desc']).default('fans_desc'),
    limit: z.coerce.number().int().min(1).max(50).default(20),
    cursor: z.string().max(300).optional(),
  })
  .strict();
export const PlazaItem = z
  .object({
    creatorId: z.string(),
    displayName: z.string(),
    taskType: z.string(),
    platform: z.string(),
    quoteFen: z.number().int(),
    accepting: z.boolean(),
    fans: z.number().int(),
    averageRecentPlays: z.number().int(),
    rating: z.object({ average: z.number().nullable(), count: z.number().int() }),
  })
  .openapi('PlazaItem');
export const PlazaPage = z.object({ items: z.array(PlazaItem), nextCursor: z.string().nullable() }).openapi('PlazaPage');
export const VirtualNumbersBody = z.object({ numbers: z.array(z.string().regex(/^\+?\d{6,20}$/)).min(1).max(1000) }).strict().openapi('VirtualNumbers');

export const RatingBody = z
  .object({ stars: z.number().int().min(1).max(5).openapi({ description: 'R-RATE: 1 to 5' }), comment: text(MAX_REASON_CHARS) })
  .strict()
  .openapi('Rating');
