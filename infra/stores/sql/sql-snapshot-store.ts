/**
 * Snapshots in a SQL table (`snapshots`: key, version, data as JSON text),
 * on MariaDB or SQLite. Versions are checked by the database itself, in the
 * statement that writes: creating is an INSERT (a duplicate key is a
 * conflict), replacing is `UPDATE … WHERE key = ? AND version = ?` and
 * removing `DELETE … WHERE key = ? AND version = ?` (no row touched: a
 * conflict). Two writers racing from one version cannot both succeed.
 * MariaDB goes through TypeORM; SQLite runs the same statements prepared once
 * (thousands of snapshot and profile writes a second under load).
 */
import type { Database } from 'sql.js';
import { In, type EntityManager } from 'typeorm';
import {
  VersionConflictError,
  type JsonObject,
  type SnapshotStore,
  type SnapshotWrite,
  type SnapshotWriteOutcome,
  type StoredSnapshot,
} from '../../../actors/persistence/stores';
import type { SqlConnection, SqlDriverName } from './sql-connection';
import { isDuplicateKey } from './sql-errors';
import { isSqliteDuplicateKey, SqljsStatements } from './sqljs-statements';
import { SnapshotTable, type SnapshotRow } from './sql-tables';

/** Keys per IN (…) of a read. */
const READ_CHUNK = 100;

export class SqlSnapshotStore implements SnapshotStore {
  readonly driver: SqlDriverName;
  /** SQLite: the hot statements, prepared once (see SqljsStatements); MariaDB goes through TypeORM. */
  private readonly sqlite: SqljsStatements | undefined;

  constructor(
    private readonly connection: SqlConnection,
    /** Called on close: the database is shared with the other SQL store. */
    private readonly release: () => Promise<void>,
  ) {
    this.driver = connection.driver;
    this.sqlite = connection.driver === 'sqlite' ? new SqljsStatements() : undefined;
  }

  async read(key: string): Promise<StoredSnapshot | undefined> {
    if (this.sqlite) return (await this.readMany([key])).get(key);
    const row = await this.connection.run((manager) => manager.findOneBy(SnapshotTable, { key }));
    return row ? { key, version: row.version, data: JSON.parse(row.data) as JsonObject } : undefined;
  }

  async readMany(keys: readonly string[]): Promise<Map<string, StoredSnapshot>> {
    const found = new Map<string, StoredSnapshot>();
    if (keys.length === 0) return found;
    const sqlite = this.sqlite;
    if (sqlite) {
      const rows = await this.connection.sqlite((database) => keys.flatMap((key) => sqlite.rows(database, SQLITE.read, [key])), false);
      for (const [key, version, data] of rows) found.set(String(key), { key: String(key), version: Number(version), data: JSON.parse(String(data)) as JsonObject });
      return found;
    }
    const rows = await this.connection.run(async (manager) => {
      const all: SnapshotRow[] = [];
      // In chunks: both databases limit the terms of one statement.
      for (let i = 0; i < keys.length; i += READ_CHUNK) all.push(...(await manager.findBy(SnapshotTable, { key: In(keys.slice(i, i + READ_CHUNK)) })));
      return all;
    });
    for (const row of rows) found.set(row.key, { key: row.key, version: row.version, data: JSON.parse(row.data) as JsonObject });
    return found;
  }

  async write(key: string, data: JsonObject, expectedVersion: number): Promise<number> {
    const outcome = await this.applyOne({ key, data, expectedVersion });
    if (outcome instanceof VersionConflictError) throw outcome;
    return outcome;
  }

  async remove(key: string, expectedVersion: number): Promise<void> {
    const outcome = await this.applyOne({ key, data: null, expectedVersion });
    if (outcome instanceof VersionConflictError) throw outcome;
  }

  async writeBatch(writes: readonly SnapshotWrite[]): Promise<SnapshotWriteOutcome[]> {
    if (writes.length === 0) return [];
    const sqlite = this.sqlite;
    if (sqlite) return this.connection.sqlite((database) => writes.map((write) => applySqlite(sqlite, database, write)), true);
    // One transaction, one commit (and on SQLite one journal record); a refused write leaves the others in place:
    // a failed statement undoes only itself on both databases, the transaction goes on.
    return this.connection.transaction(async (manager) => {
      const outcomes: SnapshotWriteOutcome[] = [];
      for (const write of writes) outcomes.push(await apply(manager, write));
      return outcomes;
    });
  }

