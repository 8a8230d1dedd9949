/**
 * Logs (pino). One logger per process: actors get it as a comedy resource, the
 * gateway directly. LOG_LEVEL sets the level and LOG_FORMAT the form, also in
 * forked actor processes and worker threads, which inherit the environment.
 *
 * The form: JSON lines where a machine reads them (production, a pipe, a file,
 * a log collector); human-readable lines (pino-pretty) on a developer's
 * terminal. LOG_FORMAT=json|pretty decides instead.
 */
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

export type LogFormat = 'json' | 'pretty';

let processLog: Logger | undefined;

export function processLogger(): Logger {
  processLog ??= createLogger(process.env.LOG_LEVEL ?? 'info', logFormat(process.env.LOG_FORMAT));
  return processLog;
}

/** The format LOG_FORMAT names, else pretty on a terminal outside production, else JSON. */
export function logFormat(configured: string | undefined): LogFormat {
  if (configured === 'json' || configured === 'pretty') return configured;
  return process.stdout.isTTY === true && process.env.NODE_ENV !== 'production' ? 'pretty' : 'json';
}

function createLogger(level: string, format: LogFormat): Logger {
  const options = { level, base: { pid: process.pid } };
  // Written synchronously, as pino's own JSON lines are: nothing is lost when the process exits.
  return format === 'pretty' ? pino(options, pretty({ sync: true, singleLine: true, translateTime: 'SYS:HH:MM:ss.l' })) : pino(options);
}
