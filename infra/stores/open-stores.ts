/**
 * Opens the drivers a StoresConfig names, once per process. The two SQL
 * stores share one database connection when they point at the same place
 * (one SQLite file has one owner). Riak's client is loaded only when Riak is
 * configured: it is old and prints warnings on load.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { OpenedStores, RecordDriverConfig, SnapshotDriverConfig, StoresConfig } from '../../actors/persistence/stores';
import type { ActorLog } from '../../actors/ports';
import { MemoryMatchRecords } from './memory/memory-match-records';
import { MemorySnapshotStore } from './memory/memory-snapshot-store';
import { RedisSnapshotStore } from './redis/redis-snapshot-store';
import { SqlDatabase, type SqlDatabaseOptions } from './sql/sql-database';

export async function openStores(config: StoresConfig, log: ActorLog): Promise<OpenedStores> {
  const databases = new Map<string, Promise<SqlDatabase>>();
  const sql = (options: SqlDatabaseOptions): Promise<SqlDatabase> => {
    const where = options.kind === 'sqlite' ? `sqlite:${options.file}` : `mariadb:${options.url}`;
    let database = databases.get(where);
    if (!database) {
      // A fresh checkout has no data/ directory yet.
      const ready = options.kind === 'sqlite' ? mkdir(path.dirname(path.resolve(options.file)), { recursive: true }) : Promise.resolve();
      databases.set(where, (database = ready.then(() => SqlDatabase.open(options, { migrate: config.migrate }))));
    }
    return database;
  };
  const closers: Array<() => Promise<void>> = [];
  try {
    const snapshots = await openSnapshots(config.snapshots, sql, log);
    closers.push(() => snapshots.close());
    const matches = await openRecords(config.records, sql);
    closers.push(() => matches.close());
    log.info({ snapshots: snapshots.driver, records: matches.driver }, 'stores open');
    return {
      snapshots,
      matches,
      async close() {
        await Promise.all(closers.map((close) => close()));
      },
    };
  } catch (error) {
    await Promise.allSettled(closers.map((close) => close()));
    throw error;
  }
}

async function openSnapshots(config: SnapshotDriverConfig, sql: (options: SqlDatabaseOptions) => Promise<SqlDatabase>, log: ActorLog) {
  switch (config.driver) {
    case 'memory':
      return new MemorySnapshotStore();
    case 'sqlite':
      return (await sql({ kind: 'sqlite', file: config.file })).snapshots;
    case 'mariadb':
      return (await sql({ kind: 'mariadb', url: config.url })).snapshots;
    case 'redis':
      return RedisSnapshotStore.open({ url: config.url, prefix: config.prefix, log });
    case 'riak': {
      const { RiakSnapshotStore } = await import('./riak/riak-snapshot-store');
      return RiakSnapshotStore.open({ nodes: config.nodes, bucketType: config.bucketType, bucket: config.bucket, log });
    }
  }
}

async function openRecords(config: RecordDriverConfig, sql: (options: SqlDatabaseOptions) => Promise<SqlDatabase>) {
  switch (config.driver) {
    case 'memory':
      return new MemoryMatchRecords();
    case 'sqlite':
      return (await sql({ kind: 'sqlite', file: config.file })).matches;
    case 'mariadb':
      return (await sql({ kind: 'mariadb', url: config.url })).matches;
  }
}
