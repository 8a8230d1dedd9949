/**
 * Makes SQLite's commits durable off the event loop. better-sqlite3 runs
 * SQLite on the calling thread, so with `synchronous = FULL` every commit
 * would wait for its fsync on the main thread: a fraction of a millisecond
 * on a quiet disk, tens of milliseconds on a busy one, during which no player
 * is served. Instead SQLite runs with `synchronous = NORMAL` (a commit is
 * written to the log, `<file>-wal`, with no fsync) and an operation that
 * changed something answers only once this fdatasyncs the log on libuv's
 * thread pool: what an acknowledged write needs to survive a power cut, as
 * FULL would have it.
 *
 * Sound because the connection holds the file in EXCLUSIVE locking mode
 * (SqliteFile): SQLite then keeps one log file for as long as it is open,
 * rewinding it after a checkpoint instead of deleting it, so the handle
 * opened here stays the log's.
 */
import { open, type FileHandle } from 'node:fs/promises';

export class SqliteLog {
  private handle: Promise<FileHandle> | undefined;

  constructor(private readonly path: string) {}

  /** Resolves once everything SQLite has written to the log so far is on disk. */
  async sync(): Promise<void> {
    // Opened at the first sync: SQLite has written the log by then.
    this.handle ??= open(this.path, 'r');
    try {
      await (await this.handle).datasync();
    } catch (error) {
      this.handle = undefined;
      throw error;
    }
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await (await handle?.catch(() => undefined))?.close();
  }
}
