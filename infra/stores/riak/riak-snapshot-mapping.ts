/**
 * How a snapshot is kept in Riak, and how a conflict is told — pure functions
 * over the plain shapes of riak-client.ts, so every rule is tested without a
 * server.
 *
 * Layout: snapshot key `room/42` is Riak key `room/42` in one bucket of a
 * bucket type (defaults: type 'playhouse', bucket 'playhouse-snapshots'). The
 * value is the document itself as JSON (content type application/json), so
 * other Riak tools read it as it is; our bookkeeping is in user metadata:
 * `playhouse-version` (1 after the first write) and `playhouse-write` (a
 * random id per write, which tells a writer's own value among siblings).
 *
 * How conflicts are detected — two checks, because Riak KV has no
 * compare-and-set outside strongly consistent bucket types:
 * 1. Our version check. A write fetches the key (metadata only), compares the
 *    stored version with `expectedVersion`, and stores version
 *    `expectedVersion + 1` with the fetched vclock (the causal context).
 *    That refuses every write based on an old version that Riak has already
 *    seen — but two writers that fetched the same vclock both pass it.
 * 2. Riak's siblings. The bucket type must keep concurrent writes as siblings:
 *      riak-admin bucket-type create playhouse '{"props":{"allow_mult":true}}'
 *      riak-admin bucket-type activate playhouse
 *    (the store checks allow_mult before its first command and refuses to run
 *    without it). Each store asks for the key's metadata right after the
 *    write (`returnHead`). Siblings in that answer mean another write came
 *    from the same causal context; the winner among them is picked by the
 *    rule below, by every writer and reader alike: the writer whose value
 *    wins is applied, every other gets a VersionConflictError.
 *
 * The sibling rule (`winningSibling`), in order:
 *    a document beats a tombstone (a tombstone is version 0, absent);
 *    the higher `playhouse-version` wins;
 *    then the earlier stored (Riak's last-modified time): the write that was
 *    stored alone, and so was acknowledged, came first;
 *    then the smaller `playhouse-write` id (equal times: still one answer).
 * After a split the writer writes the winner back with the merged vclock, so
 * the key does not stay split (readers apply the same rule meanwhile).
 *
 * Known limits, stated for operators: the "earlier stored" step trusts the
 * coordinating nodes' clocks (keep them in NTP sync); under a network
 * partition (sloppy quorum) two writes can both be acknowledged and the rule
 * keeps one. A delete answers nothing (Riak returns no body to a delete), so a
 * removal racing a write is not detected: the write survives (documents beat
 * tombstones) and the removal still reports success. True compare-and-set
 * needs a strongly consistent bucket type, which this driver does not use.
 */
import { VersionConflictError, type JsonObject, type StoredSnapshot } from '../../../actors/persistence/stores';
import type { RiakContent, RiakFetchAnswer, RiakLocation, RiakSibling, RiakStoreAnswer } from './riak-client';

export const SNAPSHOT_CONTENT_TYPE = 'application/json';
/** User metadata key of the snapshot's version. */
export const VERSION_META = 'playhouse-version';
/** User metadata key of the id of the write that stored the value. */
export const WRITE_ID_META = 'playhouse-write';

/** Where the snapshots live. */
export interface SnapshotBucket {
  readonly bucketType: string;
  readonly bucket: string;
}

export const DEFAULT_SNAPSHOT_BUCKET: SnapshotBucket = { bucketType: 'playhouse', bucket: 'playhouse-snapshots' };

/** What the sibling rule looks at: the metadata, never the value (head-only answers carry none). */
export type SiblingStamp =
  | { readonly kind: 'tombstone'; readonly lastModified: number | undefined }
  | { readonly kind: 'document'; readonly version: number; readonly writeId: string; readonly lastModified: number | undefined };

/** The key's state as one fetch saw it, siblings resolved. */
export interface CurrentSnapshot {
  /** The winner's version; 0 when nothing (or only a tombstone) is stored. */
  readonly version: number;
  /** The winning value, undefined when absent. */
  readonly winner: RiakSibling | undefined;
  /** The key holds more than one value (concurrent writes not yet resolved). */
  readonly split: boolean;
  /** The causal context to write or delete with: it descends from every sibling. */
  readonly vclock: Buffer | undefined;
}

/** What a store's answer means for the writer. */
export type StoreVerdict =
  | { readonly applied: true; readonly version: number; readonly split: boolean }
  | { readonly applied: false; readonly conflict: VersionConflictError; readonly split: boolean };

export function snapshotLocation(bucket: SnapshotBucket, key: string): RiakLocation {
  return { bucketType: bucket.bucketType, bucket: bucket.bucket, key };
}

/** A snapshot as the value Riak stores. */
export function encodeSnapshot(data: JsonObject, version: number, writeId: string): RiakContent {
  return {
    value: JSON.stringify(data),
    contentType: SNAPSHOT_CONTENT_TYPE,
    userMeta: [
      { key: VERSION_META, value: String(version) },
      { key: WRITE_ID_META, value: writeId },
    ],
  };
}

