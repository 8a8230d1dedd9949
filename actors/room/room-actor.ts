/**
 * Room: one per match. Holds the authoritative state and the pinned version of
 * the game's rules it started with. Moves arrive through its mailbox and are
 * handled in order: check → apply → broadcast. Real-time games tick on a timer
 * that posts into the same mailbox, so ticks and moves never interleave.
 */
import { MailboxActor, type ActorContext } from '../kit/mailbox-actor';
import { LOBBY, sessionAddress, type LobbyMessage, type RoomMessage, type RoomParams, type SessionMessage } from '../messages';
import { Match } from './match';
import { SeededRandom } from './seeded-random';

/** How long after a player's grace period the room lets the seat go itself (the session normally does it first). */
const AWAY_MARGIN_MS = 5000;

export class RoomActor extends MailboxActor<RoomMessage, RoomParams> {
  protected readonly kind = 'room' as const;
  private readonly match: Match;
  private ticker: NodeJS.Timeout | undefined;
  private readonly awayTimers = new Map<string, NodeJS.Timeout>();
  private tickQueued = false;
  private lastTickAt = 0;
  private closed = false;

  constructor(context: ActorContext, params: RoomParams) {
    super(context, params);
    const game = context.games.get(params.game);
    if (!game) throw new Error(`unknown game ${params.game}`);
    this.match = new Match(params.roomId, game, new SeededRandom(params.seed));
  }

  override started(): void {
    this.metrics.roomOpened(this.params.game);
  }

  override stopped(): void {
    this.stopTicker();
    for (const timer of this.awayTimers.values()) clearTimeout(timer);
    if (!this.closed) this.metrics.roomClosed(this.params.game);
  }

  protected handle(message: RoomMessage): unknown {
    if (message.type === 'lobby-lost') {
      // The lobby died with its worker and comes back empty: an open room says again that it has seats.
      if (!this.closed && this.match.isOpen) this.reportToLobby();
      return undefined;
    }
    const wasOpen = this.match.isOpen;
    const reply = this.dispatch(message);
    this.flush();
    this.updateTicker();
    if (this.match.isEmpty) this.close();
    else if (wasOpen !== this.match.isOpen) this.reportToLobby();
    return reply;
  }

  private dispatch(message: Exclude<RoomMessage, { type: 'lobby-lost' }>): unknown {
    const game = this.params.game;
    switch (message.type) {
      case 'join':
        return this.match.join(message.playerId, message.name);
      case 'move': {
        const result = this.match.move(message.playerId, message.version, message.move, message.payload);
        if (result.ok) this.metrics.moveApplied(game);
        else this.metrics.moveRejected(game, result.error.reason ? `${result.error.code}:${result.error.reason}` : result.error.code);
        return result;
      }
      case 'leave':
        return this.match.leave(message.playerId);
      case 'rematch':
        return this.match.rematch(message.playerId);
      case 'sync':
        return this.match.sync(message.playerId);
      case 'presence':
        this.watchAway(message.playerId, message.away ? message.graceMs : undefined);
        return this.match.presence(message.playerId, message.away);
      case 'sessions-lost':
        // A connected player's session cannot be resumed (only away ones are saved): free the seat now.
        for (const playerId of Object.keys(message.playerIds)) if (this.match.isSeated(playerId) && !this.match.isAway(playerId)) this.match.leave(playerId);
        return undefined;
      case 'away-expired':
        // The session should have made the player leave by now; it died with its worker, so the room does.
        return this.match.isAway(message.playerId) ? this.match.leave(message.playerId) : undefined;
      case 'tick': {
        this.tickQueued = false;
        const now = Date.now();
        this.match.tick(now - this.lastTickAt);
        this.lastTickAt = now;
        return undefined;
      }
    }
  }

  /** Sends what the match produced to the players' sessions. */
  private flush(): void {
    for (const out of this.match.outbox) {
      this.tell(sessionAddress(out.playerId), { type: 'push', event: out.event, payload: out.payload } satisfies SessionMessage);
    }
    this.match.outbox.length = 0;
  }

  private updateTicker(): void {
    const realtime = this.match.isRealtime && this.match.isPlaying;
    if (realtime && !this.ticker) {
      // The rules this match started with, not whatever the catalogue holds now.
      const tickHz = this.match.game.rules.realtime?.tickHz ?? 20;
      this.lastTickAt = Date.now();
      this.ticker = setInterval(() => {
        // At most one tick waits in the mailbox: a slow room skips ticks rather than piling them up.
        if (this.tickQueued) return;
        this.tickQueued = true;
        void this.enqueueSelf({ type: 'tick' });
      }, 1000 / tickHz);
    } else if (!realtime) {
      this.stopTicker();
    }
  }

  /** A seat held for an away player is let go if nobody claims it a while after the grace period. */
  private watchAway(playerId: string, graceMs: number | undefined): void {
    clearTimeout(this.awayTimers.get(playerId));
    this.awayTimers.delete(playerId);
    if (graceMs === undefined) return;
    const timer = setTimeout(() => {
      this.awayTimers.delete(playerId);
      void this.enqueueSelf({ type: 'away-expired', playerId });
    }, graceMs + AWAY_MARGIN_MS);
    timer.unref();
    this.awayTimers.set(playerId, timer);
  }

  private stopTicker(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = undefined;
  }

  private reportToLobby(): void {
    this.tell(LOBBY, {
      type: 'room-status',
      roomId: this.params.roomId,
      game: this.params.game,
      open: this.match.isOpen,
      closed: false,
    } satisfies LobbyMessage);
  }

  /** The last player left: tell the lobby, then go away. */
  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopTicker();
    this.metrics.roomClosed(this.params.game);
    this.tell(LOBBY, { type: 'room-status', roomId: this.params.roomId, game: this.params.game, open: false, closed: true } satisfies LobbyMessage);
    this.retire();
  }
}
