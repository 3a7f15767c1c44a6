/** The OpenAPI 3.1 document, generated from the zod schemas the routes validate with. */
import { OpenAPIRegistry, OpenApiGeneratorV31, type ResponseConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { registerAppealPaths } from './appeals.js';
import { registerCreditPaths } from './credit.js';
import { TASK_ACTIONS } from './tasks.js';
import {
  Account,
  BindPlatformAccountBody,
  ContactBody,
  Offer,
  OpenOfferBody,
  PlazaPage,
  PlazaQuery,
  RatingBody,
  Session,
  SessionBody,
  SignUpBody,
  TaskTypeParam,
  UpdateOfferBody,
  VirtualNumbersBody,
  AmountBody,
  TopUpBody,
  CreateTaskBody, ListTasksQuery, McnBody, StatementQuery, PlatformEventBody, Problem, TaskDetail, TaskIdParam, TaskPage, TaskSummary } from './schemas.js';

const problem = (description: string): ResponseConfig => ({ description, content: { 'application/problem+json': { schema: Problem } } });
const errors = {
  400: problem('Invalid request (problem+json)'),
  401: problem('Missing or invalid token'),
  403: problem('Wrong role or not allowed'),
  404: problem('No such task, or not visible to the caller'),
};

const TopUpView = z
  .object({
    topUpId: z.string(),
    amountFen: z.number().int(),
    status: z.enum(['pending', 'succeeded', 'failed']),
    payUrl: z.string().optional(),
    failureReason: z.string().nullable(),
    createdAt: z.string(),
    settledAt: z.string().nullable(),
  })
  .openapi('TopUp');

export function buildOpenApi(): object {
  const registry = new OpenAPIRegistry();
  const bearer = registry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  const security = [{ [bearer.name]: [] }];
  const idempotencyHeader = (required: boolean) => z.object({ 'idempotency-key': required ? z.string() : z.string().optional() });

  registry.registerPath({
    method: 'post',
    path: '/v1/tasks',
    summary: 'Place an order with a designated creator (client)',
    security,
    request: { headers: idempotencyHeader(true), body: { content: { 'application/json': { schema: CreateTaskBody } } } },
    responses: {
      201: { description: 'Task ordered', content: { 'application/json': { schema: TaskSummary } } },
      200: { description: 'Replay of the same Idempotency-Key and body', content: { 'application/json': { schema: TaskSummary } } },
      ...errors,
      422: problem('A rule refuses the order, or the key was used with another body'),
      503: problem('Temporal unavailable; retry with the same key'),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/tasks',
    summary: "List tasks from the read model (a client's or creator's own; operators all)",
    security,
    request: { query: ListTasksQuery },
    responses: { 200: { description: 'A page, newest first', content: { 'application/json': { schema: TaskPage } } }, ...errors },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/tasks/{taskId}',
    summary: 'Read a task: the whole state',
    security,
    request: { params: TaskIdParam },
    responses: { 200: { description: 'The task', content: { 'application/json': { schema: TaskDetail } } }, ...errors },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/tasks/{taskId}/events',
    summary: "The task's history: every transition with actor, reason and time",
    security,
    request: { params: TaskIdParam },
    responses: { 200: { description: 'Events in order', content: { 'application/json': { schema: z.object({ items: z.array(z.record(z.string(), z.unknown())) }) } } }, ...errors },
  });
  for (const a of TASK_ACTIONS) {
    registry.registerPath({
      method: 'post',
      path: `/v1/tasks/{taskId}/${a.path}`,
      summary: `${a.summary} [${a.roles.join(', ')}]`,
      security,
      request: { params: TaskIdParam, headers: idempotencyHeader(false), body: { content: { 'application/json': { schema: a.body } } } },
      responses: {
        200: { description: 'The new task state', content: { 'application/json': { schema: TaskDetail.pick({ task: true }) } } },
        ...errors,
        409: problem('The action does not fit the task state (taskStatus and code say why)'),
        422: problem('A rule refuses the action'),
      },
    });
  }
  const json = (schema: z.ZodType) => ({ content: { 'application/json': { schema } } });
  const money = { 422: problem('Insufficient funds, a rule refusal, or an Idempotency-Key reused with another body'), 409: problem('The first request with this key is still running') };
  registry.registerPath({
    method: 'get',
    path: '/v1/wallets/me',
    summary: "The caller's wallet (client, creator or MCN): balance in fen and whether it can withdraw",
    security,
    responses: { 200: { description: 'Wallet', ...json(z.object({ accountId: z.string(), balanceFen: z.number().int(), canWithdraw: z.boolean() })) }, ...errors },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/wallets/me/transfers',
    summary: "The wallet's statement, newest first, with the task of each transfer",
    security,
    request: { query: StatementQuery },
    responses: { 200: { description: 'A page of transfers', ...json(z.object({ items: z.array(z.record(z.string(), z.unknown())), nextCursor: z.string().nullable() })) }, ...errors },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/wallets/me/top-ups',
    summary: "Open a top-up of a client's wallet (Idempotency-Key required): the client pays at payUrl; the wallet is credited when the payment provider confirms",
    security,
    request: { headers: idempotencyHeader(true), body: json(TopUpBody) },
    responses: { 201: { description: 'Payment opened, nothing credited yet', ...json(TopUpView) }, ...errors, ...money },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/wallets/me/top-ups/{topUpId}',
    summary: "A top-up's status: pending, succeeded (credited) or failed",
    security,
    request: { params: z.object({ topUpId: z.string() }) },
    responses: { 200: { description: 'Top-up', ...json(TopUpView) }, ...errors },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/payments/notifications',
    summary: "The payment provider's signed notification of a top-up's outcome (provider-to-Starmap; idempotent by the provider's payment id)",
    request: { body: json(z.object({ providerPaymentId: z.string(), reference: z.string(), amountFen: z.number().int(), status: z.enum(['succeeded', 'failed']), reason: z.string().optional() })) },
    responses: {
      200: { description: 'Recorded (credited once on success)', ...json(z.object({ topUpId: z.string(), status: z.enum(['pending', 'succeeded', 'failed']), credited: z.boolean() })) },
      ...errors,
      409: problem('The notification does not match the top-up (amount, payment or outcome)'),
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/wallets/me/withdrawals',
    summary: 'Withdraw to the bank (creators without MCN, MCNs; Idempotency-Key required); the amount is held while the payout runs',
    security,
    request: { headers: idempotencyHeader(true), body: json(AmountBody) },
    responses: { 202: { description: 'Withdrawal started', ...json(z.object({ withdrawalId: z.string(), amountFen: z.number().int(), status: z.literal('pending') })) }, ...errors, ...money },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/wallets/me/withdrawals/{withdrawalId}',
    summary: "A withdrawal's status: pending, paid or failed (money returned)",
    security,
    request: { params: z.object({ withdrawalId: z.string() }) },
    responses: { 200: { description: 'Withdrawal', ...json(z.record(z.string(), z.unknown())) }, ...errors },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/task-types',
    summary: 'The task-type catalogue: stages, publisher, rejection limits, retention bounds per type',
    security,
    responses: { 200: { description: 'Every task type', content: { 'application/json': { schema: z.object({ items: z.array(z.record(z.string(), z.unknown())) }) } } }, 401: errors[401] },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/platform/events',
    summary: 'Content platform callback (HMAC-signed: X-Starmap-Timestamp, X-Starmap-Signature)',
    request: {
      headers: z.object({ 'x-starmap-timestamp': z.string(), 'x-starmap-signature': z.string() }),
      body: { content: { 'application/json': { schema: PlatformEventBody } } },
    },
    responses: { 202: { description: 'Accepted' }, 400: errors[400], 401: problem('Bad or missing signature'), 404: errors[404], 409: problem('The task is closed') },
  });

  registerCreditPaths(registry, security, problem);
  registerAppealPaths(registry, security);

  // accounts, onboarding, plaza, contact, MCN, post-campaign data (table-driven: path, method, summary, request, answer)
  const anyJson = json(z.record(z.string(), z.unknown()));
  const creatorParam = z.object({ creatorId: z.string() });
  const marketplace: Array<{ method: 'get' | 'post' | 'put' | 'patch'; path: string; summary: string; request?: object; ok: [number, ResponseConfig]; auth?: boolean }> = [
    { method: 'post', path: '/v1/accounts', summary: 'Sign up as a client, creator or MCN (argon2id-hashed password)', auth: false, request: { body: json(SignUpBody) }, ok: [201, { description: 'Account', ...json(Account) }] },
    { method: 'post', path: '/v1/sessions', summary: 'Sign in: an access token (Bearer, 12 h)', auth: false, request: { body: json(SessionBody) }, ok: [201, { description: 'Session', ...json(Session) }] },
    { method: 'get', path: '/v1/me', summary: 'The signed-in account', ok: [200, { description: 'Account', ...json(Account) }] },
    { method: 'get', path: '/v1/creators/me', summary: "The creator's own profile: contact, bound accounts, offers and what keeps each from being found", ok: [200, { description: 'Profile', ...anyJson }] },
    { method: 'put', path: '/v1/creators/me/contact', summary: 'R-CONTACT: phone and email (both needed to be found)', request: { body: json(ContactBody) }, ok: [200, { description: 'Contact', ...anyJson }] },
    { method: 'post', path: '/v1/creators/me/platform-accounts', summary: 'R-OPEN-APPLY: bind a Douyin, Xigua or Toutiao account (one per platform); metrics come from the platform', request: { body: json(BindPlatformAccountBody) }, ok: [201, { description: 'Bound', ...anyJson }] },
    { method: 'post', path: '/v1/creators/me/offers', summary: 'R-OPEN-APPLY / R-OPEN-XIGUA: apply to open a task type; 422 not-eligible lists every unmet condition (actual and required)', request: { body: json(OpenOfferBody) }, ok: [201, { description: 'Opened', ...json(Offer) }] },
    { method: 'patch', path: '/v1/creators/me/offers/{taskType}', summary: 'R-QUOTE, R-ACCEPTING-SWITCH: set the quote or switch accepting on/off', request: { params: TaskTypeParam, body: json(UpdateOfferBody) }, ok: [200, { description: 'Offer', ...json(Offer) }] },
    { method: 'get', path: '/v1/plaza/creators', summary: 'R-DESIGNATED: the creator plaza: discoverable offers by platform, task type, price, fans, plays; sorted; cursor pages', request: { query: PlazaQuery }, ok: [200, { description: 'A page', ...json(PlazaPage) }] },
    { method: 'get', path: '/v1/creators/{creatorId}', summary: "A creator's public profile (never its contact details)", request: { params: creatorParam }, ok: [200, { description: 'Profile', ...anyJson }] },
    { method: 'get', path: '/v1/creators/{creatorId}/contact', summary: 'R-CONTACT: a virtual number for a client that ordered from the creator; the real contact for the creator, its MCN and operators', request: { params: creatorParam }, ok: [200, { description: 'Contact', ...anyJson }] },
    { method: 'get', path: '/v1/mcn/creators', summary: "An MCN's creators and their offers", ok: [200, { description: 'Creators', ...anyJson }] },
    { method: 'put', path: '/v1/creators/{creatorId}/mcn', summary: 'Set or clear the MCN that manages a creator (operators); its payouts then go to the MCN', request: { params: creatorParam, body: json(McnBody) }, ok: [200, { description: 'Saved', ...json(McnBody.extend({ creatorId: z.string() })) }] },
    { method: 'post', path: '/v1/operator/virtual-numbers', summary: 'Add numbers to the virtual-number pool (operators)', request: { body: json(VirtualNumbersBody) }, ok: [201, { description: 'Added', ...anyJson }] },
    { method: 'get', path: '/v1/tasks/{taskId}/metrics', summary: 'R-RATE: post-campaign data (plays, likes, comments, shares) as a time series, for the task parties', request: { params: TaskIdParam }, ok: [200, { description: 'Series', ...anyJson }] },
    { method: 'post', path: '/v1/tasks/{taskId}/rating', summary: 'R-RATE: the client rates the creator once after settlement (1-5 and a comment)', request: { params: TaskIdParam, body: json(RatingBody) }, ok: [201, { description: 'Rated', ...anyJson }] },
    { method: 'get', path: '/v1/tasks/{taskId}/rating', summary: "The task's rating", request: { params: TaskIdParam }, ok: [200, { description: 'Rating', ...anyJson }] },
  ];
  for (const r of marketplace) {
    registry.registerPath({
      method: r.method,
      path: r.path,
      summary: r.summary,
      ...(r.auth === false ? {} : { security }),
      ...(r.request ? { request: r.request } : {}),
      responses: { [r.ok[0]]: r.ok[1], ...errors, 409: problem('Conflicts with the current state (code says why)'), 422: problem('A rule refuses the action (code says why)') },
    });
  }

  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: { title: 'Starmap API', version: '0.1.0', description: 'Creator-marketing tasks (Xingtu style). Errors are application/problem+json.' },
    servers: [{ url: '/' }],
  });
}