/** A fetched value written back unchanged (its version and write id too): how a split is resolved. */
export function rewriteContent(sibling: RiakSibling): RiakContent {
  return { value: sibling.value.toString('utf8'), contentType: sibling.contentType ?? SNAPSHOT_CONTENT_TYPE, userMeta: sibling.userMeta };
}

/** The bookkeeping of one value. Throws when the value was not written by this driver. */
export function stampOf(key: string, sibling: RiakSibling): SiblingStamp {
  if (sibling.isTombstone) return { kind: 'tombstone', lastModified: sibling.lastModified };
  const version = metaValue(sibling, VERSION_META);
  const writeId = metaValue(sibling, WRITE_ID_META);
  if (version === undefined || !/^[1-9][0-9]{0,15}$/.test(version)) throw notASnapshot(key, `no valid ${VERSION_META} metadata (${String(version)})`);
  if (writeId === undefined) throw notASnapshot(key, `no ${WRITE_ID_META} metadata`);
  return { kind: 'document', version: Number(version), writeId, lastModified: sibling.lastModified };
}

/** The document a (full, not head-only) value holds. */
export function documentOf(key: string, sibling: RiakSibling): JsonObject {
  if (sibling.contentType !== undefined && sibling.contentType !== SNAPSHOT_CONTENT_TYPE) throw notASnapshot(key, `content type ${sibling.contentType}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(sibling.value.toString('utf8'));
  } catch (error) {
    throw notASnapshot(key, `not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw notASnapshot(key, 'not a JSON object');
  return parsed as JsonObject;
}

/** True when `a` wins over `b` by the sibling rule (see the header). */
export function winsOver(a: SiblingStamp, b: SiblingStamp): boolean {
  if (a.kind !== b.kind) return a.kind === 'document';
  if (a.kind === 'document' && b.kind === 'document') {
    if (a.version !== b.version) return a.version > b.version;
    const aTime = a.lastModified ?? Number.POSITIVE_INFINITY;
    const bTime = b.lastModified ?? Number.POSITIVE_INFINITY;
    if (aTime !== bTime) return aTime < bTime;
    return a.writeId < b.writeId;
  }
  return false; // two tombstones: either one means absent
}

/** The value that wins among a key's siblings, with its stamp; undefined when there are none. */
export function winningSibling(key: string, siblings: readonly RiakSibling[]): { readonly sibling: RiakSibling; readonly stamp: SiblingStamp } | undefined {
  let best: { sibling: RiakSibling; stamp: SiblingStamp } | undefined;
  for (const sibling of siblings) {
    const stamp = stampOf(key, sibling);
    if (!best || winsOver(stamp, best.stamp)) best = { sibling, stamp };
  }
  return best;
}

/** The key's state from a fetch: the winning value and its version (0: absent), with the vclock to write with. */
export function currentSnapshot(key: string, fetched: RiakFetchAnswer): CurrentSnapshot {
  const winning = fetched.found ? winningSibling(key, fetched.siblings) : undefined;
  const isDocument = winning?.stamp.kind === 'document';
  return {
    version: winning?.stamp.kind === 'document' ? winning.stamp.version : 0,
    winner: isDocument ? winning?.sibling : undefined,
    split: fetched.siblings.length > 1,
    vclock: fetched.vclock,
  };
}

/** The snapshot a (full) fetch holds, or undefined when absent. */
export function readSnapshot(key: string, fetched: RiakFetchAnswer): StoredSnapshot | undefined {
  const current = currentSnapshot(key, fetched);
  if (!current.winner) return undefined;
  return { key, version: current.version, data: documentOf(key, current.winner) };
}

/** Our version check: a write or removal expecting another version than the stored one is refused. */
export function versionConflict(key: string, current: CurrentSnapshot, expectedVersion: number): VersionConflictError | undefined {
  return current.version === expectedVersion ? undefined : new VersionConflictError(key, expectedVersion, current.version);
}

/**
 * Riak's check, after the store: the writer whose value wins among the
 * siblings of the answer is applied; any other conflicted. An empty answer
 * (Riak returned no metadata) contradicts nothing: applied.
 */
export function judgeStore(key: string, expectedVersion: number, writeId: string, answer: RiakStoreAnswer): StoreVerdict {
  const split = answer.siblings.length > 1;
  const winning = winningSibling(key, answer.siblings);
  if (!winning) return { applied: true, version: expectedVersion + 1, split };
  const { stamp } = winning;
  if (stamp.kind === 'document' && stamp.writeId === writeId) return { applied: true, version: stamp.version, split };
  return { applied: false, conflict: new VersionConflictError(key, expectedVersion, stamp.kind === 'document' ? stamp.version : 0), split };
}

function metaValue(sibling: RiakSibling, key: string): string | undefined {
  return sibling.userMeta.find((meta) => meta.key === key)?.value;
}

function notASnapshot(key: string, reason: string): Error {
  return new Error(`riak: the value under '${key}' is not a playhouse snapshot: ${reason}`);
}
