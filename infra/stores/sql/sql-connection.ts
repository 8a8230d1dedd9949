/**
 * How the SQL stores reach their database: every query goes through `run`,
 * `transaction` or `sqlite` here, which
 * - turn driver errors into StoreUnavailableError (VersionConflictError, the
 *   stores' own verdict, passes through untouched);
 * - on SQLite, run one operation at a time on the one connection
 *   (better-sqlite3): a transaction must not get another operation's
 *   statements inside it, and TypeORM's and the prepared statements share that
 *   connection; and answer an operation that changed rows once its commit is
 *   on disk (SqliteLog), the next operation running meanwhile;
 * - on MariaDB, bound each operation's time (a server that went silent must
 *   surface as unavailable, not hang the caller) and run a transaction again
 *   when the server rolled it back for a deadlock.
 */
import type { Database } from 'better-sqlite3';
import type { DataSource, EntityManager } from 'typeorm';
import type { BetterSqlite3Driver } from 'typeorm/driver/better-sqlite3/BetterSqlite3Driver';
import { StoreUnavailableError, VersionConflictError } from '../../../actors/persistence/stores';
import { isTransientTransactionError } from './sql-errors';
import { SqliteLog } from './sqlite-log';
import { SqliteStatements } from './sqlite-statements';

export type SqlDriverName = 'sqlite' | 'mariadb';

export interface SqlConnectionSettings {
  /** MariaDB: an operation not answered within this many ms fails as unavailable (its outcome is unknown). */
  readonly operationTimeoutMs?: number;
  /** SQLite: the write-ahead log to fsync (`<file>-wal`). */
  readonly sqliteLog?: string;
}

/** Times a deadlocked MariaDB transaction is tried in all. */
const TRANSACTION_ATTEMPTS = 3;

export class SqlConnection {
  private closed = false;
  /** SQLite: the end of the queue of operations, each waiting for the one before. */
  private tail: Promise<unknown> = Promise.resolve();
  /** Operations not yet answered, for close() to wait on. */
  private readonly underway = new Set<Promise<unknown>>();
  /** SQLite: the hot statements, prepared once on the connection TypeORM opened. */
  private readonly statements: SqliteStatements | undefined;
  private readonly log: SqliteLog | undefined;

  constructor(
    readonly driver: SqlDriverName,
    private readonly dataSource: DataSource,
    private readonly settings: SqlConnectionSettings = {},
  ) {
    this.statements = driver === 'sqlite' ? new SqliteStatements((dataSource.driver as BetterSqlite3Driver).databaseConnection as Database) : undefined;
    this.log = settings.sqliteLog === undefined ? undefined : new SqliteLog(settings.sqliteLog);
  }

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
   * SQLite only: runs `work` on the prepared statements, in turn like every operation, in one transaction
   * when `transaction` is set; answers once what it changed is durable.
   */
  sqlite<T>(work: (statements: SqliteStatements) => Promise<T>, transaction: boolean): Promise<T> {
    const { statements, log } = this;
    if (!statements || !log) throw new Error('sqlite() is for the SQLite driver');
    let changed = false;
    return this.operation(
      async () => {
        const result = await (transaction ? statements.transaction(() => work(statements)) : work(statements));
        changed = statements.takeChanged();
        return result;
      },
      () => (changed ? log.sync() : Promise.resolve()),
    );
  }

  /** Runs `work` with the data source, alone (SQLite) and with errors left as they are (migrations). */
  exclusive<T>(work: (dataSource: DataSource) => Promise<T>): Promise<T> {
    return this.inTurn(() => work(this.dataSource));
  }

  /** Refuses new operations, then waits for those under way. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.underway, this.tail]);
    await this.log?.close();
  }

  /** Runs `work` in turn, then `durable` (SQLite's fsync) outside the turn, so that the next operation need not wait for the disk. */
  private async operation<T>(work: () => Promise<T>, durable?: () => Promise<void>): Promise<T> {
    if (this.closed) throw new StoreUnavailableError(this.driver, new Error('the database is closed'));
    const inTurn = this.inTurn(() => this.bounded(work()));
    const answer = durable
      ? inTurn.then(async (result) => {
          await durable();
          return result;
        })
      : inTurn;
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

  private inTurn<T>(work: () => Promise<T>): Promise<T> {
    if (this.driver !== 'sqlite') return work();
    const result = this.tail.then(work);
    this.tail = result.catch(() => undefined);
    return result;
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
