/**
 * A Playhouse gateway process: HTTP + Socket.IO in front of the actors. In the
 * `single` role the actors (sessions, rooms, lobby) live in this process
 * (`npm start`; tests start it on port 0); in the `gateway` role they live on
 * the cluster's workers, reached through Redis.
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connectGatewayActors } from '../actors/cluster/gateway-actors';
import { errorBody } from '../protocol/errors';
import { gatewayRef, type GatewayMessage } from '../actors/messages';
import { startActorSystem, type ActorSystemHandle } from '../actors/system';
import { ACTOR_RESOURCES_AFTER_CONTEXT } from './actor-resources';
import { givenContext } from './actor-resources/context-resource';
import { PlayerTokens } from './auth/player-tokens';
import { ResumeTokens } from './auth/resume-tokens';
import { SignInLimiter } from './auth/sign-in-limiter';
import { GameChannel } from './cluster/game-channel';
import { RedisBackplane } from './cluster/redis-backplane';
import { actorSettings, workerPersistence } from './cluster/worker-supervisor';
import type { PlayhouseConfig } from './config';
import { clientAddressResolver } from './gateway/client-address';
import { loadDemoAssets, NO_DEMO } from './gateway/demo-assets';
import { createRoutes } from './gateway/http-routes';
import { playgroundRoutes } from './gateway/playground/playground-routes';
import { SocketGateway } from './gateway/socket-gateway';
import { createProcessContext, type ProcessContext } from './process-context';

export interface RunningPlayhouse {
  readonly port: number;
  /** Base URL for HTTP and Socket.IO, e.g. http://127.0.0.1:8080 */
  readonly url: string;
  readonly actors: ActorSystemHandle;
  readonly gateway: SocketGateway;
  readonly http: HttpServer;
  /** The process context the server runs with (its logger, metrics, games, clock). */
  readonly context: ProcessContext;
  /**
   * Stops taking connections, tells clients why, stops the actors. A gateway
   * of a cluster drains: /readyz (and /healthz) turns 503 first, clients are
   * told to move and their players keep their seats for the drain timeout.
   */
  stop(): Promise<void>;
}

/** Starts a gateway (role `gateway`) or a whole single process (role `single`) in this process, with `context` (by default one made from `config`). */
export async function startPlayhouse(config: PlayhouseConfig, context: ProcessContext = createProcessContext(config)): Promise<RunningPlayhouse> {
  const { log, metrics, games } = context;
  const tokens = new PlayerTokens(config.auth.secret, config.auth.tokenTtlSeconds);
  let gateway: SocketGateway | undefined;
  const address = gatewayRef(config.gatewayId);
  const deliver = (message: GatewayMessage) => gateway?.deliver(message);
  let actors: ActorSystemHandle;
  if (config.role === 'gateway') {
    const backplane = await RedisBackplane.connect({ url: config.cluster.redisUrl, name: config.cluster.name, log });
    const cluster = await connectGatewayActors({
      backplane,
      gateway: { address, deliver },
      slot: config.gatewayId,
      heartbeatMs: config.cluster.heartbeatMs,
      deadAfterMs: config.cluster.deadAfterMs,
      askTimeoutMs: config.actors.askTimeoutMs,
      ports: context,
      settings: actorSettings(config),
      connections: () => gateway?.connections ?? 0,
      onSessionsLost: (players) => gateway?.sessionsLost(players),
      onFenced: () => gateway?.reconnectAll(errorBody('server/unavailable', 'this gateway lost its place in the cluster; reconnect to resume')),
    });
    metrics.watchCluster(() => cluster.members());
    actors = cluster;
  } else if (config.role === 'single') {
    // The worker in this process shares the process's context: one catalogue, one metrics registry.
    const resources = [givenContext(context), ...ACTOR_RESOURCES_AFTER_CONTEXT];
    actors = await startActorSystem({ settings: actorSettings(config), persistence: workerPersistence(config), resources, gateway: { address, deliver } });
  } else {
    throw new Error(`startPlayhouse runs the single and gateway roles, not '${config.role}' (see infra/cluster/worker-supervisor.ts)`);
  }

  let accepting = true;
  if (config.games.watch) await games.watch();
  // A gateway of a cluster publishes what it loads to the workers.
  const gameChannel =
    config.role === 'gateway' && config.games.watch
      ? await GameChannel.open({ url: config.cluster.redisUrl, name: config.cluster.name, catalog: games, publish: true, log })
      : undefined;
  const admin = { games, roomsByVersion: () => metrics.roomsByVersion(), adminToken: config.games.adminToken };
  const playground = config.games.playground ? playgroundRoutes(games) : undefined;
  // A cluster's gateways count sign-ins together; one process counts alone.
  const signIn =
    config.role === 'gateway'
      ? await SignInLimiter.onRedis(config.signIn, { url: config.cluster.redisUrl, name: config.cluster.name, log })
      : SignInLimiter.inMemory(config.signIn);
  const http = createServer(
    createRoutes({
      gatewayId: config.gatewayId,
      tokens,
      metrics,
      demo: config.http.demoPage ? loadDemoAssets() : NO_DEMO,
      signIn,
      clientAddress: clientAddressResolver(config.http.trustedProxies),
      isAccepting: () => accepting,
      readiness: () => actors.readiness(),
      admin,
      playground,
    }),
  );
  gateway = new SocketGateway(http, { config, actors, tokens, resumeTokens: new ResumeTokens(config.auth.secret), metrics, log });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.port, config.host, () => resolve());
  }).catch(async (error: unknown) => {
    // The port is taken (or not ours): stop what started, so the stores let go of their files, then say why.
    await actors.stop();
    await gameChannel?.close();
    await games.close();
    throw error;
  });
  const port = (http.address() as AddressInfo).port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const url = `http://${host}:${port}`;
  log.info({ url, gateway: config.gatewayId, role: config.role }, 'playhouse listening');

  return {
    port,
    url,
    actors,
    gateway,
    http,
    context,
    async stop() {
      accepting = false;
      await gateway?.close(undefined, config.role === 'gateway' ? config.cluster.drainTimeoutMs : 0);
      await actors.stop();
      await gameChannel?.close();
      await games.close();
      await signIn.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
