/**
 * duel — turn-based, validation-heavy (BENCHMARKS.md). Connect Four, rooms of
 * two. A client plays only on its turn, after a think time (uniform, mean
 * --think ms). 10 % of the moves it sends are deliberately illegal (out of
 * turn, column full, column out of range) and must each be refused. When a
 * game ends both players vote a rematch and the room starts the next game.
 *
 * Round trip = move sent → the room:state that reflects it arrives at the mover.
 */
import { guestLogin, PlayhouseClient, type RoomStateMessage } from '@playhouse/client';
import type { DriverOptions, Scenario, ScenarioDriver } from '../harness/scenario';
import { connectInBatches, errorCodeOf, settleWithin } from './shared';

export const scenario: Scenario = {
  name: 'duel',
  description: 'Connect Four, 2 players per room, think time, 10 % illegal moves',
  defaults: { clients: 1000, durationS: 20, thinkMs: 100 },
  quickClients: 200,
  driverModule: __filename,
};

interface BoardView {
  readonly columns: number;
  readonly rows: number;
  readonly board: ReadonlyArray<ReadonlyArray<number | null>>;
  readonly currentPlayer: string | null;
}

type IllegalKind = 'out-of-turn' | 'column-full' | 'out-of-range';
const ILLEGAL_KINDS: readonly IllegalKind[] = ['out-of-turn', 'column-full', 'out-of-range'];
/** One illegal move for every nine legal ones: 10 % of what is sent. */
const ILLEGAL_PER_LEGAL = 1 / 9;
/** Codes that correctly refuse each kind (an out-of-turn move may also meet a newer version or a finished game). */
/**
 * Without resume (it comes later), a dropped connection can legitimately make a
 * player's next request meet a finished game, a newer version, a closed room,
 * or a seat that survived a fast reconnect. With --drop-rate, refusals of those
 * families are counted as `after_drop:<code>`; what would show a server bug —
 * an illegal move accepted, `server/*`, `protocol/*` — stays an error.
 */
const DROP_EFFECT_FAMILIES = ['move/', 'room/', 'match/', 'client/'];
const isDropEffect = (code: string) => DROP_EFFECT_FAMILIES.some((family) => code.startsWith(family)) && code !== 'match/unknown-game';
const EXPECTED_REFUSALS: Readonly<Record<IllegalKind, readonly string[]>> = {
  'out-of-turn': ['move/not-your-turn', 'move/stale-version', 'move/game-over'],
  'column-full': ['move/illegal'],
  'out-of-range': ['move/illegal'],
};

export function createDriver(options: DriverOptions): ScenarioDriver {
  return new DuelDriver(options);
}

/**
 * The storm scenario's twist on duel: a share of the clients drop their
 * connection at random moments and resume through the SDK (same session,
 * missed messages replayed, unanswered moves re-sent with their action id).
 */
export interface StormSettings {
  /** Share of the clients whose connection drops (0..1). */
  readonly dropShare: number;
  /** Drops per second of each of those clients (exponential intervals). */
  readonly dropsPerSecond: number;
}

export class DuelDriver implements ScenarioDriver {
  private players: DuelPlayer[] = [];

  constructor(
    private readonly options: DriverOptions,
    private readonly storm?: StormSettings,
  ) {}

  async start(): Promise<void> {
    const storm = this.storm;
    // Every tenth client in `dropShare × 10` is stormy: the share holds in every worker, whatever its size.
    const stormyAt = (i: number) => (storm && i % 10 < Math.round(storm.dropShare * 10) ? storm : undefined);
    this.players = await connectInBatches(this.options.clients, (i) => DuelPlayer.join(this.options, i, stormyAt(i)), this.options.recorder);
    // Everyone seated and, where an opponent arrived, playing (an odd client out may wait alone).
    await settleWithin(30_000, this.players.map((player) => player.playing));
  }

  async stop(): Promise<void> {
    for (const player of this.players) player.stop();
    await settleWithin(5_000, this.players.map((player) => player.idle()));
    for (const player of this.players) player.close();
  }
}

