/**
 * Turns a batch of queued writes into as few store calls as possible, and
 * says what became of each: durable, refused by a version conflict, or not
 * written because its store failed (the actor queues those again).
 *
 * Versions: a snapshot write is conditional on the version this actor wrote
 * last for its key (or, for a key it has not written yet, the version the
 * writer says it started from, else the stored one). A write whose answer was
 * lost (the store failed mid-call) may have been applied: when its retry
 * conflicts, the stored document is compared with what was sent, and if it is
 * ours the write counts as durable rather than as a conflict.
 */
import { isDeepStrictEqual } from 'node:util';
import type { WriteRequest } from './persistence-protocol';
import type { JsonObject, MatchRecordStore, MatchResult, SnapshotStore, SnapshotWrite, StoredSnapshot } from './stores';
import { VersionConflictError } from './stores';
import type { QueuedWrite } from './write-queue';

export interface PersistenceStores {
  readonly snapshots: SnapshotStore;
  readonly matches: MatchRecordStore;
}

export type WriteOutcome = { readonly durable: true; readonly version?: number } | { readonly durable: false; readonly conflict: VersionConflictError };

/** The entries of one store whose call failed: they go back to the queue. */
export interface FailedGroup {
  readonly store: string;
  readonly entries: readonly QueuedWrite[];
  readonly error: unknown;
}

export interface BatchResult {
  readonly outcomes: ReadonlyMap<QueuedWrite, WriteOutcome>;
  readonly failed: readonly FailedGroup[];
  /** Per store that was called: how many writes went and how long it took. */
  readonly calls: ReadonlyArray<{ readonly store: string; readonly writes: number; readonly seconds: number; readonly conflicts: number }>;
}

/** Profile writes that keep conflicting (other workers updating the same profile) are tried this often per flush. */
const PROFILE_ROUNDS = 4;

export class StoreWriter {
  /** The version this actor last wrote, per snapshot key (forgotten when the key is removed). */
  private readonly versions = new Map<string, number>();

  constructor(private readonly stores: PersistenceStores) {}

  async write(batch: readonly QueuedWrite[]): Promise<BatchResult> {
    const outcomes = new Map<QueuedWrite, WriteOutcome>();
    const failed: FailedGroup[] = [];
    const calls: Array<BatchResult['calls'][number]> = [];
    const matches = batch.filter((entry) => entry.write.kind === 'match-result');
    const documents = batch.filter((entry) => entry.write.kind !== 'match-result');
    const run = async (store: string, entries: readonly QueuedWrite[], call: () => Promise<number>): Promise<void> => {
      if (entries.length === 0) return;
      const started = performance.now();
      try {
        const conflicts = await call();
        calls.push({ store, writes: entries.length, seconds: (performance.now() - started) / 1000, conflicts });
      } catch (error) {
        for (const entry of entries) outcomes.delete(entry);
        failed.push({ store, entries, error });
      }
    };
    // The two stores are independent: one being down does not hold the other's writes.
    await Promise.all([
      run(this.stores.matches.driver, matches, () => this.saveMatches(matches, outcomes)),
      run(this.stores.snapshots.driver, documents, () => this.writeDocuments(documents, outcomes)),
    ]);
    return { outcomes, failed, calls };
  }

  /** Forgets what this actor knows of a key's version (its writer moved elsewhere). */
  forget(key: string): void {
    this.versions.delete(key);
  }

  private async saveMatches(entries: readonly QueuedWrite[], outcomes: Map<QueuedWrite, WriteOutcome>): Promise<number> {
    const results = entries.map((entry) => (entry.write as Extract<WriteRequest, { kind: 'match-result' }>).result);
    try {
      await this.stores.matches.saveResults(results);
      for (const entry of entries) outcomes.set(entry, { durable: true });
      return 0;
    } catch (error) {
      if (!(error instanceof VersionConflictError) || entries.length === 1) {
        if (error instanceof VersionConflictError) {
          outcomes.set(entries[0]!, { durable: false, conflict: error });
          return 1;
        }
        throw error;
      }
    }
    // One result of the batch conflicts and the transaction saved none: save them one by one to find it.
    let conflicts = 0;
    for (const [i, entry] of entries.entries()) {
      try {
        await this.stores.matches.saveResults([results[i] as MatchResult]);
        outcomes.set(entry, { durable: true });
      } catch (error) {
        if (!(error instanceof VersionConflictError)) throw error;
        outcomes.set(entry, { durable: false, conflict: error });
        conflicts++;
      }
    }
    return conflicts;
  }

