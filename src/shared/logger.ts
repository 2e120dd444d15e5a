import { pino, type DestinationStream, type Level } from 'pino';

/**
 * Where the server's messages go. Infrastructure of its own, so that a domain that logs (a job, a
 * dispatcher) depends on this and not on the HTTP server's context.
 */
export interface Logger {
  /** Detail for a person chasing a problem (LOG_LEVEL=debug); loggers without it drop it. */
  debug?(message: string, context?: Record<string, unknown>): void;
  info(message: string, context?: Record<string, unknown>): void;
  /** Something degraded that fixes itself (the database is down); loggers without it use `info`. */
  warn?(message: string, context?: Record<string, unknown>): void;
  error(message: string, context?: Record<string, unknown>): void;
}

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFormat = 'json' | 'pretty';

export interface LogConfig {
  level: LogLevel;
  format: LogFormat;
}

/**
 * Keys that must never carry their value into a line, wherever a caller put them: a token, a
 * secret, a signature or an Authorization header logged by mistake reads `[redacted]`. A second
 * net: callers log ids and subjects, never credentials.
 */
export const REDACTED_KEYS = ['authorization', 'token', 'accessToken', 'secret', 'webhookSecret', 'signature', 'password', 'cookie'];
// Top-level keys and a `headers` object only: wildcard paths (`*.token`) tripled the cost of a
// request line (about 25 µs instead of 8 on this machine), and every line pays for them.
const REDACT_PATHS = [...REDACTED_KEYS, 'headers.authorization', 'headers.cookie'];

/** Fields pino writes itself: a context key of the same name would repeat it in the line (and a JSON reader keeps the last). */
const OWN_FIELDS = ['msg', 'level', 'time', 'pid', 'hostname'];

/**
 * A pino logger behind the `Logger` interface: one JSON line per call, `msg` the call's message and
 * the context's keys beside it (a context's `message` stays a field of its own; a `msg` or `level`
 * key is kept as `_msg`, `_level`, never replacing the line's), `level` as its name, `time` in ISO
 * 8601. Written synchronously to stdout (or `destination`), so nothing is lost when the process exits.
 */
export function pinoLogger(level: LogLevel = 'info', destination?: DestinationStream): Logger {
  const base = pino(
    {
      level,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    },
    destination ?? pino.destination({ fd: 1, sync: true }),
  );
  return asLogger(base);
}

function asLogger(base: pino.Logger): Logger {
  const at = (level: Level) => (message: string, context?: Record<string, unknown>) => {
    if (context === undefined) base[level](message);
    else base[level](withoutOwnFields(context), message);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

function withoutOwnFields(context: Record<string, unknown>): Record<string, unknown> {
  let copy: Record<string, unknown> | undefined;
  for (const key of OWN_FIELDS) {
    if (key in context) {
      copy ??= { ...context };
      copy[`_${key}`] = copy[key];
      delete copy[key];
    }
  }
  return copy ?? context;
}

/**
 * The process's logger for a configuration: JSON lines, or pino-pretty's coloured lines when asked
 * for (LOG_FORMAT=pretty, or by default in development at a terminal). pino-pretty is a development
 * dependency, absent from a production install: without it the lines stay JSON, and say why once.
 */
export async function createLogger(config: LogConfig): Promise<Logger> {
  if (config.format !== 'pretty') return pinoLogger(config.level);
  try {
    const { default: pretty } = await import('pino-pretty');
    return pinoLogger(config.level, pretty({ sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }));
  } catch {
    const log = pinoLogger(config.level);
    (log.warn ?? log.info)('LOG_FORMAT=pretty needs pino-pretty, a development dependency that is not installed; logging JSON.');
    return log;
  }
}
