/**
 * The router: this process's switchboard and the parent of every session,
 * room and lobby actor in it.
 *
 * Actors address each other by name ('room:abc'), never by object reference,
 * and send through their parent, which is this router. That is what lets a
 * room sit in a forked child or a worker thread (comedy carries the message to
 * its parent over IPC) without any change to the room or to its peers. The
 * router holds no game state, so it needs no mailbox: it only forwards.
 */
import { refusal } from '../protocol/errors';
import { destroyActor, localBehaviour, type ActorHandle, type PlacementMode, type SelfHandle } from './kit/comedy';
import type { Envelope, LocalRouter, SpawnReply, SpawnRequest } from './kit/local-router';
import type { ActorSettings, ChildParameters } from './kit/mailbox-actor';
import type { ActorKind, Address, Failure } from './messages';

export interface RouterParameters {
  readonly placement: Readonly<Record<ActorKind, PlacementMode>>;
  readonly settings: Readonly<Record<ActorKind, ActorSettings>>;
  /** In-process endpoints that are not children, e.g. the gateway port ('gateway:<id>'). */
  readonly ports: Readonly<Record<Address, ActorHandle>>;
}

/** Module paths from the app root; comedy loads them in whichever process the actor is placed. */
const MODULE_OF: Readonly<Record<ActorKind, string>> = {
  session: '/actors/session/session-actor',
  room: '/actors/room/room-actor',
  lobby: '/actors/lobby/lobby-actor',
};

export interface RouterStats {
  readonly actors: Readonly<Record<ActorKind, number>>;
}

/** An actor's single entry point, as the router calls it in this process. */
interface LocalReceiver {
  receive(message: object): Promise<unknown> | unknown;
  bindRouter?(router: LocalRouter): void;
}

interface Child {
  readonly kind: ActorKind;
  readonly handle: ActorHandle;
  /** Set when the child runs in this process: messages go straight to its mailbox. */
  readonly local: LocalReceiver | undefined;
}

export default class RouterActor implements LocalRouter {
  private self!: SelfHandle;
  private parameters!: RouterParameters;
  private readonly children = new Map<Address, Child>();
  private readonly ports = new Map<Address, Child>();
  private readonly spawning = new Map<Address, Promise<ActorHandle>>();

  initialize(self: SelfHandle): void {
    this.self = self;
    this.parameters = self.getCustomParameters() as RouterParameters;
    for (const [address, handle] of Object.entries(this.parameters.ports)) {
      this.ports.set(address, { kind: 'session', handle, local: localBehaviour<LocalReceiver>(handle) });
    }
  }

  /** Creates the actor at `address` unless it already exists. */
  async spawn(request: SpawnRequest): Promise<SpawnReply> {
    if (this.children.has(request.address)) return { ok: true, created: false };
    const inFlight = this.spawning.get(request.address);
    if (inFlight) {
      await inFlight;
      return { ok: true, created: false };
    }
    const childParameters: ChildParameters<object> = {
      address: request.address,
      settings: this.parameters.settings[request.kind],
      params: request.params,
    };
    const creating = this.self.createChild(MODULE_OF[request.kind], {
      mode: this.parameters.placement[request.kind],
      customParameters: childParameters,
    });
    this.spawning.set(request.address, creating);
    try {
      const handle = await creating;
      const local = localBehaviour<LocalReceiver>(handle);
      local?.bindRouter?.(this);
      this.children.set(request.address, { kind: request.kind, handle, local });
      return { ok: true, created: true };
    } catch (error) {
      return refusal('server/internal', `could not start ${request.address}: ${String(error)}`);
    } finally {
      this.spawning.delete(request.address);
    }
  }

  /** Fire-and-forget delivery. A message to an address that no longer exists is dropped. */
  tell(envelope: Envelope): void {
    const target = this.resolve(envelope.to);
    if (!target) return;
    if (target.local) void target.local.receive(envelope.message);
    else target.handle.send('receive', envelope.message).catch(() => undefined);
  }

  /** Delivery with a reply. Unknown addresses and crashed actors become typed failures. */
  async ask(envelope: Envelope): Promise<unknown> {
    const target = this.resolve(envelope.to);
    if (!target) return notFound(envelope.to);
    try {
      // A local actor's receive never throws: its mailbox turns errors into typed replies.
      return target.local ? await target.local.receive(envelope.message) : await target.handle.sendAndReceive('receive', envelope.message);
    } catch (error) {
      return refusal('server/internal', `${envelope.to} failed: ${String(error)}`);
    }
  }

  /** An actor is done (room ended, player gone): destroy it and forget its address. */
  async retire(request: { address: Address }): Promise<void> {
    const child = this.children.get(request.address);
    if (!child) return;
    this.children.delete(request.address);
    await destroyActor(child.handle).catch(() => undefined);
  }

  /** Destroys every child (the process is stopping). */
  async shutdown(): Promise<void> {
    const children = [...this.children.values()];
    this.children.clear();
    await Promise.all(children.map((child) => destroyActor(child.handle).catch(() => undefined)));
  }

  stats(): RouterStats {
    const actors: Record<ActorKind, number> = { session: 0, room: 0, lobby: 0 };
    for (const child of this.children.values()) actors[child.kind]++;
    return { actors };
  }

  private resolve(address: Address): Child | undefined {
    return this.children.get(address) ?? this.ports.get(address);
  }
}

function notFound(address: Address): Failure {
  if (address.startsWith('room:')) return refusal('room/not-found');
  return refusal('server/internal', `no actor at ${address}`);
}