  private async writeDocuments(entries: readonly QueuedWrite[], outcomes: Map<QueuedWrite, WriteOutcome>): Promise<number> {
    let pending = entries;
    let conflicts = 0;
    for (let round = 1; pending.length > 0; round++) {
      // Every document the round needs to read (profiles; snapshots of unknown version), in one call.
      const stored = await this.stores.snapshots.readMany(pending.map((entry) => this.keyToRead(entry)).filter((key): key is string => key !== undefined));
      const prepared = pending.map((entry) => this.prepare(entry, stored));
      for (const [i, entry] of pending.entries()) if (prepared[i] === 'already-applied') outcomes.set(entry, { durable: true });
      pending = pending.filter((_, i) => prepared[i] !== 'already-applied');
      const writes = prepared.filter((write): write is SnapshotWrite => write !== 'already-applied');
      if (writes.length === 0) break;
      for (const [i, entry] of pending.entries()) entry.attempts.push({ expectedVersion: writes[i]!.expectedVersion, data: writes[i]!.data });
      const results = await this.stores.snapshots.writeBatch(writes);
      const again: QueuedWrite[] = [];
      for (const [i, entry] of pending.entries()) {
        const result = results[i];
        const write = writes[i]!;
        if (typeof result === 'number') {
          this.wrote(write, result);
          outcomes.set(entry, { durable: true, version: result });
          continue;
        }
        const conflict = result instanceof VersionConflictError ? result : new VersionConflictError(write.key, write.expectedVersion, undefined);
        const stored = await this.stores.snapshots.read(write.key);
        const applied = entry.attempts.find((attempt) => isStoredAttempt(stored, attempt.expectedVersion, attempt.data));
        if (applied) {
          // An earlier attempt whose answer was lost did land: ours, not a conflict.
          const version = stored?.version ?? 0;
          this.wrote({ key: write.key, data: applied.data, expectedVersion: applied.expectedVersion }, version);
          outcomes.set(entry, { durable: true, version });
        } else if (entry.write.kind === 'profile' && round < PROFILE_ROUNDS) {
          // Another worker updated the profile meanwhile: add ours to what is there now.
          again.push(entry);
        } else {
          this.versions.delete(write.key);
          outcomes.set(entry, { durable: false, conflict });
        }
        conflicts++;
      }
      pending = again;
    }
    return conflicts;
  }

  /** The key an entry's write must read first: a profile (added to what is stored), or a snapshot of unknown version. */
  private keyToRead(entry: QueuedWrite): string | undefined {
    const write = entry.write;
    if (write.kind === 'profile') return profileKey(write.playerId);
    if (write.kind === 'snapshot' && this.versions.get(write.key) === undefined && write.basedOn === undefined) return write.key;
    return undefined;
  }

  /** The conditional write for an entry: against the version known, given, or read (`stored`: what keyToRead found). */
  private prepare(entry: QueuedWrite, stored: ReadonlyMap<string, StoredSnapshot>): SnapshotWrite | 'already-applied' {
    const write = entry.write;
    if (write.kind === 'profile') {
      const key = profileKey(write.playerId);
      const current = stored.get(key);
      // An earlier attempt whose answer was lost landed: the profile names its additions.
      if (current && appliedAlready(current.data, write.ids)) return 'already-applied';
      return { key, data: addToProfile(current?.data, write), expectedVersion: current?.version ?? 0 };
    }
    if (write.kind !== 'snapshot') throw new Error(`not a document write: ${write.kind}`);
    const known = this.versions.get(write.key) ?? write.basedOn ?? stored.get(write.key)?.version ?? 0;
    return { key: write.key, data: write.data, expectedVersion: known };
  }

  private wrote(write: SnapshotWrite, version: number): void {
    if (write.key.startsWith(PROFILE_PREFIX)) return; // profiles are read before every change; nothing to remember
    if (write.data === null) this.versions.delete(write.key);
    else this.versions.set(write.key, version);
  }
}

const PROFILE_PREFIX = 'profile/';
export const profileKey = (playerId: string): string => `${PROFILE_PREFIX}${playerId}`;

/** A player's profile document with `add` applied to its counters. */
export function addToProfile(current: JsonObject | undefined, write: Extract<WriteRequest, { kind: 'profile' }>): JsonObject {
  const counters: Record<string, number> = {};
  const before = current?.counters;
  if (before && typeof before === 'object' && !Array.isArray(before)) {
    for (const [name, value] of Object.entries(before)) if (typeof value === 'number') counters[name] = value;
  }
  for (const [name, amount] of Object.entries(write.add)) counters[name] = (counters[name] ?? 0) + amount;
  const recent = [...recentIds(current), ...(write.ids ?? [])].slice(-RECENT_IDS);
  return { ...(current ?? {}), playerId: write.playerId, name: write.name, counters, ...(recent.length > 0 ? { recent } : {}) };
}

/** Addition ids a profile remembers (enough for every write that can be in flight for one player). */
const RECENT_IDS = 64;

function recentIds(profile: JsonObject | undefined): string[] {
  const recent = profile?.recent;
  return Array.isArray(recent) ? recent.filter((id): id is string => typeof id === 'string') : [];
}

/** Whether the profile already counts these additions (a write carries all its ids or none). */
function appliedAlready(profile: JsonObject, ids: readonly string[] | undefined): boolean {
  if (!ids || ids.length === 0) return false;
  const recent = recentIds(profile);
  return ids.some((id) => recent.includes(id));
}

/** Whether the store holds exactly what an attempt sent (a removal: holds nothing). */
function isStoredAttempt(stored: StoredSnapshot | undefined, expectedVersion: number, data: JsonObject | null): boolean {
  if (data === null) return stored === undefined;
  return stored !== undefined && stored.version === expectedVersion + 1 && isDeepStrictEqual(stored.data, data);
}
