/**
 * Session: one per player. Owns the player's connection (which gateway, which
 * socket), the rate limit and the room the player sits in. Requests from the
 * device arrive here already schema-checked by the gateway; the session checks
 * what only it knows (rate, membership) and forwards to the lobby or the room.
 * Pushes from rooms go out through the gateway port — the session never sees
 * Socket.IO.
 */
import { errorBody, refusal as fail, type ErrorBody } from '../../protocol/errors';
import { PROTOCOL_VERSION, type ServerEventName } from '../../protocol/messages';
import { MailboxActor, type ActorContext } from '../kit/mailbox-actor';
import {
  LOBBY,
  roomAddress,
  type Address,
  type AttachReply,
  type ClientReply,
  type ClientRequest,
  type FindMatchReply,
  type GatewayMessage,
  type MoveReply,
  type RoomMessage,
  type SessionMessage,
  type SessionParams as BaseSessionParams,
} from '../messages';
import { TokenBucket, type RateLimit } from './rate-limiter';

export interface SessionParams extends BaseSessionParams {
  readonly rateLimit: RateLimit;
}

interface Connection {
  readonly gateway: Address;
  readonly connectionId: string;
}

export class SessionActor extends MailboxActor<SessionMessage, SessionParams> {
  protected readonly kind = 'session' as const;
  private connection: Connection | null = null;
  private roomId: string | null = null;
  /** The connection that detached last, while a grace period runs. */
  private lastConnectionId: string | null = null;
  private graceTimer: NodeJS.Timeout | undefined;
  private readonly bucket: TokenBucket;

  constructor(context: ActorContext, params: SessionParams) {
    super(context, params);
    this.bucket = new TokenBucket(params.rateLimit);
  }

  override started(): void {
    this.metrics.sessionStarted();
  }

  override stopped(): void {
    clearTimeout(this.graceTimer);
    this.metrics.sessionEnded();
  }

  protected handle(message: SessionMessage): unknown {
    switch (message.type) {
      case 'attach':
        return this.attach(message.gateway, message.connectionId);
      case 'detach':
        return this.detach(message.connectionId, message.graceMs ?? 0);
      case 'grace-over':
        return this.connection === null && this.lastConnectionId === message.connectionId ? this.leaveAfterDisconnect() : undefined;
      case 'client':
        return this.client(message);
      case 'push':
        return this.push(message.event, message.payload);
      case 'rooms-lost':
        return this.roomsLost(message.roomIds);
      case 'evict':
        return this.evict(message.error);
    }
  }

  private attach(gateway: Address, connectionId: string): AttachReply {
    const previous = this.connection;
    if (previous && previous.connectionId !== connectionId) {
      this.tell(previous.gateway, {
        type: 'close',
        connectionId: previous.connectionId,
        error: errorBody('session/replaced'),
      } satisfies GatewayMessage);
    }
    this.connection = { gateway, connectionId };
    clearTimeout(this.graceTimer);
    this.lastConnectionId = null;
    // A new device for a seated player: the room sends it the full state (after this reply, in mailbox order).
    if (this.roomId) this.tell(roomAddress(this.roomId), { type: 'sync', playerId: this.params.playerId } satisfies RoomMessage);
    return {
      ok: true,
      playerId: this.params.playerId,
      name: this.params.name,
      protocol: PROTOCOL_VERSION,
      rooms: this.roomId ? [this.roomId] : [],
    };
  }

  /** The connection dropped. Without a grace period (resume comes later) the player leaves at once. */
  private async detach(connectionId: string, graceMs: number): Promise<void> {
    if (this.connection?.connectionId !== connectionId) return; // an older, replaced connection
    this.connection = null;
    this.lastConnectionId = connectionId;
    if (graceMs > 0 && this.roomId) {
      this.graceTimer = setTimeout(() => void this.enqueueSelf({ type: 'grace-over', connectionId }), graceMs);
      return;
    }
    await this.leaveAfterDisconnect();
  }

  private async leaveAfterDisconnect(): Promise<void> {
    this.lastConnectionId = null;
    if (this.roomId) {
      const roomId = this.roomId;
      this.roomId = null;
      await this.ask(roomAddress(roomId), { type: 'leave', playerId: this.params.playerId, reason: 'disconnected' } satisfies RoomMessage).catch(
        (error: unknown) => this.log.warn({ roomId, err: String(error) }, 'leave on disconnect failed'),
      );
    }
    // A new connection may have attached while we waited for the room: then the session lives on.
    if (!this.connection) this.retire();
  }

  private async client(message: ClientRequest & { connectionId: string }): Promise<ClientReply> {
    const waitMs = this.bucket.take();
    if (waitMs > 0) return fail('rate/limited', undefined, { retryAfterMs: waitMs });
    const playerId = this.params.playerId;

    switch (message.event) {
      case 'match:find': {
        if (this.roomId) return fail('match/already-in-room', `already seated in ${this.roomId}`);
        const reply = await this.ask<FindMatchReply>(LOBBY, {
          type: 'find-match',
          playerId,
          name: this.params.name,
          game: message.request.game,
        });
        if (reply.ok) this.roomId = reply.roomId;
        return reply;
      }
      case 'room:move': {
        const { roomId, actionId, version, move, payload } = message.request;
        if (roomId !== this.roomId) return fail('room/not-member');
        return this.ask<MoveReply>(roomAddress(roomId), { type: 'move', playerId, actionId, version, move, payload } satisfies RoomMessage);
      }
      case 'room:leave': {
        const { roomId } = message.request;
        if (roomId !== this.roomId) return fail('room/not-member');
        const reply = await this.ask<ClientReply>(roomAddress(roomId), { type: 'leave', playerId, reason: 'left' } satisfies RoomMessage);
        // Whatever the room says (it may be gone already), the player is no longer in it.
        this.roomId = null;
        return reply.ok || reply.error.code === 'room/not-found' || reply.error.code === 'room/not-member' ? { ok: true } : reply;
      }
      case 'room:rematch': {
        const { roomId } = message.request;
        if (roomId !== this.roomId) return fail('room/not-member');
        return this.ask<ClientReply>(roomAddress(roomId), { type: 'rematch', playerId } satisfies RoomMessage);
      }
    }
  }

  /** The room died with its worker: the player is free to find a new match. */
  private roomsLost(roomIds: Readonly<Record<string, true>>): void {
    if (!this.roomId || roomIds[this.roomId] !== true) return;
    const roomId = this.roomId;
    this.roomId = null;
    this.push('session:error', { ...errorBody('room/lost'), roomId });
  }

  /** This session's worker is stopping: the device is told to connect again (it gets a new session elsewhere). */
  private async evict(error: ErrorBody): Promise<void> {
    const connection = this.connection;
    this.connection = null;
    if (connection) this.tell(connection.gateway, { type: 'close', connectionId: connection.connectionId, error } satisfies GatewayMessage);
    if (this.roomId) {
      const roomId = this.roomId;
      this.roomId = null;
      await this.ask(roomAddress(roomId), { type: 'leave', playerId: this.params.playerId, reason: 'disconnected' } satisfies RoomMessage).catch(() => undefined);
    }
    this.retire();
  }

  private push(event: ServerEventName, payload: object): void {
    const connection = this.connection;
    if (!connection) return; // nobody to deliver to (buffering for resume comes with reconnection support)
    this.tell(connection.gateway, { type: 'push', connectionId: connection.connectionId, event, payload } satisfies GatewayMessage);
  }
}
