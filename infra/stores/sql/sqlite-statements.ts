/**
 * Prepared statements kept for the hot writes of the SQLite store (room
 * snapshots, profiles, match results). Through TypeORM every statement is
 * built by the query builder and looked up again each time; a statement
 * prepared once and bound again costs a small fraction of that, thousands of
 * times a second under load.
 */
import type { Database, Statement } from 'better-sqlite3';

/** What a statement's `?` placeholders take. */
export type SqliteValue = string | number | bigint | Buffer | null;

export class SqliteStatements {
  private readonly prepared = new Map<string, Statement<SqliteValue[]>>();
  /** A statement changed rows since takeChanged() last looked. */
  private changed = false;

  constructor(private readonly database: Database) {}

  /** Runs a change; the number of rows it changed. */
  run(sql: string, params: readonly SqliteValue[]): number {
    const { changes } = this.statement(sql).run(...params);
    if (changes > 0) this.changed = true;
    return changes;
  }

  /** Whether rows changed since the last call: then the log has something to make durable. */
  takeChanged(): boolean {
    const changed = this.changed;
    this.changed = false;
    return changed;
  }

  /** The rows a query answers, as objects by column name (alias the columns to the row types' names). */
  rows<R>(sql: string, params: readonly SqliteValue[]): R[] {
    return this.statement(sql).all(...params) as R[];
  }

  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  async transaction<T>(work: () => Promise<T>): Promise<T> {
    // Not better-sqlite3's db.transaction(): it takes synchronous work, and the stores' rules are written once,
    // asynchronously, for MariaDB too. The caller sees to it that nothing else runs on the connection meanwhile.
    this.run('BEGIN', []);
    try {
      const result = await work();
      this.run('COMMIT', []);
      return result;
    } catch (error) {
      // SQLite may have rolled back already (some errors end the transaction themselves).
      if (this.database.inTransaction) this.run('ROLLBACK', []);
      throw error;
    }
  }

  /** The statement for `sql`, prepared on first use. */
  private statement(sql: string): Statement<SqliteValue[]> {
    let statement = this.prepared.get(sql);
    if (!statement) this.prepared.set(sql, (statement = this.database.prepare<SqliteValue[]>(sql)));
    return statement;
  }
}
