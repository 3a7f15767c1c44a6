/**
 * One logger for the API and the worker: pino, one JSON object a line (time,
 * level, service, message and what is known: request id, actor, task id), so a
 * log pipeline can filter by task or request without parsing prose.
 *
 * Secrets and personal data never reach a line: known fields are redacted by
 * path (tokens, passwords and their hashes, phones, e-mails), and an error is
 * logged as `describeError` — class, code, first line of the message — never
 * as the object, because a database error carries the query's parameters.
 *
 * Settings: LOG_LEVEL (info), STARMAP_LOG_FORMAT (`json`; `pretty` by default
 * when NODE_ENV is not production: one short readable line, no extra package).
 */
import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';

export type { Logger } from 'pino';

/** Fields that may hold secrets or personal data, at the top level and one object down (pino `redact` paths). */
const SENSITIVE = ['authorization', 'password', 'passwordHash', 'password_hash', 'token', 'jwtSecret', 'phone', 'email', 'login', 'secret', 'signature'];
export const REDACT_PATHS: string[] = [
  ...SENSITIVE,
  ...SENSITIVE.map((f) => `*.${f}`),
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-starmap-signature"]',
];
export const REDACTED = '[redacted]';

export type LogFormat = 'json' | 'pretty';

export function logFormat(env: NodeJS.ProcessEnv = process.env): LogFormat {
  const given = env['STARMAP_LOG_FORMAT'];
  if (given === 'json' || given === 'pretty') return given;
  return env['NODE_ENV'] === 'production' ? 'json' : 'pretty';
}

export interface LoggerOptions {
  /** Where lines go (tests pass a collector); stdout by default. */
  destination?: DestinationStream;
  format?: LogFormat;
  level?: LevelWithSilent;
}

/** A logger for one process part (`api`, `worker`), its name in every line as `service`. */
export function createLogger(service: string, options: LoggerOptions = {}): Logger {
  const format = options.format ?? logFormat();
  const out = options.destination ?? pino.destination({ fd: 1, sync: true });
  return pino(
    {
      level: options.level ?? ((process.env['LOG_LEVEL'] as LevelWithSilent | undefined) || 'info'),
      base: { service },
      messageKey: 'msg',
      timestamp: pino.stdTimeFunctions.isoTime,
      // the level's name, not pino's number: readable by people and by any log pipeline
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, censor: REDACTED },
    },
    format === 'pretty' ? prettyStream(out) : out,
  );
}

const SHOWN_FIRST = new Set(['time', 'level', 'service', 'msg']);

/**
 * Development output: `12:00:01.234 INFO  [api] msg key=value ...`. pino-pretty
 * would do it with a dozen dependencies and a worker thread; a line of JSON
 * in, a line of text out is all this needs.
 */
export function prettyStream(out: DestinationStream): DestinationStream {
  return {
    write(line: string) {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return out.write(line);
      }
      const text = (k: string) => (typeof entry[k] === 'string' ? entry[k] : '');
      const time = text('time').slice(11, 23);
      const level = text('level').toUpperCase().padEnd(5);
      const rest = Object.entries(entry)
        .filter(([k]) => !SHOWN_FIRST.has(k))
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ');
      out.write(`${time} ${level} [${text('service')}] ${text('msg')}${rest ? ` ${rest}` : ''}\n`);
    },
  };
}

/** An error as one log line without its data: class, SQL state or code, and the message up to any parameter list. */
export function describeError(err: unknown): string {
  const e = err as { name?: string; code?: string; message?: string; cause?: unknown; stack?: string };
  const cause = e?.cause as { name?: string; code?: string; message?: string } | undefined;
  const where = (e?.stack ?? '').split('\n').find((l) => l.includes('/api/') || l.includes('/db/'))?.trim() ?? '';
  const parts = [`${e?.name ?? typeof err}${e?.code ? ` ${e.code}` : ''}: ${firstLine(e?.message)}`];
  if (cause) parts.push(`cause ${cause.name ?? ''}${cause.code ? ` ${cause.code}` : ''}: ${firstLine(cause.message)}`);
  if (where) parts.push(where);
  return parts.join(' | ');
}

/** The first line of a message, cut before any `params:` list (a failed query's values), at most 300 characters. */
export function firstLine(message?: string): string {
  return (message ?? '').split('\n')[0]!.replace(/params?:.*$/i, '').slice(0, 300);
}
