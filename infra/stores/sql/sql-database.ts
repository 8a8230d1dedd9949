/**
 * A SQL database holding both SQL stores (snapshots and match results),
 * through TypeORM: MariaDB in production (mysql2, a pool), or SQLite in one
 * file for a single node (better-sqlite3: SQLite itself, compiled into a
 * native module, in its write-ahead-log mode; see SqliteFile for the
 * settings and why only one process may open a file).
 *
 * The schema comes from the migrations in ./migrations (`migrate()`, or
 * `npm run migrate`), never from `synchronize`.
 */
import type { Database } from 'better-sqlite3';
import { DataSource } from 'typeorm';
import { StoreUnavailableError } from '../../../actors/persistence/stores';
import { SQL_MIGRATIONS } from './migrations';
import { SqlConnection, type SqlDriverName } from './sql-connection';
import { SqlMatchRecords } from './sql-match-records';
import { SqlSnapshotStore } from './sql-snapshot-store';
import { SQL_TABLES } from './sql-tables';
import { SqliteFileInUseError, takeSqliteFile } from './sqlite-file';

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
  ) {
    this.snapshots = new SqlSnapshotStore(connection, this.share());
    this.matches = new SqlMatchRecords(connection, this.share());
  }

  /** Connects (MariaDB) or opens the file (SQLite); fails with StoreUnavailableError when it cannot. */
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

  /** Closes both stores: waits for the operations under way, then disconnects (SQLite: folds its log into the file and gives the file up). */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.connection.close();
      // A pool whose server is gone reports its lost connections here: they are closed all the same.
      if (this.dataSource.isInitialized) await this.dataSource.destroy().catch(() => undefined);
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
    const dataSource = new DataSource({
      type: 'better-sqlite3',
      database: path,
      // No busy timeout: a file another process holds is refused at once (SqliteFileInUseError), not waited for.
      timeout: 0,
      prepareDatabase: (database: Database) => takeSqliteFile(database, path),
      ...SCHEMA,
    });
    try {
      await dataSource.initialize();
    } catch (error) {
      if (error instanceof SqliteFileInUseError) throw error;
      throw new StoreUnavailableError('sqlite', error);
    }
    return new SqlDatabase('sqlite', dataSource, new SqlConnection('sqlite', dataSource, { sqliteLog: `${path}-wal` }));
  }

  private static async openMariadb(options: Extract<SqlDatabaseOptions, { kind: 'mariadb' }>): Promise<SqlDatabase> {
    const dataSource = new DataSource({
      // 'mariadb', not 'mysql': with 'mysql' generated ids come back wrong after upserts, and synchronize alters a column on every run.
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
    return new SqlDatabase('mariadb', dataSource, connection);
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
