/**
 * The real stack for API tests: the Temporal dev server (the project's Temporal
 * CLI), embedded PostgreSQL, the real worker (worker.ts createWorker: the
 * options production runs with) and the Express app on a free port.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { FakeContentPlatform } from '../../adapters/contentPlatform.js';
import { FakeNotifier } from '../../adapters/notifier.js';
import { OutboxDispatcher } from '../../activities/outbox.js';
import { TEST_OUTBOX_BACKOFF } from './stack.js';
import { FakePayoutProvider } from '../../adapters/payouts.js';
import { FakePaymentProvider, type SignedNotification } from '../../adapters/payments.js';
import { FakeTelephony } from '../../adapters/telephony.js';
import { createAuth, type Auth, type UserActor } from '../../api/auth.js';
import { startApi } from '../../api/main.js';
import { signPlatformBody } from '../../api/platform.js';
import { bundleWorkflows } from '../../temporal/bundle.js';
import { TASK_QUEUE } from '../../temporal/config.js';
import { createWorker } from '../../worker.js';
import { ensureSearchAttributes } from '../../temporal/searchAttributes.js';
import { freePort } from '../../db/embedded.js';
import { MAX_TOP_UP_FEN } from '../../db/ledger.js';
import { ensureAccount, ensureCreator } from './accounts.js';
import { startPostgres, type Postgres } from './stack.js';
import { toolPath } from './tools.js';
import type { TaskTypeId } from '../../domain/index.js';

export interface ApiStack {
  baseUrl: string;
  /** The Temporal UI, when started with `ui: true`. */
  uiUrl: string | null;
  auth: Auth;
  postgres: Postgres;
  env: TestWorkflowEnvironment;
  platformSecret: string;
  payouts: FakePayoutProvider;
  contentPlatform: FakeContentPlatform;
  telephony: FakeTelephony;
  /** Creates the actor's account (tokens are honoured only for existing accounts). */
  account(actor: UserActor): Promise<UserActor>;
  /** A creator account with contact, bound platform accounts and these task types opened at these quotes (fen). */
  creator(actor: UserActor, quotes: Partial<Record<TaskTypeId, number>>): Promise<UserActor>;
  /** A request; a JSON answer's body parsed, any other as text. */
  call(method: string, path: string, options?: { as?: UserActor; body?: unknown; headers?: Record<string, string> }): Promise<{ status: number; type: string; headers: Record<string, string>; body: any }>;
  platform(body: object, options?: { secret?: string; timestamp?: number }): Promise<{ status: number; body: any }>;
  /** The key the API signs tokens with (to forge odd tokens in tests). */
  jwtKey: Uint8Array;
  /** The fake payment provider: confirms or fails a top-up only when a test says so. */
  payments: FakePaymentProvider;
  /** Posts a payment provider's notification, as the provider would. */
  notifyPayment(notification: SignedNotification): Promise<{ status: number; body: any }>;
  /** A client's top-up over the API, paid: the provider's notification credits the wallet. */
  fund(client: UserActor, amountFen: number): Promise<void>;
  stop(): Promise<void>;
}

/** `ui`: the dev server also serves the Temporal UI (on `uiUrl`), for browser tests of it. */
export async function startApiStack(options: { ui?: boolean } = {}): Promise<ApiStack> {
  const uiPort = options.ui ? await freePort() : undefined;
  const [env, postgres, bundle] = await Promise.all([
    TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'existing-path', path: toolPath('temporal') },
        ip: '127.0.0.1',
        ...(uiPort ? { ui: true, uiPort } : {}),
        extraArgs: [...(uiPort ? [] : ['--headless']), '--log-level', 'error'],
      },
    }),
    startPostgres(),
    bundleWorkflows(),
  ]);
  await ensureSearchAttributes(env.connection, 'default');
  const payouts = new FakePayoutProvider();
  const contentPlatform = new FakeContentPlatform();
  const notifier = new FakeNotifier();
  const outbox = new OutboxDispatcher({ db: postgres.database.db, notifier, pollMs: 100, backoff: TEST_OUTBOX_BACKOFF });
  outbox.start();
  const worker = await createWorker({
    connection: env.nativeConnection,
    namespace: 'default',
    taskQueue: TASK_QUEUE,
    workflows: { workflowBundle: bundle },
    db: postgres.database.db,
    notifier,
    outbox,
    payouts,
    contentPlatform,
    temporal: env.client,
  });
  const running = worker.run();
  const jwtSecret = randomBytes(32).toString('hex');
  const platformSecret = randomBytes(32).toString('hex');
  const telephony = new FakeTelephony();
  const payments = new FakePaymentProvider();
  const server: Server = await startApi({ db: postgres.database.db, temporal: env.client, port: 0, jwtSecret, platformSecret, contentPlatform, telephony, payments });
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const auth = createAuth(jwtSecret);

  const stack: ApiStack = {
    baseUrl,
    uiUrl: uiPort ? `http://127.0.0.1:${uiPort}` : null,
    auth,
    jwtKey: new TextEncoder().encode(jwtSecret),
    postgres,
    env,
    platformSecret,
    payouts,
    contentPlatform,
    telephony,
    payments,
    async notifyPayment(notification) {
      const res = await fetch(`${baseUrl}/v1/payments/notifications`, { method: 'POST', headers: notification.headers, body: notification.body });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    },
    async fund(client, amountFen) {
      for (let left = amountFen; left > 0; left -= MAX_TOP_UP_FEN) {
        const res = await stack.call('POST', '/v1/wallets/me/top-ups', { as: client, body: { amountFen: Math.min(left, MAX_TOP_UP_FEN) }, headers: { 'idempotency-key': `fund-${randomUUID()}` } });
        if (res.status !== 201) throw new Error(`top-up refused: ${res.status} ${JSON.stringify(res.body)}`);
        const paid = await stack.notifyPayment(payments.confirm(res.body.topUpId));
        if (paid.status !== 200) throw new Error(`payment notification refused: ${paid.status} ${JSON.stringify(paid.body)}`);
      }
    },
    async account(actor) {
      await ensureAccount(postgres.database.db, actor);
      return actor;
    },
    async creator(actor, quotes) {
      await ensureCreator(postgres.database.db, actor, quotes);
      return actor;
    },
    async call(method, path, options = {}) {
      const headers: Record<string, string> = { ...(options.headers ?? {}) };
      if (options.as) headers['authorization'] = `Bearer ${await auth.sign(options.as)}`;
      if (options.body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(`${baseUrl}${path}`, {
        method,
        headers,
        ...(options.body !== undefined ? { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) } : {}),
      });
      const text = await res.text();
      const type = res.headers.get('content-type') ?? '';
      // JSON answers parsed; any other (R-EVIDENCE's HTML page) as its text
      const body = text ? (/^application\/(.+\+)?json/.test(type) ? JSON.parse(text) : text) : null;
      return { status: res.status, type, headers: Object.fromEntries(res.headers.entries()), body };
    },
    async platform(body, options = {}) {
      const raw = JSON.stringify(body);
      const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
      const res = await fetch(`${baseUrl}/v1/platform/events`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-starmap-timestamp': String(timestamp),
          'x-starmap-signature': signPlatformBody(options.secret ?? platformSecret, timestamp, raw),
        },
        body: raw,
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    },
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      worker.shutdown();
      await outbox.stop();
      await running;
      await env.teardown();
      await postgres.stop();
    },
  };
  return stack;
}
