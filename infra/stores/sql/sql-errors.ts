/**
 * What a SQL driver's error means for the stores: a duplicate key (someone
 * stored that key first: a version conflict, or a race to retry), a
 * transaction the server gave up on (deadlock, lock wait: safe to run again),
 * or anything else (the store is unavailable, as far as callers can tell).
 * MariaDB (mysql2) and SQLite (better-sqlite3) set error codes of their own.
 */
import { QueryFailedError } from 'typeorm';

function driverError(error: unknown): { code?: unknown; errno?: unknown; message?: unknown } | undefined {
  const inner = error instanceof QueryFailedError ? (error.driverError as unknown) : error;
  return typeof inner === 'object' && inner !== null ? inner : undefined;
}

/** An INSERT refused because the primary key is already stored. */
export function isDuplicateKey(error: unknown): boolean {
  const inner = driverError(error);
  if (!inner) return false;
  return inner.code === 'ER_DUP_ENTRY' || inner.errno === 1062 || inner.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || inner.code === 'SQLITE_CONSTRAINT_UNIQUE';
}

/** MariaDB rolled the whole transaction back (deadlock) or gave up waiting for a lock: running it again is safe. */
export function isTransientTransactionError(error: unknown): boolean {
  const inner = driverError(error);
  if (!inner) return false;
  return inner.code === 'ER_LOCK_DEADLOCK' || inner.errno === 1213 || inner.code === 'ER_LOCK_WAIT_TIMEOUT' || inner.errno === 1205;
}
