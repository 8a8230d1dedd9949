/**
 * How the SQL stores reach their database: every query goes through `run` or
 * `transaction` here, which
 * - turn driver errors into StoreUnavailableError (VersionConflictError, the
 *   stores' own verdict, passes through untouched);
 * - on SQLite (sql.js), run one operation at a time: TypeORM gives sql.js a
 *   single shared query runner, so two interleaved transactions would become
 *   one, and a read would see another operation's uncommitted writes; and,
 *   still in turn, have each operation's changes made durable (SqliteDisk)
 *   before it answers;
 * - on MariaDB, bound each operation's time (a server that went silent must
 *   surface as unavailable, not hang the caller) and run a transaction again
 *   when the server rolled it back for a deadlock.
 */
import type { Database } from 'sql.js';
import type { DataSource, EntityManager } from 'typeorm';
import type { SqljsDriver } from 'typeorm/driver/sqljs/SqljsDriver';
import { StoreUnavailableError, VersionConflictError } from '../../../actors/persistence/stores';
import { isTransientTransactionError } from './sql-errors';

export type SqlDriverName = 'sqlite' | 'mariadb';

export interface SqlConnectionSettings {
  /** MariaDB: an operation not answered within this many ms fails as unavailable (its outcome is unknown). */
  readonly operationTimeoutMs?: number;
  /** SQLite: what keeps the files in step with the in-memory database. */
  readonly disk?: SqliteDisk;
}

/** SQLite: the files of the in-memory database; each method runs in turn, nothing else running meanwhile. */
export interface SqliteDisk {
  /** Before an operation: puts the files back in order after an earlier failure; throws StoreUnavailableError if it cannot. */
  before(): Promise<void>;
  /** After an operation, failed or not: makes its changes durable, or puts memory back to what is on disk and throws StoreUnavailableError. */
  after(): Promise<void>;
  /** True when the changes since the last checkpoint have grown enough to write a new one. */
  readonly checkpointDue: boolean;
  /** Writes the whole database to disk (after DDL, which after() does not see, or to keep the changes short). */
  checkpoint(): Promise<void>;
}

/** Times a deadlocked MariaDB transaction is tried in all. */
const TRANSACTION_ATTEMPTS = 3;

export class SqlConnection {
  private closed = false;
  /** SQLite: the end of the queue of operations, each waiting for the one before. */
  private tail: Promise<unknown> = Promise.resolve();
  private checkpointQueued = false;
  /** Operations not yet answered, for close() to wait on. */
  private readonly underway = new Set<Promise<unknown>>();

  constructor(
    readonly driver: SqlDriverName,
    private readonly dataSource: DataSource,
    private readonly settings: SqlConnectionSettings = {},
  ) {}

  /** Runs `work` outside any transaction (each statement commits on its own). */
  run<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.operation(() => work(this.dataSource.manager));
  }

  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.operation(async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.dataSource.transaction(work);
        } catch (error) {
          if (attempt >= TRANSACTION_ATTEMPTS || !isTransientTransactionError(error)) throw error;
        }
      }
    });
  }

  /**
   * SQLite only: runs `work` on the sql.js database itself, in turn like every operation (and journaled
   * after it), in one transaction when `transaction` is set. For the store's hot statements, which it
   * prepares once (SqljsStatements) instead of having TypeORM build and SQLite compile them each time.
   */
  sqlite<T>(work: (database: Database) => T | Promise<T>, transaction: boolean): Promise<T> {
    if (this.driver !== 'sqlite') throw new Error('sqlite() is for the SQLite driver');
    return this.operation(async () => {
      const database = (this.dataSource.driver as SqljsDriver).databaseConnection as Database;
      if (!transaction) return work(database);
      database.exec('BEGIN');
      try {
        // Nothing else runs on the database meanwhile (operations take turns), so the work may await.
        const result = await work(database);
        database.exec('COMMIT');
        return result;
      } catch (error) {
        // SQLite may have rolled back already (some errors end the transaction themselves).
        try {
          database.exec('ROLLBACK');
        } catch {
          /* no transaction left to roll back */
        }
        throw error;
      }
    });
  }

  /** Runs `work` with the data source, alone (SQLite, followed by a checkpoint) and with errors left as they are (migrations). */
  exclusive<T>(work: (dataSource: DataSource) => Promise<T>): Promise<T> {
    return this.inTurn(() => work(this.dataSource), 'checkpoint');
  }

  /** Refuses new operations, then waits for those under way. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.underway, this.tail]);
  }

  private async operation<T>(work: () => Promise<T>): Promise<T> {
    if (this.closed) throw new StoreUnavailableError(this.driver, new Error('the database is closed'));
    const answer = this.inTurn(() => this.bounded(work()));
    this.underway.add(answer);
    try {
      return await answer;
    } catch (error) {
      if (error instanceof VersionConflictError || error instanceof StoreUnavailableError) throw error;
      throw new StoreUnavailableError(this.driver, error);
    } finally {
      this.underway.delete(answer);
    }
  }

  private inTurn<T>(work: () => Promise<T>, then: 'persist' | 'checkpoint' = 'persist'): Promise<T> {
    if (this.driver !== 'sqlite') return work();
    const { disk } = this.settings;
    const result = this.tail.then(async () => {
      if (!disk) return work();
      await disk.before();
      let outcome: { ok: true; value: T } | { ok: false; error: unknown };
      try {
        outcome = { ok: true, value: await work() };
      } catch (error) {
        outcome = { ok: false, error };
      }
      // Failed or not: a `run` commits statement by statement, so a failed one may have changed rows.
      await (then === 'checkpoint' ? disk.checkpoint() : disk.after());
      if (disk.checkpointDue) this.checkpointSoon(disk);
      if (!outcome.ok) throw outcome.error;
      return outcome.value;
    });
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Queues one checkpoint behind the operations already waiting: the one that made it due answers first. */
  private checkpointSoon(disk: SqliteDisk): void {
    if (this.checkpointQueued) return;
    this.checkpointQueued = true;
    this.tail = this.tail
      .then(() => {
        this.checkpointQueued = false;
        // A failed checkpoint loses nothing (the journal still holds every change): the next due one tries again.
        return disk.checkpoint();
      })
      .catch(() => undefined);
  }

  private bounded<T>(promise: Promise<T>): Promise<T> {
    const timeoutMs = this.settings.operationTimeoutMs;
    if (this.driver !== 'mariadb' || !timeoutMs) return promise;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StoreUnavailableError(this.driver, new Error(`no answer within ${timeoutMs} ms`))), timeoutMs);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }
}
