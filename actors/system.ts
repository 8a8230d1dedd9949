/**
 * Boots the actors of a single-process server: comedy, one worker in this
 * process hosting every session, room and the lobby, and the gateway endpoint
 * through which actors reach devices.
 */
import { createComedySystem, destroyActor, localBehaviour, type ResourceDefinition } from './kit/comedy';
import type { ActorSettings } from './kit/mailbox-actor';
import { LOBBY } from './lobby/lobby-protocol';
import type { ActorKind, GatewayMessage, GatewayRef } from './messages';
import {
  sessionRef,
  type AttachReply,
  type ClientReply,
  type SessionMessage,
  type SessionParams,
  type SessionProtocol,
  type ResumeClaim,
} from './session/session-protocol';
import type { MessageOf, ReplyOf } from './kit/protocol';
import type { ActorHost, HostStats } from './worker/actor-host';
import type WorkerActor from './worker/worker-actor';
import type { WorkerParameters } from './worker/worker-actor';
import { WORKER_ACTOR_MODULE } from './worker/worker-module';

export interface ActorSystemOptions {
  readonly settings: Readonly<Record<ActorKind, ActorSettings>>;
  /** The stores the persistence actor writes to (embedded ones by default) and how it batches. */
  readonly persistence: WorkerParameters['persistence'];
  /** comedy resources (the process context, the stores, the cluster); infra/ provides them. */
  readonly resources: readonly ResourceDefinition[];
  /** This process's gateway: its address and what to do with messages actors send it. */
  readonly gateway: { readonly address: GatewayRef; deliver(message: GatewayMessage): void };
}

/** What the gateway may do with actors: reach a player's session, and nothing else. */
export interface ActorSystemHandle {
  openSession(params: SessionParams): Promise<{ ok: boolean }>;
  attach(playerId: string, connectionId: string, resume?: ResumeClaim): Promise<AttachReply>;
  /** The device has every numbered message up to `seq`. */
  delivered(playerId: string, seq: number): void;
  /** The connection is gone; with `graceMs` the player keeps their seat that long, waiting to come back. */
  detach(playerId: string, connectionId: string, graceMs?: number): void;
  request(playerId: string, message: Extract<SessionMessage, { type: 'client' }>): Promise<ClientReply>;
  stats(): Promise<HostStats>;
  /** Whether this process can serve players now (its /readyz); a single process is ready while it runs. */
  readiness(): Readiness;
  stop(): Promise<void>;
}

/** What a readiness probe answers: ready, or the reasons it is not (each a short sentence for operators). */
export interface Readiness {
  readonly ready: boolean;
  readonly reasons: readonly string[];
}

export async function startActorSystem(options: ActorSystemOptions): Promise<ActorSystemHandle> {
  const system = createComedySystem({ resources: options.resources });
  const root = await system.rootActor();
  const parameters: WorkerParameters = { settings: options.settings, persistence: options.persistence };
  const worker = await root.createChild(WORKER_ACTOR_MODULE, { mode: 'in-memory', customParameters: parameters });
  // The worker lives in this process: the gateway calls its host directly rather than through comedy.
  const host = localBehaviour<WorkerActor>(worker)?.host;
  if (!host) throw new Error('the single-process worker must run in-memory');
  host.bindEndpoint(options.gateway.address, (message) => options.gateway.deliver(message as GatewayMessage));
  const lobby = await host.spawnHere({ kind: 'lobby', address: LOBBY, params: {} });
  if (!lobby.ok) throw new Error(`could not start the lobby: ${lobby.error.message}`);
  return {
    async openSession(params) {
      const reply = await host.spawnHere({ kind: 'session', address: sessionRef(params.playerId), params });
      return { ok: reply.ok };
    },
    ...sessionCalls(host, options.gateway.address),
    readiness: () => ({ ready: true, reasons: [] }),
    async stop() {
      await destroyActor(worker);
      await system.destroy();
    },
  };
}

/**
 * What a gateway sends a player's session, through whichever host routes for
 * it: the worker's own (single process) or a gateway's cluster-connected one.
 */
export function sessionCalls(host: ActorHost, gateway: GatewayRef): Pick<ActorSystemHandle, 'attach' | 'delivered' | 'detach' | 'request' | 'stats'> {
  // No async wrapper: every request of every player passes here, and the host's promise is the answer.
  const ask = <M extends MessageOf<SessionProtocol>>(playerId: string, message: M) =>
    host.ask({ to: sessionRef(playerId), message }) as Promise<ReplyOf<SessionProtocol, M>>;
  const tell = (playerId: string, message: MessageOf<SessionProtocol>) => host.tell({ to: sessionRef(playerId), message });
  return {
    attach: (playerId, connectionId, resume) => ask(playerId, { type: 'attach', gateway, connectionId, ...(resume ? { resume } : {}) } as const),
    delivered: (playerId, seq) => tell(playerId, { type: 'delivered', seq }),
    detach: (playerId, connectionId, graceMs) => tell(playerId, { type: 'detach', connectionId, graceMs }),
    request: (playerId, message) => ask(playerId, message),
    stats: async () => host.stats(),
  };
}
