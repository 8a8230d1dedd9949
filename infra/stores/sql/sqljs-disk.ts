/**
 * Keeps the files of a sql.js database (checkpoint + journal, see SqliteFile)
 * in step with the database in memory.
 */
import type { Database, Statement } from 'sql.js';
import type { SqljsDriver } from 'typeorm/driver/sqljs/SqljsDriver';
import { StoreUnavailableError } from '../../../actors/persistence/stores';
import type { SqliteDisk } from './sql-connection';
import type { SqliteFile } from './sqlite-file';
import { replay, RowImages } from './sqlite-journal';

/** The journal is folded into a checkpoint once it outgrows both this and the checkpoint itself. */
const CHECKPOINT_MIN_BYTES = 4 * 1024 * 1024;

/**
 * Keeps the files of a sql.js database in step with it: SQLite's update hook
 * collects the rows each operation touches, and their images go to the
 * journal before the operation answers. When the files cannot take a change,
 * memory is rebuilt from them (checkpoint + journal), so a retry does not
 * meet its own unsaved write as a version conflict.
 */
export class SqljsDisk implements SqliteDisk {
  /** Rows changed since the last record, by table. */
  private touched = new Map<string, Set<number>>();
  /** Reads them, from the current sql.js Database. */
  private images: RowImages;
  /** An append failed: the journal may end in a torn or unacknowledged record, to be replaced by a checkpoint before anything else. */
  private behind = false;
  private checkpointAt: number;
  /** Row changes the update hook reported since the last record, and SQLite's own count of changes then. */
  private hooked = 0;
  private changesAtLastRecord = 0;
  private countChanges: Statement | undefined;

  private constructor(
    private readonly driver: SqljsDriver,
    private readonly file: SqliteFile,
  ) {
    this.checkpointAt = this.threshold();
    this.images = new RowImages(this.database);
  }

  /** Replays the journal found on disk over the checkpoint, and folds it into a new checkpoint. */
  static async open(driver: SqljsDriver, file: SqliteFile): Promise<SqljsDisk> {
    const disk = new SqljsDisk(driver, file);
    if (file.journal.size > 0) {
      disk.replayJournal();
      try {
        await file.checkpoint(disk.database.export());
      } catch (error) {
        throw new StoreUnavailableError('sqlite', error);
      }
    }
    disk.watch();
    return disk;
  }

  get checkpointDue(): boolean {
    return this.file.journal.size >= this.checkpointAt;
  }

  async before(): Promise<void> {
    if (this.behind) await this.checkpoint();
  }

  async after(): Promise<void> {
    // Changes the update hook never sees (a DELETE without WHERE empties a table without reporting its rows)
    // still count in total_changes(): then the journal cannot describe the operation, and the whole database
    // goes to disk instead.
    const changes = this.totalChanges();
    const unseen = changes - this.changesAtLastRecord - this.hooked;
    this.changesAtLastRecord = changes;
    this.hooked = 0;
    if (unseen > 0) return this.checkpoint();
    if (this.touched.size === 0) return;
    const touched = this.touched;
    this.touched = new Map();
    try {
      await this.file.journal.append(this.images.read(touched));
    } catch (error) {
      this.behind = true;
      await this.rebuild();
      throw new StoreUnavailableError('sqlite', error);
    }
  }

  async checkpoint(): Promise<void> {
    try {
      await this.file.checkpoint(this.database.export());
    } catch (error) {
      // Memory may hold what no record has (DDL): back to the files. The next due checkpoint waits for another journal's worth.
      this.checkpointAt = this.file.journal.size + this.threshold();
      await this.rebuild();
      throw new StoreUnavailableError('sqlite', error);
    }
    this.touched.clear();
    this.behind = false;
    this.checkpointAt = this.threshold();
  }

  /** Leaves the checkpoint alone on disk; if it cannot be written, the journal still holds every change. */
  async checkpointBeforeClosing(): Promise<void> {
    if (this.file.journal.size > 0 || this.behind) await this.checkpoint().catch(() => undefined);
  }

  release(): Promise<void> {
    return this.file.release();
  }

  private get database(): Database {
    return this.driver.databaseConnection as Database;
  }

  /** Rows changed on this connection since it opened, by SQLite's count (completed statements). */
  private totalChanges(): number {
    const statement = this.countChanges!;
    try {
      statement.step();
      return Number(statement.get()[0]);
    } finally {
      statement.reset();
    }
  }

  private threshold(): number {
    return Math.max(CHECKPOINT_MIN_BYTES, this.file.lastSaved?.byteLength ?? 0);
  }

  private watch(): void {
    // The files are ours (checkpoint + journal): SQLite's own rollback journal, which it would otherwise
    // write, sync and delete as a file in sql.js's in-memory file system for every transaction, stays in memory.
    // The connection is the database's only one: with the lock kept (EXCLUSIVE), SQLite stops looking for a
    // hot journal at the start of every transaction — in sql.js a file lookup that fails by throwing, which
    // cost ~30 % of a commit's CPU.
    this.database.exec('PRAGMA locking_mode = EXCLUSIVE; PRAGMA journal_mode = MEMORY; PRAGMA synchronous = OFF');
    this.touched = new Map();
    this.images = new RowImages(this.database);
    this.countChanges = this.database.prepare('SELECT total_changes()');
    this.hooked = 0;
    this.changesAtLastRecord = this.totalChanges();
    this.database.updateHook((_operation, database, table, rowid) => {
      this.hooked++;
      // 'temp' tables are not kept.
      if (database !== 'main') return;
      let rowids = this.touched.get(table);
      if (!rowids) this.touched.set(table, (rowids = new Set()));
      rowids.add(rowid);
    });
  }

  private replayJournal(): void {
    const { journal } = this.file;
    replay(this.database, journal.records(), (index) => `${journal.path} line ${index + 1}`);
  }

  /** Memory back to what the files hold: the last checkpoint and the records since. */
  private async rebuild(): Promise<void> {
    const stale = this.database;
    await this.driver.load(this.file.lastSaved ?? new Uint8Array());
    stale.close();
    this.replayJournal();
    this.watch();
  }
}
