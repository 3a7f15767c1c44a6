/** Per test file: the Temporal runtime logs warnings and errors only (its INFO lines drown the report). */
import { DefaultLogger, Runtime, makeTelemetryFilterString } from '@temporalio/worker';

const level = process.env['DEBUG_RT'] ? 'INFO' : 'ERROR';
Runtime.install({
  logger: new DefaultLogger(level),
  telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: level }) } },
});

// The API's and the worker's request and info lines (ops/log.ts) would drown the report too; a test that
// reads log lines gives its logger a level of its own
process.env['LOG_LEVEL'] ??= 'warn';
