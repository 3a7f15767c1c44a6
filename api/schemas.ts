/**
 * Every zod schema of the API, one section a process, in the order of the
 * document (api/openapi.ts): the service itself and the task-type catalogue,
 * accounts, tasks, after the campaign (metrics and ratings), wallets and
 * payments, the content platform, creators (plaza, contact, MCN), credit (cards
 * and the operator queues), appeals (and the working-day calendar), evidence.
 *
 * The convention: a route file (api/tasks.ts, api/appeals.ts, ...) declares no
 * schema; it imports the ones it validates with from here. api/openapi.ts
 * declares no schema either: it registers every path, with the schemas from
 * here, and writes in a registration only an anonymous wrapper ({ items }, a
 * page) or a small one-off answer. A request schema (path, query, header, body)
 * and every named response (an OpenAPI component) live here, so the route and
 * the document use the very same schema: one source. (api/openapiRoute.ts, the
 * registrar, adds the answers every operation shares: Problem, IdempotencyKey.)
 */
import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import {
  CARD_COLORS,
  COMPLAINT_OUTCOMES,
  MAX_CARD_POINTS,
  MAX_OBSERVATION_DAYS,
  MIN_OBSERVATION_DAYS,
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
import { ENTRY_KINDS, EVIDENCE_FORMAT } from './evidenceBundle.js';
import { IDEMPOTENCY_KEY_PATTERN } from './idempotency.js';
import { ID_PATTERN, TASK_ID_PATTERN } from './ids.js';
import { MIN_PASSWORD_CHARS } from './passwords.js';

extendZodWithOpenApi(z);

// ---------------------------------------------------------------- shared

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
/** A time as the API writes it. */
export const time = z.string().openapi({ description: 'ISO 8601' });
/** The Idempotency-Key header as the server checks it (api/idempotency.ts); api/openapiRoute.ts puts it on every operation that takes one. */
export const IdempotencyKey = z
  .string()
  .regex(IDEMPOTENCY_KEY_PATTERN)
  .openapi({ description: '8-128 characters: letters, digits, _.:-; the same key and body replay the first answer' });
/** Every refusal: application/problem+json (api/problems.ts). */
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

// ---------------------------------------------------------------- the service itself, the task-type catalogue

export const Readiness = z.object({ ok: z.boolean(), checks: z.object({ postgres: z.boolean(), temporal: z.boolean() }) });
const typeStage = z.object({ kind: z.string(), label: z.string(), clientRejectionLimit: z.number().int().nullable() });
export const TaskType = z
  .object({
    id: z.string(),
    platform: z.string(),
    name: z.string(),
    nameZh: z.string(),
    draft: typeStage.nullable(),
    content: typeStage,
    publisher: z.enum(['creator', 'client']),
    stages: z.array(z.string()),
    retention: z.object({ presets: z.array(z.number().int()), default: z.number().int(), min: z.number().int(), max: z.number().int() }),
  })
  .catchall(z.unknown())
  .openapi('TaskType');

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

// ---------------------------------------------------------------- tasks

export const TaskIdParam = z.object({ taskId: z.string().regex(TASK_ID_PATTERN, 'a task id').openapi({ example: 'tsk_0b6f1c9e-3c36-4c4e-9a55-2f1d8f1e6a11' }) });

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

// ------------------------------------------------ tasks: the task state (domain/taskState.ts TaskState)

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
    fixes: z.number().int().optional().openapi({ description: 'Corrections of the rules the task runs under (absent: none; 1: see README "Choices", the rules corrected in session 18)' }),
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

// ---------------------------------------------------------------- after the campaign: metrics, ratings (api/campaign.ts)

export const MetricsPoint = z.object({
  at: time,
  plays: z.number().int(),
  likes: z.number().int(),
  comments: z.number().int(),
  shares: z.number().int(),
  itemId: z.string(),
  source: z.enum(['collected', 'platform_callback']),
});
export const RatingBody = z
  .object({ stars: z.number().int().min(1).max(5).openapi({ description: 'R-RATE: 1 to 5' }), comment: text(MAX_REASON_CHARS) })
  .strict()
  .openapi('Rating');
export const Rating = z.object({ taskId: z.string(), creatorId: z.string(), stars: z.number().int(), comment: z.string(), ratedAt: time }).openapi('TaskRating');
export const ClientRating = z.object({ taskId: z.string(), clientId: z.string(), stars: z.number().int(), comment: z.string(), ratedAt: time }).openapi('ClientRating');

// ---------------------------------------------------------------- wallets and payments

export const AmountBody = z.object({ amountFen: z.number().int().positive().max(Number.MAX_SAFE_INTEGER) }).strict().openapi('Amount');
export const TopUpBody = z.object({ amountFen: z.number().int().positive().max(MAX_TOP_UP_FEN) }).strict().openapi('TopUpRequest');
export const StatementQuery = z
  .object({ limit: z.coerce.number().int().min(1).max(100).default(20), cursor: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional().openapi({ description: 'nextCursor of the previous page' }) })
  .strict();
export const TopUpIdParam = z.object({ topUpId: AccountId.openapi({ description: 'A top-up id (tu_...)' }) });
export const WithdrawalIdParam = z.object({ withdrawalId: AccountId.openapi({ description: 'A withdrawal id (wd_...)' }) });
export const TopUpView = z
  .object({
    topUpId: z.string(),
    amountFen: z.number().int(),
    status: z.enum(['pending', 'succeeded', 'failed']),
    payUrl: z.string().optional(),
    failureReason: z.string().nullable(),
    createdAt: time,
    settledAt: time.nullable(),
  })
  .openapi('TopUp');
export const Transfer = z
  .object({
    id: z.string(),
    kind: z.string(),
    direction: z.enum(['in', 'out']),
    amountFen: z.number().int(),
    counterparty: z.string(),
    taskId: z.string().nullable(),
    withdrawalId: z.string().nullable(),
    at: time,
  })
  .openapi('Transfer');
/** What the payment provider notifies (adapters/payments.ts PaymentNotification); its signature header is the provider's. */
export const PaymentNotification = z
  .object({ providerPaymentId: z.string(), reference: z.string(), amountFen: z.number().int(), status: z.enum(['succeeded', 'failed']), reason: z.string().optional() })
  .openapi('PaymentNotification');

// ---------------------------------------------------------------- the content platform (api/platform.ts)

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
/** The callback's signature headers (the route checks them itself: api/platform.ts). */
export const PlatformSignatureHeaders = z.object({
  'x-starmap-timestamp': z.string().regex(/^\d{1,12}$/).openapi({ description: 'Unix seconds, within 5 minutes of now' }),
  'x-starmap-signature': z.string().regex(/^v1=[0-9a-f]{64}$/).openapi({ description: 'v1=<hex HMAC-SHA256 of `${timestamp}.${raw body}`>' }),
});

// ---------------------------------------------------------------- creators, plaza, MCN

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
export const McnBody = z.object({ mcnId: id.nullable() }).strict().openapi('McnMembership');
export const Contact = z.object({ phone: z.string().nullable(), email: z.string().nullable() }).openapi('ContactDetails');
export const BoundAccount = z
  .object({
    id: z.string(),
    platform: z.string(),
    platformUserId: z.string(),
    nickname: z.string(),
    fans: z.number().int(),
    originalPermission: z.boolean(),
    averageRecentPlays: z.number().int(),
  })
  .openapi('PlatformAccount');
const rating = z.object({ average: z.number().nullable(), count: z.number().int() });
export const CreatorProfile = z
  .object({
    creatorId: z.string(),
    displayName: z.string(),
    platformAccounts: z.array(BoundAccount.pick({ platform: true, nickname: true, fans: true, originalPermission: true, averageRecentPlays: true })),
    offers: z.array(Offer.extend({ rating })),
  })
  .openapi('CreatorProfile');
export const OwnProfile = z
  .object({
    creatorId: z.string(),
    contact: Contact,
    mcnId: z.string().nullable(),
    platformAccounts: z.array(BoundAccount.extend({ metricsAt: time })),
    offers: z.array(Offer),
  })
  .openapi('OwnCreatorProfile');

// ---------------------------------------------------------------- credit, cards, operator queues (api/credit.ts)

export const CardBody = z
  .object({
    color: z.enum(CARD_COLORS).openapi({ description: 'R-CARDS: red = direct harm to the client or the platform; yellow = a violation without direct harm' }),
    reason: text(MAX_REASON_CHARS),
    observationDays: z
      .number()
      .int()
      .min(MIN_OBSERVATION_DAYS)
      .max(MAX_OBSERVATION_DAYS)
      .openapi({
        description: 'Length of the observation period in natural days, counted from now; a later violation during it restarts it (R-OBSERVATION-RESTART)',
      }),
    points: z.number().int().min(0).max(MAX_CARD_POINTS).optional().openapi({ description: 'R-CREDIT: credit points the card deducts; default 0' }),
    taskId: TaskIdParam.shape.taskId.optional().openapi({ description: "The creator's task the violation happened on" }),
  })
  .strict()
  .openapi('IssueCard');

export const Card = z
  .object({
    id: z.string(),
    creatorId: z.string(),
    color: z.enum(CARD_COLORS),
    reason: z.string(),
    observationDays: z.number().int(),
    points: z.number().int(),
    issuedBy: z.string(),
    issuedAt: z.string(),
    lastViolationAt: z.string().openapi({ description: 'The violation the observation currently counts from' }),
    observationEndsAt: z.string(),
    inObservation: z.boolean(),
  })
  .openapi('Card');

const CreditEvent = z
  .object({
    id: z.number().int(),
    cause: z.enum(['retention_violation', 'card', 'appeal_upheld']),
    delta: z.number().int(),
    reason: z.string(),
    actor: z.object({ role: z.string(), id: z.string() }),
    taskId: z.string().nullable(),
    cardId: z.string().nullable(),
    appealId: z.string().nullable(),
    occurredAt: z.string(),
    recordedAt: z.string(),
  })
  .openapi('CreditEvent');

export const Credit = z
  .object({
    creatorId: z.string(),
    score: z.number().int(),
    initial: z.number().int().openapi({ description: 'Every creator starts here (design: 100); score = initial + the sum of the deltas' }),
    observation: z.object({ inObservation: z.boolean(), endsAt: z.string().nullable() }),
    history: z.object({ items: z.array(CreditEvent), nextCursor: z.string().nullable() }).openapi({ description: 'Newest first' }),
  })
  .openapi('Credit');

export const CreditQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: z
      .string()
      .regex(/^[1-9]\d{0,15}$/, 'nextCursor of the previous page')
      .transform(Number)
      .optional(),
  })
  .strict();

