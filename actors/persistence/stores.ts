/**
 * The stores the persistence actor writes to, one interface per kind of data,
 * named after the domain (not after any database's commands). Drivers live in
 * infra/stores/, one file per driver; which one runs is decided at boot.
 *
 * Every driver raises the same two errors: `VersionConflictError` when a
 * write was made against a version that is no longer the stored one (another
 * writer got there first), and `StoreUnavailableError` when the store cannot
 * be reached (the persistence actor keeps the write and retries).
 */
import type { ErrorCode, ServerErrorCode } from '../../protocol/errors';

/** Plain JSON data: what every store can keep and every process can send. */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };
export type JsonObject = { readonly [key: string]: JsonValue };

/** Another writer changed the data since the version this write was based on. */
export class VersionConflictError extends Error {
  readonly code: ErrorCode = 'persistence/conflict';
  constructor(
    readonly key: string,
    /** The version the write expected to replace. */
    readonly expectedVersion: number,
    /** The version actually stored (0: nothing), when the driver can tell. */
    readonly storedVersion: number | undefined,
  ) {
    super(`version conflict on ${key}: expected version ${expectedVersion}, stored ${storedVersion ?? 'unknown'}`);
    this.name = 'VersionConflictError';
  }
}

/** The store could not be reached or failed the request: nothing is known to be written. */
export class StoreUnavailableError extends Error {
  readonly code: ServerErrorCode = 'persistence/store-unavailable';
  constructor(
    readonly store: string,
    cause: unknown,
  ) {
    super(`${store} is unavailable: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'StoreUnavailableError';
  }
}

// ---- Snapshots: documents by key, with a version ------------------------------

/** A document as stored: `version` counts its writes (1 after the first). */
export interface StoredSnapshot {
  readonly key: string;
  readonly version: number;
  readonly data: JsonObject;
}

/** One write of a batch: `data` replaces the document, `null` removes it. */
export interface SnapshotWrite {
  readonly key: string;
  readonly data: JsonObject | null;
  /** The version this write replaces; 0 means "nothing is stored under this key". */
  readonly expectedVersion: number;
}

/** Per write of a batch: the new version (0 after a removal), or the conflict that refused it. */
export type SnapshotWriteOutcome = number | VersionConflictError;

/**
 * Room snapshots and player profiles ('room/<id>', 'profile/<playerId>').
 * Every write is conditional on the version it replaces (optimistic
 * concurrency): two writers that both read version 3 cannot both write 4.
 */
export interface SnapshotStore {
  /** The driver's name, for metrics and logs ('memory', 'sqlite', 'mariadb', 'redis', 'riak'). */
  readonly driver: string;
  /** The document under `key`, or undefined when nothing is stored. */
  read(key: string): Promise<StoredSnapshot | undefined>;
  /** The documents under `keys` that are stored, by key, in as few round trips as the store allows. */
  readMany(keys: readonly string[]): Promise<Map<string, StoredSnapshot>>;
  /**
   * Stores `data` as version `expectedVersion + 1`, if the stored version is `expectedVersion`
   * (0: nothing stored). Returns the new version; throws VersionConflictError otherwise.
   */
  write(key: string, data: JsonObject, expectedVersion: number): Promise<number>;
  /** Removes the document if its version is `expectedVersion` (removing what is not there succeeds when 0 is expected). */
  remove(key: string, expectedVersion: number): Promise<void>;
  /**
   * Several writes in as few round trips as the store allows. Each write succeeds or conflicts on its own;
   * the whole call throws (StoreUnavailableError) only when the store cannot be reached, and then any of
   * the writes may or may not have been applied.
   */
  writeBatch(writes: readonly SnapshotWrite[]): Promise<SnapshotWriteOutcome[]>;
  close(): Promise<void>;
}

/**
 * `readMany` for a store without a multi-key read: the reads go out together (Redis pipelines commands
 * sent in one tick; Riak gets one request each).
 */
export async function readEach(store: Pick<SnapshotStore, 'read'>, keys: readonly string[]): Promise<Map<string, StoredSnapshot>> {
  const found = new Map<string, StoredSnapshot>();
  for (const stored of await Promise.all(keys.map((key) => store.read(key)))) if (stored) found.set(stored.key, stored);
  return found;
}

// ---- Relational records: match results ----------------------------------------

export interface MatchPlayer {
  readonly playerId: string;
  readonly name: string;
  readonly seat: number;
}

/** How one game of a room ended: written once, read by player (history, ladders). */
export interface MatchResult {
  /** Unique per game: '<roomId>#<gameNumber>'. Saving the same result twice saves it once. */
  readonly matchId: string;
  readonly roomId: string;
  readonly game: string;
  readonly gameNumber: number;
  readonly players: readonly MatchPlayer[];
  readonly winners: readonly string[];
  readonly draw: boolean;
  /** Why it ended ('win', 'draw', 'opponent-left', …, the game's own words). */
  readonly reason: string;
  /** Moves applied in this game. */
  readonly moves: number;
  /** Epoch milliseconds. */
  readonly startedAt: number;
  readonly endedAt: number;
}

/**
 * Match results (SQL in production). Saving is idempotent by `matchId`, so a
 * retry after an unanswered write never makes a second row; a different result
 * under an id already saved is a VersionConflictError.
 */
export interface MatchRecordStore {
  readonly driver: string;
  /** Saves every result, in one transaction where the store has them. */
  saveResults(results: readonly MatchResult[]): Promise<void>;
  /** The player's most recent results, newest first. */
  resultsOf(playerId: string, limit: number): Promise<MatchResult[]>;
  /** One result by id. */
  result(matchId: string): Promise<MatchResult | undefined>;
  /** How many results are stored (operators and tests count rows with it). */
  count(): Promise<number>;
  close(): Promise<void>;
}

// ---- Which drivers run (decided at boot; plain JSON so it reaches forked workers) ----

export type SnapshotDriverConfig =
  | { readonly driver: 'memory' }
  | { readonly driver: 'sqlite'; readonly file: string }
  | { readonly driver: 'mariadb'; readonly url: string }
  | { readonly driver: 'redis'; readonly url: string; readonly prefix: string }
  | { readonly driver: 'riak'; readonly nodes: readonly string[]; readonly bucketType: string; readonly bucket: string };

export type RecordDriverConfig = { readonly driver: 'memory' } | { readonly driver: 'sqlite'; readonly file: string } | { readonly driver: 'mariadb'; readonly url: string };

export interface StoresConfig {
  readonly snapshots: SnapshotDriverConfig;
  readonly records: RecordDriverConfig;
  /** Run pending SQL migrations when opening (development); production runs `npm run migrate` before deploying. */
  readonly migrate: boolean;
}

/** The stores of one process, opened from a StoresConfig by infra/ (a comedy resource). */
export interface OpenedStores {
  readonly snapshots: SnapshotStore;
  readonly matches: MatchRecordStore;
  close(): Promise<void>;
}

export interface StoreConnector {
  open(config: StoresConfig): Promise<OpenedStores>;
}
