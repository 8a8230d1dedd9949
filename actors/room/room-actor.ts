/**
 * Room: where players sit and play one match after another. Holds the
 * authoritative state (RoomState) and the pinned version of
 * the game's rules it started with. Moves arrive through its mailbox and are
 * handled in order: check → apply → broadcast. Real-time games tick on a timer
 * that posts into the same mailbox, so ticks and moves never interleave.
 *
 * The room never waits on a database for its results: it hands its writes to
 * the persistence actor of its worker — the match result (critical), the
 * players' profile counters (normal) and, on a cluster's workers, a snapshot
 * of its state on an interval while it changes and whenever a match ends (low
 * priority: only the newest counts). One process has nothing to restore a
 * room for (its sessions live in memory), so there rooms write no snapshots.
 *
 * On a cluster's workers with durability `moves` (the default) the room also
 * logs every input it accepts (RoomLog) and answers it, and shows its effects
 * to anyone, only once the log has it. A room whose worker died is taken up
 * elsewhere from its latest snapshot plus the log after it (`params.restore`),
 * so nothing a player was shown is lost, and the room's log is taken over as a
 * new generation so the old holder, should it wake, can add nothing. With
 * durability `snapshot` nothing is logged and a restored room goes back to its
 * latest snapshot; the snapshot of a match's end is then written before its
 * result, so no restore brings back a match whose result is stored.
 */
import { refusal } from '../../protocol/errors';
import { MailboxActor, type ActorContext } from '../kit/mailbox-actor';
import { dispatch, type Handlers } from '../kit/protocol';
import { LOBBY } from '../lobby/lobby-protocol';
import type { Failure, Ok } from '../messages';
import { PERSISTENCE, type WritePriority, type WriteRequest } from '../persistence/persistence-protocol';
import { sessionRef, type SessionRef } from '../session/session-protocol';
import { StoreUnavailableError, type JsonObject, type MatchResult } from '../persistence/stores';
import { delayOn, RoomLogFencedError, RoomLogLostError, type LoadedGame, type RoomInput, type RoomLogEntry, type Timer } from '../ports';
import { RoomState, type EndedMatch, type JoinResult, type RoomStateSnapshot, type MoveResult } from './room-state';
import { RecentMoves, type RecentMovesSnapshot } from './recent-moves';
import { roomSnapshotKey, type MoveReply, type RoomMessage, type RoomParams, type RoomProtocol } from './room-protocol';
import { SeededRandom } from './seeded-random';

/** How long after a player's grace period the room lets the seat go itself (the session normally does it first). */
const AWAY_MARGIN_MS = 5000;

/** A real-time room that fell behind catches up by at most a second of ticks; time lost beyond that is skipped. */
const MAX_CATCH_UP_SECONDS = 1;

export class RoomActor extends MailboxActor<RoomProtocol, RoomParams> {
  protected readonly kind = 'room' as const;
  private readonly state: RoomState;
  private ticker: Timer | undefined;
  private readonly awayTimers = new Map<string, Timer>();
  /** Players' session references, made once per player: a string built per push is hashed again at each lookup. */
  private readonly sessionRefs = new Map<string, SessionRef>();
  private tickQueued = false;
  /** The time the game's clock has reached: advanced by whole ticks of `tickStepMs`. */
  private lastTickAt = 0;
  /** The fixed step of a real-time game's ticks (the game's tick interval). */
  private tickStepMs = 50;
  private closed = false;
  private snapshotTimer: Timer | undefined;
  /** The state version of the last snapshot sent (-1: none yet). */
  private snapshotVersion = -1;
  /** The stored snapshot version this room started from: 0 for a new room. */
  private readonly snapshotBase: number;
  /** The catalogue's newest version of the game when the room last looked (hot reload). */
  private newestSeen: LoadedGame;
  /** The rules version the room is counted under in metrics. */
  private metricsVersion: string;
  /** The time of the input being handled (a replayed input's own): the room's time for the rules. */
  private inputAt = this.clock.now();
  /** The last seq in the room's log (-1: nothing logged yet; 0 is the `open` entry). */
  private logSeq = -1;
  /** This holder's generation of the room's log (its fencing token); 1 for a room that was never taken over. */
  private logGeneration = 1;
  /** The log seq of the room's latest durable snapshot (-1: none): a log that lost its history goes on after it. */
  private durableSeq = -1;
  /** A newer holder took the room over: this copy answers nothing more. */
  private fenced = false;
  /** The worker is draining and handed the room over: inputs are refused (retried, they reach the next holder). */
  private handedOver = false;
  /** The result of the room's last game, kept in its snapshot so a restore can write it again if it was lost. */
  private lastResult: MatchResult | undefined;
  /** The input the message being handled was applied as: what the log records of it. */
  private applied: RoomInput | undefined;
  /** Moves applied lately, by action id: one sent again gets its first result. */
  private readonly recentMoves: RecentMoves;
  /** Whether a game was being played after the last input, so each game's start is logged once. */
  private wasPlaying = false;

