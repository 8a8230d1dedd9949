/**
 * Room: one per match. Holds the authoritative state and the pinned version of
 * the game's rules it started with. Moves arrive through its mailbox and are
 * handled in order: check → apply → broadcast. Real-time games tick on a timer
 * that posts into the same mailbox, so ticks and moves never interleave.
 *
 * The room never waits on a database: it hands its writes to the persistence
 * actor of its worker — the match result (critical), the players' profile
 * counters (normal) and, on a cluster's workers, a snapshot of the match on an
 * interval while it changes and whenever a game ends (low priority: only the
 * newest counts). A room whose worker died is taken up from its latest
 * snapshot (`params.restore`); one process has nothing to restore a room for
 * (its sessions live in memory), so there rooms write no snapshots.
 */
import { MailboxActor, type ActorContext } from '../kit/mailbox-actor';
import {
  LOBBY,
  PERSISTENCE,
  roomSnapshotKey,
  sessionAddress,
  type Address,
  type LobbyMessage,
  type PersistenceMessage,
  type RoomMessage,
  type RoomParams,
  type SessionMessage,
  type WritePriority,
  type WriteReply,
  type WriteRequest,
} from '../messages';
import type { JsonObject } from '../persistence/stores';
import type { LoadedGame } from '../ports';
import { Match, type EndedGame, type MatchSnapshot } from './match';
import { SeededRandom } from './seeded-random';

/** How long after a player's grace period the room lets the seat go itself (the session normally does it first). */
const AWAY_MARGIN_MS = 5000;

export class RoomActor extends MailboxActor<RoomMessage, RoomParams> {
  protected readonly kind = 'room' as const;
  private readonly match: Match;
  private ticker: NodeJS.Timeout | undefined;
  private readonly awayTimers = new Map<string, NodeJS.Timeout>();
  /** Players' session addresses, made once per player: a string built per push is hashed again at each lookup. */
  private readonly sessionAddresses = new Map<string, Address>();
  private tickQueued = false;
  private lastTickAt = 0;
  private closed = false;
  private snapshotTimer: NodeJS.Timeout | undefined;
  /** The match version of the last snapshot sent (-1: none yet). */
  private snapshotVersion = -1;
  /** The stored snapshot version this room started from: 0 for a new room. */
  private readonly snapshotBase: number;
  /** The catalogue's newest version of the game when the room last looked (hot reload). */
  private newestSeen: LoadedGame;
  /** The rules version the room is counted under in metrics. */
  private metricsVersion: string;

  constructor(context: ActorContext, params: RoomParams) {
    super(context, params);
    const game = context.games.get(params.game);
    if (!game) throw new Error(`unknown game ${params.game}`);
    this.match = new Match(params.roomId, game, new SeededRandom(params.seed), () => context.games.get(params.game));
    this.newestSeen = game;
    this.metricsVersion = game.version;
    this.snapshotBase = params.restore?.version ?? 0;
    if (params.restore) {
      this.match.restore((params.restore.data as unknown as RoomSnapshot).match);
      this.snapshotVersion = this.match.stateVersion;
    }
  }

  override started(): void {
    this.metrics.roomOpened(this.params.game, this.metricsVersion);
    if (this.params.restore) {
      // Every player counts as away until their session says otherwise; those who never come back lose their seat.
      for (const playerId of this.match.playerIds) this.watchAway(playerId, this.settings.awayGraceMs ?? 0);
      this.updateTicker();
      this.reportToLobby();
    }
  }

  override stopped(): void {
    clearTimeout(this.snapshotTimer);
    this.stopTicker();
    for (const timer of this.awayTimers.values()) clearTimeout(timer);
    if (!this.closed) this.metrics.roomClosed(this.params.game, this.metricsVersion);
  }

  handle(message: RoomMessage): unknown {
    if (message.type === 'lobby-lost') {
      // The lobby died with its worker and comes back empty: an open room says again that it has seats.
      if (!this.closed && this.match.isOpen) this.reportToLobby();
      return undefined;
    }
    if (message.type === 'ping') return { ok: true };
    if (message.type === 'snapshot') {
      this.snapshotTimer = undefined;
      if (!this.closed && this.match.stateVersion !== this.snapshotVersion) this.saveSnapshot();
      return undefined;
    }
    this.catchUpRules();
    const wasOpen = this.match.isOpen;
    const reply = this.dispatch(message);
    this.countVersion();
    this.flush();
    if (this.match.ended.length > 0) this.recordEndedGames();
    this.scheduleSnapshot();
    this.updateTicker();
    if (this.match.isEmpty) this.close();
    else if (wasOpen !== this.match.isOpen) this.reportToLobby();
    return reply;
  }

