/**
 * From the typed configuration to the plain description of the drivers a
 * process opens (it travels to forked and remote workers as JSON).
 */
import type { PersistenceSettings } from '../../actors/persistence/persistence-actor';
import type { RecordDriverConfig, SnapshotDriverConfig, StoresConfig } from '../../actors/persistence/stores';
import { resolvedStores, type PlayhouseConfig } from '../config';

export function storesConfig(config: PlayhouseConfig): StoresConfig {
  const { persistence } = config;
  const chosen = resolvedStores(config);
  const snapshots: SnapshotDriverConfig = (() => {
    switch (chosen.snapshots) {
      case 'memory':
        return { driver: 'memory' };
      case 'sqlite':
        return { driver: 'sqlite', file: persistence.sqliteFile };
      case 'mariadb':
        return { driver: 'mariadb', url: persistence.mariadbUrl };
      case 'redis':
        return { driver: 'redis', url: persistence.redisUrl ?? config.cluster.redisUrl, prefix: `${config.cluster.name}:` };
      case 'riak':
        return { driver: 'riak', nodes: persistence.riakNodes, bucketType: persistence.riakBucketType, bucket: persistence.riakBucket };
    }
  })();
  const records: RecordDriverConfig =
    chosen.records === 'memory' ? { driver: 'memory' } : chosen.records === 'sqlite' ? { driver: 'sqlite', file: persistence.sqliteFile } : { driver: 'mariadb', url: persistence.mariadbUrl };
  return { snapshots, records, migrate: persistence.migrateOnBoot };
}

export function persistenceSettings(config: PlayhouseConfig): PersistenceSettings {
  const { queue } = config.persistence;
  return {
    maxQueued: queue.maxQueued,
    batchSize: queue.batchSize,
    normalWindowMs: queue.normalWindowMs,
    lowIntervalMs: queue.lowIntervalMs,
    criticalSpacingMs: queue.criticalSpacingMs,
    retry: { initialMs: queue.retryInitialMs, maxMs: queue.retryMaxMs },
  };
}
