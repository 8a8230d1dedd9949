/**
 * Session: one per player. Owns the player's connection (which gateway, which
 * socket), the rate limit and the room the player sits in. Requests from the
 * device arrive here already schema-checked by the gateway; the session checks
 * what only it knows (rate, membership) and forwards to the lobby or the room.
 * Pushes from rooms go out through the gateway port — the session never sees
 * Socket.IO.
 *
 * It also makes dropped connections invisible to the game: every message for
 * the device is numbered and kept until acknowledged (`OutboundLog`), a device
 * coming back on any gateway with its resume token gets what it missed, an
 * action retried after a drop gets its first answer (`RecentActions`), and a
 * dropped player keeps the seat for a grace period, the room told they are away.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { errorBody, refusal as fail, type ErrorBody } from '../../protocol/errors';
import { PROTOCOL_VERSION, type ServerEventName } from '../../protocol/messages';
import { MailboxActor, type ActorContext } from '../kit/mailbox-actor';
import { dispatch, type Handlers } from '../kit/protocol';
import { LOBBY } from '../lobby/lobby-protocol';
import type { Failure, GatewayRef } from '../messages';
import { roomRef, type RoomRef } from '../room/room-protocol';
import type { SavedSession, SessionStateStore, Timer } from '../ports';
import { OutboundLog } from './outbound-log';
import { TokenBucket } from './rate-limiter';
import { RecentActions } from './recent-actions';
import type {
  AttachReply,
  ClientReply,
  ClientRequest,
  ResumeClaim,
  SessionMessage,
  SessionParams,
  SessionProtocol,
} from './session-protocol';

/** The connection id a restored session waits for its grace period under. */
const RESTORED = 'restored';

/** How often, and how far apart, a session asks the lobby to restore its room while the lobby cannot answer. */
const RESTORE_ATTEMPTS = 8;
const RESTORE_RETRY_MS = 500;

/** A failed save is tried again after 250 ms, doubling up to 2 s, for as long as the session lives. */
const SAVE_RETRY_FIRST_MS = 250;
const SAVE_RETRY_MAX_MS = 2000;

/**
 * Answers that are not the action's result, so they are not remembered and a retry runs again:
 * `server/unavailable` means the room did not answer (its worker died, or a link was down); a room taken
 * up elsewhere remembers the moves it applied, so the retry gets the first result if there was one.
 */
const NOT_APPLIED = new Set(['rate/limited', 'server/overloaded', 'server/unavailable']);

interface Connection {
  readonly gateway: GatewayRef;
  readonly connectionId: string;
}

export class SessionActor extends MailboxActor<SessionProtocol, SessionParams> {
  protected readonly kind = 'session' as const;
  private connection: Connection | null = null;
  private roomId: string | null = null;
  /** The reference to `roomId`'s room, made once per room: a string built per move is hashed again at each lookup. */
  private room: { readonly id: string; readonly ref: RoomRef } | undefined;
  /** The connection that detached last, while a grace period runs. */
  private lastConnectionId: string | null = null;
  private graceTimer: Timer | undefined;
  /** The room was told the player is away (the grace period runs). */
  private away = false;
  private readonly bucket: TokenBucket;
  private readonly outbound: OutboundLog;
  /** A move's answer is remembered as its version alone (a number, no object): see the constructor. */
  private readonly actions: RecentActions<ClientReply, ClientReply | number>;
  /** The secret part of the current resume token; a new one on every attach, so an old token cannot resume. */
  private resumeNonce = '';
  /** When the current grace period ends (0: none runs). */
  private graceEndsAt = 0;
  /** The worker is draining and this session saved itself for its next holder. */
  private handedOver = false;
  /** Saves that failed in a row, and the timer of the next try. */
  private saveFailures = 0;
  private saveRetry: Timer | undefined;

  constructor(context: ActorContext, params: SessionParams) {
    super(context, params);
    this.bucket = new TokenBucket(params.rateLimit);
    this.outbound = new OutboundLog(params.delivery.bufferMessages);
    this.actions = new RecentActions(
      params.delivery.actionWindow,
      (reply) => reply.ok || !NOT_APPLIED.has(reply.error.code),
      // A move's answer carries the mover's new state: remember only its version (see answer()).
      (reply) => (reply.ok && 'state' in reply ? (reply as { version: number }).version : reply),
      (kept) => (typeof kept === 'number' ? { ok: true, version: kept } : kept),
    );
  }

