/**
 * File writes that are on disk when they resolve: the SQLite checkpoint and
 * journal (SqliteFile, SqliteJournal) answer a write only once it is.
 */
import { open, type FileHandle } from 'node:fs/promises';

/** Opens `path` with `flags`, lets `work` change it, and fsyncs it before closing. */
export async function writeSynced(path: string, flags: string, work: (handle: FileHandle) => Promise<void> = async () => {}): Promise<void> {
  const handle = await open(path, flags);
  try {
    await work(handle);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** fsyncs a folder so a file created or renamed in it survives a power cut (not possible on every platform: then skipped). */
export async function syncFolder(folder: string): Promise<void> {
  let handle;
  try {
    handle = await open(folder, 'r');
    await handle.sync();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EBADF') throw error;
  } finally {
    await handle?.close();
  }
}
