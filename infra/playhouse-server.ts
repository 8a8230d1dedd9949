/**
 * One Playhouse process: the actor system (sessions, rooms, lobby) and a
 * gateway (HTTP + Socket.IO) in front of it. `npm start` runs this; tests start
 * it on port 0.
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gatewayAddress, type GatewayMessage } from '../actors/messages';
import { startActorSystem, type ActorSystemHandle } from '../actors/system';
import { ACTOR_RESOURCES } from './actor-resources';
import { PlayerTokens } from './auth/player-tokens';
import type { PlayhouseConfig } from './config';
import { loadDemoAssets } from './gateway/demo-assets';
import { createRoutes } from './gateway/http-routes';
import { SocketGateway } from './gateway/socket-gateway';
import { processLogger } from './logger';
import { processMetrics } from './metrics';

export interface RunningPlayhouse {
  readonly port: number;
  /** Base URL for HTTP and Socket.IO, e.g. http://127.0.0.1:8080 */
  readonly url: string;
  readonly actors: ActorSystemHandle;
  readonly gateway: SocketGateway;
  readonly http: HttpServer;
  /** Stops taking connections, tells clients why, stops the actors. */
  stop(): Promise<void>;
}

export async function startPlayhouse(config: PlayhouseConfig): Promise<RunningPlayhouse> {
  const log = processLogger();
  const metrics = processMetrics();
  const tokens = new PlayerTokens(config.auth.secret, config.auth.tokenTtlSeconds);
  let gateway: SocketGateway | undefined;
  const settingsFor = (kind: 'session' | 'room' | 'lobby') => ({ mailboxCapacity: config.actors.mailboxCapacity[kind], askTimeoutMs: config.actors.askTimeoutMs });

  const actors = await startActorSystem({
    placement: config.actors.placement,
    settings: { session: settingsFor('session'), room: settingsFor('room'), lobby: settingsFor('lobby') },
    resources: ACTOR_RESOURCES,
    gateway: { address: gatewayAddress(config.gatewayId), deliver: (message: GatewayMessage) => gateway?.deliver(message) },
  });

  let accepting = true;
  const http = createServer(createRoutes({ gatewayId: config.gatewayId, tokens, metrics, demo: loadDemoAssets(), isAccepting: () => accepting }));
  gateway = new SocketGateway(http, { config, actors, tokens, metrics, log });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.port, config.host, () => resolve());
  });
  const port = (http.address() as AddressInfo).port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const url = `http://${host}:${port}`;
  log.info({ url, gateway: config.gatewayId, placement: config.actors.placement }, 'playhouse listening');

  return {
    port,
    url,
    actors,
    gateway,
    http,
    async stop() {
      accepting = false;
      await gateway?.close();
      await actors.stop();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
