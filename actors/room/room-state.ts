/**
 * A room's authoritative state — its seats, the match being played, the
 * matches before it — and the room's own checks around the rules.
 *
 * Words: a room hosts a sequence of matches (numbered by `gameNumber` on the
 * wire); a match is one game of it, which ends with an outcome and a stored
 * match result; the game is the kind of game the rules define.
 *
 * Plain class, no messaging: the room actor feeds it one message at a time and
 * sends what it leaves in `outbox`. Three tiers of refusal meet here: the
 * room's checks (membership, status, stale version, turn), the move's payload
 * schema, and the rules' own `invalid(reason)`. A refused move changes nothing.
 */
import { isInvalid, type GameContext, type MoveContext } from '../../games/api';
import { refusal as refuse } from '../../protocol/errors';
import { describeIssues } from '../../protocol/wire-checks';
import type { MatchFound, Outcome, RoomDeltaMessage, RoomPlayerMessage, RoomStateMessage, RoomStatus, SeatInfo, ServerEventName } from '../../protocol/messages';
import type { Failure, Ok } from '../messages';
import type { MatchPlayer } from '../persistence/stores';
import type { LoadedGame } from '../ports';
import type { SeededRandom } from './seeded-random';

export interface Outgoing {
  readonly playerId: string;
  readonly event: ServerEventName;
  readonly payload: object;
}

/** A match that ended, for the room to record (its match result, profiles). */
export interface EndedMatch {
  readonly gameNumber: number;
  /** Everyone who played in it, leavers included, in seat order. */
  readonly players: readonly MatchPlayer[];
  readonly outcome: Outcome;
  readonly moves: number;
  readonly startedAt: number;
  readonly endedAt: number;
}

/**
 * Everything a room's state needs to go on elsewhere (another worker, after its own died): plain JSON.
 * `state` is the rules' own state, plain data by the rules API's contract.
 */
export interface RoomStateSnapshot {
  readonly game: string;
  readonly seats: readonly SeatInfo[];
  readonly status: RoomStatus;
  readonly state: unknown;
  readonly version: number;
  readonly gameNumber: number;
  readonly outcome: Outcome | null;
  readonly rematchVotes: readonly string[];
  readonly random: number;
  readonly players: readonly MatchPlayer[];
  readonly moves: number;
  readonly startedAt: number;
}

/** How far a restored room's version jumps past its snapshot's: more changes than any room makes between two snapshots. */
export const RESTORED_VERSION_JUMP = 1_000_000;

export type JoinResult = Ok<MatchFound & { open: boolean }> | Failure;
export type MoveResult = Ok<{ version: number; state?: RoomStateMessage }> | Failure;

export class RoomState {
  readonly outbox: Outgoing[] = [];
  /** Games that ended since the room last looked (the room records them). */
  readonly ended: EndedMatch[] = [];
  private seats: SeatInfo[] = [];
  private status: RoomStatus = 'waiting';
  private state: unknown = undefined;
  private version = 0;
  private gameNumber = 0;
  private outcome: Outcome | null = null;
  private readonly rematchVotes = new Set<string>();
  /** Who has played in the current game (a leaver stays listed), when it started, how many moves it took. */
  private players: MatchPlayer[] = [];
  private startedAt = 0;
  private moves = 0;
  private cachedContext:
    | { readonly seats: readonly SeatInfo[]; readonly gameNumber: number; readonly context: GameContext<unknown>; readonly byPlayer: Map<string, MoveContext<unknown>> }
    | undefined;

  /** The version of the rules this room runs (pinned: it changes only between two matches, or by a migrate()). */
  private pinned: LoadedGame;
  /** The version just before a migrate(): a move made against it is taken against the migrated state (-1: none). */
  private migratedFrom = -1;
  /** Newer rules versions that refused (or failed) to migrate this room's state: not tried again. */
  private readonly refusedVersions = new Set<string>();

