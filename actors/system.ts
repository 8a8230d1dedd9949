/**
 * Boots the actor system of one process: comedy, the router, the lobby, and
 * the gateway port through which actors reach devices.
 *
 * Placement (in-memory, forked, threaded) is configuration handed in here;
 * no actor's code knows where it runs.
 */
import { createComedySystem, localBehaviour, type PlacementMode } from './kit/comedy';
import type { LocalRouter } from './kit/local-router';
import type { ActorSettings } from './kit/mailbox-actor';
import {
  LOBBY,
  sessionAddress,
  type ActorKind,
  type Address,
  type AttachReply,
  type ClientReply,
  type GatewayMessage,
  type SessionMessage,
} from './messages';
import type { RouterParameters, RouterStats } from './router';
import type { SessionParams } from './session/session-actor';

export interface ActorSystemOptions {
  readonly placement: Readonly<Record<ActorKind, PlacementMode>>;
  readonly settings: Readonly<Record<ActorKind, ActorSettings>>;
  /** comedy resource modules (metrics, log, games) from the app root; infra/ provides them. */
  readonly resources: readonly string[];
  /** This process's gateway: its address and what to do with messages actors send it. */
  readonly gateway: { readonly address: Address; deliver(message: GatewayMessage): void };
}

/** What the gateway may do with actors: reach a player's session, and nothing else. */
export interface ActorSystemHandle {
  openSession(params: SessionParams): Promise<{ ok: boolean }>;
  attach(playerId: string, connectionId: string): Promise<AttachReply>;
  detach(playerId: string, connectionId: string): void;
  request(playerId: string, message: Extract<SessionMessage, { type: 'client' }>): Promise<ClientReply>;
  stats(): Promise<RouterStats>;
  stop(): Promise<void>;
}

export async function startActorSystem(options: ActorSystemOptions): Promise<ActorSystemHandle> {
  const system = createComedySystem({ resources: options.resources });
  const root = await system.rootActor();
  // The port is a local actor by nature: it lives beside the gateway's sockets.
  const port = await root.createLocalChild({
    receive: (message: GatewayMessage) => options.gateway.deliver(message),
  });
  const routerParameters: RouterParameters = {
    placement: options.placement,
    settings: options.settings,
    ports: { [options.gateway.address]: port },
  };
  const router = await root.createChild('/actors/router', { mode: 'in-memory', customParameters: routerParameters });
  // The router always lives in the gateway's process: call it directly rather than through comedy.
  const local = localBehaviour<LocalRouter>(router);
  if (!local) throw new Error('the router must run in-memory');
  const lobby = await local.spawn({ kind: 'lobby', address: LOBBY, params: {} });
  if (!lobby.ok) throw new Error(`could not start the lobby: ${lobby.error.message}`);
  const ask = async <R>(to: Address, message: object): Promise<R> => (await local.ask({ to, message })) as R;

  return {
    async openSession(params) {
      const reply = await local.spawn({ kind: 'session', address: sessionAddress(params.playerId), params });
      return { ok: reply.ok };
    },
    attach: (playerId, connectionId) =>
      ask<AttachReply>(sessionAddress(playerId), { type: 'attach', gateway: options.gateway.address, connectionId } satisfies SessionMessage),
    detach(playerId, connectionId) {
      local.tell({ to: sessionAddress(playerId), message: { type: 'detach', connectionId } satisfies SessionMessage });
    },
    request: (playerId, message) => ask<ClientReply>(sessionAddress(playerId), message),
    stats: async () => (await router.sendAndReceive('stats', {})) as RouterStats,
    async stop() {
      await router.sendAndReceive('shutdown', {});
      await system.destroy();
    },
  };
}
