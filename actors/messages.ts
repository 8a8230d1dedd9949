/**
 * What every actor shares: addresses, the kinds of actors a worker hosts, the
 * shape of replies, and the gateway port through which actors reach devices.
 *
 * Actors talk only by plain-JSON messages (never by shared objects), so
 * placing an actor in another process or host changes nothing. Each kind
 * declares its own protocol beside it (room/room-protocol.ts,
 * session/session-protocol.ts, lobby/lobby-protocol.ts,
 * persistence/persistence-protocol.ts); references to actors are typed by it
 * (kit/protocol.ts).
 */
import type { ErrorBody, Refusal } from '../protocol/errors';
import type { ServerEventName } from '../protocol/messages';
import { refTo, type ActorRef, type ProtocolOf } from './kit/protocol';

/**
 * Where a message goes, untyped: 'session:<playerId>', 'room:<roomId>', 'lobby', 'gateway:<id>'. The routing
 * (host, cluster link) carries these; actors hold typed references (ActorRef), which are addresses too.
 */
export type Address = string;

/** The ids of the `kind` actors among `addresses`: the inverse of sessionRef / roomRef. */
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

// ---- Gateway port ----------------------------------------------------------

/** The only messages actors send towards devices; the gateway adapts them to Socket.IO. */
export type GatewayMessage =
  | { readonly type: 'push'; readonly connectionId: string; readonly event: ServerEventName; readonly payload: object; readonly seq?: number }
  | { readonly type: 'close'; readonly connectionId: string; readonly error: ErrorBody };

export type GatewayProtocol = ProtocolOf<GatewayMessage, { push: void; close: void }>;

export type GatewayRef = ActorRef<GatewayProtocol>;

export const gatewayRef = (gatewayId: string): GatewayRef => refTo<GatewayProtocol>(`gateway:${gatewayId}`);
