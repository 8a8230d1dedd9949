/**
 * Every message actors exchange, in one place, as readonly plain-JSON types.
 *
 * Actors talk only by these messages (never by shared objects), so placing an
 * actor in another process or host changes nothing here. Each actor receives a
 * union discriminated by `type` on a single comedy topic, `receive`.
 */
import type { ErrorBody, Refusal } from '../protocol/errors';
import type { JsonObject, MatchResult } from './persistence/stores';
import type {
  FindMatchRequest,
  MatchFound,
  MoveAccepted,
  MoveRequest,
  Reply,
  RoomRequest,
  ServerEventName,
  SessionReady,
} from '../protocol/messages';

/** Where a message goes: 'session:<playerId>', 'room:<roomId>', 'lobby', 'gateway:<id>'. */
export type Address = string;

export const LOBBY: Address = 'lobby';
/** Every worker (and a single process) has its own persistence actor at this address; messages to it never leave the process. */
export const PERSISTENCE: Address = 'persistence';
export const sessionAddress = (playerId: string): Address => `session:${playerId}`;
export const roomAddress = (roomId: string): Address => `room:${roomId}`;
export const gatewayAddress = (gatewayId: string): Address => `gateway:${gatewayId}`;

/** The ids of the `kind` actors among `addresses`: the inverse of sessionAddress / roomAddress. */
export function idsOf(kind: 'session' | 'room', addresses: readonly Address[]): string[] {
  const prefix = `${kind}:`;
  return addresses.filter((address) => address.startsWith(prefix)).map((address) => address.slice(prefix.length));
}

/** A set of ids as plain JSON (messages between processes carry no Set). */
export function idSet(ids: readonly string[]): Readonly<Record<string, true>> {
  return Object.fromEntries(ids.map((id) => [id, true] as const));
}

export type ActorKind = 'session' | 'room' | 'lobby';

export type Failure = Refusal;
export type Ok<T extends object = object> = { readonly ok: true } & T;

// ---- Session ---------------------------------------------------------------

export interface SessionParams {
  readonly playerId: string;
  readonly name: string;
}

/** A client's validated request, as the gateway hands it to the player's session. */
export type ClientRequest =
  | { readonly event: 'match:find'; readonly request: FindMatchRequest }
  | { readonly event: 'room:move'; readonly request: MoveRequest }
  | { readonly event: 'room:leave'; readonly request: RoomRequest }
  | { readonly event: 'room:rematch'; readonly request: RoomRequest };

export type SessionMessage =
  /**
   * A connection (on some gateway) now speaks for this player; an older one is replaced.
   * With `resume` (the nonce of the session's current resume token, checked by the gateway's
   * signature, and the last sequence number the device received) the device gets what it missed.
   */
  | { readonly type: 'attach'; readonly gateway: Address; readonly connectionId: string; readonly resume?: ResumeClaim }
  /** The device has every numbered message up to `seq`. */
  | { readonly type: 'delivered'; readonly seq: number }
  /**
   * That connection is gone. With `graceMs` the player keeps their seat that
   * long, waiting for the device to come back (a draining gateway sends its
   * clients elsewhere this way); without, the player leaves at once.
   */
  | { readonly type: 'detach'; readonly connectionId: string; readonly graceMs?: number }
  /** The grace period of a detach ran out. */
  | { readonly type: 'grace-over'; readonly connectionId: string }
  | ({ readonly type: 'client'; readonly connectionId: string } & ClientRequest)
  /** Something for the player's device, from a room. */
  | { readonly type: 'push'; readonly event: ServerEventName; readonly payload: object }
  /** Rooms that died with their worker (keys are room ids). */
  | { readonly type: 'rooms-lost'; readonly roomIds: Readonly<Record<string, true>> }
  /** A gateway was declared gone: a connection through it is dropped (the player keeps the seat for the grace period). */
  | { readonly type: 'gateway-lost'; readonly gateway: Address }
  /** The session's own retry: ask the lobby to take the player's room up from its snapshot. */
  | { readonly type: 'restore-room'; readonly roomId: string; readonly attempt: number }
  /** The session's worker is stopping: tell the device why, leave the room, go away. */
  | { readonly type: 'evict'; readonly error: ErrorBody }
  /**
   * The session's worker is draining in a cluster: keep what a resume needs where the next holder reads it,
   * then tell the device to connect again (it resumes on another worker).
   */
  | { readonly type: 'hand-over' }
  /** The cluster's Redis may have lost what the session kept there (it came back empty): keep it there again. */
  | { readonly type: 'save-again' };

/** A message the session numbered for its device (kept until acknowledged, replayed after a resume). */
export interface NumberedMessage {
  readonly seq: number;
  readonly event: ServerEventName;
  readonly payload: object;
}

export interface ResumeClaim {
  readonly nonce: string;
  readonly lastSeq: number;
}

