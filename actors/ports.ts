/**
 * What actors need from the outside world, as interfaces.
 *
 * Implementations live in infra/ and reach actors as comedy *resources*
 * (injected by name, created once per process), so a forked or threaded actor
 * gets its own process-local instance and actors never import a driver.
 */
import type { AnyGameRules } from '../games/api';
import type { ServerErrorCode } from '../protocol/errors';
import type { Backplane } from './cluster/backplane';
import type { ActorKind } from './messages';
import type { WritePriority } from './persistence/persistence-protocol';

/** Resource names, as actors list them in `static inject()`. */
export const RESOURCE = {
  /** The process context (ProcessPorts): one per process, built by its entry script or, in a process comedy started, by the resource. */
  context: 'Context',
  cluster: 'Cluster',
  stores: 'Stores',
} as const;

/** What every actor of a process shares: the process's context, as actors see it. */
export interface ProcessPorts {
  readonly log: ActorLog;
  readonly metrics: ActorMetrics;
  readonly games: GameCatalog;
  readonly clock: Clock;
}

/** Resolves `ms` from now on `clock` (an actor waiting before it tries again). */
export function delayOn(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}

declare const timerBrand: unique symbol;
/** A pending timer of a Clock. */
export type Timer = { readonly [timerBrand]: true };

/**
 * Time and timers, as actors take them: the system's clock in a server, a manual one in a test that drives
 * time by hand. A pending timer does not keep the process alive (unless it says so).
 */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Calls `callback` once, `ms` from now; with `keepAlive` the timer keeps the process alive meanwhile. */
  setTimeout(callback: () => void, ms: number, options?: { readonly keepAlive?: boolean }): Timer;
  /** Calls `callback` every `ms`; with `keepAlive` the timer keeps the process alive meanwhile. */
  setInterval(callback: () => void, ms: number, options?: { readonly keepAlive?: boolean }): Timer;
  /** Cancels a timer (nothing for undefined or one already run). */
  clear(timer: Timer | undefined): void;
}

/** What the persistence actor reports; Prometheus in infra/. */
export interface PersistenceMetrics {
  persistenceQueueDepth(priority: WritePriority, depth: number): void;
  persistenceBatch(store: string, writes: number, seconds: number): void;
  persistenceRetry(store: string): void;
  persistenceConflicts(store: string, count: number): void;
  persistenceShed(priority: WritePriority, reason: 'shed' | 'refused'): void;
  /** A write became durable `seconds` after its writer asked. */
  persistenceDurable(priority: WritePriority, seconds: number): void;
  persistenceStoreUp(store: string, up: boolean): void;
}

/** Domain metrics actors report; Prometheus is the implementation. */
export interface ActorMetrics extends PersistenceMetrics {
  sessionStarted(): void;
  sessionEnded(): void;
  roomOpened(game: string, version: string): void;
  roomClosed(game: string, version: string): void;
  moveApplied(game: string): void;
  moveRejected(game: string, code: string): void;
  mailboxDepthChanged(kind: ActorKind, delta: number): void;
  mailboxOverflow(kind: ActorKind): void;
  /** One batch of frames crossed between this process and another node of the cluster. */
  clusterBatch(direction: 'sent' | 'received', frames: number, bytes: number): void;
  /** This process's metrics in a form another process can merge (a worker's supervisor serves the sum). */
  snapshot(): Promise<object[]>;
}

