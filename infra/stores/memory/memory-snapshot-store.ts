/**
 * Snapshots in this process's memory: the default of tests and of a cluster-less
 * quick start. Nothing survives the process; versions behave as in every driver.
 */
import {
  readEach,
  VersionConflictError,
  type JsonObject,
  type SnapshotStore,
  type SnapshotWrite,
  type SnapshotWriteOutcome,
  type StoredSnapshot,
} from '../../../actors/persistence/stores';

export class MemorySnapshotStore implements SnapshotStore {
  readonly driver = 'memory';
  /** Kept as JSON text, as a database would: a copy that no caller can change, cheaper than structuredClone. */
  private readonly documents = new Map<string, { version: number; json: string }>();

  async read(key: string): Promise<StoredSnapshot | undefined> {
    const stored = this.documents.get(key);
    return stored ? { key, version: stored.version, data: JSON.parse(stored.json) as JsonObject } : undefined;
  }

  readMany(keys: readonly string[]): Promise<Map<string, StoredSnapshot>> {
    return readEach(this, keys);
  }

  async write(key: string, data: JsonObject, expectedVersion: number): Promise<number> {
    const outcome = this.apply({ key, data, expectedVersion });
    if (outcome instanceof VersionConflictError) throw outcome;
    return outcome;
  }

  async remove(key: string, expectedVersion: number): Promise<void> {
    const outcome = this.apply({ key, data: null, expectedVersion });
    if (outcome instanceof VersionConflictError) throw outcome;
  }

  async writeBatch(writes: readonly SnapshotWrite[]): Promise<SnapshotWriteOutcome[]> {
    return writes.map((write) => this.apply(write));
  }

  async close(): Promise<void> {}

  private apply(write: SnapshotWrite): SnapshotWriteOutcome {
    const storedVersion = this.documents.get(write.key)?.version ?? 0;
    if (storedVersion !== write.expectedVersion) return new VersionConflictError(write.key, write.expectedVersion, storedVersion);
    if (write.data === null) {
      this.documents.delete(write.key);
      return 0;
    }
    this.documents.set(write.key, { version: storedVersion + 1, json: JSON.stringify(write.data) });
    return storedVersion + 1;
  }
}