  override async started(): Promise<void> {
    this.metrics.sessionStarted();
    // The worker that held this session may have died while the device was away: take it up from the store.
    const saved = await this.sessionStore?.load(this.params.playerId).catch((error: unknown) => {
      this.log.warn({ playerId: this.params.playerId, err: String(error) }, 'could not read a saved session');
      return undefined;
    });
    if (saved) this.restore(saved);
    // Its room may have died with the same worker: make sure it lives (or is taken up from its snapshot).
    if (saved?.roomId) void this.enqueueSelf({ type: 'restore-room', roomId: saved.roomId, attempt: 1 });
  }

  override stopped(): void {
    this.clock.clear(this.graceTimer);
    this.clock.clear(this.saveRetry);
    this.metrics.sessionEnded();
  }

  private restore(saved: SavedSession): void {
    this.roomId = saved.roomId;
    this.resumeNonce = saved.resumeNonce;
    this.outbound.continueFrom(saved.seq);
    this.actions.remember(saved.answers as ReadonlyArray<readonly [string, ClientReply]>);
    this.away = saved.roomId !== null;
    // Saved while connected (graceEndsAt 0): the device lost its session just now; its grace period starts now.
    this.graceEndsAt = saved.graceEndsAt > 0 ? saved.graceEndsAt : this.clock.now() + (this.params.delivery.graceMs ?? 0);
    this.lastConnectionId = RESTORED;
    this.graceTimer = this.clock.setTimeout(() => void this.enqueueSelf({ type: 'grace-over', connectionId: RESTORED }), Math.max(0, this.graceEndsAt - this.clock.now()));
  }

  /**
   * While seated, a connected session keeps a record in the store too (without a grace end), so that if its
   * worker dies the player's next session, on any worker, finds its room again.
   */
  private saveSeat(): void {
    const store = this.sessionStore;
    if (!store || this.connection === null) return;
    if (!this.roomId) return this.forgetSaved();
    void this.save(store, 0, [], 'could not save the seat');
  }

  /** Keeps what a resume needs where another worker can find it, for the grace period. */
  private saveForResume(graceMs: number): void {
    this.graceEndsAt = this.clock.now() + graceMs;
    const store = this.sessionStore;
    if (store) void this.save(store, this.graceEndsAt, this.actions.answered(), 'could not save the session for resume');
  }

  private save(store: SessionStateStore, graceEndsAt: number, answers: SavedSession['answers'], failure: string): Promise<void> {
    const state: SavedSession = {
      playerId: this.params.playerId,
      name: this.params.name,
      roomId: this.roomId,
      resumeNonce: this.resumeNonce,
      seq: this.outbound.seq,
      graceEndsAt,
      answers,
    };
    return store.save(state).then(
      () => {
        this.saveFailures = 0;
      },
      (error: unknown) => {
        if (this.saveFailures++ === 0) this.log.warn({ playerId: state.playerId, err: String(error) }, failure);
        this.saveAgainLater();
      },
    );
  }

  /**
   * A save that failed (the store unreachable, or its connection not back yet after an outage) is made again
   * a little later, from what the session is then: a seat record missing from the store would leave the
   * player without their room if this worker died.
   */
  private saveAgainLater(): void {
    if (this.saveRetry) return;
    const delayMs = Math.min(SAVE_RETRY_MAX_MS, SAVE_RETRY_FIRST_MS * 2 ** Math.min(this.saveFailures - 1, 8));
    this.saveRetry = this.clock.setTimeout(() => {
      this.saveRetry = undefined;
      void this.enqueueSelf({ type: 'save-again' });
    }, delayMs);
  }

  private forgetSaved(): void {
    this.sessionStore?.remove(this.params.playerId).catch(() => undefined);
  }

