/**
 * Snapshots in Riak KV (driver 'riak'): one Riak key per snapshot, versions
 * checked by this driver and concurrent writes caught through Riak's siblings.
 * The layout, the conflict rules and their limits are in
 * riak-snapshot-mapping.ts; the library's quirks are handled in riak-client.ts.
 *
 * The bucket type must keep siblings (allow_mult=true, not last_write_wins):
 * before its first command the store reads the bucket's properties and
 * refuses to run otherwise, since concurrent writes would then be lost silently.
 */
import { randomUUID } from 'node:crypto';
import {
  readEach,
  StoreUnavailableError,
  VersionConflictError,
  type JsonObject,
  type SnapshotStore,
  type SnapshotWrite,
  type SnapshotWriteOutcome,
  type StoredSnapshot,
} from '../../../actors/persistence/stores';
import { RiakClient, type RiakClientOptions, type RiakLocation } from './riak-client';
import {
  DEFAULT_SNAPSHOT_BUCKET,
  currentSnapshot,
  encodeSnapshot,
  judgeStore,
  readSnapshot,
  rewriteContent,
  snapshotLocation,
  versionConflict,
  type SnapshotBucket,
} from './riak-snapshot-mapping';

export interface RiakSnapshotStoreOptions extends RiakClientOptions {
  /** Default 'playhouse': created with allow_mult=true (see riak-snapshot-mapping.ts). */
  readonly bucketType?: string;
  /** Default 'playhouse-snapshots'. */
  readonly bucket?: string;
  /** Writes of one batch in flight at once. Default 16. */
  readonly batchConcurrency?: number;
}

export class RiakSnapshotStore implements SnapshotStore {
  readonly driver = 'riak';
  /** The bucket check, once it has succeeded (a failed check is tried again on the next command). */
  private bucketChecked: Promise<void> | undefined;

  private constructor(
    private readonly client: RiakClient,
    private readonly bucket: SnapshotBucket,
    private readonly batchConcurrency: number,
  ) {}

  /** Starts the client; resolves even when no node answers yet (commands then fail with StoreUnavailableError). */
  static async open(options: RiakSnapshotStoreOptions): Promise<RiakSnapshotStore> {
    const bucket = { bucketType: options.bucketType ?? DEFAULT_SNAPSHOT_BUCKET.bucketType, bucket: options.bucket ?? DEFAULT_SNAPSHOT_BUCKET.bucket };
    const batchConcurrency = options.batchConcurrency ?? 16;
    if (!Number.isInteger(batchConcurrency) || batchConcurrency < 1) throw new Error(`riak: batchConcurrency must be a positive integer, got ${batchConcurrency}`);
    return new RiakSnapshotStore(await RiakClient.start(options), bucket, batchConcurrency);
  }

  async read(key: string): Promise<StoredSnapshot | undefined> {
    await this.checkBucket();
    return readSnapshot(key, await this.client.fetch(this.location(key)));
  }

  readMany(keys: readonly string[]): Promise<Map<string, StoredSnapshot>> {
    return readEach(this, keys);
  }

  async write(key: string, data: JsonObject, expectedVersion: number): Promise<number> {
    const outcome = await this.apply({ key, data, expectedVersion });
    if (outcome instanceof VersionConflictError) throw outcome;
    return outcome;
  }

  async remove(key: string, expectedVersion: number): Promise<void> {
    const outcome = await this.apply({ key, data: null, expectedVersion });
    if (outcome instanceof VersionConflictError) throw outcome;
  }

  /**
   * Riak has no multi-key request: the writes run in parallel, at most
   * `batchConcurrency` at once, each answered on its own. Any failure to reach
   * Riak fails the whole call (no new write is started after it).
   */
  async writeBatch(writes: readonly SnapshotWrite[]): Promise<SnapshotWriteOutcome[]> {
    const outcomes = new Array<SnapshotWriteOutcome>(writes.length);
    let next = 0;
    let failure: { error: unknown } | undefined;
    const worker = async (): Promise<void> => {
      while (!failure && next < writes.length) {
        const index = next++;
        try {
          outcomes[index] = await this.apply(writes[index]!);
        } catch (error) {
          failure ??= { error };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.batchConcurrency, writes.length) }, worker));
    if (failure) throw failure.error;
    return outcomes;
  }

  async close(): Promise<void> {
    await this.client.stop();
  }

  /** One conditional write or removal: the version check, then the store and Riak's sibling check. */
  private async apply(write: SnapshotWrite): Promise<SnapshotWriteOutcome> {
    await this.checkBucket();
    const location = this.location(write.key);
    // Metadata only: the version, the write ids and the vclock are all a write needs.
    const current = currentSnapshot(write.key, await this.client.fetch(location, { headOnly: true }));
    const conflict = versionConflict(write.key, current, write.expectedVersion);
    if (conflict) return conflict;
    if (write.data === null) {
      if (current.winner) await this.client.delete(location, current.vclock);
      return 0;
    }
    const writeId = randomUUID();
    const answer = await this.client.store(location, encodeSnapshot(write.data, write.expectedVersion + 1, writeId), {
      vclock: current.vclock,
      returnHead: true,
    });
    const verdict = judgeStore(write.key, write.expectedVersion, writeId, answer);
    if (verdict.split) await this.resolveSplit(write.key, location);
    return verdict.applied ? verdict.version : verdict.conflict;
  }

  /**
   * Writes the winning sibling back with the merged vclock, so the key holds
   * one value again. Best effort: if it fails, readers still apply the same
   * rule and the next write resolves the split.
   */
  private async resolveSplit(key: string, location: RiakLocation): Promise<void> {
    try {
      const fetched = await this.client.fetch(location);
      const current = currentSnapshot(key, fetched);
      if (current.split && current.winner) await this.client.store(location, rewriteContent(current.winner), { vclock: current.vclock, returnHead: false });
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error;
    }
  }

  private checkBucket(): Promise<void> {
    this.bucketChecked ??= this.client.bucketProps(this.bucket.bucketType, this.bucket.bucket).then(
      (props) => {
        if (!props.allowMult || props.lastWriteWins || props.consistent) {
          throw new Error(
            `riak: bucket type '${this.bucket.bucketType}' must keep siblings (allow_mult=true, last_write_wins=false, not consistent); ` +
              `it has allow_mult=${props.allowMult}, last_write_wins=${props.lastWriteWins}, consistent=${props.consistent}. ` +
              `Create it with: riak-admin bucket-type create ${this.bucket.bucketType} '{"props":{"allow_mult":true}}'`,
          );
        }
      },
      (error: unknown) => {
        this.bucketChecked = undefined; // unreachable: check again next time
        throw error;
      },
    );
    return this.bucketChecked;
  }

  private location(key: string): RiakLocation {
    return snapshotLocation(this.bucket, key);
  }
}
