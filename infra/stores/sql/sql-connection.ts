/**
 * How the SQL stores reach their database: every query goes through `run` or
 * `transaction` here, which
 * - turn driver errors into StoreUnavailableError (VersionConflictError, the
 *   stores' own verdict, passes through untouched);
 * - on SQLite (sql.js), run one operation at a time: TypeORM gives sql.js a
 *   single shared query runner, so two interleaved transactions would become
 *   one, and a read would see another operation's uncommitted writes;
 * - on MariaDB, bound each operation's time (a server that went silent must
 *   surface as unavailable, not hang the caller) and run a transaction again
 *   when the server rolled it back for a deadlock.
 */
import type { DataSource, EntityManager } from 'typeorm';
import { StoreUnavailableError, VersionConflictError } from '../../../actors/persistence/stores';
import { isTransientTransactionError } from './sql-errors';

export type SqlDriverName = 'sqlite' | 'mariadb';

export interface SqlConnectionSettings {
  /** MariaDB: an operation not answered within this many ms fails as unavailable (its outcome is unknown). */
  readonly operationTimeoutMs?: number;
  /** SQLite: called after a failed operation, to put the in-memory database back to what is on disk. */
  readonly afterFailure?: () => Promise<void>;
}

/** Times a deadlocked MariaDB transaction is tried in all. */
const TRANSACTION_ATTEMPTS = 3;

export class SqlConnection {
  private closed = false;
  /** SQLite: the end of the queue of operations, each waiting for the one before. */
  private tail: Promise<unknown> = Promise.resolve();
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

  /** Runs `work` with the data source, alone (SQLite) and with errors left as they are (migrations). */
  exclusive<T>(work: (dataSource: DataSource) => Promise<T>): Promise<T> {
    return this.inTurn(() => work(this.dataSource));
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

  private inTurn<T>(work: () => Promise<T>): Promise<T> {
    if (this.driver !== 'sqlite') return work();
    const { afterFailure } = this.settings;
    const result = this.tail.then(async () => {
      try {
        return await work();
      } catch (error) {
        // Still in turn: nothing else runs until the database is back to what the file holds.
        if (afterFailure) await afterFailure();
        throw error;
      }
    });
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