  private static readonly handlers: Handlers<SessionProtocol, SessionActor> = {
    attach: (session, { gateway, connectionId, resume }) =>
      session.handedOver ? SessionActor.moving() : session.attach(gateway, connectionId, resume),
    delivered: (session, { seq }) => session.outbound.acknowledge(seq),
    detach: (session, { connectionId, graceMs }) => session.detach(connectionId, graceMs ?? 0),
    'grace-over': (session, { connectionId }) =>
      session.connection === null && session.lastConnectionId === connectionId ? session.leaveAfterDisconnect() : undefined,
    client: (session, message) => (session.handedOver ? SessionActor.moving() : session.answer(message)),
    push: (session, { event, payload }) => session.push(event, payload),
    'rooms-lost': (session, { roomIds }) => session.roomsLost(roomIds),
    // Nothing will ever say this connection closed: drop it as the gateway would have.
    'gateway-lost': (session, { gateway }) =>
      session.connection?.gateway === gateway ? session.detach(session.connection.connectionId, session.params.delivery.graceMs ?? 0) : undefined,
    'restore-room': (session, { roomId, attempt }) => session.restoreRoom(roomId, attempt),
    evict: (session, { error }) => session.evict(error),
    'hand-over': (session) => session.handOver(),
    'save-again': (session) => {
      if (session.connection !== null) return session.saveSeat();
      if (session.graceEndsAt > session.clock.now()) return session.saveForResume(session.graceEndsAt - session.clock.now());
    },
  };

  handle(message: SessionMessage): unknown {
    return dispatch(SessionActor.handlers, this, message);
  }

  /** Handed over: the device is connecting again, to this session's next holder; what it sends here meanwhile is refused, retryably. */
  private static moving(): Failure {
    return fail('server/unavailable', 'the session is moving to another worker; retry');
  }

  private attach(gateway: GatewayRef, connectionId: string, resume: ResumeClaim | undefined): AttachReply {
    // Resuming: the token must be this session's current one (a reused, rotated-out or expired one is not),
    // and the device cannot have received a message that was never sent.
    let caught = resume ? this.outbound.since(resume.lastSeq) : undefined;
    if (resume && (!sameNonce(resume.nonce, this.resumeNonce) || !caught)) {
      this.endIfUnheld(connectionId);
      return fail('session/resume-refused');
    }
    // Taken up from the store after its worker died: what was pushed meanwhile is lost, so a snapshot.
    if (this.lastConnectionId === RESTORED && caught) caught = { kind: 'snapshot' };
    if (this.lastConnectionId !== null) this.forgetSaved();

    const previous = this.connection;
    if (previous && previous.connectionId !== connectionId) {
      this.tell(previous.gateway, { type: 'close', connectionId: previous.connectionId, error: errorBody('session/replaced') });
    }
    this.connection = { gateway, connectionId };
    this.clock.clear(this.graceTimer);
    this.lastConnectionId = null;
    this.graceEndsAt = 0;
    this.resumeNonce = randomBytes(18).toString('base64url');
    if (this.away && this.roomId) this.tell(roomRef(this.roomId), { type: 'presence', playerId: this.params.playerId, away: false });
    this.away = false;

    if (this.roomId) this.saveSeat();
    const seq = this.outbound.seq;
    const resumed = caught?.kind ?? 'fresh';
    // Fresh or snapshot: what was kept is of no use to the device; the room sends the full state
    // (after this reply, in mailbox order), numbered like everything else.
    if (resumed !== 'replay') {
      this.outbound.clear();
      if (this.roomId) this.tell(roomRef(this.roomId), { type: 'sync', playerId: this.params.playerId });
    }
    return {
      ok: true,
      playerId: this.params.playerId,
      name: this.params.name,
      protocol: PROTOCOL_VERSION,
      rooms: this.roomId ? [this.roomId] : [],
      resumeNonce: this.resumeNonce,
      resumed,
      seq,
      replay: caught?.kind === 'replay' ? caught.messages : [],
    };
  }

  /**
   * A session that no connection holds and no grace period keeps (one started for a handshake it then
   * refused) ends, as after a drop without grace, once the messages already queued are handled: an attach
   * among them keeps it.
   */
  private endIfUnheld(connectionId: string): void {
    if (this.connection !== null || this.lastConnectionId !== null) return;
    this.lastConnectionId = connectionId;
    void this.enqueueSelf({ type: 'grace-over', connectionId });
  }