  async close(): Promise<void> {
    await this.release();
  }

  private applyOne(write: SnapshotWrite): Promise<SnapshotWriteOutcome> {
    const sqlite = this.sqlite;
    if (sqlite) return this.connection.sqlite((database) => applySqlite(sqlite, database, write), false);
    return this.connection.run((manager) => apply(manager, write));
  }
}

/** The SQLite store's statements (the same rules as `apply` below, on prepared statements). */
const SQLITE = {
  read: 'SELECT "key", "version", "data" FROM "snapshots" WHERE "key" = ?',
  version: 'SELECT "version" FROM "snapshots" WHERE "key" = ?',
  insert: 'INSERT INTO "snapshots" ("key", "version", "data", "updated_at") VALUES (?, ?, ?, ?)',
  update: 'UPDATE "snapshots" SET "version" = ?, "data" = ?, "updated_at" = ? WHERE "key" = ? AND "version" = ?',
  remove: 'DELETE FROM "snapshots" WHERE "key" = ? AND "version" = ?',
} as const;

/** One conditional write on SQLite: the new version (0 after a removal), or the conflict that refused it. */
function applySqlite(statements: SqljsStatements, database: Database, write: SnapshotWrite): SnapshotWriteOutcome {
  const { key, data, expectedVersion } = write;
  const stored = (): number => Number(statements.rows(database, SQLITE.version, [key])[0]?.[0] ?? 0);
  const conflict = () => new VersionConflictError(key, expectedVersion, stored());
  if (data === null) {
    if (statements.run(database, SQLITE.remove, [key, expectedVersion]) > 0) return 0;
    if (expectedVersion === 0 && stored() === 0) return 0;
    return conflict();
  }
  const json = JSON.stringify(data);
  const version = expectedVersion + 1;
  if (expectedVersion === 0) {
    try {
      statements.run(database, SQLITE.insert, [key, version, json, Date.now()]);
      return version;
    } catch (error) {
      if (isSqliteDuplicateKey(error)) return conflict();
      throw error;
    }
  }
  return statements.run(database, SQLITE.update, [version, json, Date.now(), key, expectedVersion]) > 0 ? version : conflict();
}

/** One conditional write: the new version (0 after a removal), or the conflict that refused it. */
async function apply(manager: EntityManager, write: SnapshotWrite): Promise<SnapshotWriteOutcome> {
  const { key, data, expectedVersion } = write;
  const conflict = async () => new VersionConflictError(key, expectedVersion, await storedVersion(manager, key));
  if (data === null) {
    const removed = await manager.createQueryBuilder().delete().from(SnapshotTable).where({ key, version: expectedVersion }).execute();
    if (removed.affected) return 0;
    // Removing what is not there, expecting nothing there, succeeds.
    if (expectedVersion === 0 && (await storedVersion(manager, key)) === 0) return 0;
    return conflict();
  }
  const json = JSON.stringify(data);
  const version = expectedVersion + 1;
  if (expectedVersion === 0) {
    try {
      await manager
        .createQueryBuilder()
        .insert()
        .into(SnapshotTable)
        .values({ key, version, data: json, updatedAt: Date.now() })
        .updateEntity(false)
        .execute();
      return version;
    } catch (error) {
      if (isDuplicateKey(error)) return conflict();
      throw error;
    }
  }
  const updated = await manager
    .createQueryBuilder()
    .update(SnapshotTable)
    .set({ version, data: json, updatedAt: Date.now() })
    .where({ key, version: expectedVersion })
    .updateEntity(false)
    .execute();
  return updated.affected ? version : conflict();
}

async function storedVersion(manager: EntityManager, key: string): Promise<number> {
  const row = await manager.findOne(SnapshotTable, { where: { key }, select: { version: true } });
  return row?.version ?? 0;
}