  private dispatch(message: Exclude<RoomMessage, { type: 'lobby-lost' | 'snapshot' | 'ping' }>): unknown {
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
        // The sessions are saved (cluster): their players may come back through a session restored elsewhere.
        // Until then they are away, and they lose the seat if they do not come back within the grace period.
        for (const playerId of Object.keys(message.playerIds)) {
          if (!this.match.isSeated(playerId) || this.match.isAway(playerId)) continue;
          const graceMs = this.settings.awayGraceMs ?? 0;
          this.watchAway(playerId, graceMs);
          this.match.presence(playerId, true);
        }
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

  /**
   * A safe point between two messages: if a designer published a new version of the game, the match takes
   * what it can of it (see Match.catchUp). One object comparison per message when nothing changed.
   */
  private catchUpRules(): void {
    const newest = this.games.get(this.params.game);
    if (!newest || newest === this.newestSeen) return;
    this.newestSeen = newest;
    const from = this.match.game.version;
    const outcome = this.match.catchUp(newest);
    if (outcome === 'current') return;
    this.log.info({ roomId: this.params.roomId, game: this.params.game, from, newest: newest.version, running: this.match.game.version, outcome }, 'room caught up with a new version of its game');
  }

  /** Metrics count rooms by the rules version they run. */
  private countVersion(): void {
    const running = this.match.game.version;
    if (running === this.metricsVersion || this.closed) return;
    this.metrics.roomClosed(this.params.game, this.metricsVersion);
    this.metrics.roomOpened(this.params.game, running);
    this.metricsVersion = running;
  }

  /** A game ended: its result (critical), the players' profile counters (normal), and a snapshot now. */
  private recordEndedGames(): void {
    const now = Date.now();
    for (const ended of this.match.ended.splice(0)) {
      const result = this.matchResult(ended, now);
      this.persist('critical', { kind: 'match-result', result });
      for (const player of ended.players) {
        const won = ended.outcome.winners.includes(player.playerId);
        const add = { played: 1, won: won ? 1 : 0, lost: !won && !ended.outcome.draw ? 1 : 0, drawn: ended.outcome.draw ? 1 : 0 };
        this.persist('normal', { kind: 'profile', playerId: player.playerId, name: player.name, add, ids: [result.matchId] });
      }
    }
    if (this.settings.snapshots) this.saveSnapshot();
  }

  private matchResult(ended: EndedGame, endedAt: number): Extract<WriteRequest, { kind: 'match-result' }>['result'] {
    return {
      matchId: `${this.params.roomId}#${ended.gameNumber}`,
      roomId: this.params.roomId,
      game: this.params.game,
      gameNumber: ended.gameNumber,
      players: ended.players,
      winners: ended.outcome.winners,
      draw: ended.outcome.draw,
      reason: ended.outcome.reason,
      moves: ended.moves,
      startedAt: ended.startedAt,
      endedAt,
    };
  }

  /**
   * A snapshot is due `snapshotIntervalMs` after the match changed, if it changed since the last one: a room
   * whose match does not change (waiting, idle) wakes for nothing.
   */
  private scheduleSnapshot(): void {
    const intervalMs = this.settings.snapshotIntervalMs ?? 0;
    if (!this.settings.snapshots || intervalMs <= 0 || this.snapshotTimer || this.closed || this.match.stateVersion === this.snapshotVersion) return;
    this.snapshotTimer = setTimeout(() => void this.enqueueSelf({ type: 'snapshot' }), intervalMs);
    this.snapshotTimer.unref();
  }

  /** The newest state of the match for the snapshot store (low priority: a newer one replaces it in the queue). */
  private saveSnapshot(): void {
    this.snapshotVersion = this.match.stateVersion;
    const snapshot: RoomSnapshot = { roomId: this.params.roomId, game: this.params.game, seed: this.params.seed, savedAt: Date.now(), match: this.match.snapshot() };
    this.persist('low', { kind: 'snapshot', key: roomSnapshotKey(this.params.roomId), data: snapshot as unknown as JsonObject, basedOn: this.snapshotBase });
  }

  /** Hands a write to the persistence actor; the room goes on at once and only logs what went wrong. */
  private persist(priority: WritePriority, write: WriteRequest): void {
    this.ask<WriteReply>(PERSISTENCE, { type: 'write', priority, write } satisfies PersistenceMessage).then(
      (reply) => {
        if (!reply.ok) this.log.warn({ roomId: this.params.roomId, priority, kind: write.kind, error: reply.error }, 'room write refused');
      },
      // The write stays queued (a store is slow or down): the ask only stopped waiting.
      (error: unknown) => this.log.debug({ roomId: this.params.roomId, priority, kind: write.kind, err: String(error) }, 'room write not yet durable'),
    );
  }

  /** Sends what the match produced to the players' sessions. */
  private flush(): void {
    for (const out of this.match.outbox) {
      this.tell(this.sessionAddressOf(out.playerId), { type: 'push', event: out.event, payload: out.payload } satisfies SessionMessage);
    }
    this.match.outbox.length = 0;
  }

  private sessionAddressOf(playerId: string): Address {
    let address = this.sessionAddresses.get(playerId);
    if (address === undefined) {
      // Players come and go over a room's life: past a few dozen remembered, start again.
      if (this.sessionAddresses.size >= 64) this.sessionAddresses.clear();
      this.sessionAddresses.set(playerId, (address = sessionAddress(playerId)));
    }
    return address;
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
    clearTimeout(this.snapshotTimer);
    // Nothing to restore any more: the snapshot goes (queued after any snapshot still waiting, so it wins).
    if (this.settings.snapshots) this.persist('low', { kind: 'snapshot', key: roomSnapshotKey(this.params.roomId), data: null, basedOn: this.snapshotBase });
    this.metrics.roomClosed(this.params.game, this.metricsVersion);
    this.tell(LOBBY, { type: 'room-status', roomId: this.params.roomId, game: this.params.game, open: false, closed: true } satisfies LobbyMessage);
    this.retire();
  }
}

/** What a room keeps in the snapshot store under room/<roomId>. */
export interface RoomSnapshot {
  readonly roomId: string;
  readonly game: string;
  readonly seed: number;
  readonly savedAt: number;
  readonly match: MatchSnapshot;
}
