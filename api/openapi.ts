/**
 * The OpenAPI 3.1 document, generated from the zod schemas the routes validate
 * with. Each operation says what its route really answers (api/openapiRoute.ts):
 * the statuses it can give (problem+json), its path parameters' patterns, its
 * Idempotency-Key (the server's pattern; required where the route requires
 * it) and whether its body is required. test/api/openapi-strict.test.ts checks
 * that every route of the Express app is here; `npm run test:fuzz`
 * (schemathesis) checks the server against it.
 *
 * The convention: every path of every process is registered here, one section
 * a process, and every schema comes from api/schemas.ts (its sections are in
 * the same order). This file declares no schema of its own; a registration
 * writes in place only an anonymous wrapper ({ items }, a page) or a small
 * one-off answer. The task actions come from api/tasks.ts TASK_ACTIONS, the
 * table that also mounts their routes.
 */
import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { json, routeRegistrar } from './openapiRoute.js';
import {
  Account,
  AmountBody,
  Appeal,
  AppealDecisionBody,
  EscrowReleaseBody,
  EscrowReleaseView,
  StrandedEscrowItem,
  StrandedEscrowQuery,
  AppealIdParam,
  AppealQueueQuery,
  BindPlatformAccountBody,
  BoundAccount,
  CalendarDay,
  CalendarDayBody,
  CalendarDayParam,
  CalendarQuery,
  Card,
  CardBody,
  ClientContactBody,
  ClientRating,
  ComplaintQueueItem,
  ComplaintQueueQuery,
  Contact,
  ContactBody,
  CreateTaskBody,
  CreatorIdParam,
  CreatorProfile,
  Credit,
  CreditQuery,
  EvidenceDocumentSchema,
  EvidenceLink,
  FileAppealBody,
  ListAppealsQuery,
  ListTasksQuery,
  McnBody,
  MetricsPoint,
  Offer,
  OpenOfferBody,
  OwnProfile,
  PaymentNotification,
  PlatformEventBody,
  PlatformSignatureHeaders,
  PlazaPage,
  PlazaQuery,
  QueuedAppeal,
  Rating,
  RatingBody,
  Readiness,
  ReviewQueueItem,
  ReviewQueueQuery,
  Session,
  SessionBody,
  SignUpBody,
  StatementQuery,
  TaskAnswer,
  TaskDetail,
  TaskEvent,
  TaskIdParam,
  TaskPage,
  TaskSummary,
  TaskType,
  TaskTypeParam,
  TopUpBody,
  TopUpIdParam,
  TopUpView,
  Transfer,
  UpdateOfferBody,
  VirtualNumbersBody,
  WithdrawalIdParam,
  time,
} from './schemas.js';
import { TASK_ACTIONS } from './tasks.js';