  /**
   * The connection dropped. The session (and the seat) wait `graceMs` for the device to resume;
   * the room hears the player is away. Without a grace period the player leaves at once.
   */
  private async detach(connectionId: string, graceMs: number): Promise<void> {
    if (this.connection?.connectionId !== connectionId) return; // an older, replaced connection
    this.connection = null;
    this.lastConnectionId = connectionId;
    if (graceMs > 0) {
      if (this.roomId && !this.away) this.tell(roomRef(this.roomId), { type: 'presence', playerId: this.params.playerId, away: true, graceMs });
      this.away = this.roomId !== null;
      this.saveForResume(graceMs);
      // Requests still running when the connection dropped are answered while the device is away:
      // save again once they are, so their answers travel with the session too.
      const running = this.actions.pending();
      if (running.length > 0) {
        void Promise.allSettled(running).then(() => {
          if (this.connection === null && this.graceEndsAt > this.clock.now()) this.saveForResume(this.graceEndsAt - this.clock.now());
        });
      }
      this.graceTimer = this.clock.setTimeout(() => void this.enqueueSelf({ type: 'grace-over', connectionId }), graceMs);
      return;
    }
    await this.leaveAfterDisconnect();
  }

  private async leaveAfterDisconnect(): Promise<void> {
    this.lastConnectionId = null;
    this.forgetSaved();
    if (this.roomId) {
      const roomId = this.roomId;
      this.roomId = null;
      await this.ask(roomRef(roomId), { type: 'leave', playerId: this.params.playerId, reason: 'disconnected' }).catch(
        (error: unknown) => this.log.warn({ roomId, err: String(error) }, 'leave on disconnect failed'),
      );
    }
    // A new connection may have attached while we waited for the room: then the session lives on.
    if (!this.connection) this.retire();
  }

  /** A request from the device: answered once per action id, however often the device sends it. */
  private answer(message: ClientRequest & { connectionId: string }): Promise<ClientReply> {
    // The request says what the device has received (`seen`): as good as a session:ack.
    const seen = message.request.seen;
    if (seen !== undefined) this.outbound.acknowledge(seen);
    const { result, repeated } = this.actions.answer(message.request.actionId, () => this.client(message), this.rateLimited);
    // A move answered again: its remembered answer has no state, so the room sends the current one (numbered).
    if (repeated && message.event === 'room:move' && this.roomId === message.request.roomId) {
      this.tell(roomRef(this.roomId), { type: 'sync', playerId: this.params.playerId });
    }
    return result;
  }

  /** A new action takes a token from the bucket, or is refused with `rate/limited` (one function for every request). */
  private readonly rateLimited = (): ClientReply | undefined => {
    const waitMs = this.bucket.take();
    return waitMs > 0 ? fail('rate/limited', undefined, { retryAfterMs: waitMs }) : undefined;
  };

  /**
   * A move (most requests) is the room's answer itself, with no async function around it: that would add a
   * promise and two turns of the microtask queue to every move.
   */
  private client(message: ClientRequest & { connectionId: string }): Promise<ClientReply> {
    if (message.event !== 'room:move') return this.otherRequest(message);
    const { roomId, actionId, version, move, payload } = message.request;
    if (roomId !== this.roomId) return Promise.resolve(fail('room/not-member'));
    return this.ask(this.roomOf(roomId), { type: 'move', playerId: this.params.playerId, actionId, version, move, payload });
  }

  private async otherRequest(message: Exclude<ClientRequest, { event: 'room:move' }> & { connectionId: string }): Promise<ClientReply> {
    const playerId = this.params.playerId;
    switch (message.event) {
      case 'match:find': {
        if (this.roomId) return fail('match/already-in-room', `already seated in ${this.roomId}`);
        const reply = await this.ask(LOBBY, {
          type: 'find-match',
          playerId,
          name: this.params.name,
          game: message.request.game,
        });
        if (reply.ok) {
          this.roomId = reply.roomId;
          this.saveSeat();
        }
        return reply;
      }
      case 'room:leave': {
        const { roomId } = message.request;
        if (roomId !== this.roomId) return fail('room/not-member');
        const reply = await this.ask(roomRef(roomId), { type: 'leave', playerId, reason: 'left' });
        // Whatever the room says (it may be gone already), the player is no longer in it.
        this.roomId = null;
        this.saveSeat();
        return reply.ok || reply.error.code === 'room/not-found' || reply.error.code === 'room/not-member' ? { ok: true } : reply;
      }
      case 'room:rematch': {
        const { roomId } = message.request;
        if (roomId !== this.roomId) return fail('room/not-member');
        return this.ask(roomRef(roomId), { type: 'rematch', playerId });
      }
    }
  }