const queueQuery = {
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().max(300).optional().openapi({ description: 'nextCursor of the previous page' }),
};
export const ReviewQueueQuery = z.object({ stage: z.enum(['script', 'content']).optional(), ...queueQuery }).strict();
export const ComplaintQueueQuery = z.object(queueQuery).strict();

export const StrandedEscrowQuery = z.object(queueQuery).strict();
export const StrandedEscrowItem = z
  .object({
    taskId: z.string(),
    status: z.string(),
    closedAt: z.string().nullable(),
    balanceFen: z.number().int().openapi({ description: 'What the escrow holds now' }),
    heldFen: z.number().int().openapi({ description: 'What the order put in it (the price)' }),
    settlement: z
      .object({ refundFen: z.number().int(), payoutFen: z.number().int(), at: z.string() })
      .nullable()
      .openapi({ description: "The task's own settlement, which a release applies; null: closed without one (nothing to release)" }),
    refusal: z.string().nullable().openapi({ description: "The ledger's refusal as the task recorded it (effect_failed)" }),
  })
  .openapi('StrandedEscrow');
export const EscrowReleaseBody = z
  .object({ note: text(MAX_REASON_CHARS).openapi({ description: 'What was put right in the ledger, and why the money may move now (audit)' }) })
  .strict()
  .openapi('EscrowReleaseRequest');
