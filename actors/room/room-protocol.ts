/**
 * The room's protocol: every message a room accepts and the reply each gets.
 * Plain JSON, so a room answers the same wherever it is placed.
 */
import type { MoveAccepted, Reply } from '../../protocol/messages';
import { refTo, type ActorRef, type ProtocolOf } from '../kit/protocol';
import type { Failure } from '../messages';
import type { JsonObject } from '../persistence/stores';
import type { JoinResult } from './room-state';

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


/** A move's answer: the mover's new version (and state), or why it was refused. */
export type MoveReply = Reply<MoveAccepted>;

export type RoomProtocol = ProtocolOf<
  RoomMessage,
  {
    join: JoinResult;
    ping: Reply;
    move: MoveReply;
    leave: Reply;
    rematch: Reply;
    // Told, never asked (nobody waits for these replies); a room that moved on refuses them too.
    sync: Reply;
    presence: Reply;
    'away-expired': Reply | undefined;
    'sessions-lost': Failure | void;
    tick: Failure | void;
    snapshot: void;
    'lobby-lost': void;
    'hand-over': void;
  }
>;

export type RoomRef = ActorRef<RoomProtocol>;

export const roomRef = (roomId: string): RoomRef => refTo<RoomProtocol>(`room:${roomId}`);
