/**
 * Boots the actors of a single-process server: comedy, one worker in this
 * process hosting every session, room and the lobby, and the gateway endpoint
 * through which actors reach devices.
 */
import { createComedySystem, destroyActor, localBehaviour } from './kit/comedy';
import type { ActorSettings } from './kit/mailbox-actor';
import {
  LOBBY,
  sessionAddress,
  type ActorKind,
  type Address,
  type AttachReply,
  type ClientReply,
  type GatewayMessage,
  type ResumeClaim,
  type SessionMessage,
} from './messages';
import type { SessionParams } from './session/session-actor';
import type { ActorHost, HostStats } from './worker/actor-host';
import type WorkerActor from './worker/worker-actor';
import type { WorkerParameters } from './worker/worker-actor';
import { WORKER_ACTOR_MODULE } from './worker/worker-module';

export interface ActorSystemOptions {
  readonly settings: Readonly<Record<ActorKind, ActorSettings>>;
  /** The stores the persistence actor writes to (embedded ones by default) and how it batches. */
  readonly persistence: WorkerParameters['persistence'];
  /** comedy resource modules (metrics, log, games) from the app root; infra/ provides them. */
  readonly resources: readonly string[];
  /** This process's gateway: its address and what to do with messages actors send it. */
  readonly gateway: { readonly address: Address; deliver(message: GatewayMessage): void };
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
      const reply = await host.spawnHere({ kind: 'session', address: sessionAddress(params.playerId), params });
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
export function sessionCalls(host: ActorHost, gateway: Address): Pick<ActorSystemHandle, 'attach' | 'delivered' | 'detach' | 'request' | 'stats'> {
  // No async wrapper: every request of every player passes here, and the host's promise is the answer.
  const ask = <R>(to: Address, message: object): Promise<R> => host.ask({ to, message }) as Promise<R>;
  return {
    attach: (playerId, connectionId, resume) =>
      ask<AttachReply>(sessionAddress(playerId), { type: 'attach', gateway, connectionId, ...(resume ? { resume } : {}) } satisfies SessionMessage),
    delivered(playerId, seq) {
      host.tell({ to: sessionAddress(playerId), message: { type: 'delivered', seq } satisfies SessionMessage });
    },
    detach(playerId, connectionId, graceMs) {
      host.tell({ to: sessionAddress(playerId), message: { type: 'detach', connectionId, graceMs } satisfies SessionMessage });
    },
    request: (playerId, message) => ask<ClientReply>(sessionAddress(playerId), message),
    stats: async () => host.stats(),
  };
}
