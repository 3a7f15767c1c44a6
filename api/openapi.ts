/** The OpenAPI 3.1 document, generated from the zod schemas the routes validate with. */
import { OpenAPIRegistry, OpenApiGeneratorV31, type ResponseConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { TASK_ACTIONS } from './tasks.js';
import { AmountBody, CreateTaskBody, ListTasksQuery, McnBody, StatementQuery, PlatformEventBody, Problem, TaskDetail, TaskIdParam, TaskPage, TaskSummary } from './schemas.js';

const problem = (description: string): ResponseConfig => ({ description, content: { 'application/problem+json': { schema: Problem } } });
const errors = {
  400: problem('Invalid request (problem+json)'),
  401: problem('Missing or invalid token'),
  403: problem('Wrong role or not allowed'),
  404: problem('No such task, or not visible to the caller'),
};

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
    summary: "Credit a client's wallet (Idempotency-Key required)",
    security,
    request: { headers: idempotencyHeader(true), body: json(AmountBody) },
    responses: { 201: { description: 'Credited', ...json(z.object({ transferId: z.string(), amountFen: z.number().int(), balanceFen: z.number().int() })) }, ...errors, ...money },
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
    method: 'put',
    path: '/v1/creators/{creatorId}/mcn',
    summary: 'Set or clear the MCN that manages a creator (operators); its payouts then go to the MCN',
    security,
    request: { params: z.object({ creatorId: z.string() }), body: json(McnBody) },
    responses: { 200: { description: 'Saved', ...json(McnBody.extend({ creatorId: z.string() })) }, ...errors },
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

  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: { title: 'Starmap API', version: '0.1.0', description: 'Creator-marketing tasks (Xingtu style). Errors are application/problem+json.' },
    servers: [{ url: '/' }],
  });
}
