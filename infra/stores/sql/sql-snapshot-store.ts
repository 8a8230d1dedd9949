/**
 * Snapshots in a SQL table (`snapshots`: key, version, data as JSON text),
 * on MariaDB or SQLite. Versions are checked by the database itself, in the
 * statement that writes: creating is an INSERT (a duplicate key is a
 * conflict), replacing is `UPDATE … WHERE key = ? AND version = ?` and
 * removing `DELETE … WHERE key = ? AND version = ?` (no row touched: a
 * conflict). Two writers racing from one version cannot both succeed.
 * The rules are written once (`apply`), over the four statements they need:
 * through TypeORM on MariaDB, prepared once on SQLite (thousands of snapshot
 * and profile writes a second under load).
 */
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
import type { SqliteStatements } from './sqlite-statements';
import { SnapshotTable, type SnapshotRow } from './sql-tables';

/** Keys per IN (…) of a read. */
const READ_CHUNK = 100;

export class SqlSnapshotStore implements SnapshotStore {
  readonly driver: SqlDriverName;

  constructor(
    private readonly connection: SqlConnection,
    /** Called on close: the database is shared with the other SQL store. */
    private readonly release: () => Promise<void>,
  ) {
    this.driver = connection.driver;
  }

  async read(key: string): Promise<StoredSnapshot | undefined> {
    return (await this.readMany([key])).get(key);
  }

  async readMany(keys: readonly string[]): Promise<Map<string, StoredSnapshot>> {
    const found = new Map<string, StoredSnapshot>();
    if (keys.length === 0) return found;
    const rows = await this.withRows(false, (access) => access.read(keys));
    for (const row of rows) found.set(row.key, { key: row.key, version: row.version, data: JSON.parse(row.data) as JsonObject });
    return found;
  }

  async write(key: string, data: JsonObject, expectedVersion: number): Promise<number> {
    const outcome = await this.withRows(false, (access) => apply(access, { key, data, expectedVersion }));
    if (outcome instanceof VersionConflictError) throw outcome;
    return outcome;
  }

  async remove(key: string, expectedVersion: number): Promise<void> {
    const outcome = await this.withRows(false, (access) => apply(access, { key, data: null, expectedVersion }));
    if (outcome instanceof VersionConflictError) throw outcome;
  }

  async writeBatch(writes: readonly SnapshotWrite[]): Promise<SnapshotWriteOutcome[]> {
    if (writes.length === 0) return [];
    // One transaction, one commit (on SQLite one sync of its log); a refused write leaves the others in place:
    // a failed statement undoes only itself on both databases, the transaction goes on.
    return this.withRows(true, async (access) => {
      const outcomes: SnapshotWriteOutcome[] = [];
      for (const write of writes) outcomes.push(await apply(access, write));
      return outcomes;
    });
  }

  async close(): Promise<void> {
    await this.release();
  }

  /** Runs `work` on this database's statements, in one transaction if asked. */
  private withRows<T>(transaction: boolean, work: (access: SnapshotRows) => Promise<T>): Promise<T> {
    if (this.driver === 'sqlite') return this.connection.sqlite((statements) => work(sqliteRows(statements)), transaction);
    const onManager = (manager: EntityManager) => work(typeormRows(manager));
    return transaction ? this.connection.transaction(onManager) : this.connection.run(onManager);
  }
}

type StoredRow = Pick<SnapshotRow, 'key' | 'version' | 'data'>;

/** The statements the rules need; each change answers whether it touched a row. */
interface SnapshotRows {
  read(keys: readonly string[]): Promise<StoredRow[]>;
  storedVersion(key: string): Promise<number>;
  /** False when the key is there already. */
  insert(key: string, version: number, json: string): Promise<boolean>;
  update(key: string, expectedVersion: number, version: number, json: string): Promise<boolean>;
  remove(key: string, expectedVersion: number): Promise<boolean>;
}

/** One conditional write: the new version (0 after a removal), or the conflict that refused it. */
async function apply(access: SnapshotRows, write: SnapshotWrite): Promise<SnapshotWriteOutcome> {
  const { key, data, expectedVersion } = write;
  const conflict = async () => new VersionConflictError(key, expectedVersion, await access.storedVersion(key));
  if (data === null) {
    if (await access.remove(key, expectedVersion)) return 0;
    // Removing what is not there, expecting nothing there, succeeds.
    if (expectedVersion === 0 && (await access.storedVersion(key)) === 0) return 0;
    return conflict();
  }
  const json = JSON.stringify(data);
  const version = expectedVersion + 1;
  const written = expectedVersion === 0 ? await access.insert(key, version, json) : await access.update(key, expectedVersion, version, json);
  return written ? version : conflict();
}

/** MariaDB: TypeORM's query builder. */
function typeormRows(manager: EntityManager): SnapshotRows {
  return {
    async read(keys) {
      const rows: SnapshotRow[] = [];
      // In chunks: both databases limit the terms of one statement.
      for (let i = 0; i < keys.length; i += READ_CHUNK) rows.push(...(await manager.findBy(SnapshotTable, { key: In(keys.slice(i, i + READ_CHUNK)) })));
      return rows;
    },
    async storedVersion(key) {
      const row = await manager.findOne(SnapshotTable, { where: { key }, select: { version: true } });
      return row?.version ?? 0;
    },
    async insert(key, version, json) {
      try {
        await manager.createQueryBuilder().insert().into(SnapshotTable).values({ key, version, data: json, updatedAt: Date.now() }).updateEntity(false).execute();
        return true;
      } catch (error) {
        if (isDuplicateKey(error)) return false;
        throw error;
      }
    },
    async update(key, expectedVersion, version, json) {
      const updated = await manager
        .createQueryBuilder()
        .update(SnapshotTable)
        .set({ version, data: json, updatedAt: Date.now() })
        .where({ key, version: expectedVersion })
        .updateEntity(false)
        .execute();
      return Boolean(updated.affected);
    },
    async remove(key, expectedVersion) {
      const removed = await manager.createQueryBuilder().delete().from(SnapshotTable).where({ key, version: expectedVersion }).execute();
      return Boolean(removed.affected);
    },
  };
}

/** SQLite: the same statements, prepared once. */
const SQLITE = {
  read: 'SELECT "key", "version", "data" FROM "snapshots" WHERE "key" = ?',
  version: 'SELECT "version" FROM "snapshots" WHERE "key" = ?',
  insert: 'INSERT INTO "snapshots" ("key", "version", "data", "updated_at") VALUES (?, ?, ?, ?)',
  update: 'UPDATE "snapshots" SET "version" = ?, "data" = ?, "updated_at" = ? WHERE "key" = ? AND "version" = ?',
  remove: 'DELETE FROM "snapshots" WHERE "key" = ? AND "version" = ?',
} as const;

function sqliteRows(statements: SqliteStatements): SnapshotRows {
  return {
    read: async (keys) => keys.flatMap((key) => statements.rows<StoredRow>(SQLITE.read, [key])),
    storedVersion: async (key) => statements.rows<Pick<SnapshotRow, 'version'>>(SQLITE.version, [key])[0]?.version ?? 0,
    async insert(key, version, json) {
      try {
        statements.run(SQLITE.insert, [key, version, json, Date.now()]);
        return true;
      } catch (error) {
        if (isDuplicateKey(error)) return false;
        throw error;
      }
    },
    update: async (key, expectedVersion, version, json) => statements.run(SQLITE.update, [version, json, Date.now(), key, expectedVersion]) > 0,
    remove: async (key, expectedVersion) => statements.run(SQLITE.remove, [key, expectedVersion]) > 0,
  };
}