  constructor(context: ActorContext, params: RoomParams) {
    super(context, params);
    const game = context.games.get(params.game);
    if (!game) throw new Error(`unknown game ${params.game}`);
    this.state = new RoomState(
      params.roomId,
      game,
      new SeededRandom(params.seed),
      () => context.games.get(params.game),
      () => this.inputAt,
    );
    this.newestSeen = game;
    this.metricsVersion = game.version;
    this.snapshotBase = params.restore?.version ?? 0;
    const saved = params.restore?.data as unknown as RoomSnapshot | null | undefined;
    this.recentMoves = new RecentMoves(saved?.recentMoves);
    if (saved) {
      this.state.restore(saved.match, this.logging);
      this.snapshotVersion = this.state.stateVersion;
      this.logSeq = saved.logSeq ?? -1;
      this.durableSeq = this.logSeq;
      this.lastResult = saved.lastResult;
      this.wasPlaying = this.state.isPlaying;
    }
  }

  /** Whether this room logs its inputs (a cluster's worker with durability `moves`). */
  private get logging(): boolean {
    return this.roomLog !== undefined && this.settings.durability !== 'snapshot';
  }

  override async started(): Promise<void> {
    this.metrics.roomOpened(this.params.game, this.metricsVersion);
    if (!this.params.restore) return;
    if (this.logging) {
      // Take the log over (the old holder can add nothing from now on) and replay what came after the snapshot.
      const { generation, entries } = await this.roomLog!.takeOver(this.params.roomId, this.logSeq);
      this.logGeneration = generation;
      this.replay(entries);
      this.state.markAllAway();
    }
    // Results of games that ended meanwhile, or the last one's again (it may not have been written): saving is idempotent.
    if (this.state.ended.length > 0) this.recordEndedGames();
    else if (this.lastResult) this.recordResult(this.lastResult);
    // Every player counts as away until their session says otherwise; those who never come back lose their seat.
    for (const playerId of this.state.playerIds) this.watchAway(playerId, this.settings.awayGraceMs ?? 0);
    this.updateTicker();
    this.reportToLobby();
  }

  /** Applies logged inputs again, exactly as they were applied (their own time, their own tick lengths); nobody is told. */
  private replay(entries: readonly RoomLogEntry[]): void {
    for (const entry of entries) {
      this.inputAt = entry.at;
      this.apply(entry.input);
      this.logSeq = entry.seq;
    }
    this.state.outbox.length = 0;
    this.inputAt = this.clock.now();
    if (entries.length > 0) this.log.info({ roomId: this.params.roomId, inputs: entries.length, logSeq: this.logSeq }, 'room replayed its log after its snapshot');
  }

  /** One logged input applied again (replay): as it was applied live. */
  private apply(input: RoomInput): void {
    switch (input.type) {
      case 'open':
        return;
      case 'join':
        return void this.join(input);
      case 'move':
        return void this.move(input);
      case 'leave':
        return void this.leave(input);
      case 'rematch':
        return void this.rematch(input);
      case 'presence':
        return void this.presence(input);
      case 'away-expired':
        return void this.awayExpired(input);
      case 'sessions-lost':
        return this.sessionsLost(input);
      case 'tick':
        return this.tick(input);
    }
  }

  // Each input to the room's state, live (from the handlers) and replayed alike; `applied` is what the log records.

  private join(input: Extract<RoomInput, { type: 'join' }>): JoinResult {
    this.applied = input;
    return this.state.join(input.playerId, input.name);
  }

