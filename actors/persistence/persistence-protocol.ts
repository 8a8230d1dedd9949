/**
 * The persistence actor's protocol: the writes it makes durable by priority
 * and the snapshots it reads back (see actors/persistence/persistence-actor.ts).
 */
import type { Reply } from '../../protocol/messages';
import { refTo, type ProtocolOf } from '../kit/protocol';
import type { JsonObject, MatchResult } from './stores';

/**
 * How urgent a write is (see actors/persistence/write-queue.ts):
 * - `critical` — purchases, currency, match results: written before the actor answers, never coalesced, never shed;
 * - `normal` — profile changes: batched within a short window;
 * - `low` — room snapshots: only the newest per key is written, on an interval; shed first when the queue is full.
 */
export type WritePriority = 'critical' | 'normal' | 'low';

/** What can be written, named after the domain. */
export type WriteRequest =
  /** How a game ended: a row in the match records (SQL). */
  | { readonly kind: 'match-result'; readonly result: MatchResult }
  /**
   * A document to keep under `key` in the snapshot store, replacing what is there (`null` removes it).
   * `basedOn` is the stored version the writer started from (0 for a new key): the first write of a key
   * is conditional on it, later ones on the version the actor wrote last. Writes queued for the same key
   * coalesce: only the newest is written.
   */
  | { readonly kind: 'snapshot'; readonly key: string; readonly data: JsonObject | null; readonly basedOn?: number }
  /**
   * Counters to add to a player's profile ('profile/<playerId>' in the snapshot store); queued additions merge.
   * `ids` name the additions (a match id): the profile remembers the latest ones, so an addition whose answer
   * was lost and that is sent again is counted once, even if another worker changed the profile meanwhile.
   */
  | {
      readonly kind: 'profile';
      readonly playerId: string;
      readonly name: string;
      readonly add: Readonly<Record<string, number>>;
      readonly ids?: readonly string[];
    };

export type PersistenceMessage =
  /** Answered `{ ok: true }` once the write is durable, or refused (`persistence/overloaded`, `persistence/conflict`). */
  | { readonly type: 'write'; readonly priority: WritePriority; readonly write: WriteRequest }
  /** The newest stored snapshot under `key` (straight from the store: what another worker wrote included). */
  | { readonly type: 'read-snapshot'; readonly key: string };

/** Durable: `version` is the snapshot's new version (absent for match results). */
export type WriteReply = Reply<{ readonly version?: number }>;
export type ReadSnapshotReply = Reply<{ readonly snapshot: { readonly version: number; readonly data: JsonObject } | null }>;

export type PersistenceProtocol = ProtocolOf<
  PersistenceMessage,
  {
    write: WriteReply;
    'read-snapshot': ReadSnapshotReply;
  }
>;

/** Every worker (and a single process) has its own persistence actor here; messages to it never leave the process. */
export const PERSISTENCE = refTo<PersistenceProtocol>('persistence');
