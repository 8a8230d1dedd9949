/**
 * The actors of one worker: sessions, rooms and the lobby, by address.
 *
 * Actors address each other by name ('room:abc', 'session:p1', 'lobby',
 * 'gateway:gw1'), never by object reference. The host delivers to the actors
 * it holds straight into their mailboxes, to local endpoints (the gateway of a
 * single-process server), and hands everything else to the cluster link, which
 * knows which process holds it. The host holds no game state: it only routes.
 */
import { refusal } from '../../protocol/errors';
import type { Envelope, LocalRouter, SpawnReply, SpawnRequest } from '../kit/local-router';
import type { ActorKinds } from '../actor-kinds';
import type { ActorContext, ActorSettings } from '../kit/mailbox-actor';
import type { MessageOf } from '../kit/protocol';
import { LobbyActor } from '../lobby/lobby-actor';
import type { ActorKind, Address, Failure } from '../messages';
import type { ActorLog, ActorMetrics, Clock, GameCatalog, ProcessPorts, RoomLog, SessionStateStore } from '../ports';
import { Deadlines } from '../kit/deadlines';
import { RoomActor } from '../room/room-actor';
import { SessionActor } from '../session/session-actor';

export interface HostStats {
  readonly actors: Readonly<Record<ActorKind, number>>;
  /** Messages waiting in (or being handled by) this host's mailboxes. */
  readonly queued: number;
  /** Writes waiting in this host's persistence actor. */
  readonly writesQueued: number;
}

/** An actor of this process bound by address that is not a MailboxActor (the persistence actor). */
export interface LocalService {
  receive(message: object): Promise<unknown>;
  readonly depth: number;
}

/** Where messages for actors this host does not hold go (another process of the cluster). */
export interface ClusterLink {
  tell(envelope: Envelope): void;
  ask(envelope: Envelope): Promise<unknown>;
  /** Creates an actor on whichever worker placement picks (possibly this one). */
  spawn(request: SpawnRequest): Promise<SpawnReply>;
  /** An actor of this host retired: the cluster forgets where it was. */
  released(address: Address): void;
}

/** An actor of any kind as the host sees it: messages reach it from the routing untyped (plain JSON). */
interface AnyActor {
  receive(message: object): Promise<unknown>;
  deliver(message: object): void;
  readonly depth: number;
  started(): void | Promise<void>;
  stopped(): void | Promise<void>;
}
type ActorClass = new (context: ActorContext, params: never) => AnyActor;

const ACTOR_CLASSES: Readonly<Record<ActorKind, ActorClass>> = {
  session: SessionActor,
  room: RoomActor,
  lobby: LobbyActor,
};

interface Hosted {
  readonly kind: ActorKind;
  readonly actor: AnyActor;
}

export class ActorHost implements LocalRouter {
  private readonly actors = new Map<Address, Hosted>();
  private readonly endpoints = new Map<Address, (message: object) => void>();
  private readonly services = new Map<Address, LocalService>();
  private cluster: ClusterLink | undefined;
  /** The time limits of this host's asks (one sweeping timer for all of them). */
  readonly deadlines: Deadlines;

  constructor(
    private readonly ports: ProcessPorts,
    private readonly settings: Readonly<Record<ActorKind, ActorSettings>>,
  ) {
    this.deadlines = new Deadlines(ports.clock);
  }

  /** Messages for addresses this host does not hold go through `link` from now on. */
  connect(link: ClusterLink): void {
    this.cluster = link;
  }

  /** Where this host's sessions keep their resume state while away (a cluster's Redis). */
  sessionStore: SessionStateStore | undefined;

  /** Where this host's rooms log their inputs (a cluster's Redis). */
  roomLog: RoomLog | undefined;

  /** A local endpoint that is not an actor (a gateway in this process). */
  bindEndpoint(address: Address, deliver: (message: object) => void): void {
    this.endpoints.set(address, deliver);
  }

  /** A local service at `address`: messages to it from this process never leave the process. */
  bindService(address: Address, service: LocalService): void {
    this.services.set(address, service);
  }

  /** An actor of this host. */
  holds(address: Address): boolean {
    return this.actors.has(address);
  }

  /** An actor or a local endpoint: something this process delivers to itself. */
  holdsHere(address: Address): boolean {
    return this.actors.has(address) || this.endpoints.has(address) || this.services.has(address);
  }

  /** Creates the actor here unless it already exists. */
  async spawnHere(request: SpawnRequest): Promise<SpawnReply> {
    if (this.actors.has(request.address)) return { ok: true, created: false };
    const context = this.contextFor(request.kind, request.address);
    let actor: AnyActor;
    try {
      actor = new ACTOR_CLASSES[request.kind](context, request.params as never);
      this.actors.set(request.address, { kind: request.kind, actor });
      await actor.started();
    } catch (error) {
      this.actors.delete(request.address);
      this.ports.log.error({ address: request.address, err: String(error) }, 'actor failed to start');
      return refusal('server/internal', `could not start ${request.address}: ${String(error)}`);
    }
    return { ok: true, created: true };
  }

