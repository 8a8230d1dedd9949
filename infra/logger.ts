/**
 * Structured logs (pino, JSON lines). One logger per process: actors get it as
 * a comedy resource, the gateway directly. LOG_LEVEL sets the level, also in
 * forked actor processes, which inherit the environment.
 */
import pino, { type Logger } from 'pino';

let processLog: Logger | undefined;

export function processLogger(): Logger {
  processLog ??= pino({ level: process.env.LOG_LEVEL ?? 'info', base: { pid: process.pid } });
  return processLog;
}
