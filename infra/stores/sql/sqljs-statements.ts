/**
 * Prepared statements kept for the hot writes of the SQLite store (room
 * snapshots, profiles). Through TypeORM every statement is built by the query
 * builder and compiled by SQLite again each time — in WebAssembly, ~100 µs a
 * statement, thousands a second under load. A statement prepared once and
 * bound again costs a small fraction of that.
 *
 * Bound to one sql.js Database object: when the store reloads its database
 * (after a failed journal append) the statements are prepared again.
 */
import type { BindParams, Database, SqlValue, Statement } from 'sql.js';

export class SqljsStatements {
  private database: Database | undefined;
  private readonly prepared = new Map<string, Statement>();
  /** A query's column names, read once: sql.js's getAsObject builds them from WebAssembly memory for every row. */
  private readonly columnsOf = new Map<Statement, readonly string[]>();

  /** The statement for `sql` on `database`, prepared on first use. */
  statement(database: Database, sql: string): Statement {
    if (database !== this.database) {
      // A new Database object: the old one's statements died with it.
      this.prepared.clear();
      this.columnsOf.clear();
      this.database = database;
    }
    let statement = this.prepared.get(sql);
    if (!statement) this.prepared.set(sql, (statement = database.prepare(sql)));
    return statement;
  }

  /** Runs a change; the number of rows it changed. */
  run(database: Database, sql: string, params: BindParams): number {
    this.statement(database, sql).run(params);
    return database.getRowsModified();
  }

  /** The rows a query answers, as objects by column name (alias the columns to the row types' names). */
  rows<R>(database: Database, sql: string, params: BindParams): R[] {
    const statement = this.statement(database, sql);
    let columns = this.columnsOf.get(statement);
    if (!columns) this.columnsOf.set(statement, (columns = statement.getColumnNames()));
    try {
      statement.bind(params);
      const rows: R[] = [];
      while (statement.step()) rows.push(rowObject(columns, statement.get()) as R);
      return rows;
    } finally {
      statement.reset();
    }
  }
}

/** A row as an object by column name, from a statement's column names (read once) and one step's values. */
export function rowObject(columns: readonly string[], values: readonly SqlValue[]): { [column: string]: SqlValue } {
  const row: { [column: string]: SqlValue } = {};
  for (let i = 0; i < columns.length; i++) row[columns[i]!] = values[i] ?? null;
  return row;
}
