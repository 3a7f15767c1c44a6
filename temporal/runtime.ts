/**
 * The Temporal runtime of a worker process, installed once before any worker
 * or native connection exists:
 *   - logs: the SDK's, the workflows' (`log` from @temporalio/workflow) and the
 *     activities' (`log` from @temporalio/activity) go to the process's pino
 *     logger (ops/log.ts) with their attributes (workflowId, activityType, ...)
 *     and the task id derived from the workflow id; the Rust core's own lines are
 *     forwarded too (WARN and up) instead of going to stderr unformatted;
 *   - metrics: the SDK's Prometheus exporter (workflow and activity task latency,
 *     schedule-to-start, slots, polls ...) on `metricsBindAddress`'s /metrics,
 *     served by the core itself (no Node server of ours).
 */
import { getHeapStatistics } from 'node:v8';
import type { LogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import { Runtime, makeTelemetryFilterString } from '@temporalio/worker';
import { describeError, firstLine, type Logger } from '../ops/log.js';

/**
 * V8 flags of every worker process (issue #14: memory follows the cache, not
 * the open tasks). The V8 default lets each heap grow far past its live data
 * while work arrives faster than it is done: 2,000 new tasks took a worker with
 * 500 cached workflows to 628 MB RSS, 401 MB with these flags at the same set-up
 * rate (bench:open). They apply to each isolate of the process, the workflow
 * thread's included: its live data is the sticky cache, ~0.2 MB per cached task
 * workflow (64 MB ran out of memory at ~270 cached), so 256 MB holds the default
 * 500 with twice the room; a larger STARMAP_MAX_CACHED_WORKFLOWS needs a larger
 * --max-old-space-size too (the worker refuses to start when the cache cannot
 * fit: checkCacheFitsHeap). The young generation is the rest: with a 16 MB
 * semi-space the worker took 458–469 MB for 2,000 new tasks once orders came
 * at ~120/s (engine 6: set-up keeps up better, so more garbage per second),
 * 413–419 MB with 4 MB at the same set-up rate and worker CPU per task (5.6–6.6
 * ms against 5.8; bench:open, session 14, alternating). Used by every process
 * that runs worker.ts on its own: package.json `worker`, docker-compose's worker command,
 * scripts/cluster.ts, scripts/faults.ts, bench:open and the operations test
 * (test/temporal/worker-memory.test.ts finds every such spawn). `npm start`
 * runs the worker inside its own process, beside the API, with Node's defaults.
 */
export const WORKER_NODE_FLAGS = ['--max-old-space-size=256', '--max-semi-space-size=4'] as const;

/** The workflow thread's heap per cached task workflow, with room (measured ~0.2 MiB), and what the thread needs besides. */
const MIB_PER_CACHED_WORKFLOW = 0.25;
const MIB_BESIDES_THE_CACHE = 64;

/**
 * Refuses a sticky cache the heap cannot hold: the workflow thread would run
 * out of memory once the cache fills, and the worker would stop again after
 * every restart. Says which flag to raise.
 */
export function checkCacheFitsHeap(maxCachedWorkflows: number, heapMiB: number = heapLimitMiB()): void {
  const needed = Math.ceil(maxCachedWorkflows * MIB_PER_CACHED_WORKFLOW + MIB_BESIDES_THE_CACHE);
  if (needed > heapMiB) {
    throw new Error(
      `${maxCachedWorkflows} cached workflows need about ${needed} MiB of heap and this process has ${heapMiB} MiB: ` +
        `lower STARMAP_MAX_CACHED_WORKFLOWS or raise node's --max-old-space-size (temporal/runtime.ts WORKER_NODE_FLAGS)`,
    );
  }
}

/** The heap limit this process runs with (MiB), for the worker's start-up line. */
export const heapLimitMiB = (): number => Math.round(getHeapStatistics().heap_size_limit / 2 ** 20);

/** The task a workflow id belongs to (temporal/ids.ts): the task workflow's id is the task id, its metrics workflow's `<taskId>:metrics`. */
export function taskIdOfWorkflow(workflowId: unknown): string | undefined {
  if (typeof workflowId !== 'string' || !workflowId.startsWith('tsk_')) return undefined;
  return workflowId.split(':')[0];
}

const PINO_LEVEL = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const;

/** An attribute as it may be logged: an error becomes describeError's line, an error text its first line (a failed query lists its values after it). */
function safe(key: string, value: unknown): unknown {
  if (value instanceof Error) return describeError(value);
  if (typeof value === 'string' && /^(error|err|failure|cause)$/i.test(key)) return firstLine(value);
  return value;
}

/** The SDK's Logger interface over pino. */
export class PinoTemporalLogger implements TemporalLogger {
  constructor(private readonly logger: Logger) {}

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    const fields: Record<string, unknown> = {};
    // symbol keys (the SDK's timestamp) are not attributes
    for (const [k, v] of Object.entries(meta ?? {})) fields[k] = safe(k, v);
    const taskId = fields['taskId'] ?? taskIdOfWorkflow(fields['workflowId']);
    if (taskId) fields['taskId'] = taskId;
    this.logger[PINO_LEVEL[level]](fields, message);
  }
  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}

export interface TemporalRuntimeOptions {
  logger: Logger;
  /** host:port of the SDK's Prometheus exporter (WORKER_METRICS_PORT); none when left out. */
  metricsBindAddress?: string;
  /** The signals that shut workers down (the SDK's default: SIGINT, SIGTERM, SIGQUIT, SIGUSR2). */
  shutdownSignals?: NodeJS.Signals[];
}

export function installTemporalRuntime(options: TemporalRuntimeOptions): Runtime {
  return Runtime.install({
    logger: new PinoTemporalLogger(options.logger),
    telemetryOptions: {
      logging: { forward: {}, filter: makeTelemetryFilterString({ core: 'WARN', other: 'ERROR' }) },
      ...(options.metricsBindAddress ? { metrics: { prometheus: { bindAddress: options.metricsBindAddress } } } : {}),
    },
    ...(options.shutdownSignals ? { shutdownSignals: options.shutdownSignals } : {}),
  });
}