export const EscrowReleaseView = z
  .object({
    taskId: z.string(),
    refundFen: z.number().int(),
    payoutFen: z.number().int(),
    payoutAccount: z.string().nullable(),
    releasedBy: z.string(),
    note: z.string(),
    releasedAt: z.string(),
  })
  .openapi('EscrowRelease');

export const ReviewQueueItem = z
  .object({
    taskId: z.string(),
    taskType: z.string(),
    stage: z.enum(['script', 'content']),
    status: z.string(),
    clientId: z.string(),
    creatorId: z.string(),
    revision: z.number().int().nullable(),
    operatorRejections: z.number().int().nullable(),
    submittedAt: z.string().nullable(),
    since: z.string().openapi({ description: 'When the task entered review (the read model last changed)' }),
  })
  .openapi('ReviewQueueItem');
export const ComplaintQueueItem = z
  .object({
    taskId: z.string(),
    taskType: z.string(),
    status: z.string(),
    clientId: z.string(),
    creatorId: z.string(),
    reason: z.string(),
    openedAt: z.string(),
    complaintsFiled: z.number().int().nullable(),
  })
  .openapi('ComplaintQueueItem');

// ---------------------------------------------------------------- appeals, the working-day calendar (api/appeals.ts)

export const AppealIdParam = z.object({
  appealId: z
    .string()
    .regex(/^apl_[0-9a-f-]{36}$/, 'an appeal id')
    .openapi({ example: 'apl_019a4b2c-7d1e-7f00-8a55-2f1d8f1e6a11' }),
});
export const FileAppealBody = z
  .object({
    creditEventId: z
      .number()
      .int()
      .positive()
      .max(Number.MAX_SAFE_INTEGER)
      .openapi({ description: 'The deduction (a credit event with a negative delta) appealed' }),
    reason: text(MAX_REASON_CHARS).openapi({ description: 'Why the deduction is wrong, e.g. force majeure' }),
  })
  .strict()
  .openapi('FileAppeal');
