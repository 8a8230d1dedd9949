/**
 * How a SQLite file is opened: in SQLite's write-ahead-log mode, and owned
 * by one process.
 *
 * - `journal_mode = WAL`: a commit appends the changed pages to `<file>-wal`;
 *   SQLite folds them into `<file>` now and then (a checkpoint) and on close.
 * - `synchronous = NORMAL`: SQLite fsyncs at checkpoints, not at every
 *   commit; the commit itself is fsynced off the event loop by SqliteLog
 *   before the operation answers, so a write the store acknowledged survives
 *   a power cut, not only the death of the process.
 * - `locking_mode = EXCLUSIVE`, taken at once: a second process opening the
 *   same file while the first has it open would wait for a lock it never
 *   gets; here it fails at once (SQLITE_BUSY, no busy timeout) with
 *   SqliteFileInUseError. The lock is the operating system's: it goes with
 *   the process, so a process killed with SIGKILL leaves nothing to clean up.
 *   (No shared-memory index either: one connection needs none.)
 */
import { readFileSync, statSync } from 'node:fs';
import type { Database } from 'better-sqlite3';

export class SqliteFileInUseError extends Error {
  constructor(
    readonly file: string,
    /** The process holding the file, when the operating system says (Linux). */
    readonly ownerPid: number | undefined,
  ) {
    super(`${file} is already open in ${ownerPid ? `process ${ownerPid}` : 'another process'}: only one process may open a SQLite file`);
    this.name = 'SqliteFileInUseError';
  }
}

/** Sets the file's modes and takes it for this connection; closes the connection and throws if it cannot. */
export function takeSqliteFile(database: Database, file: string): void {
  try {
    // EXCLUSIVE before WAL: SQLite then keeps the log's index in memory instead of a shared-memory file.
    database.pragma('locking_mode = EXCLUSIVE');
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = NORMAL');
    // Takes the exclusive lock now (EXCLUSIVE keeps it till close), not at the first write.
    database.exec('BEGIN IMMEDIATE; COMMIT');
  } catch (error) {
    database.close();
    if ((error as { code?: unknown }).code === 'SQLITE_BUSY') throw new SqliteFileInUseError(file, lockHolder(file));
    throw error;
  }
}

/** The process holding a lock on `file`, read from Linux's /proc/locks; undefined when there is no saying. */
function lockHolder(file: string): number | undefined {
  try {
    const inode = String(statSync(file).ino);
    for (const line of readFileSync('/proc/locks', 'utf8').split('\n')) {
      // "1: POSIX  ADVISORY  WRITE 1234 08:01:5678 1073741824 1073742335" (a waiter's line has "->" after the number).
      const fields = line.split(/\s+/).filter((field) => field !== '->');
      const [pid, device] = [Number(fields[4]), fields[5]];
      if (device?.split(':')[2] === inode && pid > 0) return pid;
    }
  } catch {
    // No /proc (not Linux), or the file just went: the error says "another process".
  }
  return undefined;
}
