/**
 * The session's protocol: every message a player's session accepts and the
 * reply each gets, from the gateway (attach, client requests), from rooms
 * (pushes), from its worker and from its own timers.
 */
import type { ErrorBody } from '../../protocol/errors';
import type { FindMatchRequest, MatchFound, MoveAccepted, MoveRequest, Reply, RoomRequest, ServerEventName, SessionReady } from '../../protocol/messages';
import { refTo, type ActorRef, type ProtocolOf } from '../kit/protocol';
import type { GatewayRef } from '../messages';
import type { RateLimit } from './rate-limiter';

export interface SessionParams {
  readonly playerId: string;
  readonly name: string;
  readonly rateLimit: RateLimit;
  /**
   * Unacknowledged messages kept for a resume, recent action ids remembered, and the grace period a session
   * taken up after its worker died gives its device (config `resume`).
   */
  readonly delivery: { readonly bufferMessages: number; readonly actionWindow: number; readonly graceMs?: number };
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
  | { readonly type: 'attach'; readonly gateway: GatewayRef; readonly connectionId: string; readonly resume?: ResumeClaim }
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
  | { readonly type: 'gateway-lost'; readonly gateway: GatewayRef }
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


export type SessionProtocol = ProtocolOf<
  SessionMessage,
  {
    attach: AttachReply;
    delivered: void;
    detach: void;
    'grace-over': void;
    client: ClientReply;
    push: void;
    'rooms-lost': void;
    'gateway-lost': void;
    'restore-room': void;
    evict: void;
    'hand-over': void;
    'save-again': void;
  }
>;

export type SessionRef = ActorRef<SessionProtocol>;

export const sessionRef = (playerId: string): SessionRef => refTo<SessionProtocol>(`session:${playerId}`);