export const AppealDecisionBody = z
  .object({ outcome: z.enum(['upheld', 'rejected']).openapi({ description: 'upheld restores the points' }), note: text(MAX_REASON_CHARS) })
  .strict()
  .openapi('AppealDecision');
export const ListAppealsQuery = z
  .object({
    status: z.enum(['open', 'escalated', 'upheld', 'rejected']).optional(),
    creatorId: AccountId.optional().openapi({ description: "Operators: one creator's appeals; a creator may only give its own id" }),
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: AppealIdParam.shape.appealId.optional().openapi({ description: 'nextCursor of the previous page' }),
  })
  .strict();
export const AppealQueueQuery = z
  .object({
    dueWithinHours: z.coerce
      .number()
      .min(0)
      .max(24 * 366)
      .optional()
      .openapi({ description: 'Only appeals due within this many (wall-clock) hours; overdue ones always included' }),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .strict();
export const CalendarQuery = z
  .object({ year: z.coerce.number().int().min(1970).max(9999).optional().openapi({ description: 'Default: the current year (Asia/Shanghai)' }) })
  .strict();
/** A calendar date (YYYY-MM-DD, a day that exists: the document says format date). */
export const CalendarDayParam = z.object({ day: z.iso.date().openapi({ example: '2027-01-01' }) });
export const CalendarDayBody = z
  .object({
    kind: z.enum(['holiday', 'workday']).openapi({ description: 'holiday: a day off; workday: a make-up working day (调休), on a Saturday or Sunday only' }),
    name: text(100).openapi({ example: '元旦' }),
  })
  .strict()
  .openapi('CalendarDayEntry');

export const Appeal = z
  .object({
    id: z.string(),
    creatorId: z.string(),
    creditEventId: z.number().int(),
    points: z.number().int(),
    reason: z.string(),
    status: z.enum(['open', 'escalated', 'upheld', 'rejected']),
    filedAt: z.string(),
    dueAt: z.string().openapi({ description: 'filedAt + 48 hours counted on working days (Asia/Shanghai calendar)' }),
    escalatedAt: z.string().nullable(),
    decidedAt: z.string().nullable(),
    decidedBy: z.string().nullable(),
    decisionNote: z.string().nullable(),
  })
  .openapi('Appeal');
export const QueuedAppeal = Appeal.extend({
  workingTimeLeftMs: z.number().int().openapi({ description: 'Working-day time left until dueAt (0 when overdue)' }),
  overdue: z.boolean(),
}).openapi('QueuedAppeal');
export const CalendarDay = z
  .object({
    day: z.string(),
    kind: z.enum(['holiday', 'workday']),
    name: z.string(),
    source: z.string(),
    origin: z
      .enum(['built-in', 'database'])
      .openapi({ description: 'built-in: official data shipped with the code; database: entered by operators (overrides)' }),
  })
  .openapi('CalendarDay');

// ---------------------------------------------------------------- evidence (api/evidence.ts, api/evidenceBundle.ts)

/** `?token=`: any value is a credential to check (a malformed one is a 401, as a bad bearer token is); given twice, a 400. */
export const EvidencePageQuery = z.object({ token: z.string().optional() });
const evidenceTime = z.string().openapi({ description: 'ISO 8601, UTC, milliseconds' });
const party = z.object({ id: z.string(), displayName: z.string().nullable() });
const evidenceActor = z.object({ role: z.string(), id: z.string() });
export const EvidenceEntrySchema = z
  .object({
    kind: z.enum(ENTRY_KINDS),
    at: evidenceTime,
    actor: evidenceActor.nullable().openapi({ description: 'Who did it, where known (null for ledger transfers)' }),
    source: z.string().openapi({ description: 'Where it is recorded: task_events#<seq>, ledger_transfers#<id>, credit_events#<id>, appeals#<id>' }),
    data: z.record(z.string(), z.unknown()).openapi({
      description:
        'Task events: {event, seq, reason, payload} (a submission\'s payload holds stage, revision and body); transfers: {transferId, transferKind, fromAccount, toAccount, amountFen}; credit changes: {creditEventId, creatorId, delta, cause, reason, taskId, cardId, appealId}; appeals: {appealId, creditEventId, step: filed|escalated|decided, ...}',
    }),
  })
  .openapi('EvidenceEntry');
export const EvidenceDocumentSchema = z
  .object({
    format: z.literal(EVIDENCE_FORMAT),
    task: z.object({
      id: z.string(),
      type: z.string(),
      typeNameZh: z.string().nullable(),
      status: z.string(),
      closeReason: z.string().nullable(),
      brief: z.string(),
      priceFen: z.number().int(),
      retentionDays: z.number().int(),
      scriptRequired: z.boolean(),
      orderedAt: evidenceTime,
      closedAt: evidenceTime.nullable(),
      client: party,
      creator: party,
      mcn: party.nullable(),
      payoutAccount: z.string().nullable(),
    }),
    money: z.object({ heldFen: z.number().int(), refundedFen: z.number().int(), paidOutFen: z.number().int(), inEscrowFen: z.number().int() }),
    asOf: evidenceTime.openapi({ description: 'The time of the latest entry' }),
    entries: z.array(EvidenceEntrySchema).openapi({ description: 'Everything recorded about the task, in time order' }),
  })
  .openapi('EvidenceBundle');
export const EvidenceLink = z.object({ url: z.string(), expiresAt: evidenceTime });