export interface ActorLog {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** A game's rules as loaded, with its tunables already validated. */
export interface LoadedGame {
  readonly name: string;
  /** Content hash of the rules module: rooms pin the version they started with. */
  readonly version: string;
  readonly rules: AnyGameRules;
  readonly tunables: unknown;
  /** Content hash of the tunables file the tunables came from. */
  readonly tunablesVersion: string;
}

/** The installed games; with hot reload, `get` answers the newest version that loaded and passed its checks. */
export interface GameCatalog {
  get(name: string): LoadedGame | undefined;
  names(): readonly string[];
  /** Starts loading designers' edits as new versions (hot reload), until `close`. */
  watch?(): Promise<void>;
  close?(): Promise<void>;
}

/**
 * What a room logs: each input it accepted, in the order it applied them (see RoomLog). A `tick` carries
 * the time it advanced the game by; `open` is the room's first entry, naming what it was created with.
 */
export type RoomInput =
  | { readonly type: 'open'; readonly game: string; readonly seed: number }
  | { readonly type: 'join'; readonly playerId: string; readonly name: string }
  | { readonly type: 'move'; readonly playerId: string; readonly actionId: string; readonly version: number; readonly move: string; readonly payload: unknown }
  | { readonly type: 'leave'; readonly playerId: string }
  | { readonly type: 'rematch'; readonly playerId: string }
  | { readonly type: 'presence'; readonly playerId: string; readonly away: boolean }
  | { readonly type: 'away-expired'; readonly playerId: string }
  | { readonly type: 'sessions-lost'; readonly playerIds: readonly string[] }
  /** `count` ticks (1 when absent) of `dtMs` each: a real-time game's fixed step, caught up by whole ticks. */
  | { readonly type: 'tick'; readonly dtMs: number; readonly count?: number };

/** One entry of a room's log (format version 1): `seq` counts from 0 (the `open` entry), `at` is epoch ms. */
export interface RoomLogEntry {
  readonly v: 1;
  readonly seq: number;
  readonly at: number;
  readonly input: RoomInput;
}

/** A newer holder of the room took its log over: this holder is stale (its worker was declared gone). */
export class RoomLogFencedError extends Error {
  readonly code: ServerErrorCode = 'room-log/fenced';
  constructor(
    readonly roomId: string,
    readonly generation: number,
  ) {
    super(`the log of room ${roomId} was taken over by a holder newer than generation ${generation}`);
    this.name = 'RoomLogFencedError';
  }
}

/**
 * The log no longer has the room's history before these entries (the cluster's Redis restarted empty): the
 * room must first make its state durable another way (a snapshot), then go on logging after it.
 */
export class RoomLogLostError extends Error {
  readonly code: ServerErrorCode = 'room-log/lost';
  constructor(readonly roomId: string) {
    super(`the log of room ${roomId} lost its history (Redis restarted empty?)`);
    this.name = 'RoomLogLostError';
  }
}

/**
 * Each room's inputs, durable beyond its worker (the cluster's Redis): a room acknowledges an input only
 * once it is here, and a room restored elsewhere is its snapshot plus the entries after it.
 *
 * Fencing: each holder of a room has a generation (the room's fencing token). A new room appends as
 * generation 1; taking a room up elsewhere takes the log over as the next generation, after which the
 * older holder's appends are refused (RoomLogFencedError): a zombie cannot add to the room's history.
 */
export interface RoomLog {
  /**
   * Appends entries (consecutive seqs; entries already there are skipped). `base`: the seq of the room's
   * latest durable snapshot (-1: none), after which a log that lost its history may go on. Rejects with
   * RoomLogFencedError, RoomLogLostError (history lost and these entries do not follow `base`), or
   * StoreUnavailableError.
   */
  append(roomId: string, generation: number, base: number, entries: readonly RoomLogEntry[]): Promise<void>;
  /** Takes the log over as the next generation (older ones can append no more): that generation and the entries after `afterSeq`. */
  takeOver(roomId: string, afterSeq: number): Promise<{ readonly generation: number; readonly entries: RoomLogEntry[] }>;
  /** The room's `open` entry, if its log still has it (a room that died before its first snapshot). */
  opening(roomId: string): Promise<Extract<RoomInput, { type: 'open' }> | undefined>;
  /** Forgets the entries up to `seq` (a durable snapshot covers them), keeping the `open` entry. */
  trim(roomId: string, seq: number): Promise<void>;
  /** The room closed: its log goes. */
  remove(roomId: string): Promise<void>;
  close(): Promise<void>;
}

/** Connects a process to the cluster's shared backplane (Redis in infra/). */
export interface ClusterConnector {
  connect(options: { readonly url: string; readonly name: string }): Promise<Backplane>;
  /** Where sessions keep their resume state while their device is away, shared by every worker. */
  sessionStore(options: { readonly url: string; readonly name: string }): Promise<SessionStateStore>;
  /** Where rooms log their inputs, shared by every worker. */
  roomLog(options: { readonly url: string; readonly name: string }): Promise<RoomLog>;
  /** Takes up the game versions the cluster's gateways publish (hot reload), until the returned function is called. */
  followGames(options: { readonly url: string; readonly name: string }): Promise<() => Promise<void>>;
}

/** What a session needs to take up again on another worker: enough to accept its device's resume. */
export interface SavedSession {
  readonly playerId: string;
  readonly name: string;
  readonly roomId: string | null;
  readonly resumeNonce: string;
  /** The last sequence number given out; the restored session goes on from it. */
  readonly seq: number;
  /**
   * When the grace period ends (epoch ms). 0: saved while connected, as a record of the seat (the grace
   * period starts when the session is taken up); such a record is kept at most SEAT_RECORD_TTL_MS.
   */
  readonly graceEndsAt: number;
  /** Recent action ids and their answers: a request retried after the move to another worker still counts once. */
  readonly answers: ReadonlyArray<readonly [string, unknown]>;
}

/** How long a record of a connected session's seat is kept if nothing removes it (its worker died and nobody came back). */
export const SEAT_RECORD_TTL_MS = 24 * 3600_000;

/** When a saved session expires from the store. */
export function savedSessionExpiresAt(state: Pick<SavedSession, 'graceEndsAt'>, now: number): number {
  return state.graceEndsAt > 0 ? state.graceEndsAt : now + SEAT_RECORD_TTL_MS;
}

/**
 * Hot state of sessions whose device is away (Redis in a cluster), so the
 * death of the worker holding a session does not end the grace period early.
 */
export interface SessionStateStore {
  save(state: SavedSession): Promise<void>;
  load(playerId: string): Promise<SavedSession | undefined>;
  remove(playerId: string): Promise<void>;
  close(): Promise<void>;
}
