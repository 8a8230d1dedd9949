/**
 * The Socket.IO edge. Authenticates the handshake, checks every incoming
 * message against the protocol's schemas and limits, and only then hands it to
 * the player's session actor. Actors answer through `deliver`, the gateway
 * port; they never see a socket.
 */
import { ServerResponse, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Server, type Socket } from 'socket.io';
import type { GatewayMessage } from '../../actors/messages';
import type { AttachAccepted, ResumeClaim } from '../../actors/session/session-protocol';
import type { ActorSystemHandle } from '../../actors/system';
import { errorBody, refusal, RefusedError, type ErrorBody, type ErrorCode } from '../../protocol/errors';
import {
  CLIENT_EVENT_SCHEMAS,
  DeliveredRequest,
  type ClientEventName,
  type HandshakeAuth,
  type ClientToServerEvents,
  type ServerEventName,
  type ServerToClientEvents,
} from '../../protocol/messages';
import { checkHandshake, checkRequest, describeIssues } from '../../protocol/wire-checks';
import type { ActorLog } from '../../actors/ports';
import type { PlayhouseConfig } from '../config';
import type { PlayhouseMetrics } from '../metrics';
import type { PlayerTokens } from '../auth/player-tokens';
import { JsonPacketEncoder } from './json-packet-encoder';
import { PlayhouseDecoder } from './packet-decoder';
import type { ResumeTokens } from '../auth/resume-tokens';

interface SocketData {
  playerId: string;
  name: string;
  /** What the session said when it took this connection (in the handshake); dropped once sent. */
  accepted: AttachAccepted | undefined;
  /** Detaches the session if the connection closes after the session took it but before it opens; removed once it has. */
  closedEarly: (() => void) | undefined;
  /** Flood guard: events seen in the current one-second window. */
  windowStart: number;
  windowCount: number;
}

type PlayerSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
type AckFn = (reply: { ok: false; error: ErrorBody } | object) => void;
type SessionParams = Parameters<ActorSystemHandle['openSession']>[0];

export interface GatewayDependencies {
  readonly config: PlayhouseConfig;
  readonly actors: ActorSystemHandle;
  readonly tokens: PlayerTokens;
  readonly resumeTokens: ResumeTokens;
  readonly metrics: PlayhouseMetrics;
  readonly log: ActorLog;
}

const CLIENT_EVENTS = new Set<string>(Object.keys(CLIENT_EVENT_SCHEMAS));
/** Events without an acknowledgement callback, handled apart from requests. */
const DELIVERED_EVENT = 'session:ack';

export class SocketGateway {
  readonly io: Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
  private readonly sockets = new Map<string, PlayerSocket>();
  /**
   * Connections the session has taken but Socket.IO has not opened yet: what actors
   * send them meanwhile waits here, to follow `session:ready` and the replay in order.
   */
  private readonly opening = new Map<string, GatewayMessage[]>();
  /** Set while draining: players keep their seats at least this long after we close their connection, to reconnect elsewhere. */
  private drainGraceMs = 0;

  private readonly onIncoming: (this: PlayerSocket, event: string, ...args: unknown[]) => void;
  private readonly onDisconnect: (this: PlayerSocket, reason: string) => void;
  /** What every session is started with, one object for all of them. */
  private readonly sessionLimits: Pick<SessionParams, 'rateLimit' | 'delivery'>;

