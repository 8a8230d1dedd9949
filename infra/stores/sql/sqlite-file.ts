/**
 * The files behind a sql.js database, which sql.js keeps whole in memory:
 * - `<file>`, the checkpoint: the whole database, written from time to time
 *   (`checkpoint`), atomically (a temporary file in the same folder, fsynced,
 *   renamed over the old one, the folder fsynced), so a crash leaves the
 *   previous file or the new one, never half of one;
 * - `<file>.journal` (SqliteJournal): each committed change since then,
 *   appended and fsynced before the change is acknowledged, so a commit costs
 *   the size of the change, not of the database.
 *
 * Only one process may have a given file open: a second writer would
 * overwrite the first one's changes with its own copy. A lock file
 * (`<file>.lock`, holding the owner's pid) refuses a second opener while the
 * owner is alive; a lock left by a process that died (kill -9) is taken over.
 */
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { SqliteJournal } from './sqlite-journal';
import { syncFolder, writeSynced } from './synced-file';

export class SqliteFileLockedError extends Error {
  constructor(
    readonly file: string,
    readonly ownerPid: number,
  ) {
    super(`${file} is already open in process ${ownerPid}: only one process may open a SQLite file`);
    this.name = 'SqliteFileLockedError';
  }
}

export class SqliteFile {
  private released = false;

  private constructor(
    readonly path: string,
    private readonly lockPath: string,
    /** The checkpoint last written (or read at open): with the journal's records, what is on disk. */
    private saved: Uint8Array | undefined,
    readonly journal: SqliteJournal,
  ) {}

  /** Takes the file's lock and reads the checkpoint (undefined for a file not yet written) and the journal. */
  static async open(path: string): Promise<SqliteFile> {
    const lockPath = `${path}.lock`;
    await takeLock(path, lockPath);
    try {
      const bytes = await readFile(path).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return undefined;
        throw error;
      });
      const journal = await SqliteJournal.open(`${path}.journal`);
      // The journal may have just been created: its name must survive a crash before appends count on it.
      await syncFolder(dirname(path));
      return new SqliteFile(path, lockPath, bytes ? new Uint8Array(bytes) : undefined, journal);
    } catch (error) {
      await unlink(lockPath).catch(() => undefined);
      throw error;
    }
  }

  get lastSaved(): Uint8Array | undefined {
    return this.saved;
  }

  /** Saves the whole database, then empties the journal: its records are in the checkpoint now. */
  async checkpoint(bytes: Uint8Array): Promise<void> {
    await this.save(bytes);
    // A crash before the journal is emptied replays records the checkpoint holds already: harmless.
    await this.journal.clear();
    await syncFolder(dirname(this.path));
  }

  /** Replaces the checkpoint with `bytes`; resolves once they are on disk. */
  private async save(bytes: Uint8Array): Promise<void> {
    // One writer per file (the lock), so a fixed temporary name is enough; a leftover from a crash is overwritten.
    const temporary = `${this.path}.saving`;
    await writeSynced(temporary, 'w', (handle) => handle.writeFile(bytes));
    await rename(temporary, this.path);
    await syncFolder(dirname(this.path));
    this.saved = bytes;
  }

  /** Gives the lock up. The files themselves stay. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await unlink(this.lockPath).catch(() => undefined);
  }
}

async function takeLock(path: string, lockPath: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      // 'wx': create, failing if it exists — the atomic test-and-set of the lock.
      const handle = await open(lockPath, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error;
    }
    const ownerPid = Number((await readFile(lockPath, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(ownerPid) && ownerPid > 0 && isAlive(ownerPid)) throw new SqliteFileLockedError(path, ownerPid);
    // The owner died without releasing (or the lock is garbage): take it over.
    await unlink(lockPath).catch(() => undefined);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
