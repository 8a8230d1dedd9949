/**
 * The Playhouse client SDK for TypeScript/JavaScript (browsers and Node).
 * The demo page, the tests and the load tester all play through it.
 *
 *   const login = await guestLogin('http://localhost:8080', 'Ada');
 *   const client = await PlayhouseClient.connect({ url: 'http://localhost:8080', token: login.token });
 *   client.on('state', (state) => render(state));   // listen first: the room's state can arrive before findMatch resolves
 *   const { roomId } = await client.findMatch('connect-four');
 *   await client.move(roomId, 'drop', { column: 3 });
 */
import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import type { ErrorBody, ErrorCode } from './errors';
import { PROTOCOL_VERSION } from './version';
import type {
  ClientToServerEvents,
  ErrorMessage,
  GuestLoginResponse,
  MatchFound,
  MoveAccepted,
  Reply,
  RoomDeltaMessage,
  RoomOverMessage,
  RoomPlayerMessage,
  RoomStateMessage,
  ServerToClientEvents,
  SessionReady,
} from './messages';

/** A refusal from the server, with its catalogue code. */
export class PlayhouseError extends Error {
  readonly code: ErrorCode | 'client/timeout' | 'client/disconnected';
  readonly reason?: string;
  readonly retryAfterMs?: number;

  constructor(error: ErrorBody | { code: 'client/timeout' | 'client/disconnected'; message: string }) {
    super(`${error.code}: ${error.message}`);
    this.name = 'PlayhouseError';
    this.code = error.code;
    if ('reason' in error && error.reason !== undefined) this.reason = error.reason;
    if ('retryAfterMs' in error && error.retryAfterMs !== undefined) this.retryAfterMs = error.retryAfterMs;
  }
}

/** Logs in as a new guest player and returns its signed token. */
export async function guestLogin(url: string, name?: string): Promise<GuestLoginResponse> {
  const response = await fetch(new URL('/v1/auth/guest', url), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(name === undefined ? {} : { name }),
  });
  const body = (await response.json()) as GuestLoginResponse | { error: ErrorBody };
  if ('error' in body) throw new PlayhouseError(body.error);
  return body;
}

export interface ClientOptions {
  /** Base URL of a gateway, e.g. http://localhost:8080 */
  readonly url: string;
  readonly token: string;
  /** Milliseconds to wait for an acknowledgement (default 10 s). */
  readonly ackTimeoutMs?: number;
  /** Passed to socket.io-client (transports, reconnection...). */
  readonly io?: Partial<ManagerOptions & SocketOptions>;
}

/** SDK events: what the server pushed, named for games rather than wire events. */
export interface ClientEvents {
  state: RoomStateMessage;
  delta: RoomDeltaMessage;
  over: RoomOverMessage;
  player: RoomPlayerMessage;
  /** Errors not tied to a request (unknown event, request without ack). */
  error: ErrorMessage;
  /** The server closed the session and says why. */
  closed: ErrorMessage;
  disconnected: { reason: string };
}

type Listener<E extends keyof ClientEvents> = (payload: ClientEvents[E]) => void;

export class PlayhouseClient {
  readonly socket: Socket<ServerToClientEvents, ClientToServerEvents>;
  private readonly listeners = new Map<keyof ClientEvents, Set<(payload: never) => void>>();
  private readonly roomStates = new Map<string, RoomStateMessage>();
  private readonly ackTimeoutMs: number;
  private readonly actionPrefix = Math.random().toString(36).slice(2, 10);
  private actionCounter = 0;
  private ready: SessionReady | undefined;

  private constructor(options: ClientOptions) {
    this.ackTimeoutMs = options.ackTimeoutMs ?? 10_000;
    this.socket = io(options.url, {
      auth: { token: options.token, protocol: PROTOCOL_VERSION },
      reconnection: false,
      ...options.io,
    });
    this.socket.on('room:state', (state) => this.receiveState(state));
    this.socket.on('room:delta', (delta) => this.emit('delta', delta));
    this.socket.on('room:over', (over) => this.emit('over', over));
    this.socket.on('room:player', (change) => this.emit('player', change));
    this.socket.on('session:error', (error) => this.emit('error', error));
    this.socket.on('session:closed', (error) => this.emit('closed', error));
    this.socket.on('disconnect', (reason) => this.emit('disconnected', { reason }));
  }

