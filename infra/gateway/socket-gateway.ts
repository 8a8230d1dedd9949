/**
 * The Socket.IO edge. Authenticates the handshake, checks every incoming
 * message against the protocol's schemas and limits, and only then hands it to
 * the player's session actor. Actors answer through `deliver`, the gateway
 * port; they never see a socket.
 */
import type { Server as HttpServer } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Server, type Socket } from 'socket.io';
import type { GatewayMessage } from '../../actors/messages';
import type { ActorSystemHandle } from '../../actors/system';
import { errorBody, refusal, type ErrorBody, type ErrorCode } from '../../protocol/errors';
import {
  CLIENT_EVENT_SCHEMAS,
  type ClientEventName,
  type ClientToServerEvents,
  type ServerEventName,
  type ServerToClientEvents,
} from '../../protocol/messages';
import { checkHandshake, checkRequest } from '../../protocol/wire-checks';
import type { ActorLog } from '../../actors/ports';
import type { PlayhouseConfig } from '../config';
import type { PlayhouseMetrics } from '../metrics';
import type { PlayerTokens } from '../auth/player-tokens';

interface SocketData {
  playerId: string;
  name: string;
  /** Resolves once the session actor has taken this connection. */
  attached: Promise<boolean>;
  /** True once `attached` resolved true: requests then skip awaiting it. */
  ready: boolean;
  /** Flood guard: events seen in the current one-second window. */
  windowStart: number;
  windowCount: number;
}

type PlayerSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
type AckFn = (reply: { ok: false; error: ErrorBody } | object) => void;

export interface GatewayDependencies {
  readonly config: PlayhouseConfig;
  readonly actors: ActorSystemHandle;
  readonly tokens: PlayerTokens;
  readonly metrics: PlayhouseMetrics;
  readonly log: ActorLog;
}

const CLIENT_EVENTS = new Set<string>(Object.keys(CLIENT_EVENT_SCHEMAS));

export class SocketGateway {
  readonly io: Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
  private readonly sockets = new Map<string, PlayerSocket>();
  /** Set while draining: players keep their seats this long after we close their connection, to reconnect elsewhere. */
  private detachGraceMs = 0;

  constructor(
    httpServer: HttpServer,
    private readonly deps: GatewayDependencies,
  ) {
    const { limits, heartbeat } = deps.config;
    this.io = new Server(httpServer, {
      maxHttpBufferSize: limits.maxFrameBytes,
      pingInterval: heartbeat.pingIntervalMs,
      pingTimeout: heartbeat.pingTimeoutMs,
      // Tokens travel in the handshake, not in cookies, so any origin may connect.
      cors: { origin: true },
      serveClient: false,
    });
    // Socket.IO keeps each connection's HTTP upgrade request; we need nothing from it after the handshake.
    this.io.engine.on('connection', (rawSocket: { request: unknown }) => {
      rawSocket.request = null;
    });
    this.io.use((socket, next) => {
      this.authenticate(socket).then(
        () => next(),
        (error: ErrorBody) => {
          deps.metrics.wireError(error.code);
          next(Object.assign(new Error(error.message), { data: error }));
        },
      );
    });
    this.io.on('connection', (socket) => this.connected(socket));
  }

  /** The gateway port: what actors send towards devices. */
  deliver(message: GatewayMessage): void {
    const socket = this.sockets.get(message.connectionId);
    if (!socket) return;
    if (message.type === 'push') {
      (socket.emit as (event: ServerEventName, payload: object) => boolean)(message.event, message.payload);
    } else {
      socket.emit('session:closed', message.error);
      socket.disconnect(true);
    }
  }

  /**
   * Tells every client why, then closes all connections. With `graceMs`
   * (a gateway of a cluster draining) sessions keep their players seated that
   * long, so clients reconnect through another gateway and play on.
   */
  async close(error: ErrorBody = errorBody('server/shutting-down'), graceMs = 0): Promise<void> {
    this.detachGraceMs = graceMs;
    for (const socket of this.sockets.values()) socket.emit('session:closed', error);
    await this.io.close();
  }

  /** The worker holding these players' sessions died: their devices must log in again. */
  sessionsLost(playerIds: readonly string[]): void {
    const lost = new Set(playerIds);
    for (const socket of this.sockets.values()) {
      if (!lost.has(socket.data.playerId)) continue;
      socket.emit('session:closed', errorBody('session/lost'));
      socket.disconnect(true);
    }
  }

  get connections(): number {
    return this.sockets.size;
  }