  constructor(
    readonly roomId: string,
    game: LoadedGame,
    private readonly random: SeededRandom,
    /** The newest version of the game (hot reload): each new game of the room starts with it. */
    private readonly newest: () => LoadedGame | undefined = () => undefined,
    /** The time of the input being applied (a replayed input's own time, not the replay's). */
    private readonly clock: () => number = Date.now,
  ) {
    this.pinned = game;
  }

  get game(): LoadedGame {
    return this.pinned;
  }

  /**
   * Between two messages: catches up with the newest version of the game.
   * - Same rules, new tunables: taken at once (a real-time game feels them at its next tick).
   * - New rules: a room with no game under way takes them at once; a running game keeps its rules unless
   *   the new version declares `migrate(oldState)` and it accepts this state, and then switches here, a new
   *   version everyone sees. Newer tunables that fit the running rules' own schema are taken too.
   * Returns what happened, for logs and metrics.
   */
  catchUp(newest: LoadedGame): 'current' | 'tunables' | 'switched' | 'migrated' | 'kept' {
    const current = this.pinned;
    if (newest.version === current.version) {
      if (newest.tunablesVersion === current.tunablesVersion) return 'current';
      this.use(newest);
      return 'tunables';
    }
    if (this.status === 'waiting') {
      this.use(newest);
      return 'switched';
    }
    if (this.status === 'playing' && !this.refusedVersions.has(newest.version) && newest.rules.migrate) {
      this.refusedVersions.add(newest.version); // one try per version, whatever happens
      let migrated: unknown;
      try {
        migrated = newest.rules.migrate(this.state, current.version);
      } catch {
        migrated = undefined;
      }
      if (migrated !== undefined && !isInvalid(migrated)) {
        const before = this.version;
        this.state = migrated;
        this.use(newest);
        this.changed();
        // The move that brought the room here was made against the state before the switch: it still counts.
        this.migratedFrom = before;
        return 'migrated';
      }
    }
    if (newest.tunablesVersion !== current.tunablesVersion && !this.refusedVersions.has(`tunables:${newest.tunablesVersion}`)) {
      this.refusedVersions.add(`tunables:${newest.tunablesVersion}`);
      const parsed = current.rules.tunables.safeParse(newest.tunables);
      if (parsed.success) this.use({ ...current, tunables: parsed.data, tunablesVersion: newest.tunablesVersion });
    }
    return 'kept';
  }

  private use(game: LoadedGame): void {
    this.pinned = game;
    this.cachedContext = undefined;
  }

  get isEmpty(): boolean {
    return this.seats.length === 0;
  }

  get isRealtime(): boolean {
    return this.game.rules.realtime !== undefined;
  }

  get isPlaying(): boolean {
    return this.status === 'playing';
  }

  /** Whether the lobby may send more players here. */
  get isOpen(): boolean {
    const rules = this.game.rules;
    if (this.seats.length >= rules.maxPlayers) return false;
    return this.status === 'waiting' || (this.status === 'playing' && rules.joinInProgress === true);
  }

  join(playerId: string, name: string): JoinResult {
    const existing = this.seatOf(playerId);
    if (existing) return { ok: true, roomId: this.roomId, game: this.game.name, seat: existing.seat, open: this.isOpen };
    if (!this.isOpen) return refuse('room/full');

    const seat = { playerId, name, seat: this.nextFreeSeat() };
    this.seats = [...this.seats, seat].sort((a, b) => a.seat - b.seat);
    this.broadcastPlayerChange(playerId, 'joined');
    const rules = this.game.rules;
    if (this.status === 'playing') this.players.push({ playerId, name, seat: seat.seat });
    if (this.status === 'playing' && rules.playerJoined) this.state = rules.playerJoined(this.state, playerId, this.context());
    if (this.status === 'waiting' && this.readyToStart()) this.start();
    else this.changed();
    return { ok: true, roomId: this.roomId, game: this.game.name, seat: seat.seat, open: this.isOpen };
  }