  private move(input: Extract<RoomInput, { type: 'move' }>): MoveResult {
    this.applied = input;
    const result = this.state.move(input.playerId, input.version, input.move, input.payload);
    if (result.ok) this.recentMoves.remember(input.playerId, input.actionId, result.version);
    return result;
  }

  private leave(input: Extract<RoomInput, { type: 'leave' }>): Ok | Failure {
    this.applied = input;
    this.recentMoves.forget(input.playerId);
    return this.state.leave(input.playerId);
  }

  private rematch(input: Extract<RoomInput, { type: 'rematch' }>): Ok | Failure {
    this.applied = input;
    return this.state.rematch(input.playerId);
  }

  private presence(input: Extract<RoomInput, { type: 'presence' }>): Ok | Failure {
    this.applied = input;
    return this.state.presence(input.playerId, input.away);
  }

  /** The session should have made the player leave by now; it died with its worker, so the room does (undefined: nothing to do). */
  private awayExpired(input: Extract<RoomInput, { type: 'away-expired' }>): Ok | Failure | undefined {
    this.applied = input;
    return this.state.isAway(input.playerId) ? this.state.leave(input.playerId) : undefined;
  }

  /**
   * The sessions are saved (cluster): their players may come back through a session restored elsewhere.
   * Until then they are away, and they lose the seat if they do not come back within the grace period.
   */
  private sessionsLost(input: Extract<RoomInput, { type: 'sessions-lost' }>): void {
    this.applied = input;
    for (const playerId of input.playerIds) if (this.state.isSeated(playerId) && !this.state.isAway(playerId)) this.state.presence(playerId, true);
  }

  /** `count` ticks (1 when absent) of `dtMs` each. */
  private tick(input: Extract<RoomInput, { type: 'tick' }>): void {
    this.applied = input;
    for (let i = 0; i < (input.count ?? 1); i++) this.state.tick(input.dtMs);
  }

  /**
   * The ticks due since the last: whole steps of the game's tick interval, never the measured delta, so a
   * replay gives the same game. A late timer catches up by whole ticks (at most MAX_CATCH_UP_SECONDS' worth).
   */
  private ticksDue(): void {
    this.tickQueued = false;
    const step = this.tickStepMs;
    const due = Math.floor((this.clock.now() - this.lastTickAt) / step);
    if (due <= 0) return;
    this.lastTickAt += due * step;
    const count = Math.min(due, Math.max(1, Math.round((MAX_CATCH_UP_SECONDS * 1000) / step)));
    this.tick({ type: 'tick', dtMs: step, ...(count > 1 ? { count } : {}) });
  }

  override stopped(): void {
    this.stopTimers();
    if (!this.closed) this.metrics.roomClosed(this.params.game, this.metricsVersion);
  }

  private stopTimers(): void {
    this.clock.clear(this.snapshotTimer);
    this.stopTicker();
    for (const timer of this.awayTimers.values()) this.clock.clear(timer);
  }

  private static readonly handlers: Handlers<RoomProtocol, RoomActor> = {
    ping: () => ({ ok: true }),
    'lobby-lost': (room) => {
      // The lobby died with its worker and comes back empty: an open room says again that it has seats.
      if (!room.closed && room.state.isOpen) room.reportToLobby();
    },
    snapshot: (room) => {
      room.snapshotTimer = undefined;
      if (!room.closed && room.state.stateVersion !== room.snapshotVersion) void room.saveSnapshot();
    },
    'hand-over': (room) => room.handOver(),
    join: (room, message) => room.input(message, (r, { playerId, name }) => r.join({ type: 'join', playerId, name })),
    move: (room, message) => room.input(message, RoomActor.liveMove),
    leave: (room, message) => room.input(message, (r, { playerId }) => r.leave({ type: 'leave', playerId })),
    rematch: (room, message) => room.input(message, (r, { playerId }) => r.rematch({ type: 'rematch', playerId })),
    sync: (room, message) => room.input(message, (r, { playerId }) => r.state.sync(playerId)),
    presence: (room, message) =>
      room.input(message, (r, { playerId, away, graceMs }) => {
        r.watchAway(playerId, away ? graceMs : undefined);
        return r.presence({ type: 'presence', playerId, away });
      }),
    'sessions-lost': (room, message) =>
      room.input(message, (r, { playerIds }) => {
        const lost = Object.keys(playerIds).filter((playerId) => r.state.isSeated(playerId) && !r.state.isAway(playerId));
        for (const playerId of lost) r.watchAway(playerId, r.settings.awayGraceMs ?? 0);
        r.sessionsLost({ type: 'sessions-lost', playerIds: lost });
      }),
    'away-expired': (room, message) => room.input(message, (r, { playerId }) => r.awayExpired({ type: 'away-expired', playerId })),
    tick: (room, message) => room.input(message, (r) => r.ticksDue()),
  };

