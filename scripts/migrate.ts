/**
 * `npm run migrate`: brings a SQL database's schema up to date (the
 * migrations in infra/stores/sql/migrations, never `synchronize`) and prints
 * which ran. Safe to run again: a second run runs nothing. On MariaDB two
 * servers migrating at once take turns (a named lock).
 */
import { parseArgs } from 'node:util';
import { SqlDatabase, type SqlDatabaseOptions } from '../infra/stores/sql/sql-database';

const USAGE = `usage: npm run migrate -- (--sqlite FILE | --mariadb URL)
  --sqlite FILE   a SQLite file (created if missing); default: PLAYHOUSE_SQLITE_FILE
  --mariadb URL   mysql://user:password@host:port/database; default: PLAYHOUSE_MARIADB_URL
A flag wins over the environment; give one database, not both.`;

function target(): SqlDatabaseOptions {
  const { values } = parseArgs({
    options: {
      sqlite: { type: 'string' },
      mariadb: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  if (values.sqlite !== undefined && values.mariadb !== undefined) throw new UsageError('give --sqlite or --mariadb, not both');
  if (values.sqlite) return { kind: 'sqlite', file: values.sqlite };
  if (values.mariadb) return { kind: 'mariadb', url: values.mariadb };
  const url = process.env.PLAYHOUSE_MARIADB_URL;
  const file = process.env.PLAYHOUSE_SQLITE_FILE;
  if (url && file) throw new UsageError('both PLAYHOUSE_MARIADB_URL and PLAYHOUSE_SQLITE_FILE are set: say which with --mariadb or --sqlite');
  if (url) return { kind: 'mariadb', url };
  if (file) return { kind: 'sqlite', file };
  throw new UsageError('no database given');
}

class UsageError extends Error {}

/** The database, for messages: a URL without its password. */
function describe(options: SqlDatabaseOptions): string {
  if (options.kind === 'sqlite') return `SQLite ${options.file}`;
  const url = new URL(options.url);
  if (url.password) url.password = '***';
  return `MariaDB ${url.toString()}`;
}

async function main(): Promise<void> {
  const options = target();
  const database = await SqlDatabase.open(options);
  try {
    const ran = await database.migrate();
    if (ran.length === 0) console.log(`${describe(options)}: up to date, no migration to run`);
    else for (const name of ran) console.log(`${describe(options)}: ran ${name}`);
  } finally {
    await database.close();
  }
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) console.error(`${error.message}\n${USAGE}`);
  else console.error(`migration failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