  /** Creates an actor where placement says (here, without a cluster). */
  spawn(request: SpawnRequest): Promise<SpawnReply> {
    return this.cluster ? this.cluster.spawn(request) : this.spawnHere(request);
  }

  /** Fire-and-forget delivery. A message to an address that no longer exists is dropped. */
  tell(envelope: Envelope): void {
    // Endpoints first: every push to a device is a tell to the gateway, and their map holds one or two
    // entries, while a miss in the map of thousands of actors costs cache misses.
    const endpoint = this.endpoints.get(envelope.to);
    if (endpoint) return endpoint(envelope.message);
    const hosted = this.actors.get(envelope.to);
    if (hosted) return hosted.actor.deliver(envelope.message);
    const service = this.services.get(envelope.to);
    if (service) return void service.receive(envelope.message);
    this.cluster?.tell(envelope);
  }

  /** Delivery with a reply. Unknown addresses become typed failures; a local actor's receive never throws. */
  ask(envelope: Envelope): Promise<unknown> {
    const hosted = this.actors.get(envelope.to);
    if (hosted) return hosted.actor.receive(envelope.message);
    const service = this.services.get(envelope.to);
    if (service) return service.receive(envelope.message);
    if (this.cluster && !this.endpoints.has(envelope.to)) return this.cluster.ask(envelope);
    return Promise.resolve(notFound(envelope.to));
  }

  /** An actor is done (room ended, player gone): forget its address and let it stop. */
  async retire(request: { address: Address }): Promise<void> {
    const hosted = this.actors.get(request.address);
    if (!hosted) return;
    this.actors.delete(request.address);
    this.cluster?.released(request.address);
    await stopQuietly(hosted.actor, this.ports.log);
  }

  /** Stops every actor (the process is stopping). */
  async shutdown(): Promise<void> {
    const all = [...this.actors.values()];
    this.actors.clear();
    await Promise.all(all.map((hosted) => stopQuietly(hosted.actor, this.ports.log)));
  }

  /** Tells every actor of `kind` held here. */
  tellAll<K extends ActorKind>(kind: K, message: MessageOf<ActorKinds[K]['protocol']> & object): void {
    for (const hosted of this.actors.values()) if (hosted.kind === kind) hosted.actor.deliver(message);
  }

  /** Asks every actor of `kind` held here; settles when each has answered (or failed). */
  askAll<K extends ActorKind>(kind: K, message: MessageOf<ActorKinds[K]['protocol']> & object): Promise<PromiseSettledResult<unknown>[]> {
    const answers: Promise<unknown>[] = [];
    for (const hosted of this.actors.values()) if (hosted.kind === kind) answers.push(hosted.actor.receive(message));
    return Promise.allSettled(answers);
  }

  /** Addresses of every actor of a kind held here. */
  addressesOf(kind: ActorKind): Address[] {
    const addresses: Address[] = [];
    for (const [address, hosted] of this.actors) if (hosted.kind === kind) addresses.push(address);
    return addresses;
  }

  stats(): HostStats {
    const actors: Record<ActorKind, number> = { session: 0, room: 0, lobby: 0 };
    let queued = 0;
    for (const hosted of this.actors.values()) {
      actors[hosted.kind]++;
      queued += hosted.actor.depth;
    }
    let writesQueued = 0;
    for (const service of this.services.values()) writesQueued += service.depth;
    return { actors, queued, writesQueued };
  }

  private contextFor(kind: ActorKind, address: Address): ActorContext {
    return new HostedContext(this, address, this.settings[kind], this.ports);
  }
}

/** An actor's view of its host. A class, not closures: one small object per actor. */
class HostedContext implements ActorContext {
  readonly metrics: ActorMetrics;
  readonly log: ActorLog;
  readonly games: GameCatalog;
  readonly clock: Clock;
  readonly deadlines: Deadlines;

  constructor(
    private readonly host: ActorHost,
    readonly address: Address,
    readonly settings: ActorSettings,
    ports: ProcessPorts,
  ) {
    this.metrics = ports.metrics;
    this.log = ports.log;
    this.games = ports.games;
    this.clock = ports.clock;
    this.deadlines = host.deadlines;
  }

  tell(to: Address, message: object): void {
    this.host.tell({ to, message });
  }

  ask(to: Address, message: object): Promise<unknown> {
    return this.host.ask({ to, message });
  }

  spawn(request: SpawnRequest): Promise<SpawnReply> {
    return this.host.spawn(request);
  }

  retire(address: Address): void {
    void this.host.retire({ address });
  }

  get sessionStore(): SessionStateStore | undefined {
    return this.host.sessionStore;
  }

  get roomLog(): RoomLog | undefined {
    return this.host.roomLog;
  }
}

async function stopQuietly(actor: AnyActor, log: ActorLog): Promise<void> {
  try {
    await actor.stopped();
  } catch (error) {
    log.warn({ err: String(error) }, 'actor failed while stopping');
  }
}

function notFound(address: Address): Failure {
  if (address.startsWith('room:')) return refusal('room/not-found');
  return refusal('server/internal', `no actor at ${address}`);
}
