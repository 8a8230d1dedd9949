/**
 * Every message on the wire, as types: what clients send, what the server
 * answers and pushes, and the typed Socket.IO event maps. The server checks
 * what clients send against schemas of its own that must produce these types
 * (its protocol/messages.ts); PROTOCOL.md documents the same messages for
 * clients in other languages.
 */
import type { ErrorBody } from './errors';

/** Bumped on any incompatible change; sent by the client in the handshake. */
export const PROTOCOL_VERSION = 1;

// ---- Handshake and login -------------------------------------------------

/** Socket.IO `auth` object of the connection handshake. */
export interface HandshakeAuth {
  readonly token: string;
  readonly protocol: number;
  /** Resuming a session: the resume token of the last `session:ready` and the last message sequence number received. */
  readonly resume?: { readonly token: string; readonly lastSeq: number };
}

/** Body of `POST /v1/auth/guest`. */
export interface GuestLoginRequest {
  /** The display name (checked and normalised by the server); a generated one when absent. */
  readonly name?: string;
}

export interface GuestLoginResponse {
  readonly playerId: string;
  readonly name: string;
  readonly token: string;
  /** Unix epoch milliseconds. */
  readonly expiresAt: number;
}

// ---- Client → server -----------------------------------------------------

/**
 * Optional on every request: `seen`, the device has every numbered message up to it. It acknowledges them
 * as `session:ack` does, without a message of its own: a playing device's requests keep the session's resume
 * buffer short (the SDK sets it on each request it sends).
 */
interface Request {
  /** Client-chosen, unique per action (1–64 characters): lets the server answer a retried action with its first result. */
  readonly actionId: string;
  readonly seen?: number;
}

export interface FindMatchRequest extends Request {
  /** The game's name (1–64 of letters, digits and `_ . : -`). */
  readonly game: string;
}

export interface MoveRequest extends Request {
  readonly roomId: string;
  /** The state version the player saw when choosing this move. */
  readonly version: number;
  readonly move: string;
  /** Checked against the game's own schema for this move by the room. */
  readonly payload: unknown;
}

export interface RoomRequest extends Request {
  readonly roomId: string;
}

/** `session:ack`: the client has every numbered message up to `seq` (no acknowledgement callback). */
export interface DeliveredRequest {
  readonly seq: number;
}

// ---- Replies (acknowledgements) -------------------------------------------

export type Reply<T extends object = object> = ({ readonly ok: true } & T) | { readonly ok: false; readonly error: ErrorBody };

export interface MatchFound {
  readonly roomId: string;
  readonly game: string;
  readonly seat: number;
}

export interface MoveAccepted {
  /** The room's state version after the move. */
  readonly version: number;
  /**
   * Turn-based games: the room's new state as the mover sees it. It rides on
   * the acknowledgement instead of a separate `room:state` push, so the mover
   * gets one message per move. (Real-time inputs take effect at the next tick.)
   */
  readonly state?: RoomStateMessage;
}

// ---- Server → client -----------------------------------------------------

export type RoomStatus = 'waiting' | 'playing' | 'over';

export interface SeatInfo {
  readonly playerId: string;
  readonly name: string;
  readonly seat: number;
  /** The player's connection dropped and the seat is held for them (the grace period runs). */
  readonly away?: true;
}

/** How a game ended. */
export interface Outcome {
  /** Player ids; empty on a draw. */
  readonly winners: readonly string[];
  readonly draw: boolean;
  /** Why the game ended, e.g. 'connect-line', 'board-full', 'opponent-left'. */
  readonly reason: string;
}

export interface SessionReady {
  /** Always true: the session took the connection (a refusal is a connect error instead, never a session:ready). */
  readonly ok: true;
  readonly playerId: string;
  readonly name: string;
  readonly protocol: number;
  /** Rooms the player is seated in; a device replacing another connection of the player gets the room's state pushed. */
  readonly rooms: readonly string[];
  /** Present this (with the last `seq` received) in the next handshake to resume; a new one comes with every `session:ready`. */
  readonly resumeToken: string;
  /**
   * How this connection continues the session: `fresh` (nothing to resume; seated rooms push their full state),
   * `replay` (the missed messages follow, in order, then live ones) or `snapshot` (too much was missed:
   * the full state of each seated room follows instead).
   */
  readonly resumed: 'fresh' | 'replay' | 'snapshot';
  /** The sequence number of the last numbered message before this connection: the next one is `seq + 1`. */
  readonly seq: number;
}

/** The full state of a room as one player may see it. */
export interface RoomStateMessage {
  readonly roomId: string;
  readonly game: string;
  readonly version: number;
  readonly status: RoomStatus;
  /** Counts games played in this room; a rematch starts the next one. */
  readonly gameNumber: number;
  readonly players: readonly SeatInfo[];
  /** The game's own view of the state for this player. */
  readonly view: unknown;
  readonly outcome: Outcome | null;
}

/** Real-time games: what changed since the previous version, sent once per tick. */
export interface RoomDeltaMessage {
  readonly roomId: string;
  readonly version: number;
  readonly delta: unknown;
}

export interface RoomOverMessage {
  readonly roomId: string;
  readonly version: number;
  readonly outcome: Outcome;
  /** Set when the game ended because a player left. */
  readonly leaver?: string;
}

export interface RoomPlayerMessage {
  readonly roomId: string;
  readonly playerId: string;
  /** `away`: the player's connection dropped and the seat is held for the grace period; `back`: it resumed. */
  readonly change: 'joined' | 'left' | 'away' | 'back';
}

export interface ErrorMessage extends ErrorBody {
  /** The event that caused the error, when there is one. */
  readonly event?: string;
  /** The room the error is about (`room/lost`). */
  readonly roomId?: string;
}

// ---- Typed Socket.IO event maps ------------------------------------------

type Ack<T extends object> = (reply: Reply<T>) => void;

export interface ClientToServerEvents {
  /** Cumulative: every numbered message up to `seq` arrived. Sent without an acknowledgement callback. */
  'session:ack': (request: DeliveredRequest) => void;
  'match:find': (request: FindMatchRequest, ack: Ack<MatchFound>) => void;
  'room:move': (request: MoveRequest, ack: Ack<MoveAccepted>) => void;
  'room:leave': (request: RoomRequest, ack: Ack<object>) => void;
  'room:rematch': (request: RoomRequest, ack: Ack<object>) => void;
}

/**
 * Server events the session numbers: each carries its sequence number as a
 * second argument, is kept until the client acknowledges it (`session:ack`)
 * and is replayed after a resume.
 */
export const NUMBERED_EVENTS = ['room:state', 'room:delta', 'room:over', 'room:player', 'session:error'] as const;

export interface ServerToClientEvents {
  'session:ready': (message: SessionReady) => void;
  'room:state': (message: RoomStateMessage, seq: number) => void;
  'room:delta': (message: RoomDeltaMessage, seq: number) => void;
  'room:over': (message: RoomOverMessage, seq: number) => void;
  'room:player': (message: RoomPlayerMessage, seq: number) => void;
  /**
   * Errors not tied to an acknowledgement: from the session (numbered, e.g. `room/lost`) or refusals at the
   * wire of messages sent without an acknowledgement callback (not numbered: no `seq`).
   */
  'session:error': (message: ErrorMessage, seq?: number) => void;
  /** Sent just before the server closes the connection, saying why. */
  'session:closed': (message: ErrorMessage) => void;
}

export type ServerEventName = keyof ServerToClientEvents;