  move(playerId: string, version: number, moveName: string, payload: unknown): MoveResult {
    const rules = this.game.rules;
    if (!this.seatOf(playerId)) return refuse('room/not-member');
    if (this.status === 'waiting') return refuse('move/not-started');
    if (this.status === 'over') return refuse('move/game-over');
    // Real-time inputs are applied at the next tick whatever version the player saw; turns are not.
    if (!this.isRealtime && version !== this.version && version !== this.migratedFrom) {
      return refuse('move/stale-version', `the move was made against version ${version}; the room is at ${this.version}`);
    }
    const active = rules.activePlayers?.(this.state) ?? 'all';
    if (active !== 'all' && !active.includes(playerId)) return refuse('move/not-your-turn');
    if (!Object.prototype.hasOwnProperty.call(rules.moves, moveName)) return refuse('move/unknown-move', `${this.game.name} has no move '${moveName}'`);
    const definition = rules.moves[moveName]!;
    const parsed = definition.payload.safeParse(payload);
    if (!parsed.success) {
      return refuse('move/bad-payload', describeIssues(parsed.error, 'payload'));
    }
    const next = definition.apply(this.state, parsed.data, this.moveContext(playerId));
    if (isInvalid(next)) return refuse('move/illegal', next.message, { reason: next.reason });

    this.state = next;
    this.moves++;
    if (this.isRealtime) {
      // Inputs take effect at the next tick, which broadcasts what changed.
      this.version++;
    } else {
      const outcome = rules.isOver(this.state, this.context());
      if (outcome) this.finish(outcome);
      else this.changed();
      const state = this.takeStatePush(playerId);
      if (state) return { ok: true, version: this.version, state };
    }
    return { ok: true, version: this.version };
  }

  /** Advances a real-time game; each player gets only what changed for them. */
  tick(dtMs: number): void {
    const rules = this.game.rules;
    if (this.status !== 'playing' || !rules.tick) return;
    const previous = this.state;
    this.state = rules.tick(previous, dtMs, this.context());
    this.version++;
    const outcome = rules.isOver(this.state, this.context());
    if (outcome) return this.finish(outcome);
    if (rules.viewDelta) {
      const shared = rules.publicView ? this.deltaMessage(rules.viewDelta(previous, this.state, '')) : undefined;
      for (const { playerId } of this.seats) {
        const message = shared ?? this.deltaMessage(rules.viewDelta(previous, this.state, playerId));
        if (message) this.outbox.push({ playerId, event: 'room:delta', payload: message });
      }
    } else {
      this.broadcastState();
    }
  }

  leave(playerId: string): Ok | Failure {
    if (!this.seatOf(playerId)) return refuse('room/not-member');
    this.seats = this.seats.filter((seat) => seat.playerId !== playerId);
    this.rematchVotes.delete(playerId);
    this.broadcastPlayerChange(playerId, 'left');
    const rules = this.game.rules;
    if (this.status === 'playing') {
      if (rules.playerLeft && this.seats.length > 0) {
        this.state = rules.playerLeft(this.state, playerId, this.context());
      } else if (this.seats.length > 0) {
        // Games without a playerLeft hook cannot go on short-handed: the leaver forfeits.
        this.finish({ winners: this.seats.map((seat) => seat.playerId), draw: false, reason: 'opponent-left' }, playerId);
        return { ok: true };
      } else {
        this.status = 'over';
      }
    }
    // Those who stayed may all have voted for a rematch already.
    if (this.status === 'over' && this.seats.length > 0 && this.allVotedRematch()) this.restart();
    else this.changed();
    return { ok: true };
  }

  rematch(playerId: string): Ok | Failure {
    if (!this.seatOf(playerId)) return refuse('room/not-member');
    if (this.status !== 'over') return refuse('room/not-over');
    this.rematchVotes.add(playerId);
    if (this.allVotedRematch()) this.restart();
    return { ok: true };
  }

  isSeated(playerId: string): boolean {
    return this.seatOf(playerId) !== undefined;
  }

  isAway(playerId: string): boolean {
    return this.seatOf(playerId)?.away === true;
  }