/** What the gateway needs to open a connection: the session:ready fields, the nonce to sign, the messages to replay first. */
export type AttachAccepted = Omit<SessionReady, 'resumeToken'> & {
  readonly resumeNonce: string;
  readonly replay: readonly NumberedMessage[];
};
export type AttachReply = Reply<AttachAccepted>;
export type ClientReply = Reply<MatchFound> | Reply<MoveAccepted> | Reply<object>;

// ---- Lobby -----------------------------------------------------------------

export type LobbyMessage =
  | { readonly type: 'find-match'; readonly playerId: string; readonly name: string; readonly game: string }
  /** A room reports whether it still has free seats, or that it closed. */
  | { readonly type: 'room-status'; readonly roomId: string; readonly game: string; readonly open: boolean; readonly closed: boolean }
  /** A player's room is gone (its worker died): take it up from its latest snapshot, unless it lives. Answers `room/lost` without a snapshot. */
  | { readonly type: 'restore-room'; readonly roomId: string };

export type FindMatchReply = Reply<MatchFound>;

// ---- Room ------------------------------------------------------------------

export interface RoomParams {
  readonly roomId: string;
  readonly game: string;
  /** Seed of the room's deterministic random sequence. */
  readonly seed: number;
  /**
   * Set when the room is taken up again (its worker died): its latest snapshot and the snapshot's stored
   * version, or `data: null` (version 0) when it died before its first snapshot and its log has everything.
   */
  readonly restore?: { readonly version: number; readonly data: JsonObject | null };
}

/** Where a room's snapshot is kept in the snapshot store. */
export const roomSnapshotKey = (roomId: string): string => `room/${roomId}`;

export type RoomMessage =
  | { readonly type: 'join'; readonly playerId: string; readonly name: string }
  /** Whether the room lives (answered `{ ok: true }`; a dead room's address answers `room/not-found`). */
  | { readonly type: 'ping' }
  | {
      readonly type: 'move';
      readonly playerId: string;
      readonly actionId: string;
      readonly version: number;
      readonly move: string;
      readonly payload: unknown;
    }
  | { readonly type: 'leave'; readonly playerId: string; readonly reason: 'left' | 'disconnected' }
  | { readonly type: 'rematch'; readonly playerId: string }
  /** The player's device (re)connected: push it the full state. */
  | { readonly type: 'sync'; readonly playerId: string }
  /** The player's connection dropped (`away`) and the seat is held for the grace period, or it came back. */
  | {
      readonly type: 'presence';
      readonly playerId: string;
      readonly away: boolean;
      /** With `away`: how long the session holds the seat. The room also lets the seat go a little after, should the session die. */
      readonly graceMs?: number;
    }
  /** A player has been away longer than their grace period (and the session never said they left). */
  | { readonly type: 'away-expired'; readonly playerId: string }
  /** Sessions that died with their worker (keys are player ids): connected players among them are gone for good. */
  | { readonly type: 'sessions-lost'; readonly playerIds: Readonly<Record<string, true>> }
  /** The room's own timer: advance a real-time game. */
  | { readonly type: 'tick' }
  /** The room's own timer: snapshot the match if it changed since the last one. */
  | { readonly type: 'snapshot' }
  /** The lobby's worker died: the new lobby knows no rooms yet. */
  | { readonly type: 'lobby-lost' }
  /**
   * The room's worker is draining in a cluster: write the room's state where the next holder reads it and take
   * no more inputs (they are answered `server/unavailable`, and retried reach the room's next holder).
   */
  | { readonly type: 'hand-over' };

export type MoveReply = Reply<MoveAccepted>;

// ---- Persistence -------------------------------------------------------------

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
  /** Answered `{ ok: true }` once the write is durable, or refused (`persistence/overloaded`, `persistence/version-conflict`). */
  | { readonly type: 'write'; readonly priority: WritePriority; readonly write: WriteRequest }
  /** The newest stored snapshot under `key` (straight from the store: what another worker wrote included). */
  | { readonly type: 'read-snapshot'; readonly key: string };

/** Durable: `version` is the snapshot's new version (absent for match results). */
export type WriteReply = Reply<{ readonly version?: number }>;
export type ReadSnapshotReply = Reply<{ readonly snapshot: { readonly version: number; readonly data: JsonObject } | null }>;

// ---- Gateway port ----------------------------------------------------------

/** The only messages actors send towards devices; the gateway adapts them to Socket.IO. */
export type GatewayMessage =
  | { readonly type: 'push'; readonly connectionId: string; readonly event: ServerEventName; readonly payload: object; readonly seq?: number }
  | { readonly type: 'close'; readonly connectionId: string; readonly error: ErrorBody };

// ---- Router (the process's switchboard) -------------------------------------

export type RouterMessage =
  | { readonly to: Address; readonly message: object }
  | { readonly kind: ActorKind; readonly id: string; readonly params: object };
