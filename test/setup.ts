/** Per test file: the Temporal runtime logs warnings and errors only (its INFO lines drown the report). */
import { DefaultLogger, Runtime, makeTelemetryFilterString } from '@temporalio/worker';

const level = process.env['DEBUG_RT'] ? 'INFO' : 'ERROR';
Runtime.install({
  logger: new DefaultLogger(level),
  telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: level }) } },
});