  /** The player's connection dropped (seat held for the grace period), or they came back. */
  presence(playerId: string, away: boolean): Ok | Failure {
    const seat = this.seatOf(playerId);
    if (!seat) return refuse('room/not-member');
    if ((seat.away === true) === away) return { ok: true };
    const { away: _wasAway, ...present } = seat;
    const updated: SeatInfo = away ? { ...present, away: true } : present;
    this.seats = this.seats.map((s) => (s.playerId === playerId ? updated : s));
    this.broadcastPlayerChange(playerId, away ? 'away' : 'back');
    // Presence is not game state: the version moves (refusing moves made before it) only when the game reacts.
    const rules = this.game.rules;
    const hook = away ? rules.playerAway : rules.playerBack;
    if (this.status === 'playing' && hook) {
      this.state = hook.call(rules, this.state, playerId, this.context());
      this.changed();
    }
    return { ok: true };
  }

  /** A player's device reconnected: send it the full state it may have missed. */
  sync(playerId: string): Ok | Failure {
    if (!this.seatOf(playerId)) return refuse('room/not-member');
    this.outbox.push({ playerId, event: 'room:state', payload: this.stateFor(playerId) });
    return { ok: true };
  }

  /** The room's whole state as plain JSON (in the room's snapshot). */
  snapshot(): RoomStateSnapshot {
    return {
      game: this.game.name,
      seats: this.seats,
      status: this.status,
      state: this.state === undefined ? null : this.state,
      version: this.version,
      gameNumber: this.gameNumber,
      outcome: this.outcome,
      rematchVotes: [...this.rematchVotes],
      random: this.random.state,
      players: this.players,
      moves: this.moves,
      startedAt: this.startedAt,
    };
  }

  /**
   * Takes up a room's state from its snapshot. Without `exact` every seated player counts as away until their
   * session says otherwise, and the version jumps far ahead: devices may have seen versions after the
   * snapshot, and must take the restored state as the newest (moves made after the snapshot are lost).
   * With `exact` (the room replays its log after it, so devices saw nothing newer) the version stays.
   */
  restore(snapshot: RoomStateSnapshot, exact = false): void {
    this.seats = snapshot.seats.map((seat) => (exact ? { ...seat } : { ...seat, away: true }));
    this.status = snapshot.status;
    this.state = snapshot.state === null && snapshot.status === 'waiting' ? undefined : snapshot.state;
    this.version = snapshot.version + (exact ? 0 : RESTORED_VERSION_JUMP);
    this.gameNumber = snapshot.gameNumber;
    this.outcome = snapshot.outcome;
    this.rematchVotes.clear();
    for (const playerId of snapshot.rematchVotes) this.rematchVotes.add(playerId);
    this.random.restore(snapshot.random);
    this.players = [...snapshot.players];
    this.moves = snapshot.moves;
    this.startedAt = snapshot.startedAt;
  }

  /**
   * Every seated player counts as away until their session says otherwise (a room taken up on another
   * worker), without the game hearing of it: their sessions may be back before the grace period ends.
   */
  markAllAway(): void {
    this.seats = this.seats.map((seat) => ({ ...seat, away: true }));
  }

  /** The version players last saw: it moves on with every change they see. */
  get stateVersion(): number {
    return this.version;
  }

  /** The seated players' ids. */
  get playerIds(): string[] {
    return this.seats.map((seat) => seat.playerId);
  }

  stateFor(playerId: string): RoomStateMessage {
    return {
      roomId: this.roomId,
      game: this.game.name,
      version: this.version,
      status: this.status,
      gameNumber: this.gameNumber,
      players: this.seats,
      view: this.state === undefined ? null : this.game.rules.view(this.state, playerId),
      outcome: this.outcome,
    };
  }

  private start(): void {
    // A game boundary: the next game is played with the newest rules.
    const newest = this.newest();
    if (newest && newest.name === this.pinned.name && newest.version !== this.pinned.version) this.use(newest);
    this.gameNumber++;
    this.players = this.seats.map(({ playerId, name, seat }) => ({ playerId, name, seat }));
    this.startedAt = this.clock();
    this.moves = 0;
    this.rematchVotes.clear();
    this.outcome = null;
    this.state = this.game.rules.setup(this.context());
    this.status = 'playing';
    this.changed();
  }