  /** Connects and resolves once the server's session is ready; rejects with the server's refusal. */
  static connect(options: ClientOptions): Promise<PlayhouseClient> {
    const client = new PlayhouseClient(options);
    return new Promise((resolve, reject) => {
      client.socket.once('session:ready', (ready) => {
        client.ready = ready;
        resolve(client);
      });
      client.socket.once('connect_error', (error: Error & { data?: ErrorBody }) => {
        client.socket.close();
        reject(error.data?.code ? new PlayhouseError(error.data) : new PlayhouseError({ code: 'client/disconnected', message: error.message }));
      });
      client.socket.once('session:closed', (error) => reject(new PlayhouseError(error)));
    });
  }

  get playerId(): string {
    return this.ready!.playerId;
  }

  get session(): SessionReady {
    return this.ready!;
  }

  /** Seats the player in a room of `game`, opening one if none has a free seat. */
  findMatch(game: string): Promise<MatchFound> {
    return this.call('match:find', { actionId: this.nextActionId(), game });
  }

  /**
   * Sends a move. `version` defaults to the latest state version this client
   * saw for the room; the server refuses moves made against an older state.
   */
  async move(roomId: string, move: string, payload: unknown, version?: number): Promise<MoveAccepted> {
    const seen = version ?? this.roomStates.get(roomId)?.version ?? 0;
    const accepted = await this.call<'room:move', MoveAccepted>('room:move', { actionId: this.nextActionId(), roomId, version: seen, move, payload });
    // The mover's new state rides on the acknowledgement: deliver it like any other state.
    if (accepted.state) this.receiveState(accepted.state);
    return accepted;
  }

  leave(roomId: string): Promise<object> {
    return this.call('room:leave', { actionId: this.nextActionId(), roomId });
  }

  rematch(roomId: string): Promise<object> {
    return this.call('room:rematch', { actionId: this.nextActionId(), roomId });
  }

  /** The latest full state received for a room. */
  state(roomId: string): RoomStateMessage | undefined {
    return this.roomStates.get(roomId);
  }

  on<E extends keyof ClientEvents>(event: E, listener: Listener<E>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    const stored = listener as (payload: never) => void;
    set.add(stored);
    return () => set.delete(stored);
  }

  /** Resolves with the next `event` matching `predicate` (e.g. the state where it is my turn). */
  waitFor<E extends keyof ClientEvents>(event: E, predicate: (payload: ClientEvents[E]) => boolean = () => true, timeoutMs = this.ackTimeoutMs): Promise<ClientEvents[E]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new PlayhouseError({ code: 'client/timeout', message: `no '${event}' within ${timeoutMs} ms` }));
      }, timeoutMs);
      const off = this.on(event, (payload) => {
        if (!predicate(payload)) return;
        clearTimeout(timer);
        off();
        resolve(payload);
      });
    });
  }

  close(): void {
    this.socket.close();
  }

  private nextActionId(): string {
    return `${this.actionPrefix}-${++this.actionCounter}`;
  }

  private async call<E extends keyof ClientToServerEvents, T extends object>(event: E, request: Parameters<ClientToServerEvents[E]>[0]): Promise<T> {
    if (!this.socket.connected) throw new PlayhouseError({ code: 'client/disconnected', message: 'not connected' });
    let reply: Reply<T>;
    try {
      // The typed event map cannot express a generic event here; the reply shape is fixed by the protocol.
      const timed = this.socket.timeout(this.ackTimeoutMs) as unknown as { emitWithAck(event: string, request: unknown): Promise<Reply<T>> };
      reply = await timed.emitWithAck(event, request);
    } catch {
      throw new PlayhouseError({ code: 'client/timeout', message: `no acknowledgement for ${event} within ${this.ackTimeoutMs} ms` });
    }
    if (!reply.ok) throw new PlayhouseError(reply.error);
    return reply;
  }

  private receiveState(state: RoomStateMessage): void {
    // Pushes and acknowledgements may arrive in either order: never go back to an older version.
    const known = this.roomStates.get(state.roomId);
    if (known && known.version > state.version) return;
    this.roomStates.set(state.roomId, state);
    this.emit('state', state);
  }

  private emit<E extends keyof ClientEvents>(event: E, payload: ClientEvents[E]): void {
    const set = this.listeners.get(event) as Set<Listener<E>> | undefined;
    if (set) for (const listener of [...set]) listener(payload);
  }
}
