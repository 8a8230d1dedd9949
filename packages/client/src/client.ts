/**
 * The Playhouse client SDK for TypeScript/JavaScript (browsers and Node).
 * The demo page, the tests and the load tester all play through it.
 *
 *   const login = await guestLogin('http://localhost:8080', 'Ada');
 *   const client = await PlayhouseClient.connect({ url: 'http://localhost:8080', token: login.token });
 *   client.on('state', (state) => render(state));   // listen first: the room's state can arrive before findMatch resolves
 *   client.on('connection', ({ state }) => showBanner(state));   // 'reconnecting' while the network is away
 *   const { roomId } = await client.findMatch('connect-four');
 *   await client.waitForState(roomId, (state) => state.status === 'playing');   // the latest state counts too
 *   await client.move(roomId, 'drop', { column: 3 });
 *
 * Connection loss is the SDK's business, not the game's: a dropped connection
 * is re-established with exponential backoff and the session resumed (missed
 * messages replayed, or the full state pushed again). Requests made meanwhile
 * wait in a bounded queue; requests left unanswered by the drop are sent again
 * with the same `actionId`, which the server answers without applying twice.
 */
import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import type { ErrorBody, ErrorCode } from './protocol/errors';
import {
  PROTOCOL_VERSION,
  type ClientToServerEvents,
  type ErrorMessage,
  type GuestLoginResponse,
  type MatchFound,
  type MoveAccepted,
  type Reply,
  type RoomDeltaMessage,
  type RoomOverMessage,
  type RoomPlayerMessage,
  type RoomStateMessage,
  type ServerToClientEvents,
  type SessionReady,
} from './protocol/messages';

/** Codes the SDK itself raises (never sent by a server). */
export type ClientErrorCode = 'client/timeout' | 'client/disconnected' | 'client/queue-full';

/** A refusal from the server, with its catalogue code, or one of the SDK's own `client/*` codes. */
export class PlayhouseError extends Error {
  readonly code: ErrorCode | ClientErrorCode;
  readonly reason?: string;
  readonly retryAfterMs?: number;

