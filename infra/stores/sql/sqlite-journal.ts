/**
 * The write-ahead journal of a sql.js database (`<file>.journal`): what
 * changed since the last checkpoint (`<file>`, see SqliteFile), one line of
 * JSON per operation, appended and fsynced before the operation answers.
 *
 * A record holds row images, not statements: for each row the operation
 * touched, [table, rowid, row] as the operation left it (row null: gone).
 * Images are absolute, so replaying the records in order over a checkpoint
 * that already holds some or all of them gives the same rows — a crash
 * between writing a checkpoint and emptying the journal is harmless.
 *
 * A crash mid-append leaves a bad last line, never acknowledged: dropped at
 * open. A bad line before the last one is corruption: opening refuses.
 *
 * The touched rows come from SQLite's update hook, which does not see:
 * - DDL: hence a checkpoint after migrations;
 * - rows that REPLACE deletes on a conflict: harmless, since replay's own
 *   INSERT OR REPLACE deletes them again;
 * - `DELETE` without `WHERE` (the truncate optimisation): SqljsDisk notices
 *   changes the hook missed (SQLite's total_changes()) and writes a
 *   checkpoint instead of a record;
 * - WITHOUT ROWID tables: the schema has none.
 */
import { closeSync, constants, fdatasync as fdatasyncCallback, openSync, writeSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { Database, SqlValue, Statement } from 'sql.js';
import { rowObject } from './sqljs-statements';
import { writeSynced } from './synced-file';

const fdatasync = promisify(fdatasyncCallback);

export type RowImage = { readonly [column: string]: SqlValue };
/** One touched row as the operation left it; null when it is gone. */
export type RowChange = readonly [table: string, rowid: number, row: RowImage | null];
export type JournalRecord = readonly RowChange[];

export class SqliteJournalCorruptError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    reason: string,
  ) {
    super(`${file} is corrupt at line ${line} (${reason}): refusing to open, the acknowledged records after it would be lost`);
    this.name = 'SqliteJournalCorruptError';
  }
}

export class SqliteJournal {
  private constructor(
    readonly path: string,
    /** The records appended since the last checkpoint, encoded: what memory is rebuilt from after a failure. */
    private lines: string[],
    private bytes: number,
  ) {}

  /** Reads the journal, creating it empty if absent; a bad last line is cut off the file. */
  static async open(path: string): Promise<SqliteJournal> {
    await (await open(path, 'a')).close();
    const content = await readFile(path);
    const lines: string[] = [];
    let start = 0;
    while (start < content.length) {
      const end = content.indexOf(0x0a, start);
      const last = end === -1 || end === content.length - 1;
      const line = content.toString('utf8', start, end === -1 ? content.length : end);
      const problem = end === -1 ? 'no line end' : problemOf(line);
      if (problem !== undefined) {
        if (last) break;
        throw new SqliteJournalCorruptError(path, lines.length + 1, problem);
      }
      lines.push(line);
      start = end + 1;
    }
    // `start` is where the complete records end: an append torn by a crash is cut off before the next one.
    if (start < content.length) await writeSynced(path, 'r+', (handle) => handle.truncate(start));
    return new SqliteJournal(path, lines, start);
  }

  /** Bytes of records since the last checkpoint. */
  get size(): number {
    return this.bytes;
  }

  /** The records since the last checkpoint, oldest first. */
  records(): JournalRecord[] {
    return this.lines.map(decode);
  }

  /** Appends one record; resolves once it is on disk. */
  async append(record: JournalRecord): Promise<void> {
    const line = encode(record);
    const bytes = Buffer.from(`${line}\n`);
    // Opened by name each time, without O_CREAT: a journal that vanished fails the append, not feeds an orphan.
    // Open, write and close only reach the page cache: synchronous, as a thread-pool round trip each costs
    // more CPU than the call. Only the fsync waits for the disk, off the event loop.
    const fd = openSync(this.path, constants.O_WRONLY | constants.O_APPEND);
    try {
      const written = writeSync(fd, bytes);
      if (written !== bytes.length) throw new Error(`${this.path}: wrote ${written} of ${bytes.length} bytes`);
      await fdatasync(fd);
    } finally {
      closeSync(fd);
    }
    this.lines.push(line);
    this.bytes += bytes.length;
  }

  /** Empties the journal (creating it if it vanished: the caller syncs the folder); called once its records are in a checkpoint. */
  async clear(): Promise<void> {
    await writeSynced(this.path, 'w');
    this.lines = [];
    this.bytes = 0;
  }
}

/** Reads the current images of rows of one sql.js Database, its statements kept prepared (they go with it). */
export class RowImages {
  /** Per table: its SELECT by rowid, and the column names it answers (read from sql.js once, not per row). */
  private readonly selects = new Map<string, { readonly select: Statement; readonly columns: readonly string[] }>();

