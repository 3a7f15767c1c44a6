/**
 * The API process. `npm run api` (production: `node dist/api/main.js`) reads
 * DATABASE_URL, TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, PORT, STARMAP_JWT_SECRET
 * and STARMAP_PLATFORM_SECRET, and optionally STARMAP_CORS_ORIGINS,
 * STARMAP_METRICS_TOKEN, LOG_LEVEL and STARMAP_LOG_FORMAT (README,
 * "Operations"); scripts/start.ts runs it in-process.
 */
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { installTemporalRuntime } from '../temporal/runtime.js';
import { FakeContentPlatform, type ContentPlatform } from '../adapters/contentPlatform.js';
import { checkFakes } from '../adapters/fakes.js';
import { FakePaymentProvider, type PaymentProvider } from '../adapters/payments.js';
import { FakeTelephony, type Telephony } from '../adapters/telephony.js';
import { connect, type Db } from '../db/client.js';
import { TASK_QUEUE, clientIdentity, temporalConnectionOptions, temporalNamespace } from '../temporal/config.js';
import { taskEngineFromEnv } from '../temporal/tasks.js';
import { ENGINE } from '../workflows/task.js';
import { createApp } from './app.js';
import { createAuth } from './auth.js';
import { runTopUpReconciliation } from './wallets.js';
import { PROBLEM_BASE } from './problems.js';
import { createLogger, describeError, type Logger } from '../ops/log.js';

export interface ApiOptions {
  db: Db;
  temporal: Client;
  port: number;
  host?: string;
  jwtSecret: string;
  platformSecret: string;
  taskQueue?: string;
  /** The content platform and telephony adapters; fakes until real ones are wired (README, "Outside systems"). */
  contentPlatform?: ContentPlatform;
  telephony?: Telephony;
  /** The payment provider top-ups are paid at; the fake confirms each payment itself after half a second. */
  payments?: PaymentProvider;
  /** Request lines and errors (ops/log.ts); a new `api` logger when left out. */
  logger?: Logger;
  /** How often to reconcile pending top-ups with the payment provider (api/wallets.ts); false: not at all. */
  topUpReconciliation?: { intervalMs: number } | false;
}

export function startApi(options: ApiOptions): Promise<Server> {
  const ownFake = options.payments ? null : new FakePaymentProvider();
  const payments = options.payments ?? ownFake!;
  const app = createApp({
    payments,
    db: options.db,
    temporal: options.temporal,
    auth: createAuth(options.jwtSecret),
    taskQueue: options.taskQueue ?? TASK_QUEUE,
    platformSecret: options.platformSecret,
    contentPlatform: options.contentPlatform ?? new FakeContentPlatform(),
    telephony: options.telephony ?? new FakeTelephony(),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  return new Promise((resolve, reject) => {
    const server = app.listen(options.port, options.host ?? '127.0.0.1', () => {
      const address = server.address();
      // the fake provider notifies this API, as a provider notifies the URL it was given
      if (ownFake && address && typeof address === 'object') {
        ownFake.notifyUrl = `http://127.0.0.1:${address.port}/v1/payments/notifications`;
      }
      // every top-up ends and every fen paid lands, notification or not: asked of the provider while this API serves
      if (options.topUpReconciliation !== false) {
        const log = options.logger ? (line: string) => options.logger!.warn(line) : (line: string) => console.error(line);
        const reconciliation = runTopUpReconciliation(options.db, payments, log, options.topUpReconciliation?.intervalMs);
        server.once('close', () => reconciliation.stop());
      }
      resolve(server);
    });
    // Node answers malformed requests itself (431 for oversized headers) with no body: the same
    // problem+json as every other error instead
    server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      if (err.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
      const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
      const [status, slug, title] = tooLarge ? [431, 'headers-too-large', 'Request header fields too large'] : [400, 'invalid-request', 'The request is not valid'];
      const body = JSON.stringify({ type: `${PROBLEM_BASE}${slug}`, title, status, detail: tooLarge ? 'The request headers exceed 16 KiB' : 'The request is not valid HTTP' });
      socket.end(`HTTP/1.1 ${status} ${title}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    });
    server.on('error', reject);
  });
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

async function main(logger: Logger): Promise<void> {
  // no payment, content-platform or telephony contract yet: fakes (refused in production unless allowed)
  const fakes = checkFakes(['payment provider', 'content platform', 'telephony (virtual numbers)']);
  if (fakes) logger.warn(fakes);
  if (process.env['NODE_ENV'] === 'production' && !process.env['STARMAP_METRICS_TOKEN']) {
    logger.warn('STARMAP_METRICS_TOKEN is not set: /metrics (escrow totals, task counts) answers anyone who reaches it; keep it off the public gateway');
  }
  const database = connect(required('DATABASE_URL'));
  // a wrong STARMAP_TASK_ENGINE stops the start here, not every order later
  const engine = taskEngineFromEnv();
  if (engine < ENGINE) logger.warn(`STARMAP_TASK_ENGINE=${engine}: new tasks start with engine ${engine} (for a fleet with workers from before engine ${ENGINE})`);
  // the Rust core's gRPC client rather than grpc-js: ~1 ms less of this process's CPU per call (README
  // "Benchmarks", session 10); its runtime logs through this process's logger, and the API handles its signals
  installTemporalRuntime({ logger, shutdownSignals: [] });
  const connection = await NativeConnection.connect(temporalConnectionOptions());
  const temporal = new Client({ connection, namespace: temporalNamespace(), identity: clientIdentity('api') });
  const port = Number(process.env['PORT'] ?? 3000);
  const server = await startApi({
    db: database.db,
    temporal,
    port,
    host: process.env['HOST'] ?? '0.0.0.0',
    jwtSecret: required('STARMAP_JWT_SECRET'),
    platformSecret: required('STARMAP_PLATFORM_SECRET'),
    logger,
  });
  logger.info({ port }, `listening on :${port} (docs /docs, metrics /metrics)`);
  const stop = () => {
    server.close(() => {
      void connection.close().then(() => database.close()).then(() => process.exit(0));
    });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const logger = createLogger('api');
  main(logger).catch((err: unknown) => {
    // a start-up failure (a setting missing, a server away) names itself in its message; no data in it
    logger.fatal({ error: describeError(err) }, 'failed to start');
    process.exit(1);
  });
}
