/**
 * What an actor may ask of the router (the parent of every actor in a
 * process): deliver by address, create an actor, retire one. When the router
 * and the actor share a process, these are plain method calls.
 */
import type { ActorKind, Address, Failure } from '../messages';

export interface SpawnRequest {
  readonly kind: ActorKind;
  readonly address: Address;
  readonly params: object;
}

export type SpawnReply = { readonly ok: true; readonly created: boolean } | Failure;

export interface Envelope {
  readonly to: Address;
  readonly message: object;
}

export interface LocalRouter {
  tell(envelope: Envelope): void;
  ask(envelope: Envelope): Promise<unknown>;
  spawn(request: SpawnRequest): Promise<SpawnReply>;
  retire(request: { address: Address }): Promise<void>;
}
