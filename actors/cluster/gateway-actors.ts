/**
 * A gateway's view of the actors when they live on workers: the same
 * ActorSystemHandle as the single-process server, reached over the cluster's
 * backplane. The gateway holds no actors; its only endpoint is its own
 * address, where sessions send what goes to devices.
 */
import type { ProcessPorts } from '../ports';
import { ActorHost } from '../worker/actor-host';
import type { ActorSettings } from '../kit/mailbox-actor';
import { idsOf, type ActorKind, type GatewayMessage, type GatewayRef } from '../messages';
import { sessionRef } from '../session/session-protocol';
import { sessionCalls, type ActorSystemHandle } from '../system';
import type { Backplane, NodeInfo } from './backplane';
import { ClusterNode } from './cluster-node';

export interface GatewayActorsOptions {
  readonly backplane: Backplane;
  /** This gateway's address ('gateway:<id>') and what to do with messages sessions send it. */
  readonly gateway: { readonly address: GatewayRef; deliver(message: GatewayMessage): void };
  readonly slot: string;
  readonly heartbeatMs: number;
  readonly deadAfterMs: number;
  readonly askTimeoutMs: number;
  readonly ports: ProcessPorts;
  readonly settings: Readonly<Record<ActorKind, ActorSettings>>;
  connections(): number;
  /** Players whose session died with its worker: their devices must log in again. */
  onSessionsLost(playerIds: readonly string[]): void;
  /**
   * The cluster declared this gateway gone (it stalled past the dead timeout): sessions dropped its
   * connections meanwhile, so its devices must reconnect and resume. Runs before the gateway rejoins.
   */
  onFenced(): void;
}

export interface GatewayActors extends ActorSystemHandle {
  /** Live nodes of the cluster (for /metrics). */
  members(): readonly NodeInfo[];
}

export async function connectGatewayActors(options: GatewayActorsOptions): Promise<GatewayActors> {
  const host = new ActorHost(options.ports, options.settings);
  host.bindEndpoint(options.gateway.address, (message) => options.gateway.deliver(message as GatewayMessage));
  const node = new ClusterNode(host, options.backplane, {
    id: options.gateway.address.slice('gateway:'.length),
    role: 'gateway',
    slot: options.slot,
    heartbeatMs: options.heartbeatMs,
    deadAfterMs: options.deadAfterMs,
    askTimeoutMs: options.askTimeoutMs,
    log: options.ports.log,
    metrics: options.ports.metrics,
    connections: options.connections,
  });
  node.onNodeDown((_node, lost) => {
    const players = idsOf('session', lost);
    if (players.length > 0) options.onSessionsLost(players);
  });
  node.onFenced(async () => options.onFenced());
  await node.start();
  return {
    async openSession(params) {
      const address = sessionRef(params.playerId);
      if (await node.locate(address)) return { ok: true };
      const reply = await node.spawn({ kind: 'session', address, params });
      return { ok: reply.ok };
    },
    ...sessionCalls(host, options.gateway.address),
    members: () => node.members(),
    readiness() {
      const health = node.health();
      const reasons: string[] = [];
      if (!health.backplaneUp) reasons.push('the cluster backplane (Redis) is unreachable');
      if (health.liveWorkers === 0) reasons.push('no worker is alive and taking players');
      if (health.fenced) reasons.push('the cluster declared this gateway gone; it is rejoining');
      return { ready: reasons.length === 0, reasons };
    },
    async stop() {
      await node.stop();
      await options.backplane.close();
    },
  };
}
