/**
 * Logs (pino). One logger per process, in its process context
 * (infra/process-context.ts): actors get it through comedy's resources, the
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

/** The format LOG_FORMAT names, else pretty on a terminal outside production, else JSON. */
export function logFormat(configured: string | undefined): LogFormat {
  if (configured === 'json' || configured === 'pretty') return configured;
  return process.stdout.isTTY === true && process.env.NODE_ENV !== 'production' ? 'pretty' : 'json';
}

/** The logger configured by `settings` (LOG_LEVEL, LOG_FORMAT): the form LOG_FORMAT names, else the one that suits the output. */
export function configuredLogger(settings: { readonly level: string; readonly format?: string | undefined }): Logger {
  return createLogger(settings.level, logFormat(settings.format));
}

function createLogger(level: string, format: LogFormat): Logger {
  const options = { level, base: { pid: process.pid } };
  // Written synchronously, as pino's own JSON lines are: nothing is lost when the process exits.
  return format === 'pretty' ? pino(options, pretty({ sync: true, singleLine: true, translateTime: 'SYS:HH:MM:ss.l' })) : pino(options);
}