  private roomOf(roomId: string): RoomRef {
    if (this.room?.id !== roomId) this.room = { id: roomId, ref: roomRef(roomId) };
    return this.room.ref;
  }

  /** The room died with its worker: the lobby takes it up from its snapshot. */
  private roomsLost(roomIds: Readonly<Record<string, true>>): void {
    if (!this.roomId || roomIds[this.roomId] !== true) return;
    return void this.enqueueSelf({ type: 'restore-room', roomId: this.roomId, attempt: 1 });
  }

  /**
   * Asks the lobby to make sure the player's room lives (restored from its snapshot if it died), then
   * tells the room the player is here and wants the state. Without a snapshot the game is gone: `room/lost`.
   * While the lobby cannot answer (its own worker may have died) the session asks again a little later.
   */
  private async restoreRoom(roomId: string, attempt: number): Promise<void> {
    if (this.roomId !== roomId) return;
    const reply = await this.ask(LOBBY, { type: 'restore-room', roomId }).catch((error: unknown) => fail('server/unavailable', String(error)));
    if (this.roomId !== roomId) return;
    if (reply.ok) {
      if (this.connection) {
        this.tell(roomRef(roomId), { type: 'presence', playerId: this.params.playerId, away: false });
        this.tell(roomRef(roomId), { type: 'sync', playerId: this.params.playerId });
      }
      return;
    }
    const retry = reply.error.code === 'server/unavailable' || reply.error.code === 'server/overloaded' || reply.error.code === 'server/internal';
    if (retry && attempt < RESTORE_ATTEMPTS) {
      this.clock.setTimeout(() => void this.enqueueSelf({ type: 'restore-room', roomId, attempt: attempt + 1 }), RESTORE_RETRY_MS * attempt);
      return;
    }
    this.log.warn({ roomId, error: reply.error }, 'the player\'s room could not be restored');
    this.roomId = null;
    this.saveSeat();
    this.push('session:error', { ...errorBody('room/lost'), roomId });
  }

  /** This session's worker is stopping: the device is told to connect again (it gets a new session elsewhere). */
  private async evict(error: ErrorBody): Promise<void> {
    this.forgetSaved();
    const connection = this.connection;
    this.connection = null;
    if (connection) this.tell(connection.gateway, { type: 'close', connectionId: connection.connectionId, error });
    if (this.roomId) {
      const roomId = this.roomId;
      this.roomId = null;
      await this.ask(roomRef(roomId), { type: 'leave', playerId: this.params.playerId, reason: 'disconnected' }).catch(() => undefined);
    }
    this.retire();
  }

  /**
   * This session's worker is draining in a cluster: what a resume needs (seat, numbering, answers, token) is
   * saved for the grace period — awaited, since the device comes back at once — and the device is told to
   * connect again. It resumes with its token on a session taken up from that record on another worker.
   */
  private async handOver(): Promise<void> {
    this.handedOver = true;
    const connection = this.connection;
    this.connection = null;
    this.clock.clear(this.graceTimer);
    const graceMs = this.graceEndsAt > this.clock.now() ? this.graceEndsAt - this.clock.now() : (this.params.delivery.graceMs ?? 0);
    this.graceEndsAt = this.clock.now() + graceMs;
    const store = this.sessionStore;
    if (store) await this.save(store, this.graceEndsAt, this.actions.answered(), 'could not save the session to hand it over');
    const moving = errorBody('server/shutting-down', 'the server holding your session is stopping; connect again to resume');
    if (connection) this.tell(connection.gateway, { type: 'close', connectionId: connection.connectionId, error: moving });
  }

  /** Numbers the message and keeps it until acknowledged; sends it now if a device is connected. */
  private push(event: ServerEventName, payload: object): void {
    const { seq } = this.outbound.append(event, payload);
    const connection = this.connection;
    if (!connection) return; // kept for the device's resume
    this.tell(connection.gateway, { type: 'push', connectionId: connection.connectionId, event, payload, seq });
  }
}

/** Constant-time comparison of two resume nonces (an empty current nonce matches nothing). */
function sameNonce(claimed: string, current: string): boolean {
  if (current === '' || claimed.length !== current.length) return false;
  return timingSafeEqual(Buffer.from(claimed), Buffer.from(current));
}