  private allVotedRematch(): boolean {
    return this.seats.every((seat) => this.rematchVotes.has(seat.playerId));
  }

  /** Everyone seated wants another game: start it, or wait for the lobby to fill seats left empty. */
  private restart(): void {
    if (this.readyToStart()) return this.start();
    this.status = 'waiting';
    this.state = undefined;
    this.outcome = null;
    this.rematchVotes.clear();
    this.changed();
  }

  /** Every change players see gets its own version, so clients can order what they receive. */
  private changed(): void {
    this.migratedFrom = -1;
    this.version++;
    this.broadcastState();
  }

  private finish(outcome: Outcome, leaver?: string): void {
    this.status = 'over';
    this.outcome = { winners: [...outcome.winners], draw: outcome.draw, reason: outcome.reason };
    this.ended.push({ gameNumber: this.gameNumber, players: this.players, outcome: this.outcome, moves: this.moves, startedAt: this.startedAt, endedAt: this.clock() });
    this.changed();
    for (const { playerId } of this.seats) {
      this.outbox.push({
        playerId,
        event: 'room:over',
        payload: { roomId: this.roomId, version: this.version, outcome: this.outcome, ...(leaver ? { leaver } : {}) },
      });
    }
  }

  private readyToStart(): boolean {
    const rules = this.game.rules;
    const needed = rules.realtime ? rules.minPlayers : rules.maxPlayers;
    return this.seats.length >= needed;
  }

  private broadcastState(): void {
    // A public view is built once and the same message object goes to every player.
    const shared = this.game.rules.publicView && this.seats.length > 0 ? this.stateFor(this.seats[0]!.playerId) : undefined;
    for (const { playerId } of this.seats) this.outbox.push({ playerId, event: 'room:state', payload: shared ?? this.stateFor(playerId) });
  }

  /** Removes the mover's room:state push from the outbox: it travels in the acknowledgement instead. */
  private takeStatePush(playerId: string): RoomStateMessage | undefined {
    for (let i = this.outbox.length - 1; i >= 0; i--) {
      const out = this.outbox[i]!;
      if (out.playerId === playerId && out.event === 'room:state') {
        this.outbox.splice(i, 1);
        return out.payload as RoomStateMessage;
      }
    }
    return undefined;
  }

  private deltaMessage(delta: unknown): RoomDeltaMessage | undefined {
    return delta === undefined ? undefined : { roomId: this.roomId, version: this.version, delta };
  }

  private broadcastPlayerChange(changed: string, change: RoomPlayerMessage['change']): void {
    for (const { playerId } of this.seats) {
      if (playerId !== changed) this.outbox.push({ playerId, event: 'room:player', payload: { roomId: this.roomId, playerId: changed, change } });
    }
  }

  private seatOf(playerId: string): SeatInfo | undefined {
    return this.seats.find((seat) => seat.playerId === playerId);
  }

  private nextFreeSeat(): number {
    let seat = 0;
    while (this.seats.some((taken) => taken.seat === seat)) seat++;
    return seat;
  }

  /** The rules' context, rebuilt only when the seats or the game change (it is read on every move). */
  private context(): GameContext<unknown> {
    const cached = this.cachedContext;
    if (cached?.seats !== this.seats || cached.gameNumber !== this.gameNumber) {
      const random = this.random;
      const gameNumber = this.gameNumber;
      const context: GameContext<unknown> = { players: this.seats.map((seat) => seat.playerId), gameNumber, tunables: this.game.tunables, random: () => random.next() };
      this.cachedContext = { seats: this.seats, gameNumber, context, byPlayer: new Map() };
      return context;
    }
    return cached.context;
  }

  private moveContext(playerId: string): MoveContext<unknown> {
    const base = this.context();
    const cache = this.cachedContext!.byPlayer;
    let context = cache.get(playerId);
    if (!context) cache.set(playerId, (context = { ...base, playerId }));
    return context;
  }
}
