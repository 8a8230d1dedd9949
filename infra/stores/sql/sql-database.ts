/**
 * A SQL database holding both SQL stores (snapshots and match results),
 * through TypeORM: MariaDB in production (mysql2, a pool), or SQLite in one
 * file for a single node.
 *
 * SQLite runs on sql.js, not better-sqlite3: sql.js is WebAssembly shipped
 * inside its npm package, so it installs on any fresh machine from the npm
 * registry alone — no compiler, no Node headers, no prebuilt binary fetched
 * from GitHub, all of which better-sqlite3 needs. The price: sql.js holds the
 * whole database in memory, which suits a single node's data, not a large
 * shared one — that is what MariaDB is for. Each operation's changed rows go
 * to a journal, fsynced before it answers; the whole file is rewritten only
 * at checkpoints (see SqliteFile, SqliteJournal). Only one process may open a
 * given SQLite file (a lock file refuses a second one).
 *
 * The schema comes from the migrations in ./migrations (`migrate()`, or
 * `npm run migrate`), never from `synchronize`.
 */
import { DataSource } from 'typeorm';
import type { SqljsDriver } from 'typeorm/driver/sqljs/SqljsDriver';
import { StoreUnavailableError } from '../../../actors/persistence/stores';
import { SQL_MIGRATIONS } from './migrations';
import { SqlConnection, type SqlDriverName } from './sql-connection';
import { SqlMatchRecords } from './sql-match-records';
import { SqlSnapshotStore } from './sql-snapshot-store';
import { SQL_TABLES } from './sql-tables';
import { SqliteFile } from './sqlite-file';
import { SqljsDisk } from './sqljs-disk';

export type SqlDatabaseOptions =
  | { readonly kind: 'sqlite'; readonly file: string }
  | {
      readonly kind: 'mariadb';
      /** mysql://user:password@host:port/database */
      readonly url: string;
      /** Giving up on a new connection after this long (default 3 s): a stopped server fails fast. */
      readonly connectTimeoutMs?: number;
      /** Giving up on an operation after this long (default 10 s): a silent server fails, not hangs. */
      readonly operationTimeoutMs?: number;
      /** Connections in the pool (default 10). */
      readonly poolSize?: number;
    };

export interface SqlDatabaseSettings {
  /** Run pending migrations before answering (default false: `npm run migrate` does it). */
  readonly migrate?: boolean;
}

/** Our own name for TypeORM's bookkeeping table: a shared database may have another 'migrations'. */
export const MIGRATIONS_TABLE = 'playhouse_migrations';

/** One schema for both dialects: the tables, and the migrations that make them (never `synchronize`). */
const SCHEMA = { entities: SQL_TABLES, migrations: [...SQL_MIGRATIONS], migrationsTableName: MIGRATIONS_TABLE, synchronize: false };

export class SqlDatabase {
  readonly snapshots: SqlSnapshotStore;
  readonly matches: SqlMatchRecords;
  /** Stores not yet closed: the database closes with the last one. */
  private openStores = 2;
  private closing: Promise<void> | undefined;

  private constructor(
    readonly driver: SqlDriverName,
    private readonly dataSource: DataSource,
    private readonly connection: SqlConnection,
    private readonly disk: SqljsDisk | undefined,
  ) {
    this.snapshots = new SqlSnapshotStore(connection, this.share());
    this.matches = new SqlMatchRecords(connection, this.share());
  }

  /** Connects (MariaDB) or loads the file (SQLite); fails with StoreUnavailableError when it cannot. */
  static async open(options: SqlDatabaseOptions, settings: SqlDatabaseSettings = {}): Promise<SqlDatabase> {
    const database = options.kind === 'sqlite' ? await SqlDatabase.openSqlite(options.file) : await SqlDatabase.openMariadb(options);
    if (settings.migrate) {
      try {
        await database.migrate();
      } catch (error) {
        await database.close();
        throw error;
      }
    }
    return database;
  }

  /** Runs the migrations not yet run; resolves with their names (none: the schema was up to date). */
  async migrate(): Promise<string[]> {
    return this.connection.exclusive(async (dataSource) => {
      const run = () => dataSource.runMigrations({ transaction: 'each' });
      const ran = this.driver === 'mariadb' ? await underMigrationLock(dataSource, run) : await run();
      return ran.map((migration) => migration.name);
    });
  }

  /** Closes both stores: waits for the operations under way, then disconnects (and unlocks the SQLite file). */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.connection.close();
      await this.disk?.checkpointBeforeClosing();
      // A pool whose server is gone reports its lost connections here: they are closed all the same.
      if (this.dataSource.isInitialized) await this.dataSource.destroy().catch(() => undefined);
      await this.disk?.release();
    })();
    return this.closing;
  }

  private share(): () => Promise<void> {
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      this.openStores -= 1;
      if (this.openStores === 0) await this.close();
    };
  }

  private static async openSqlite(path: string): Promise<SqlDatabase> {
    const file = await SqliteFile.open(path);
    const dataSource = new DataSource({
      type: 'sqljs',
      ...(file.lastSaved ? { database: file.lastSaved } : {}),
      // Not TypeORM's save of the whole file after every commit: SqljsDisk journals the changed rows.
      autoSave: false,
      ...SCHEMA,
    });
    try {
      await dataSource.initialize();
    } catch (error) {
      await file.release();
      throw new StoreUnavailableError('sqlite', error);
    }
    let disk: SqljsDisk;
    try {
      disk = await SqljsDisk.open(dataSource.driver as SqljsDriver, file);
    } catch (error) {
      await dataSource.destroy().catch(() => undefined);
      await file.release();
      throw error;
    }
    const connection = new SqlConnection('sqlite', dataSource, { disk });
    return new SqlDatabase('sqlite', dataSource, connection, disk);
  }

  private static async openMariadb(options: Extract<SqlDatabaseOptions, { kind: 'mariadb' }>): Promise<SqlDatabase> {
    const dataSource = new DataSource({
      // 'mariadb', not 'mysql': see DEPENDENCIES.md (generated values and schema diffs go wrong with 'mysql').
      type: 'mariadb',
      url: options.url,
      // utf8mb4 on the wire too: names carry characters outside the BMP.
      charset: 'utf8mb4_unicode_ci',
      connectTimeout: options.connectTimeoutMs ?? 3000,
      poolSize: options.poolSize ?? 10,
      // A dead server's connections are noticed and dropped; the pool opens new ones when it is back.
      extra: { enableKeepAlive: true },
      ...SCHEMA,
    });
    try {
      await dataSource.initialize();
    } catch (error) {
      throw new StoreUnavailableError('mariadb', error);
    }
    const connection = new SqlConnection('mariadb', dataSource, { operationTimeoutMs: options.operationTimeoutMs ?? 10_000 });
    return new SqlDatabase('mariadb', dataSource, connection, undefined);
  }
}

/** Two servers booting together must not both create the tables: MariaDB runs DDL outside transactions. */
async function underMigrationLock<T>(dataSource: DataSource, work: () => Promise<T>): Promise<T> {
  const runner = dataSource.createQueryRunner();
  try {
    const [row] = (await runner.query(`SELECT GET_LOCK(CONCAT('playhouse-migrations:', DATABASE()), 60) AS taken`)) as Array<{ taken: unknown }>;
    if (Number(row?.taken) !== 1) throw new Error('another process has been migrating this database for over 60 s');
    try {
      return await work();
    } finally {
      await runner.query(`SELECT RELEASE_LOCK(CONCAT('playhouse-migrations:', DATABASE()))`);
    }
  } finally {
    await runner.release();
  }
}