  handle(message: RoomMessage): unknown {
    return dispatch(RoomActor.handlers, this, message);
  }

  /** A move, unless it was applied already: sent again (through a session that does not know it, or to the room taken up elsewhere), it gets its first result, and the device the current state. */
  private static liveMove(room: RoomActor, message: Extract<RoomMessage, { type: 'move' }>): MoveReply {
    const applied = room.recentMoves.versionAfter(message.playerId, message.actionId);
    if (applied !== undefined) {
      room.state.sync(message.playerId);
      return { ok: true, version: applied };
    }
    const { playerId, actionId, version, move, payload } = message;
    const result = room.move({ type: 'move', playerId, actionId, version, move, payload });
    const game = room.params.game;
    if (result.ok) room.metrics.moveApplied(game);
    else room.metrics.moveRejected(game, result.error.reason ? `${result.error.code}:${result.error.reason}` : result.error.code);
    return result;
  }

  /**
   * An input to the room's state, through the room's one path: refused once the room moved on (fenced, handed
   * over); otherwise applied at the current version of the rules, logged when the room logs, and only then
   * answered and shown (see settle).
   */
  private input<M extends RoomMessage, R>(message: M, apply: (room: RoomActor, message: M) => R): R | Failure | Promise<R | Failure> {
    if (this.fenced || this.handedOver) return refusal('server/unavailable', `room ${this.params.roomId} moved to another worker; retry`);
    this.catchUpRules();
    const wasOpen = this.state.isOpen;
    const versionBefore = this.state.stateVersion;
    this.inputAt = this.clock.now();
    this.applied = undefined;
    const reply = apply(this, message);
    const input = this.logging ? this.inputToLog(reply, versionBefore) : undefined;
    // Nothing of an input is shown (its answer, what it pushes, its result) before the log has it.
    if (input) return this.logged(input).then(() => this.settle(wasOpen, reply), (error: unknown) => this.notLogged(error));
    return this.settle(wasOpen, reply);
  }

  /**
   * The input just applied, if it changed the room's state: a refusal, a tick that advanced nothing, a lapse of a
   * seat nobody held, a loss of sessions nobody here had are not logged (a move sent again is not applied).
   */
  private inputToLog(reply: unknown, versionBefore: number): RoomInput | undefined {
    const input = this.applied;
    if (!input || isRefusal(reply)) return undefined;
    switch (input.type) {
      case 'tick':
        return this.state.stateVersion !== versionBefore ? input : undefined;
      case 'away-expired':
        return reply === undefined ? undefined : input;
      case 'sessions-lost':
        return input.playerIds.length > 0 ? input : undefined;
      default:
        return input;
    }
  }

  /** What follows an input once it is durable (or at once, when nothing is logged): tell, record, schedule. */
  private settle<R>(wasOpen: boolean, reply: R): R {
    this.countVersion();
    this.flush();
    const gameStarted = this.state.isPlaying && !this.wasPlaying;
    this.wasPlaying = this.state.isPlaying;
    if (gameStarted) {
      const { gameNumber, players } = this.state.snapshot();
      this.log.info({ roomId: this.params.roomId, game: this.params.game, gameNumber, players }, 'match started');
    }
    if (this.state.ended.length > 0) this.recordEndedGames();
    this.scheduleSnapshot();
    this.updateTicker();
    if (this.state.isEmpty) this.close();
    else if (wasOpen !== this.state.isOpen) this.reportToLobby();
    return reply;
  }