  constructor(error: ErrorBody | { code: ClientErrorCode; message: string }) {
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

export interface ReconnectOptions {
  /** Upper bound of the first delay (default 200 ms); each attempt doubles it. */
  readonly initialDelayMs?: number;
  /** The delay never exceeds this (default 10 s). */
  readonly maxDelayMs?: number;
  /** Attempts in a row before giving up for good (default: never give up). */
  readonly maxAttempts?: number;
}

export interface ClientOptions {
  /** Base URL of a gateway, e.g. http://localhost:8080 */
  readonly url: string;
  readonly token: string;
  /**
   * A request not answered within this many milliseconds of the call (default 10 s)
   * rejects with `client/timeout` — time spent queued offline counts.
   */
  readonly ackTimeoutMs?: number;
  /** Reconnection after a lost connection (default: enabled, with the defaults of ReconnectOptions). `false`: a drop closes the client. */
  readonly reconnect?: false | ReconnectOptions;
  /** Requests that may wait, never sent, while the connection is away (default 64); past it they are refused with `client/queue-full`. */
  readonly maxQueuedActions?: number;
  /** When to acknowledge numbered messages: after `messages` of them (default 64) or `withinMs` after the first (default 5000). */
  readonly acknowledge?: { readonly messages?: number; readonly withinMs?: number };
  /** Passed to socket.io-client (transports...). Its own `reconnection` is always off: the SDK reconnects itself. */
  readonly io?: Partial<ManagerOptions & SocketOptions>;
}

export type ConnectionState = 'connected' | 'reconnecting' | 'closed';

export interface ConnectionEvent {
  readonly state: ConnectionState;
  /** `reconnecting`: the attempt about to be made (1, 2...); `connected`: the attempt that succeeded. */
  readonly attempt?: number;
  /** `connected` after a reconnection: how the session continued (see SessionReady.resumed). */
  readonly resumed?: SessionReady['resumed'];
  /** `reconnecting` / `closed`: why (a disconnect reason or an error code). */
  readonly reason?: string;
}

/** The requests a game makes; `session:ack` is the SDK's own. */
export type RequestEvent = Exclude<keyof ClientToServerEvents, 'session:ack'>;
export type RequestOf<E extends RequestEvent> = Parameters<ClientToServerEvents[E]>[0];

/** A request the SDK gave up on (queue full, or no answer in time): its promise rejected with `error`. */
export type DroppedRequest = { [E in RequestEvent]: { readonly event: E; readonly request: RequestOf<E>; readonly error: PlayhouseError } }[RequestEvent];

/** SDK events: what the server pushed, named for games rather than wire events. */
export interface ClientEvents {
  state: RoomStateMessage;
  delta: RoomDeltaMessage;
  over: RoomOverMessage;
  player: RoomPlayerMessage;
  /** Errors not tied to a request (unknown event, request without ack, `room/lost`, `session/resume-refused`). */
  error: ErrorMessage;
  /** The server closed the session and says why (also: a refusal that ends reconnection, e.g. an expired token). */
  closed: ErrorMessage;
  /** The socket went down (every time, including before a reconnection). */
  disconnected: { reason: string };
  /** Connection state changes: reconnecting (each attempt), connected again, closed for good. */
  connection: ConnectionEvent;
  /**
   * A request the SDK gave up on: `client/queue-full` (never sent) or `client/timeout` (maybe sent: the
   * server may still apply it; a retry with a new actionId would be a new action).
   */
  dropped: DroppedRequest;
}

type Listener<E extends keyof ClientEvents> = (payload: ClientEvents[E]) => void;

const DEFAULT_INITIAL_DELAY_MS = 200;
const DEFAULT_MAX_DELAY_MS = 10_000;
/**
 * Acknowledge after this many numbered messages, or this long after the first unacknowledged one.
 * Acks only let the server trim its resume buffer (a resume names the last seq anyway), so they are
 * sparse: each one is a message the server must handle, and at one every 200 ms they cost more than moves.
 */
const ACK_BATCH = 64;
const ACK_DELAY_MS = 5000;
/** Answers that say the request may not have reached what handles it: the SDK sends it again (same actionId). */
const RETRIED_CODES: ReadonlySet<string> = new Set<ErrorCode>(['server/unavailable']);
const RETRY_INITIAL_DELAY_MS = 250;
const RETRY_MAX_DELAY_MS = 2000;
/** After these the server does not want this client back (or it cannot come back with the same token). */
const FINAL_CODES: ReadonlySet<string> = new Set<ErrorCode>([
  'session/replaced',
  'session/flood',
  'auth/invalid-token',
  'auth/missing-token',
  'protocol/version-unsupported',
]);

/**
 * The wait before reconnection attempt `attempt` (1-based): "full jitter" — uniform
 * in [0, min(maxDelayMs, initialDelayMs * 2^(attempt-1))]. The jitter spreads the
 * reconnections of every client a failed gateway dropped at once.
 */
export function reconnectDelay(attempt: number, options: ReconnectOptions = {}, random: () => number = Math.random): number {
  const initial = options.initialDelayMs ?? DEFAULT_INITIAL_DELAY_MS;
  const max = options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
  const ceiling = Math.min(max, initial * 2 ** Math.max(0, attempt - 1));
  return Math.round(random() * ceiling);
}

/** Timers of a forgotten client must not keep a Node process alive (browsers have no unref). */
function unref<T>(timer: T): T {
  (timer as { unref?: () => void }).unref?.();
  return timer;
}

type AnyRequest = RequestOf<RequestEvent>;

interface PendingRequest {
  readonly event: RequestEvent;
  readonly request: AnyRequest;
  readonly resolve: (reply: object) => void;
  readonly reject: (error: PlayhouseError) => void;
  timer?: ReturnType<typeof setTimeout>;
  /** Sent at least once: after a drop it is sent again (same actionId), and does not count against the offline queue. */
  sent: boolean;
  /** Times the server answered `server/unavailable` and the SDK sent it again. */
  retries: number;
  /** That answer, given to the caller if the time limit runs out before a retry is answered otherwise. */
  lastRefusal?: ErrorBody;
  retryTimer?: ReturnType<typeof setTimeout>;
}

export class PlayhouseClient {
  readonly socket: Socket<ServerToClientEvents, ClientToServerEvents>;
  private readonly listeners = new Map<keyof ClientEvents, Set<(payload: never) => void>>();
  private readonly roomStates = new Map<string, RoomStateMessage>();
  /** Moves sent and not answered yet, per room: the mover's new state rides on the answer. */
  private readonly movesInFlight = new Map<string, number>();
  /** A room's `over` that came before the state it ends (on its way in a move's answer): emitted right after that state. */
  private readonly heldOvers = new Map<string, RoomOverMessage>();
  private readonly ackTimeoutMs: number;
  private readonly reconnectOptions: ReconnectOptions | false;
  private readonly maxQueuedActions: number;
  private readonly actionPrefix = Math.random().toString(36).slice(2, 10);
  private actionCounter = 0;
  private ready: SessionReady | undefined;

  /** Requests not answered yet, sent or queued, in call order (Map keeps insertion order). */
  private readonly pending = new Map<string, PendingRequest>();
  private connection: ConnectionState = 'reconnecting';
  /** True between `session:ready` and the disconnect: requests go out at once. */
  private live = false;
  /** Settles `connect()`; unset once the first session is ready (or failed). */
  private opening: { resolve: () => void; reject: (error: PlayhouseError) => void } | undefined;
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  /** What the server said in `session:closed` before this connection's disconnect. */
  private closingWith: ErrorMessage | undefined;

  // Resume: the token of the last session:ready and the last numbered message received.
  private resumeToken: string | undefined;
  private lastSeq = 0;
  private unacked = 0;
  private readonly ackBatch: number;
  private readonly ackDelayMs: number;
  private ackTimer: ReturnType<typeof setTimeout> | undefined;

  private constructor(options: ClientOptions) {
    this.ackTimeoutMs = options.ackTimeoutMs ?? 10_000;
    this.ackBatch = options.acknowledge?.messages ?? ACK_BATCH;
    this.ackDelayMs = options.acknowledge?.withinMs ?? ACK_DELAY_MS;
    this.reconnectOptions = options.reconnect === false ? false : (options.reconnect ?? {});
    this.maxQueuedActions = options.maxQueuedActions ?? 64;
    const baseAuth = options.io?.auth;
    this.socket = io(options.url, {
      ...options.io,
      // A function: each attempt sends the current resume token and last seq.
      auth: (send) => {
        if (typeof baseAuth === 'function') baseAuth((data) => send(this.handshakeAuth(data)));
        else send(this.handshakeAuth(baseAuth ?? { token: options.token, protocol: PROTOCOL_VERSION }));
      },
      // socket.io's own reconnection would neither resume nor re-send: the SDK drives reconnection itself.
      reconnection: false,
    });
    this.socket.on('session:ready', (ready) => this.sessionReady(ready));
    // The numbered events (NUMBERED_EVENTS in protocol/messages.ts): (payload, seq), duplicates of a replay dropped.
    this.socket.on('room:state', (state, seq) => this.fresh(seq) && this.receiveState(state));
    this.socket.on('room:delta', (delta, seq) => this.fresh(seq) && this.emit('delta', delta));
    this.socket.on('room:over', (over, seq) => this.fresh(seq) && this.receiveOver(over));
    this.socket.on('room:player', (change, seq) => this.fresh(seq) && this.emit('player', change));
    // Refusals at the wire carry no seq: fresh() lets them through.
    this.socket.on('session:error', (error, seq) => this.fresh(seq) && this.emit('error', error));
    this.socket.on('session:closed', (error) => this.sessionClosed(error));
    this.socket.on('disconnect', (reason) => this.disconnected(reason));
    this.socket.on('connect_error', (error: Error & { data?: ErrorBody }) => this.connectFailed(error));
  }

  /**
   * Connects and resolves once the server's session is ready; rejects with the server's refusal.
   * The first connection is not retried: reconnection starts once a session existed.
   */
  static connect(options: ClientOptions): Promise<PlayhouseClient> {
    const client = new PlayhouseClient(options);
    return new Promise((resolve, reject) => {
      client.opening = { resolve: () => resolve(client), reject };
    });
  }

  get playerId(): string {
    return this.ready!.playerId;
  }

  /** The latest `session:ready` (a new one with every reconnection). */
  get session(): SessionReady {
    return this.ready!;
  }

  get connectionState(): ConnectionState {
    return this.connection;
  }

  /** Seats the player in a room of `game`, opening one if none has a free seat. */
  findMatch(game: string): Promise<MatchFound> {
    return this.call('match:find', { actionId: this.nextActionId(), game });
  }

  /**
   * Sends a move. `version` defaults to the latest state version this client
   * saw for the room AT CALL TIME — also for a move queued while offline, so it
   * names the state the player chose it on; the server refuses moves made
   * against an older state (`move/stale-version`).
   */
  async move(roomId: string, move: string, payload: unknown, version?: number): Promise<MoveAccepted> {
    const seen = version ?? this.roomStates.get(roomId)?.version ?? 0;
    this.movesInFlight.set(roomId, (this.movesInFlight.get(roomId) ?? 0) + 1);
    let accepted: MoveAccepted;
    try {
      accepted = await this.call<'room:move', MoveAccepted>('room:move', { actionId: this.nextActionId(), roomId, version: seen, move, payload });
    } catch (error) {
      // Refused: no state comes with it, so an `over` held for one must not wait longer.
      this.moveSettled(roomId, true);
      throw error;
    }
    // The mover's new state rides on the acknowledgement: deliver it like any other state (and a held `over` after it).
    if (accepted.state) this.receiveState(accepted.state);
    // An answer the server remembered from a first send carries no state: the room pushes it instead, and a held `over` waits for that.
    this.moveSettled(roomId, accepted.state !== undefined);
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

  /**
   * Resolves with the next `event` matching `predicate`, or rejects with `client/timeout` after `timeoutMs`.
   * Only events from now on count (e.g. the state a room pushes again after a worker died). To wait until a
   * room's state is something, use `waitForState`, which also looks at the state already received.
   */
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

  /**
   * Resolves with the state of `roomId` that matches `predicate`: the latest one already received if it does
   * (a room's state is often pushed before the reply that seated the player), otherwise the next one that does,
   * e.g. `waitForState(roomId, (state) => state.status === 'over')`. Rejects with `client/timeout` after `timeoutMs`.
   */
  waitForState(roomId: string, predicate: (state: RoomStateMessage) => boolean = () => true, timeoutMs = this.ackTimeoutMs): Promise<RoomStateMessage> {
    const latest = this.roomStates.get(roomId);
    if (latest && predicate(latest)) return Promise.resolve(latest);
    return this.waitFor('state', (state) => state.roomId === roomId && predicate(state), timeoutMs);
  }

  /** Closes for good: no more reconnection; unanswered requests reject with `client/disconnected`. */
  close(): void {
    this.shutdown('closed by the client');
    this.socket.close();
  }

  private nextActionId(): string {
    return `${this.actionPrefix}-${++this.actionCounter}`;
  }

  // ---- Requests ------------------------------------------------------------

  private call<E extends RequestEvent, T extends object>(event: E, request: RequestOf<E>): Promise<T> {
    if (this.connection === 'closed') return Promise.reject(new PlayhouseError({ code: 'client/disconnected', message: 'the client is closed' }));
    return new Promise<T>((resolve, reject) => {
      if (!this.live && this.queued() >= this.maxQueuedActions) {
        this.drop(event, request, new PlayhouseError({ code: 'client/queue-full', message: `${this.maxQueuedActions} requests already wait for the connection` }), reject);
        return;
      }
      const entry: PendingRequest = { event, request, resolve: resolve as (reply: object) => void, reject, sent: false, retries: 0 };
      // The time limit runs from the call: a game waiting on a move must hear back even if the network never returns.
      entry.timer = setTimeout(() => {
        if (this.pending.get(request.actionId) !== entry) return;
        this.pending.delete(request.actionId);
        clearTimeout(entry.retryTimer);
        // Retried until now: the caller hears the server's last refusal (typed, retryable), not a bare timeout.
        if (entry.lastRefusal) return reject(new PlayhouseError(entry.lastRefusal));
        this.drop(event, request, new PlayhouseError({ code: 'client/timeout', message: `no answer to ${event} within ${this.ackTimeoutMs} ms` }), reject);
      }, this.ackTimeoutMs);
      this.pending.set(request.actionId, entry);
      if (this.live) this.send(entry);
    });
  }

  /** Requests never sent yet: what the offline queue holds. */
  private queued(): number {
    let count = 0;
    for (const entry of this.pending.values()) if (!entry.sent) count++;
    return count;
  }

  private drop<E extends RequestEvent>(event: E, request: RequestOf<E>, error: PlayhouseError, reject: (error: PlayhouseError) => void): void {
    // Never silently: the game hears of it even if nobody awaits the promise.
    this.emit('dropped', { event, request, error } as DroppedRequest);
    reject(error);
  }

  private send(entry: PendingRequest): void {
    entry.sent = true;
    clearTimeout(entry.retryTimer);
    // The request acknowledges every numbered message received so far: no separate session:ack is needed.
    const request = this.lastSeq > 0 ? { ...entry.request, seen: this.lastSeq } : entry.request;
    if (this.lastSeq > 0) {
      this.unacked = 0;
      this.stopAckTimer();
    }
    // A plain callback (not emitWithAck): socket.io forgets it on disconnect, and the entry stays pending for a re-send.
    const emit = this.socket.emit as (event: string, request: unknown, ack: (reply: Reply<object>) => void) => unknown;
    emit.call(this.socket, entry.event, request, (reply) => {
      const actionId = entry.request.actionId;
      if (this.pending.get(actionId) !== entry) return; // timed out, or closed meanwhile
      if (!reply.ok && RETRIED_CODES.has(reply.error.code)) return this.retryLater(entry, reply.error);
      this.pending.delete(actionId);
      clearTimeout(entry.timer);
      if (reply.ok) entry.resolve(reply);
      else entry.reject(new PlayhouseError(reply.error));
    });
  }

  /**
   * The part of the cluster that handles the request did not answer (a worker died, Redis is away): send the
   * same request again (same actionId: applied at most once) after a growing pause, within the call's time limit.
   */
  private retryLater(entry: PendingRequest, refusal: ErrorBody): void {
    entry.lastRefusal = refusal;
    const delayMs = reconnectDelay(++entry.retries, { initialDelayMs: RETRY_INITIAL_DELAY_MS, maxDelayMs: RETRY_MAX_DELAY_MS });
    entry.retryTimer = unref(
      setTimeout(() => {
        entry.retryTimer = undefined;
        // Disconnected meanwhile: the reconnection sends every pending request again by itself.
        if (this.pending.get(entry.request.actionId) === entry && this.live) this.send(entry);
      }, delayMs),
    );
  }

  // ---- Connection ----------------------------------------------------------

  private handshakeAuth(base: object): object {
    if (this.resumeToken === undefined) return base;
    return { ...base, resume: { token: this.resumeToken, lastSeq: this.lastSeq } };
  }

  private sessionReady(ready: SessionReady): void {
    this.ready = ready;
    // A server without resume (the benchmark ceiling) sends an empty token: reconnect fresh there.
    this.resumeToken = typeof ready.resumeToken === 'string' && ready.resumeToken !== '' ? ready.resumeToken : undefined;
    // fresh / snapshot: the server dropped what it buffered, and numbering goes on from ready.seq.
    if (ready.resumed !== 'replay' && typeof ready.seq === 'number') this.lastSeq = ready.seq;
    this.unacked = 0; // the handshake's lastSeq acknowledged everything received so far
    this.live = true;
    const attempt = this.attempt;
    this.attempt = 0;
    this.connection = 'connected';
    if (this.opening) {
      const { resolve } = this.opening;
      this.opening = undefined;
      resolve();
      return;
    }
    // Unanswered requests first, in call order and with their actionIds (the server answers a retry
    // with its first result), then what was queued — before any listener can send something newer.
    for (const entry of this.pending.values()) this.send(entry);
    this.emit('connection', { state: 'connected', attempt, resumed: ready.resumed });
  }

  private sessionClosed(error: ErrorMessage): void {
    this.closingWith = error;
    this.emit('closed', error);
    if (this.opening) this.failOpening(new PlayhouseError(error));
  }

  private disconnected(reason: string): void {
    this.live = false;
    this.stopAckTimer();
    const closing = this.closingWith;
    this.closingWith = undefined;
    this.emit('disconnected', { reason });
    if (this.connection === 'closed') return;
    if (this.opening) return this.failOpening(new PlayhouseError(closing ?? { code: 'client/disconnected', message: `disconnected before the session was ready (${reason})` }));
    if (closing && FINAL_CODES.has(closing.code)) return this.shutdown(closing.code);
    // The session is gone: resuming it would only be refused.
    if (closing?.code === 'session/lost') this.resumeToken = undefined;
    this.scheduleReconnect(closing?.code ?? reason);
  }

  private connectFailed(error: Error & { data?: ErrorBody }): void {
    const body = error.data?.code ? error.data : undefined;
    if (this.opening) {
      this.failOpening(body ? new PlayhouseError(body) : new PlayhouseError({ code: 'client/disconnected', message: error.message }));
      return;
    }
    if (this.connection === 'closed') return;
    if (body?.code === 'session/resume-refused') {
      // Not this session's token (any more): connect fresh at once, and tell the game it starts over.
      this.resumeToken = undefined;
      this.emit('error', body);
      return this.scheduleReconnect(body.code, 0);
    }
    if (body && FINAL_CODES.has(body.code)) {
      this.emit('closed', body);
      return this.shutdown(body.code);
    }
    this.scheduleReconnect(body?.code ?? error.message);
  }

  private scheduleReconnect(reason: string, delayMs?: number): void {
    if (this.reconnectOptions === false) return this.shutdown(reason);
    const attempt = ++this.attempt;
    const maxAttempts = this.reconnectOptions.maxAttempts ?? Infinity;
    if (attempt > maxAttempts) return this.shutdown(`gave up after ${maxAttempts} attempts (${reason})`);
    this.connection = 'reconnecting';
    this.emit('connection', { state: 'reconnecting', attempt, reason });
    if ((this.connection as ConnectionState) !== 'reconnecting') return; // a listener closed the client
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = unref(
      setTimeout(() => {
        this.reconnectTimer = undefined;
        if (this.connection === 'reconnecting') this.socket.connect();
      }, delayMs ?? reconnectDelay(attempt, this.reconnectOptions)),
    );
  }

  private failOpening(error: PlayhouseError): void {
    const opening = this.opening;
    this.opening = undefined;
    this.shutdown(error.code);
    opening?.reject(error);
  }

  /** Closed for good: stop every timer, close the socket, reject what still waits. */
  private shutdown(reason: string): void {
    if (this.connection === 'closed') return;
    this.connection = 'closed';
    this.live = false;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.stopAckTimer();
    const waiting = [...this.pending.values()];
    this.pending.clear();
    this.socket.close();
    for (const entry of waiting) {
      clearTimeout(entry.timer);
      clearTimeout(entry.retryTimer);
      entry.reject(new PlayhouseError({ code: 'client/disconnected', message: `the connection is closed (${reason})` }));
    }
    this.emit('connection', { state: 'closed', reason });
  }

  // ---- Numbered messages ---------------------------------------------------

  /** True when the message is new; a numbered one at or below the last seq is a duplicate of a replay. */
  private fresh(seq: number | undefined): boolean {
    if (typeof seq !== 'number') return true;
    if (seq <= this.lastSeq) return false;
    if (seq > this.lastSeq + 1 && this.live) {
      // A numbered message never arrived (lost inside the cluster, e.g. while its Redis was away): resume,
      // and the server sends everything after lastSeq again, in order.
      this.resync();
      return false;
    }
    this.lastSeq = seq;
    // Batched cumulative ack: the server may then forget what it kept for a replay.
    if (++this.unacked >= this.ackBatch) this.sendAck();
    else this.ackTimer ??= unref(setTimeout(() => this.sendAck(), this.ackDelayMs));
    return true;
  }

  /**
   * Drops the transport (not a goodbye: the server keeps the session and seat for the grace period) so that
   * the reconnection resumes from lastSeq.
   */
  private resync(): void {
    this.live = false;
    this.socket.io.engine?.close();
  }

  private sendAck(): void {
    this.stopAckTimer();
    if (this.unacked === 0 || !this.socket.connected) return;
    this.unacked = 0;
    this.socket.emit('session:ack', { seq: this.lastSeq });
  }

  private stopAckTimer(): void {
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
  }

  private receiveState(state: RoomStateMessage): void {
    // Pushes and acknowledgements may arrive in either order: never go back to an older version.
    const known = this.roomStates.get(state.roomId);
    if (known && known.version > state.version) return;
    this.roomStates.set(state.roomId, state);
    this.emit('state', state);
    const held = this.heldOvers.get(state.roomId);
    if (held && state.version >= held.version) this.releaseOver(state.roomId);
  }

  /**
   * A game's last state comes before its `over`. The winning move's state rides on the mover's answer, which
   * may arrive after the `over` push: while a move of this room is unanswered, an `over` newer than the state
   * already received waits for it.
   */
  private receiveOver(over: RoomOverMessage): void {
    const known = this.roomStates.get(over.roomId);
    if (known && known.version < over.version && this.movesInFlight.has(over.roomId)) this.heldOvers.set(over.roomId, over);
    else this.emit('over', over);
  }

  private moveSettled(roomId: string, releaseHeldOver: boolean): void {
    const left = (this.movesInFlight.get(roomId) ?? 1) - 1;
    if (left > 0) this.movesInFlight.set(roomId, left);
    else this.movesInFlight.delete(roomId);
    if (releaseHeldOver) this.releaseOver(roomId);
  }

  private releaseOver(roomId: string): void {
    const held = this.heldOvers.get(roomId);
    if (!held) return;
    this.heldOvers.delete(roomId);
    this.emit('over', held);
  }

  private emit<E extends keyof ClientEvents>(event: E, payload: ClientEvents[E]): void {
    const set = this.listeners.get(event) as Set<Listener<E>> | undefined;
    if (set) for (const listener of [...set]) listener(payload);
  }
}