  private async authenticate(socket: PlayerSocket): Promise<void> {
    const handshake = checkHandshake(socket.handshake.auth);
    if (!handshake.ok) throw handshake.error;
    try {
      const identity = await this.deps.tokens.verify(handshake.value.token);
      socket.data.playerId = identity.playerId;
      socket.data.name = identity.name;
    } catch {
      throw errorBody('auth/invalid-token');
    }
  }

  private connected(socket: PlayerSocket): void {
    const { actors, metrics, config, log } = this.deps;
    const { playerId, name } = socket.data;
    metrics.clientConnected();
    this.sockets.set(socket.id, socket);
    socket.data.windowStart = Date.now();
    socket.data.windowCount = 0;
    socket.data.attached = (async () => {
      const opened = await actors.openSession({
        playerId,
        name,
        rateLimit: { perSecond: config.limits.requestsPerSecond, burst: config.limits.requestBurst },
      });
      if (!opened.ok) throw new Error('session could not start');
      const reply = await actors.attach(playerId, socket.id);
      if (!reply.ok) throw new Error(reply.error.message);
      socket.emit('session:ready', { playerId: reply.playerId, name: reply.name, protocol: reply.protocol, rooms: reply.rooms });
      socket.data.ready = true;
      return true;
    })().catch((error: unknown) => {
      log.error({ playerId, err: String(error) }, 'session attach failed');
      socket.emit('session:closed', errorBody('server/internal', 'the session could not start; reconnect'));
      socket.disconnect(true);
      return false;
    });

    for (const event of CLIENT_EVENTS) {
      socket.on(event as ClientEventName, (...args: unknown[]) => void this.request(socket, event as ClientEventName, args));
    }
    socket.onAny((event: string, ...args: unknown[]) => {
      if (CLIENT_EVENTS.has(event) || this.flooded(socket)) return;
      const error = errorBody('protocol/unknown-event', `'${String(event).slice(0, 64)}' is not an event of this protocol`);
      this.refuse(socket, String(event), error, args[args.length - 1]);
    });
    socket.on('disconnect', () => {
      metrics.clientDisconnected();
      this.sockets.delete(socket.id);
      void socket.data.attached.then((attached) => attached && actors.detach(playerId, socket.id, this.detachGraceMs));
    });
  }

  private async request(socket: PlayerSocket, event: ClientEventName, args: unknown[]): Promise<void> {
    if (this.flooded(socket)) return;
    const checked = checkRequest(event, args, this.deps.config.limits.maxMessageBytes);
    if (!checked.ok) return this.refuse(socket, event, checked.error, checked.ack);
    const { ack } = checked;

    const started = performance.now();
    let reply: { ok: boolean; error?: ErrorBody };
    try {
      if (!socket.data.ready && !(await socket.data.attached)) {
        ack(refusal('server/internal', 'the session could not start; reconnect'));
        return;
      }
      reply = await this.deps.actors.request(socket.data.playerId, {
        type: 'client',
        connectionId: socket.id,
        event,
        request: checked.request,
      } as Parameters<ActorSystemHandle['request']>[1]);
    } catch (error) {
      this.deps.log.error({ event, err: String(error) }, 'request failed');
      reply = refusal('server/internal');
    }
    ack(reply);
    this.deps.metrics.requestAnswered(event, reply.ok ? 'ok' : (reply.error?.code ?? 'server/internal'), (performance.now() - started) / 1000);
  }

  /** Refuses a message at the wire: through its ack when it has one, otherwise as a `session:error` event. */
  private refuse(socket: PlayerSocket, event: string, error: ErrorBody, ack: unknown): void {
    this.deps.metrics.wireError(error.code);
    if (typeof ack === 'function') (ack as AckFn)({ ok: false, error });
    else socket.emit('session:error', { ...error, event: event.slice(0, 64) });
  }

  /** A connection far past any legitimate rate is cut off rather than answered message by message. */
  private flooded(socket: PlayerSocket): boolean {
    const now = Date.now();
    const data = socket.data;
    if (now - data.windowStart >= 1000) {
      data.windowStart = now;
      data.windowCount = 0;
    }
    data.windowCount++;
    if (data.windowCount <= this.deps.config.limits.floodEventsPerSecond) return false;
    if (data.windowCount === this.deps.config.limits.floodEventsPerSecond + 1) {
      const code: ErrorCode = 'session/flood';
      this.deps.metrics.wireError(code);
      socket.emit('session:closed', errorBody(code));
      socket.disconnect(true);
    }
    return true;
  }
}