  constructor(
    httpServer: HttpServer,
    private readonly deps: GatewayDependencies,
  ) {
    const { limits, heartbeat, resume } = deps.config;
    const gateway = this;
    this.onIncoming = function (event, ...args) {
      gateway.incoming(this, event, args);
    };
    this.onDisconnect = function (reason) {
      gateway.disconnected(this, reason);
    };
    this.sessionLimits = {
      rateLimit: { perSecond: limits.requestsPerSecond, burst: limits.requestBurst },
      delivery: { bufferMessages: resume.bufferMessages, actionWindow: resume.actionWindow, graceMs: resume.graceMs },
    };
    this.io = new Server(httpServer, {
      maxHttpBufferSize: limits.maxFrameBytes,
      pingInterval: heartbeat.pingIntervalMs,
      pingTimeout: heartbeat.pingTimeoutMs,
      // Tokens travel in the handshake, not in cookies, so any origin may connect.
      cors: { origin: true },
      serveClient: false,
      // Socket.IO's own wire format, written without the binary walk and a room state's second stringify,
      // and read with a non-object auth or an unusable ack id answered rather than fatal.
      parser: { Encoder: JsonPacketEncoder, Decoder: PlayhouseDecoder },
    });
    // Socket.IO keeps each connection's HTTP upgrade request (headers, parser state: ~1 KB); we need nothing
    // from it after the handshake. engine.io 6.6 keeps it a second time: the stand-in response it hands
    // middlewares during a WebSocket upgrade holds `req`, and stays referenced by a 'close' listener on the
    // TCP socket for the connection's whole life. This middleware, registered last, lets go of it there.
    this.io.engine.use((_req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => {
      if (!(res instanceof ServerResponse) && 'req' in res) (res as { req: unknown }).req = null;
      next();
    });
    this.io.engine.on('connection', (rawSocket: { request: unknown }) => {
      rawSocket.request = null;
    });
    // The handshake is refused (connect_error with a typed body) for a bad token, a refused resume,
    // or a session that could not start; the session has taken the connection before it opens.
    this.io.use((socket, next) => {
      this.open(socket).then(
        () => next(),
        (error: unknown) => {
          const refused = error instanceof RefusedError ? error.body : errorBody('server/internal', 'the session could not start; reconnect');
          deps.metrics.wireError(refused.code);
          next(Object.assign(new Error(refused.message), { data: refused }));
        },
      );
    });
    this.io.on('connection', (socket) => this.connected(socket));
  }

  /** The gateway port: what actors send towards devices. */
  deliver(message: GatewayMessage): void {
    const socket = this.sockets.get(message.connectionId);
    if (!socket) {
      this.opening.get(message.connectionId)?.push(message);
      return;
    }
    if (message.type === 'push') {
      (socket.emit as (event: ServerEventName, payload: object, seq?: number) => boolean)(message.event, message.payload, message.seq);
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
    this.drainGraceMs = graceMs;
    for (const socket of this.sockets.values()) socket.emit('session:closed', error);
    await this.io.close();
  }

  /** Every device must reconnect (and resume): tells each why, then drops its connection. The gateway keeps serving. */
  reconnectAll(error: ErrorBody): void {
    for (const socket of this.sockets.values()) {
      socket.emit('session:closed', error);
      socket.disconnect(true);
    }
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

  /**
   * Handshake: who the player is, then the session takes the connection (resuming if asked and allowed).
   * The connection may be gone by then, or go before it opens: Socket.IO closes a connection that sends
   * anything before the CONNECT reply, sometimes before this middleware even runs, and never reports such a
   * close as a 'disconnect'. Once the session has taken it, that close is a drop like any other.
   */
  private async open(socket: PlayerSocket): Promise<void> {
    const handshake = checkHandshake(socket.handshake.auth);
    if (!handshake.ok) throw new RefusedError(handshake.error);
    await this.take(socket, handshake.value);
    const { playerId } = socket.data;
    const closedEarly = () => {
      if (this.opening.delete(socket.id)) this.deps.actors.detach(playerId, socket.id, this.graceFor('transport close'));
    };
    if (socket.conn.readyState !== 'open') return closedEarly();
    socket.data.closedEarly = closedEarly;
    socket.conn.once('close', closedEarly);
  }

  /** The player the token names, and their session taking this connection. */
  private async take(socket: PlayerSocket, handshake: HandshakeAuth): Promise<void> {
    let identity;
    try {
      identity = await this.deps.tokens.verify(handshake.token);
    } catch {
      throw new RefusedError(errorBody('auth/invalid-token'));
    }
    const { playerId, name } = identity;
    socket.data.playerId = playerId;
    socket.data.name = name;
    let resume: ResumeClaim | undefined;
    if (handshake.resume) {
      const nonce = this.deps.resumeTokens.nonceFor(handshake.resume.token, playerId);
      if (!nonce) throw new RefusedError(errorBody('session/resume-refused'));
      resume = { nonce, lastSeq: handshake.resume.lastSeq };
    }

    const { actors, log } = this.deps;
    this.opening.set(socket.id, []);
    const params: SessionParams = { playerId, name, ...this.sessionLimits };
    try {
      for (let attempt = 1; ; attempt++) {
        const opened = await actors.openSession(params);
        if (!opened.ok) throw new RefusedError(errorBody('server/internal', 'the session could not start; reconnect'));
        const reply = await actors.attach(playerId, socket.id, resume);
        // The session's worker died and we had not noticed when we looked it up: now we have, so once more
        // (a session saved for resume is taken up on a live worker).
        if (!reply.ok && reply.error.code === 'server/unavailable' && attempt < 2) continue;
        if (!reply.ok) throw new RefusedError(reply.error);
        socket.data.accepted = reply;
        break;
      }
    } catch (error) {
      this.opening.delete(socket.id);
      if (error instanceof RefusedError) throw error;
      log.error({ playerId, err: String(error) }, 'session attach failed');
      throw new RefusedError(errorBody('server/internal', 'the session could not start; reconnect'));
    }
  }

  private connected(socket: PlayerSocket): void {
    const { metrics, resumeTokens } = this.deps;
    const { playerId, accepted, closedEarly } = socket.data;
    // Kept per connection for its whole life otherwise: a thousand idle players would hold a thousand of each.
    socket.data.accepted = undefined;
    socket.data.closedEarly = undefined;
    if (closedEarly) socket.conn.off('close', closedEarly);
    if (!accepted) return;
    metrics.clientConnected();
    this.sockets.set(socket.id, socket);
    socket.data.windowStart = Date.now();
    socket.data.windowCount = 0;

    const { resumeNonce, replay, ...ready } = accepted;
    socket.emit('session:ready', { ...ready, resumeToken: resumeTokens.issue(playerId, resumeNonce) });
    const emit = (socket.emit as (event: ServerEventName, payload: object, seq?: number) => boolean).bind(socket);
    for (const missed of replay) emit(missed.event, missed.payload, missed.seq);
    const early = this.opening.get(socket.id) ?? [];
    this.opening.delete(socket.id);
    for (const message of early) this.deliver(message);

    // Two listeners shared by every socket (Socket.IO calls them with the socket as `this`): no closures
    // per connection, which an idle player would otherwise carry for its whole life.
    socket.onAny(this.onIncoming);
    socket.on('disconnect', this.onDisconnect);
  }

  /** Every event a client sends, whatever its name. */
  private incoming(socket: PlayerSocket, event: string, args: unknown[]): void {
    if (CLIENT_EVENTS.has(event)) return void this.request(socket, event as ClientEventName, args);
    if (event === DELIVERED_EVENT) return this.delivered(socket, args);
    if (this.flooded(socket)) return;
    const error = errorBody('protocol/unknown-event', `'${String(event).slice(0, 64)}' is not an event of this protocol`);
    this.refuse(socket, String(event), error, args[args.length - 1]);
  }

  private disconnected(socket: PlayerSocket, reason: string): void {
    this.deps.metrics.clientDisconnected();
    this.sockets.delete(socket.id);
    this.deps.actors.detach(socket.data.playerId, socket.id, this.graceFor(reason));
  }

  /**
   * How long a dropped player keeps the session and seat: the configured grace period, or at least the
   * drain timeout while this gateway drains; none when the client itself said goodbye.
   */
  private graceFor(reason: string): number {
    if (reason === 'client namespace disconnect') return 0;
    return Math.max(this.deps.config.resume.graceMs, this.drainGraceMs);
  }

  /** `session:ack`: the device has every numbered message up to `seq`. */
  private delivered(socket: PlayerSocket, args: unknown[]): void {
    if (this.flooded(socket)) return;
    const parsed = DeliveredRequest.safeParse(args[0]);
    if (args.length !== 1 || !parsed.success) {
      const detail = parsed.success ? `${DELIVERED_EVENT} takes exactly one object, without an acknowledgement callback` : describeIssues(parsed.error, DELIVERED_EVENT);
      return this.refuse(socket, DELIVERED_EVENT, errorBody('protocol/bad-message', detail.slice(0, 500)), args[args.length - 1]);
    }
    this.deps.actors.delivered(socket.data.playerId, parsed.data.seq);
  }

  private async request(socket: PlayerSocket, event: ClientEventName, args: unknown[]): Promise<void> {
    if (this.flooded(socket)) return;
    const checked = checkRequest(event, args, this.deps.config.limits.maxMessageBytes);
    if (!checked.ok) return this.refuse(socket, event, checked.error, checked.ack);
    const { ack } = checked;

    const started = performance.now();
    let reply: { ok: boolean; error?: ErrorBody };
    try {
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