  constructor(private readonly database: Database) {}

  /** The record of the `touched` rows, by table. */
  read(touched: ReadonlyMap<string, ReadonlySet<number>>): JournalRecord {
    const record: RowChange[] = [];
    for (const [table, rowids] of touched) {
      let prepared = this.selects.get(table);
      if (!prepared) {
        const select = this.database.prepare(`SELECT * FROM ${quote(table)} WHERE rowid = ?`);
        this.selects.set(table, (prepared = { select, columns: select.getColumnNames() }));
      }
      const { select, columns } = prepared;
      try {
        for (const rowid of rowids) {
          select.bind([rowid]);
          record.push([table, rowid, select.step() ? rowObject(columns, select.get()) : null]);
          select.reset();
        }
      } catch (error) {
        // A table changed by DDL since: prepared afresh next time.
        this.selects.delete(table);
        select.free();
        throw error;
      }
    }
    return record;
  }
}

/** Applies records to `database` in one transaction; `lineOf` names a failing record in the error. */
export function replay(database: Database, records: readonly JournalRecord[], lineOf: (index: number) => string): void {
  const statements = new Map<string, Statement>();
  const statement = (sql: string) => {
    let prepared = statements.get(sql);
    if (!prepared) statements.set(sql, (prepared = database.prepare(sql)));
    return prepared;
  };
  database.run('BEGIN');
  try {
    for (const [index, record] of records.entries()) {
      try {
        for (const [table, rowid, row] of record) {
          if (row === null) {
            statement(`DELETE FROM ${quote(table)} WHERE rowid = ?`).run([rowid]);
          } else {
            const columns = Object.keys(row);
            const sql = `INSERT OR REPLACE INTO ${quote(table)} (rowid, ${columns.map(quote).join(', ')}) VALUES (?${', ?'.repeat(columns.length)})`;
            statement(sql).run([rowid, ...columns.map((column) => row[column] ?? null)]);
          }
        }
      } catch (error) {
        throw new Error(`cannot replay ${lineOf(index)}: ${String(error)}`, { cause: error });
      }
    }
    database.run('COMMIT');
  } catch (error) {
    database.run('ROLLBACK');
    throw error;
  } finally {
    for (const prepared of statements.values()) prepared.free();
  }
}

function quote(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

// JSON has no bytes nor infinities: they are spelled as objects (no column value is an object otherwise).
// Records with neither (nearly all) are stringified without a replacer, which JSON.stringify would call for
// every key and value.
function encode(record: JournalRecord): string {
  if (!record.some(needsSpelling)) return JSON.stringify(record);
  return JSON.stringify(record, (_key, value: unknown) => {
    if (value instanceof Uint8Array) return { $bytes: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
    if (typeof value === 'number' && !Number.isFinite(value)) return { $real: String(value) };
    return value;
  });
}

function needsSpelling([, , row]: RowChange): boolean {
  if (row === null) return false;
  for (const column in row) {
    const value = row[column];
    if (value instanceof Uint8Array || (typeof value === 'number' && !Number.isFinite(value))) return true;
  }
  return false;
}

function decode(line: string): JournalRecord {
  const parsed: unknown = JSON.parse(line);
  if (!Array.isArray(parsed) || parsed.length === 0) throw new Error('not a list of row changes');
  return parsed.map((change: unknown): RowChange => {
    if (!Array.isArray(change) || change.length !== 3) throw new Error('a row change is not [table, rowid, row]');
    const [table, rowid, row] = change as unknown[];
    if (typeof table !== 'string' || !Number.isSafeInteger(rowid)) throw new Error('a row change has no table or rowid');
    if (row === null) return [table, rowid as number, null];
    if (typeof row !== 'object' || Array.isArray(row)) throw new Error(`the row ${table}/${String(rowid)} is not an object`);
    const image: { [column: string]: SqlValue } = {};
    for (const [column, value] of Object.entries(row)) image[column] = decodeValue(value);
    return [table, rowid as number, image];
  });
}

function decodeValue(value: unknown): SqlValue {
  if (value === null || typeof value === 'string' || typeof value === 'number') return value;
  if (typeof value === 'object' && value !== null) {
    if ('$bytes' in value && typeof value.$bytes === 'string') return new Uint8Array(Buffer.from(value.$bytes, 'base64'));
    if ('$real' in value && (value.$real === 'Infinity' || value.$real === '-Infinity')) return Number(value.$real);
  }
  throw new Error(`unknown value ${JSON.stringify(value)}`);
}

/** Why `line` is not a record, or undefined when it is one. */
function problemOf(line: string): string | undefined {
  try {
    decode(line);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