  /**
   * Appends the input to the room's log (a new room's first append opens it), trying again while the log's
   * store is unreachable: the input is applied already, and the mailbox waits until it is durable.
   */
  private async logged(input: RoomInput): Promise<void> {
    const entries: RoomLogEntry[] = [];
    if (this.logSeq < 0) entries.push({ v: 1, seq: ++this.logSeq, at: this.inputAt, input: { type: 'open', game: this.params.game, seed: this.params.seed } });
    entries.push({ v: 1, seq: ++this.logSeq, at: this.inputAt, input });
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.roomLog!.append(this.params.roomId, this.logGeneration, this.durableSeq, entries);
      } catch (error) {
        if (error instanceof RoomLogLostError) return this.rebase();
        if (!(error instanceof StoreUnavailableError) || this.closed) throw error;
        if (attempt === 1) this.log.warn({ roomId: this.params.roomId, err: error.message }, 'room log unreachable: the room waits for it');
        await delayOn(this.clock, logRetryDelayMs(attempt));
      }
    }
  }

  /**
   * The log lost the room's history (the cluster's Redis came back empty): the room's state, this input
   * included, is made durable by a snapshot written now, over whatever the store holds, and the log goes on
   * after it.
   */
  private async rebase(): Promise<void> {
    this.log.warn({ roomId: this.params.roomId, logSeq: this.logSeq }, 'room log lost its history: snapshotting the room to go on from there');
    for (let attempt = 1; ; attempt++) {
      if (await this.saveSnapshot('critical', true)) return;
      if (this.closed) throw new Error(`room ${this.params.roomId} closed before its snapshot was durable`);
      await delayOn(this.clock, logRetryDelayMs(attempt));
    }
  }

  /**
   * The worker is draining: the room's state is written (critical) where its next holder reads it — with
   * durability `moves` the log has every input already — and the room takes no more inputs or ticks. The
   * room's next message, from a session on another worker, takes it up there as after a worker's death.
   */
  private async handOver(): Promise<void> {
    if (this.closed || this.handedOver || this.fenced) return;
    this.handedOver = true;
    this.stopTimers();
    if (!this.settings.snapshots) return;
    if (!(await this.saveSnapshot('critical'))) this.log.warn({ roomId: this.params.roomId }, 'room handed over without a durable snapshot: its next holder restores the previous one');
  }

  /** The input could not be logged: the room was taken over elsewhere (this copy is stale), or it is closing. */
  private notLogged(error: unknown): Failure {
    this.state.outbox.length = 0;
    if (error instanceof RoomLogFencedError && !this.fenced) {
      this.fenced = true;
      this.log.warn({ roomId: this.params.roomId, generation: this.logGeneration }, 'room taken over by a newer holder: this copy stops');
      this.stopTimers();
      this.closed = true;
      this.metrics.roomClosed(this.params.game, this.metricsVersion);
      this.retire();
    } else if (!(error instanceof RoomLogFencedError)) {
      this.log.error({ roomId: this.params.roomId, err: String(error) }, 'room log append failed');
    }
    return refusal('server/unavailable', `room ${this.params.roomId} could not record this; retry`);
  }

  /**
   * A safe point between two messages: if a designer published a new version of the game, the room takes
   * what it can of it (see RoomState.catchUp). One object comparison per message when nothing changed.
   */
  private catchUpRules(): void {
    const newest = this.games.get(this.params.game);
    if (!newest || newest === this.newestSeen) return;
    this.newestSeen = newest;
    const from = this.state.game.version;
    const outcome = this.state.catchUp(newest);
    if (outcome === 'current') return;
    this.log.info({ roomId: this.params.roomId, game: this.params.game, from, newest: newest.version, running: this.state.game.version, outcome }, 'room caught up with a new version of its game');
  }

  /** Metrics count rooms by the rules version they run. */
  private countVersion(): void {
    const running = this.state.game.version;
    if (running === this.metricsVersion || this.closed) return;
    this.metrics.roomClosed(this.params.game, this.metricsVersion);
    this.metrics.roomOpened(this.params.game, running);
    this.metricsVersion = running;
  }

  /**
   * A game ended: its result (critical), the players' profile counters (normal), and a snapshot now. With
   * durability `snapshot` the snapshot of the end is written first (critical) and the result only once it is
   * durable: a stored result then always has its game's end behind it, and no restore can un-finish it.
   * With `moves` the end is in the log already.
   */
  private recordEndedGames(): void {
    const results = this.state.ended.splice(0).map((ended) => this.matchResult(ended));
    for (const { roomId, game, gameNumber, players, winners, draw, reason, moves } of results) {
      this.log.info({ roomId, game, gameNumber, players, winners, draw, reason, moves }, 'match ended');
    }
    this.lastResult = results[results.length - 1];
    if (this.settings.snapshots && !this.logging) {
      void this.saveSnapshot('critical').then((durable) => {
        if (durable) for (const result of results) this.recordResult(result);
      });
      return;
    }
    for (const result of results) this.recordResult(result);
    if (this.settings.snapshots) void this.saveSnapshot('low');
  }

  /** A result and the players' profile counters it adds: both idempotent by match id, so writing them again is harmless. */
  private recordResult(result: MatchResult): void {
    this.persist('critical', { kind: 'match-result', result });
    for (const player of result.players) {
      const won = result.winners.includes(player.playerId);
      const add = { played: 1, won: won ? 1 : 0, lost: !won && !result.draw ? 1 : 0, drawn: result.draw ? 1 : 0 };
      this.persist('normal', { kind: 'profile', playerId: player.playerId, name: player.name, add, ids: [result.matchId] });
    }
  }

  private matchResult(ended: EndedMatch): MatchResult {
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
      endedAt: ended.endedAt,
    };
  }

  /**
   * A snapshot is due `snapshotIntervalMs` after the state changed, if it changed since the last one: a room
   * whose state does not change (waiting, idle) wakes for nothing.
   */
  private scheduleSnapshot(): void {
    const intervalMs = this.settings.snapshotIntervalMs ?? 0;
    if (!this.settings.snapshots || intervalMs <= 0 || this.snapshotTimer || this.closed || this.state.stateVersion === this.snapshotVersion) return;
    this.snapshotTimer = this.clock.setTimeout(() => void this.enqueueSelf({ type: 'snapshot' }), intervalMs);
  }

  /**
   * The room's newest state for the snapshot store (low priority: a newer one replaces it in the queue).
   * Once it is durable the log before it is no longer needed. Resolves with whether it became durable.
   */
  private saveSnapshot(priority: WritePriority = 'low', overwrite = false): Promise<boolean> {
    this.snapshotVersion = this.state.stateVersion;
    const logSeq = this.logSeq;
    const snapshot: RoomSnapshot = {
      roomId: this.params.roomId,
      game: this.params.game,
      seed: this.params.seed,
      savedAt: this.clock.now(),
      match: this.state.snapshot(),
      ...(this.logging ? { logSeq } : {}),
      ...(this.lastResult ? { lastResult: this.lastResult } : {}),
      recentMoves: this.recentMoves.snapshot(),
    };
    // Overwriting: written against whatever version the store holds now (read first), not the one last known.
    const basedOn = overwrite ? undefined : this.snapshotBase;
    return this.persist(priority, { kind: 'snapshot', key: roomSnapshotKey(this.params.roomId), data: snapshot as unknown as JsonObject, ...(basedOn === undefined ? {} : { basedOn }) }).then(
      (written) => {
        if (written && this.logging && logSeq >= 0 && !this.fenced) {
          this.durableSeq = Math.max(this.durableSeq, logSeq);
          if (logSeq > 0) this.roomLog!.trim(this.params.roomId, logSeq).catch(() => undefined);
        }
        return written;
      },
    );
  }

  /** Hands a write to the persistence actor; the room goes on at once and only logs what went wrong. Resolves with whether it became durable. */
  private persist(priority: WritePriority, write: WriteRequest): Promise<boolean> {
    return this.ask(PERSISTENCE, { type: 'write', priority, write }).then(
      (reply) => {
        if (!reply.ok) this.log.warn({ roomId: this.params.roomId, priority, kind: write.kind, error: reply.error }, 'room write refused');
        return reply.ok;
      },
      // The write stays queued (a store is slow or down): the ask only stopped waiting.
      (error: unknown) => {
        this.log.debug({ roomId: this.params.roomId, priority, kind: write.kind, err: String(error) }, 'room write not yet durable');
        return false;
      },
    );
  }

  /** Sends what the room's state produced to the players' sessions. */
  private flush(): void {
    for (const out of this.state.outbox) {
      this.tell(this.sessionOf(out.playerId), { type: 'push', event: out.event, payload: out.payload });
    }
    this.state.outbox.length = 0;
  }

  private sessionOf(playerId: string): SessionRef {
    let ref = this.sessionRefs.get(playerId);
    if (ref === undefined) {
      // Players come and go over a room's life: past a few dozen remembered, start again.
      if (this.sessionRefs.size >= 64) this.sessionRefs.clear();
      this.sessionRefs.set(playerId, (ref = sessionRef(playerId)));
    }
    return ref;
  }

  private updateTicker(): void {
    const realtime = this.state.isRealtime && this.state.isPlaying;
    if (realtime && !this.ticker) {
      // The rules this room runs, not whatever the catalogue holds now.
      const tickHz = this.state.game.rules.realtime?.tickHz ?? 20;
      this.tickStepMs = 1000 / tickHz;
      this.lastTickAt = this.clock.now();
      this.ticker = this.clock.setInterval(() => {
        // At most one tick waits in the mailbox: a slow room skips ticks rather than piling them up.
        if (this.tickQueued) return;
        this.tickQueued = true;
        void this.enqueueSelf({ type: 'tick' });
      }, this.tickStepMs);
    } else if (!realtime) {
      this.stopTicker();
    }
  }

  /** A seat held for an away player is let go if nobody claims it a while after the grace period. */
  private watchAway(playerId: string, graceMs: number | undefined): void {
    this.clock.clear(this.awayTimers.get(playerId));
    this.awayTimers.delete(playerId);
    if (graceMs === undefined) return;
    const timer = this.clock.setTimeout(() => {
      this.awayTimers.delete(playerId);
      void this.enqueueSelf({ type: 'away-expired', playerId });
    }, graceMs + AWAY_MARGIN_MS);
    this.awayTimers.set(playerId, timer);
  }

  private stopTicker(): void {
    if (this.ticker) this.clock.clear(this.ticker);
    this.ticker = undefined;
  }

  private reportToLobby(): void {
    this.tell(LOBBY, {
      type: 'room-status',
      roomId: this.params.roomId,
      game: this.params.game,
      open: this.state.isOpen,
      closed: false,
    });
  }

  /** The last player left: tell the lobby, then go away. */
  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopTicker();
    this.clock.clear(this.snapshotTimer);
    // Nothing to restore any more: the snapshot goes (queued after any snapshot still waiting, so it wins), and the log.
    if (this.settings.snapshots) void this.persist('low', { kind: 'snapshot', key: roomSnapshotKey(this.params.roomId), data: null, basedOn: this.snapshotBase });
    if (this.logging) this.roomLog!.remove(this.params.roomId).catch(() => undefined);
    this.metrics.roomClosed(this.params.game, this.metricsVersion);
    this.tell(LOBBY, { type: 'room-status', roomId: this.params.roomId, game: this.params.game, open: false, closed: true });
    this.retire();
  }
}

/** What a room keeps in the snapshot store under room/<roomId>. */
export interface RoomSnapshot {
  readonly roomId: string;
  readonly game: string;
  readonly seed: number;
  readonly savedAt: number;
  /** The room's state (stored under this key since rooms first wrote snapshots: a restore reads older ones too). */
  readonly match: RoomStateSnapshot;
  /** The last entry of the room's log this snapshot includes (rooms that log their inputs). */
  readonly logSeq?: number;
  /** The result of the room's last match: a restore writes it again, in case it was lost with the worker. */
  readonly lastResult?: MatchResult;
  /** Moves applied lately, by player and action id (see RecentMoves). */
  readonly recentMoves?: RecentMovesSnapshot;
}

/** A room log write that cannot reach its store is tried again after 50 ms, doubling up to a second. */
function logRetryDelayMs(attempt: number): number {
  return Math.min(1000, 50 * 2 ** (attempt - 1));
}

function isRefusal(reply: unknown): boolean {
  return typeof reply === 'object' && reply !== null && (reply as { ok?: unknown }).ok === false;
}