export function buildOpenApi(): object {
  const registry = new OpenAPIRegistry();
  const route = routeRegistrar(registry);

  // ------------------------------------------------------------ the service itself (public)
  route({ method: 'get', path: '/openapi.json', summary: 'This document', public: true, ok: { 200: json('The OpenAPI 3.1 document', z.record(z.string(), z.unknown())) }, problems: { 503: false } });
  route({
    method: 'get',
    path: '/docs',
    summary: 'This document as a page (Swagger UI, served from this API; no outside loads)',
    public: true,
    ok: { 200: { description: 'The HTML page', content: { 'text/html': { schema: z.string() } } } },
    problems: { 503: false },
  });
  route({
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics: requests by route template and status, problems by type, idempotent replays, business gauges',
    public: true,
    ok: { 200: { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: z.string() } } } },
    problems: { 401: 'STARMAP_METRICS_TOKEN is set and the request does not carry it as a bearer token', 503: false },
  });
  route({ method: 'get', path: '/livez', summary: 'Liveness: the process answers', public: true, ok: { 200: json('Alive', z.object({ ok: z.literal(true) })) }, problems: { 503: false } });
  for (const path of ['/readyz', '/healthz']) {
    route({
      method: 'get',
      path,
      summary: 'Readiness: PostgreSQL and Temporal answer within 2 s each',
      public: true,
      // readiness answers 503 with its checks (application/json), not a problem
      ok: { 200: json('Ready', Readiness), 503: json('Not ready (Retry-After): the failed check is false', Readiness) },
    });
  }

  // ------------------------------------------------------------ accounts (public) and the caller
  route({
    method: 'post',
    path: '/v1/accounts',
    summary: 'Sign up as a client, creator or MCN (argon2id-hashed password)',
    public: true,
    body: SignUpBody,
    ok: { 201: json('Account', Account) },
    problems: { 409: 'The login is taken (login-taken)', 429: 'Too many sign-ups from this address', 503: 'Too many password hashes queued (busy), or the database is away' },
  });
  route({
    method: 'post',
    path: '/v1/sessions',
    summary: 'Sign in: an access token (Bearer, 12 h)',
    public: true,
    body: SessionBody,
    ok: { 201: json('Session', Session) },
    problems: { 401: 'The login or the password is wrong', 429: 'Too many sign-in attempts from this address or for this login', 503: 'Too many password hashes queued (busy), or the database is away' },
  });
  route({ method: 'get', path: '/v1/me', summary: 'The signed-in account', ok: { 200: json('Account', Account) } });
  route({ method: 'get', path: '/v1/task-types', summary: 'The task-type catalogue: stages, publisher, rejection limits, retention bounds per type', ok: { 200: json('Every task type', z.object({ items: z.array(TaskType) })) } });

  // ------------------------------------------------------------ tasks
  route({
    method: 'post',
    path: '/v1/tasks',
    summary: 'Place an order with a designated creator (client)',
    idempotencyKey: 'required',
    body: CreateTaskBody,
    ok: { 201: json('Task ordered', TaskSummary.extend({ warnings: z.array(z.object({ code: z.string(), observationEndsAt: time })) })), 200: json('Replay of the same Idempotency-Key and body', TaskSummary) },
    problems: {
      403: true,
      409: "The creator's quote changed (quote-changed), or the creator is in observation and the order did not acknowledge it (observation-warning)",
      422: 'A rule refuses the order (not opened, not discoverable, not accepting, retention), insufficient funds, or the key was used with another body',
      503: 'Temporal unavailable: the order is kept; retry with the same key',
    },
  });
  route({
    method: 'get',
    path: '/v1/tasks',
    summary: "List tasks from the read model (a client's or creator's own; operators all)",
    query: ListTasksQuery,
    ok: { 200: json('A page, newest first', TaskPage) },
    problems: { 403: 'A client or creator asked for the tasks of another' },
  });
  route({ method: 'get', path: '/v1/tasks/{taskId}', summary: 'Read a task: the whole state', params: TaskIdParam, ok: { 200: json('The task', TaskDetail) }, problems: { 404: true } });
  route({
    method: 'get',
    path: '/v1/tasks/{taskId}/events',
    summary: "The task's history: every transition with actor, reason and time",
    params: TaskIdParam,
    ok: { 200: json('Events in order', z.object({ items: z.array(TaskEvent) })) },
    problems: { 404: true },
  });
  for (const a of TASK_ACTIONS) {
    route({
      method: 'post',
      path: `/v1/tasks/{taskId}/${a.path}`,
      summary: `${a.summary} [${a.roles.join(', ')}]`,
      params: TaskIdParam,
      idempotencyKey: 'optional',
      body: a.body,
      ok: { 200: json('The new task state', TaskAnswer) },
      problems: {
        403: true,
        404: true,
        409: 'The action does not fit the task state (taskStatus and code say why)',
        422: 'A rule refuses the action, or the Idempotency-Key was used with another body',
        503: 'Temporal unavailable; retry with the same key',
      },
    });
  }
  route({
    method: 'get',
    path: '/v1/tasks/{taskId}/metrics',
    summary: 'R-RATE: post-campaign data (plays, likes, comments, shares) as a time series, for the task parties',
    params: TaskIdParam,
    ok: { 200: json('Series', z.object({ taskId: z.string(), latest: MetricsPoint.nullable(), series: z.array(MetricsPoint) })) },
    problems: { 404: true },
  });
  // R-RATE, both ways (api/campaign.ts RATING_SIDES)
  for (const side of [
    { path: 'rating', schema: Rating, summary: 'R-RATE: the client rates the creator once after settlement (1-5 and a comment)', read: "The client's rating of the task's creator" },
    {
      path: 'client-rating',
      schema: ClientRating,
      summary: "R-RATE: the task's creator rates the client once after settlement (1-5 and a comment); the client's average is shown on the tasks creators are asked to accept",
      read: "The creator's rating of the task's client",
    },
  ]) {
    const path = `/v1/tasks/{taskId}/${side.path}`;
    route({ method: 'post', path, summary: side.summary, params: TaskIdParam, body: RatingBody, ok: { 201: json('Rated', side.schema) }, problems: { 403: true, 404: true, 409: 'Not settled yet (not-settled), or already rated (already-rated)' } });
    route({ method: 'get', path, summary: side.read, params: TaskIdParam, ok: { 200: json('Rating', side.schema) }, problems: { 404: 'No such task, not visible, or not rated' } });
  }

  // ------------------------------------------------------------ wallets and payments
  const keyed = { 409: 'The first request with this Idempotency-Key is still running (request-in-progress, Retry-After)', 422: 'Insufficient funds, a rule refusal, or the Idempotency-Key was used with another body' };
  route({
    method: 'get',
    path: '/v1/wallets/me',
    summary: "The caller's wallet (client, creator or MCN): balance in fen and whether it can withdraw",
    ok: { 200: json('Wallet', z.object({ accountId: z.string(), balanceFen: z.number().int(), canWithdraw: z.boolean() })) },
    problems: { 403: 'Operators have no wallet' },
  });
  route({
    method: 'get',
    path: '/v1/wallets/me/transfers',
    summary: "The wallet's statement, newest first, with the task of each transfer",
    query: StatementQuery,
    ok: { 200: json('A page of transfers', z.object({ items: z.array(Transfer), nextCursor: z.string().nullable() })) },
    problems: { 403: 'Operators have no wallet' },
  });
  route({
    method: 'post',
    path: '/v1/wallets/me/top-ups',
    summary: "Open a top-up of a client's wallet: the client pays at payUrl; the wallet is credited when the payment provider confirms",
    idempotencyKey: 'required',
    body: TopUpBody,
    ok: {
      201: json('Payment opened, nothing credited yet', TopUpView),
      200: json('A retry with the same key whose top-up has ended (expired unpaid, or settled): no new payment', TopUpView),
    },
    problems: { 403: true, ...keyed, 503: 'The database or the payment provider is unavailable; retry with the same key' },
  });
  route({
    method: 'get',
    path: '/v1/wallets/me/top-ups/{topUpId}',
    summary: "A top-up's status: pending, succeeded (credited) or failed",
    params: TopUpIdParam,
    ok: { 200: json('Top-up', TopUpView) },
    problems: { 403: true, 404: true },
  });
  route({
    method: 'post',
    path: '/v1/payments/notifications',
    summary: "The payment provider's signed notification of a top-up's outcome (provider-to-Starmap; idempotent by the provider's payment id)",
    public: true,
    body: PaymentNotification,
    ok: { 200: json('Recorded (credited once on success)', z.object({ topUpId: z.string(), status: z.enum(['pending', 'succeeded', 'failed']), credited: z.boolean() })) },
    problems: { 401: "The provider's signature is missing or does not match", 404: 'No such top-up', 409: 'The notification does not match the top-up (amount, payment or outcome)' },
  });
  route({
    method: 'post',
    path: '/v1/wallets/me/withdrawals',
    summary: 'Withdraw to the bank (creators without MCN and MCNs; an MCN creator only what reached its own wallet before it joined); the amount is held while the payout runs',
    idempotencyKey: 'required',
    body: AmountBody,
    ok: { 202: json('Withdrawal started', z.object({ withdrawalId: z.string(), amountFen: z.number().int(), status: z.literal('pending') })) },
    problems: { 403: true, ...keyed, 503: 'The database or Temporal is unavailable: the withdrawal is kept (withdrawalId); retry with the same key' },
  });
  route({
    method: 'get',
    path: '/v1/wallets/me/withdrawals/{withdrawalId}',
    summary: "A withdrawal's status: pending, paid or failed (money returned)",
    params: WithdrawalIdParam,
    ok: {
      200: json(
        'Withdrawal',
        z.object({ withdrawalId: z.string(), amountFen: z.number().int(), status: z.enum(['pending', 'paid', 'failed']), providerReference: z.string().nullable(), failureReason: z.string().nullable() }),
      ),
    },
    problems: { 403: true, 404: true },
  });

  // ------------------------------------------------------------ the content platform (public, signed)
  route({
    method: 'post',
    path: '/v1/platform/events',
    summary: 'Content platform callback (HMAC-signed: X-Starmap-Timestamp, X-Starmap-Signature)',
    public: true,
    headers: PlatformSignatureHeaders,
    body: PlatformEventBody,
    ok: { 202: json('Accepted', z.object({ accepted: z.literal(true) })) },
    problems: { 401: 'Bad, missing or stale signature', 404: 'No such task', 409: 'The task is closed' },
  });

  // ------------------------------------------------------------ creators, plaza, MCN
  route({ method: 'get', path: '/v1/creators/me', summary: "The creator's own profile: contact, bound accounts, offers and what keeps each from being found", ok: { 200: json('Profile', OwnProfile) }, problems: { 403: true } });
  route({
    method: 'put',
    path: '/v1/creators/me/contact',
    summary: 'R-CONTACT: phone and email (both needed to be found)',
    body: ContactBody,
    ok: { 200: json('Contact', Contact) },
    problems: { 403: true },
  });
  route({
    method: 'post',
    path: '/v1/creators/me/platform-accounts',
    summary: 'R-OPEN-APPLY: bind a Douyin, Xigua or Toutiao account (one per platform); metrics come from the platform',
    body: BindPlatformAccountBody,
    ok: { 201: json('Bound', BoundAccount) },
    problems: { 403: true, 409: 'A platform account is bound already, or the account is bound to another creator', 422: 'The platform has no such account', 503: 'The content platform did not answer' },
  });
  route({
    method: 'post',
    path: '/v1/creators/me/offers',
    summary: 'R-OPEN-APPLY / R-OPEN-XIGUA: apply to open a task type; 422 not-eligible lists every unmet condition (actual and required)',
    body: OpenOfferBody,
    ok: { 201: json('Opened', Offer) },
    problems: { 403: true, 409: 'The task type is open already', 422: 'Not eligible (not-eligible: every unmet condition)', 503: 'The content platform did not answer' },
  });
  route({
    method: 'patch',
    path: '/v1/creators/me/offers/{taskType}',
    summary: 'R-QUOTE, R-ACCEPTING-SWITCH: set the quote or switch accepting on/off',
    params: TaskTypeParam,
    body: UpdateOfferBody,
    ok: { 200: json('Offer', Offer) },
    problems: { 403: true, 409: 'The task type is not open (task-type-not-opened)', 422: true },
  });
  route({ method: 'get', path: '/v1/plaza/creators', summary: 'R-DESIGNATED: the creator plaza: discoverable offers by platform, task type, price, fans, plays; sorted; cursor pages', query: PlazaQuery, ok: { 200: json('A page', PlazaPage) } });
  route({ method: 'get', path: '/v1/creators/{creatorId}', summary: "A creator's public profile (never its contact details)", params: CreatorIdParam, ok: { 200: json('Profile', CreatorProfile) }, problems: { 404: true } });
  route({
    method: 'get',
    path: '/v1/creators/{creatorId}/contact',
    summary: 'R-CONTACT: a virtual number for a client that ordered from the creator; the real contact for the creator, its MCN and operators',
    params: CreatorIdParam,
    ok: { 200: json('Contact', z.union([Contact.extend({ creatorId: z.string() }), z.object({ creatorId: z.string(), virtualNumber: z.string() })])) },
    problems: { 403: 'A client without a task with the creator', 404: true, 409: 'The creator has no phone number', 503: 'No virtual number is free, or telephony is unavailable' },
  });
  route({
    method: 'put',
    path: '/v1/clients/me/contact',
    summary: "R-CONTACT-CLIENT: the client's phone; creators of its accepted tasks reach it only through a virtual number",
    body: ClientContactBody,
    ok: { 200: json('Contact', z.object({ clientId: z.string(), phone: z.string().nullable() })) },
    problems: { 403: true },
  });
  route({
    method: 'get',
    path: '/v1/tasks/{taskId}/client-contact',
    summary: "R-CONTACT-CLIENT: the task's creator gets the pair's virtual number to the client, from acceptance until 30 days after the task closed",
    params: TaskIdParam,
    ok: { 200: json('Virtual number', z.object({ taskId: z.string(), virtualNumber: z.string() })) },
    problems: { 403: true, 404: true, 409: 'Not accepted yet, closed more than 30 days ago, or the client has no phone', 503: 'No virtual number is free, or telephony is unavailable' },
  });
  route({
    method: 'get',
    path: '/v1/mcn/creators',
    summary: "An MCN's creators and their offers",
    ok: { 200: json('Creators', z.object({ items: z.array(z.object({ creatorId: z.string(), displayName: z.string(), since: time, offers: z.array(Offer) })) })) },
    problems: { 403: true },
  });
  route({
    method: 'put',
    path: '/v1/creators/{creatorId}/mcn',
    summary: 'Set or clear the MCN that manages a creator (operators); its payouts then go to the MCN',
    params: CreatorIdParam,
    body: McnBody,
    ok: { 200: json('Saved', z.object({ creatorId: z.string(), mcnId: z.string().nullable() })) },
    problems: { 403: true, 404: true, 422: 'No such MCN (mcn-not-found)' },
  });
  route({
    method: 'post',
    path: '/v1/operator/virtual-numbers',
    summary: 'Add numbers to the virtual-number pool (operators)',
    body: VirtualNumbersBody,
    ok: { 201: json('Added', z.object({ added: z.number().int() })) },
    problems: { 403: true },
  });


  // ------------------------------------------------------------ credit, cards, operator queues
  const creditHidden = 'No such creator, or not visible to the caller (only the creator, its MCN and operators see it)';
  route({
    method: 'get',
    path: '/v1/creators/{creatorId}/credit',
    summary: "R-CREDIT: a creator's credit score, observation period and history of changes, newest first (the creator, its MCN, operators)",
    params: CreatorIdParam,
    query: CreditQuery,
    ok: { 200: json('Score and a page of history', Credit) },
    problems: { 404: creditHidden },
  });
  route({
    method: 'get',
    path: '/v1/creators/{creatorId}/cards',
    summary: "R-CARDS: a creator's red and yellow cards with their observation periods, newest first (the creator, its MCN, operators)",
    params: CreatorIdParam,
    ok: { 200: json('Cards', z.object({ items: z.array(Card) })) },
    problems: { 404: creditHidden },
  });
  route({
    method: 'post',
    path: '/v1/creators/{creatorId}/cards',
    summary:
      'R-CARDS: give a red or yellow card with an observation period and optional points (operators; Idempotency-Key required); restarts running observations (R-OBSERVATION-RESTART)',
    params: CreatorIdParam,
    idempotencyKey: 'required',
    body: CardBody,
    ok: { 201: json('Card given', z.object({ card: Card, restartedObservations: z.number().int(), score: z.number().int() })) },
    problems: {
      403: 'Operators only',
      404: 'No such creator',
      409: 'The first request with this Idempotency-Key is still running (Retry-After)',
      422: "The task is not the creator's, or the Idempotency-Key was used with another body",
    },
  });
  route({
    method: 'get',
    path: '/v1/operator/queues/reviews',
    summary: 'Scripts and content awaiting operator review, longest waiting first (operators)',
    query: ReviewQueueQuery,
    ok: { 200: json('A page', z.object({ items: z.array(ReviewQueueItem), nextCursor: z.string().nullable() })) },
    problems: { 403: 'Operators only' },
  });
  route({
    method: 'get',
    path: '/v1/operator/queues/complaints',
    summary: 'Tasks with an open client complaint (R-COMPLAINT), oldest complaint first (operators)',
    query: ComplaintQueueQuery,
    ok: { 200: json('A page', z.object({ items: z.array(ComplaintQueueItem), nextCursor: z.string().nullable() })) },
    problems: { 403: 'Operators only' },
  });

  route({
    method: 'get',
    path: '/v1/operator/escrows/stranded',
    summary: 'Every fen lands: escrows of settled or closed tasks that still hold money (a settlement the ledger refused), by task id (operators)',
    query: StrandedEscrowQuery,
    ok: { 200: json('A page', z.object({ items: z.array(StrandedEscrowItem), nextCursor: z.string().nullable() })) },
    problems: { 403: 'Operators only' },
  });
  route({
    method: 'post',
    path: '/v1/operator/escrows/{taskId}/release',
    summary:
      "Release a stranded escrow once the ledger's data is right: the task's own settlement (refund and payout as it decided them), once; the same operator and note again answers the first release (Idempotent-Replayed)",
    params: TaskIdParam,
    body: EscrowReleaseBody,
    ok: { 201: json('Released: the money moved', EscrowReleaseView), 200: json('The same release, answered again', EscrowReleaseView) },
    problems: {
      403: 'Operators only',
      404: 'No such task',
      409: 'Nothing to release (not-settled, nothing-held), already released with another note (already-released), or the ledger refuses the settlement again (ledger-refused): nothing moved',
    },
  });

  // ------------------------------------------------------------ appeals, the working-day calendar
  const operators = { 403: 'Operators only' } as const;
  route({
    method: 'post',
    path: '/v1/appeals',
    summary: 'Appeal one of your deductions (creators; R-APPEAL-48WH: answered within 48 working hours)',
    idempotencyKey: 'optional',
    body: FileAppealBody,
    ok: { 201: json('Filed; dueAt is 48 hours later counted on working days', Appeal) },
    problems: {
      400: 'Invalid request, or no such credit event of this creator',
      403: 'Creators only',
      404: 'No such deduction of the caller',
      409: 'The deduction has already been appealed (appealId says which), or the first request with this key is still running',
      422: 'Not a deduction, or the Idempotency-Key was used with another body',
      503: 'Temporal unavailable: the appeal is kept',
    },
  });
  route({
    method: 'get',
    path: '/v1/appeals',
    summary: "Appeals, newest first: a creator's own; operators all",
    query: ListAppealsQuery,
    ok: { 200: json('A page', z.object({ items: z.array(Appeal), nextCursor: z.string().nullable() })) },
    problems: { 403: 'Creators and operators only; a creator lists its own appeals only' },
  });
  route({
    method: 'get',
    path: '/v1/appeals/{appealId}',
    summary: 'One appeal (its creator, operators)',
    params: AppealIdParam,
    ok: { 200: json('The appeal', Appeal) },
    problems: { 403: 'Creators and operators only', 404: 'No such appeal, or not visible to the caller' },
  });
  route({
    method: 'post',
    path: '/v1/appeals/{appealId}/decision',
    summary: 'Decide an appeal (operators): upheld restores the points, rejected keeps the deduction',
    params: AppealIdParam,
    idempotencyKey: 'optional',
    body: AppealDecisionBody,
    ok: { 200: json('The decided appeal', Appeal) },
    problems: { ...operators, 404: 'No such appeal', 409: 'Already decided', 422: 'A rule refuses the decision', 503: true },
  });
  route({
    method: 'get',
    path: '/v1/operator/appeals',
    summary: 'Operators: open and escalated appeals, closest deadline first, with the working time left',
    query: AppealQueueQuery,
    ok: { 200: json('The queue', z.object({ items: z.array(QueuedAppeal) })) },
    problems: operators,
  });
  route({
    method: 'get',
    path: '/v1/operator/calendar',
    summary: "Operators: a year's holidays and make-up working days (built-in and entered)",
    query: CalendarQuery,
    ok: { 200: json('The calendar', z.object({ year: z.number().int(), zone: z.string(), hasData: z.boolean(), items: z.array(CalendarDay) })) },
    problems: operators,
  });
  route({
    method: 'put',
    path: '/v1/operator/calendar/{day}',
    summary: 'Operators: set a holiday or a make-up working day (applies to appeals filed afterwards)',
    params: CalendarDayParam,
    body: CalendarDayBody,
    ok: { 200: json('Saved', CalendarDay) },
    problems: { ...operators, 422: 'The calendar rules refuse it (e.g. a make-up working day on a weekday)' },
  });
  route({
    method: 'delete',
    path: '/v1/operator/calendar/{day}',
    summary: "Operators: remove a date's database entry (the built-in entry, if any, applies again)",
    params: CalendarDayParam,
    ok: { 204: { description: 'Removed' } },
    problems: { ...operators, 404: 'No database entry of that date' },
  });

  // ------------------------------------------------------------ evidence
  const digestHeaders = {
    'X-Evidence-SHA256': { description: 'SHA-256 (hex) of the JSON document', schema: { type: 'string' as const, pattern: '^[0-9a-f]{64}$' } },
    'X-Evidence-Generated-At': { description: 'When this answer was made (not part of the document, so not of its digest)', schema: { type: 'string' as const } },
  };
  const evidenceHidden = 'No such task, or not visible to the caller (only its client, its creator, the creator\'s MCN and operators)';
  route({
    method: 'get',
    path: '/v1/tasks/{taskId}/evidence',
    summary:
      "R-EVIDENCE: the task's dispute evidence bundle as one JSON document (RFC 8785 canonical bytes): submissions with their body, reviews and decisions with actor and reason, publications, platform events, complaints, ledger transfers, credit changes and appeals, in time order",
    params: TaskIdParam,
    ok: {
      200: {
        ...json('The bundle; the same record always gives the same bytes', EvidenceDocumentSchema),
        headers: {
          'Repr-Digest': { description: 'RFC 9530: sha-256=:<base64 of the SHA-256 of the body>:', schema: { type: 'string', pattern: '^sha-256=:[A-Za-z0-9+/]{43}=:$' } },
          ...digestHeaders,
        },
      },
    },
    problems: { 404: evidenceHidden },
  });
  route({
    method: 'get',
    path: '/v1/tasks/{taskId}/evidence-link',
    summary: 'R-EVIDENCE: a link (relative to the API) that opens the printable evidence page without a bearer token; valid 5 minutes, for this task and this caller only',
    params: TaskIdParam,
    ok: { 200: json('The link', EvidenceLink) },
    problems: { 404: evidenceHidden },
  });
  route({
    method: 'get',
    path: '/v1/tasks/{taskId}/evidence.html',
    summary: "R-EVIDENCE: the printable evidence page (zh-CN, no script, no external asset) with the JSON document's SHA-256 and the document itself; a bearer token or the link's token",
    params: TaskIdParam,
    linkToken: true,
    ok: { 200: { description: 'The page', headers: digestHeaders, content: { 'text/html': { schema: z.string() } } } },
    problems: { 400: 'The task id is malformed, or the link token is given twice (invalid-link-token)', 401: 'No bearer token and no link token, or the link token is not valid, expired, is for another task, or its account is gone', 404: evidenceHidden },
  });

  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: { title: 'Starmap API', version: '0.1.0', description: 'Creator-marketing tasks (Xingtu style). Errors are application/problem+json.' },
    servers: [{ url: '/' }],
  });
}
