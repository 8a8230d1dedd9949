/** The lobby's protocol: every message the lobby accepts and the reply each gets. */
import type { MatchFound, Reply } from '../../protocol/messages';
import { refTo, type ProtocolOf } from '../kit/protocol';

export type LobbyMessage =
  | { readonly type: 'find-match'; readonly playerId: string; readonly name: string; readonly game: string }
  /** A room reports whether it still has free seats, or that it closed. */
  | { readonly type: 'room-status'; readonly roomId: string; readonly game: string; readonly open: boolean; readonly closed: boolean }
  /** A player's room is gone (its worker died): take it up from its latest snapshot, unless it lives. Answers `room/lost` without a snapshot. */
  | { readonly type: 'restore-room'; readonly roomId: string };

export type FindMatchReply = Reply<MatchFound>;

export type LobbyProtocol = ProtocolOf<
  LobbyMessage,
  {
    'find-match': FindMatchReply;
    'room-status': void;
    'restore-room': Reply;
  }
>;

/** The cluster's one lobby. */
export const LOBBY = refTo<LobbyProtocol>('lobby');