class DuelPlayer {
  readonly playing: Promise<void>;
  private markPlaying!: () => void;
  private client!: PlayhouseClient;
  private roomId = '';
  private stopped = false;
  private busy = false;
  private thinking: NodeJS.Timeout | undefined;
  private dropTimer: NodeJS.Timeout | undefined;
  private waiting: { readonly sentAt: number; readonly version: number; acked: boolean; seen: boolean } | undefined;
  private idleWaiters: Array<() => void> = [];
  private votedInGame = -1;
  private hasPlayed = false;
  /** Storm: this player's acknowledged moves in game `countedGame`; its discs on the board must match. */
  private myMoves = 0;
  /** Room and game number the count is for. */
  private countedGame = '';

  private constructor(
    private readonly options: DriverOptions,
    private readonly token: string,
    private readonly storm: StormSettings | undefined,
  ) {
    this.playing = new Promise((resolve) => (this.markPlaying = resolve));
  }

  static async join(options: DriverOptions, index: number, storm?: StormSettings): Promise<DuelPlayer> {
    const login = await guestLogin(options.url, `duel-${options.workerIndex}-${index}`);
    const player = new DuelPlayer(options, login.token, storm);
    await player.connect();
    return player;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.thinking);
    clearTimeout(this.dropTimer);
  }

  /** Resolves once nothing this player sent is still unanswered. */
  idle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  close(): void {
    this.client.close();
  }

  private async connect(): Promise<void> {
    const { recorder, link } = this.options;
    this.client = await PlayhouseClient.connect({
      url: this.options.url,
      token: this.token,
      ackTimeoutMs: this.storm ? 30_000 : 10_000,
      // Storm players resume through the SDK; the others (duel's --drop-rate) come back as a new connection.
      reconnect: this.storm ? { initialDelayMs: 50, maxDelayMs: 1000 } : false,
      io: { transports: ['websocket'] },
    });
    recorder.gauges.connected++;
    let connected = true;
    this.client.on('disconnected', () => {
      if (connected) recorder.gauges.connected--;
      connected = false;
    });
    if (this.storm) {
      this.client.on('connection', (event) => {
        if (event.state !== 'connected') return;
        if (!connected) recorder.gauges.connected++;
        connected = true;
        recorder.count(`resumed_${event.resumed ?? 'fresh'}`);
      });
      this.client.on('dropped', (dropped) => recorder.error(`storm_dropped_request:${dropped.error.code}`));
    }
    this.client.on('state', (state) => link.oneWay(() => this.onState(state)));
    this.client.on('over', (over) => link.oneWay(() => void this.onOver(over.roomId, over.outcome.reason)));
    // A player who came back before the server noticed the old connection is still seated:
    // the room pushes its state, and the player plays on there.
    const seated = this.client.session.rooms[0];
    this.roomId = seated ?? (await this.client.findMatch('connect-four')).roomId;
    const current = this.client.state(this.roomId);
    if (current) this.onState(current);
    this.scheduleDrop();
  }

  private onState(state: RoomStateMessage): void {
    if (state.roomId !== this.roomId || this.stopped) return;
    if (this.storm) this.checkAppliedOnce(state);
    if (state.status === 'playing' && !this.hasPlayed) {
      this.hasPlayed = true;
      this.options.recorder.gauges.playing++;
      this.markPlaying();
    }
    const waiting = this.waiting;
    if (waiting && !waiting.seen && state.version > waiting.version) {
      waiting.seen = true;
      this.options.recorder.roundTrip(performance.now() - waiting.sentAt);
      this.settle();
    }
    this.maybeThink();
  }

  private async onOver(roomId: string, reason: string): Promise<void> {
    if (roomId !== this.roomId || this.stopped) return;
    const state = this.client.state(roomId);
    if (reason === 'opponent-left') {
      // The opponent's connection dropped: this room is finished, find another.
      this.options.recorder.count('opponent_left');
      await this.client.leave(roomId).catch(() => undefined);
      await this.rejoin();
      return;
    }
    if (state && state.gameNumber !== this.votedInGame) {
      this.votedInGame = state.gameNumber;
      this.options.recorder.count('games_finished');
      await this.client.rematch(roomId).catch((error: unknown) => this.failed(errorCodeOf(error), 'rematch:'));
    }
  }

  /** On our turn, with nothing in flight: think, then move. */
  private maybeThink(): void {
    if (this.stopped || this.busy || this.thinking) return;
    const state = this.client.state(this.roomId);
    if (!state || state.status !== 'playing' || (state.view as BoardView).currentPlayer !== this.client.playerId) return;
    const think = this.options.thinkMs <= 0 ? 0 : Math.random() * 2 * this.options.thinkMs;
    this.thinking = setTimeout(() => {
      this.thinking = undefined;
      void this.play();
    }, think);
  }

  private async play(): Promise<void> {
    const state = this.client.state(this.roomId);
    if (this.stopped || !state || state.status !== 'playing') return;
    const view = state.view as BoardView;
    if (view.currentPlayer !== this.client.playerId) return;
    this.busy = true;
    if (Math.random() < ILLEGAL_PER_LEGAL) {
      const kind = ILLEGAL_KINDS[Math.floor(Math.random() * ILLEGAL_KINDS.length)]!;
      // Out of turn is sent right after our legal move, when it is the opponent's turn.
      if (kind !== 'out-of-turn') await this.sendIllegal(kind, view, state.version);
      // Quote the version our own move produced: the opponent is to move there, whatever happened since.
      else this.afterNextMove = () => void this.sendIllegal('out-of-turn', view, this.lastAcceptedVersion);
    }
    const open = openColumns(view);
    const column = open[Math.floor(Math.random() * open.length)]!;
    const waiting = { sentAt: performance.now(), version: state.version, acked: false, seen: false };
    // The game this move is made in: its answer may come back after a resume, when another game has begun.
    const game = `${state.roomId}#${state.gameNumber}`;
    this.waiting = waiting;
    this.options.recorder.gauges.inFlight++;
    this.options.link.oneWay(() => {
      this.client.move(this.roomId, 'drop', { column }, state.version).then(
        (accepted) => {
          this.lastAcceptedVersion = accepted.version;
          this.options.recorder.counters.legalApplied++;
          if (game === this.countedGame) this.myMoves++;
          waiting.acked = true;
          this.settle();
        },
        (error: unknown) => {
          this.failed(errorCodeOf(error));
          waiting.acked = waiting.seen = true;
          this.settle();
        },
      );
    });
  }

  /**
   * Storm: with nothing in flight, this player's discs on the board are exactly its acknowledged moves
   * of this game — a move applied twice (a retry after a drop) or applied unacknowledged shows here.
   */
  private checkAppliedOnce(state: RoomStateMessage): void {
    const game = `${state.roomId}#${state.gameNumber}`;
    if (game !== this.countedGame) {
      this.countedGame = game;
      this.myMoves = 0;
    }
    if (this.waiting || state.status === 'waiting') return;
    const seat = state.players.find((player) => player.playerId === this.client.playerId)?.seat;
    const board = (state.view as BoardView | null)?.board;
    if (seat === undefined || !board) return;
    const discs = board.reduce((sum, row) => sum + row.filter((cell) => cell === seat).length, 0);
    if (discs !== this.myMoves) this.options.recorder.error('move_not_applied_once');
  }

  private afterNextMove: (() => void) | undefined;
  private lastAcceptedVersion = 0;

  private settle(): void {
    const waiting = this.waiting;
    if (!waiting || !waiting.acked || !waiting.seen) return;
    this.waiting = undefined;
    this.options.recorder.gauges.inFlight--;
    const then = this.afterNextMove;
    this.afterNextMove = undefined;
    if (then && !this.stopped) return then();
    this.becomeIdle();
  }

  private becomeIdle(): void {
    this.busy = false;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
    this.maybeThink();
  }

  private async sendIllegal(kind: IllegalKind, view: BoardView, version: number): Promise<void> {
    const full = view.board.length > 0 ? fullColumns(view) : [];
    const column = kind === 'column-full' && full.length > 0 ? full[0]! : kind === 'out-of-turn' ? openColumns(view)[0] ?? 0 : view.columns + 3;
    const expected = kind === 'column-full' && full.length === 0 ? EXPECTED_REFUSALS['out-of-range'] : EXPECTED_REFUSALS[kind];
    this.options.recorder.counters.illegalSent++;
    try {
      await this.client.move(this.roomId, 'drop', { column }, version);
      this.options.recorder.error(`illegal-accepted:${kind}`);
    } catch (error) {
      const code = errorCodeOf(error);
      if (expected.includes(code)) this.options.recorder.counters.illegalRejected++;
      else this.failed(code, `${kind}:`);
    }
    if (kind === 'out-of-turn') this.becomeIdle();
  }

  /** Accounts for a request that failed for a reason other than the one a test move expects. */
  private failed(code: string, prefix = ''): void {
    const recorder = this.options.recorder;
    // Closing the clients at the end of the run cuts what is still waiting: not a server fault.
    if (this.stopped && code === 'client/disconnected') return recorder.count('cut_at_stop');
    const drops = this.options.link.dropsConnections;
    if (code === 'client/timeout') {
      if (drops) recorder.count('lost_to_drop');
      else recorder.counters.unanswered++;
    } else if (drops && isDropEffect(code)) recorder.count(`after_drop:${code}`);
    else recorder.error(`${prefix}${code}`);
  }

  private scheduleDrop(): void {
    const inMs = this.storm ? (-Math.log(1 - Math.random()) / this.storm.dropsPerSecond) * 1000 : this.options.link.nextDropInMs();
    if (inMs === undefined) return;
    this.dropTimer = setTimeout(() => void this.drop(), inMs);
  }

  /** The phone loses its connection: the socket dies without a goodbye, then the player comes back. */
  private async drop(): Promise<void> {
    if (this.stopped) return;
    // A storm player's connection can only drop while it is up (it may still be coming back from the last drop).
    if (this.storm && this.client.connectionState !== 'connected') return this.scheduleDrop();
    this.options.recorder.count('drops');
    (this.client.socket.io.engine as unknown as { close(): void }).close();
    if (this.storm) {
      // The SDK reconnects and resumes by itself; in-flight moves are re-sent with their action id.
      this.scheduleDrop();
      return;
    }
    await this.rejoin('after-drop');
  }

  /** Back into play: after a drop (new connection), to recover a seat, or (no reconnect) into a new match. */
  private async rejoin(reconnect: 'after-drop' | 'recover-seat' | false = false): Promise<void> {
    if (this.stopped) {
      // The run ended while this player was away: it does not come back.
      if (reconnect === 'after-drop') this.options.recorder.count('reconnects_skipped_at_stop');
      return;
    }
    try {
      if (reconnect) {
        this.client.close();
        await this.connect();
        this.options.recorder.count(reconnect === 'after-drop' ? 'reconnects' : 'seat_recoveries');
      } else {
        const match = await this.client.findMatch('connect-four');
        this.roomId = match.roomId;
      }
      if (this.waiting) {
        this.waiting = undefined;
        this.options.recorder.gauges.inFlight--;
      }
      this.afterNextMove = undefined;
      this.busy = false;
      this.maybeThink();
    } catch (error) {
      const code = errorCodeOf(error);
      this.failed(code, 'rejoin:');
      // Still seated from before a drop: a fresh connection learns the room from session:ready.
      if (code === 'match/already-in-room' && !reconnect) await this.rejoin('recover-seat');
    }
  }
}

function openColumns(view: BoardView): number[] {
  const top = view.board[view.rows - 1] ?? [];
  return Array.from({ length: view.columns }, (_, column) => column).filter((column) => top[column] === null);
}

function fullColumns(view: BoardView): number[] {
  const top = view.board[view.rows - 1] ?? [];
  return Array.from({ length: view.columns }, (_, column) => column).filter((column) => top[column] !== null);
}
