/** The kinds of actors a worker hosts: each one's protocol and the parameters it is created with. */
import type { LobbyProtocol } from './lobby/lobby-protocol';
import type { ActorKind } from './messages';
import type { RoomParams, RoomProtocol } from './room/room-protocol';
import type { SessionParams, SessionProtocol } from './session/session-protocol';

export interface ActorKinds {
  readonly session: { readonly protocol: SessionProtocol; readonly params: SessionParams };
  readonly room: { readonly protocol: RoomProtocol; readonly params: RoomParams };
  readonly lobby: { readonly protocol: LobbyProtocol; readonly params: object };
}

/** Every kind has its entry (a kind added to ActorKind without one is a compile error). */
export type ActorKindsComplete = ActorKinds[ActorKind];
