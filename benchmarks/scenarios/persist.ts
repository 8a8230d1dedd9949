/**
 * persist — room snapshots and match results through the persistence actor
 * into Redis and MariaDB (BENCHMARKS.md): writes per second, and how long a
 * critical write (a match result) waits while low-priority snapshots flood
 * the queue.
 *
 * The load is duel's: Connect Four, rooms of two, a short think time so games
 * end often (each end is a critical match result, two normal profile counter
 * writes and a snapshot), while every room snapshots every
 * `--snapshot-interval` ms (10 by default) as long as its match changes. The
 * server runs with PLAYHOUSE_SNAPSHOT_STORE=redis (keys under a prefix unique
 * to the run) and PLAYHOUSE_RECORD_STORE=mariadb; its /metrics are read
 * before and after the window and sampled every second for the queue depth.
 *
 * After the server stopped (its queue drained), every game a client saw end
 * must have its row in `match_results` (`results_missing` must be 0); then the
 * run's rows and keys are deleted. There is no ceiling: the baseline is the
 * same server and load with in-memory stores, which shows what the databases
 * cost.
 *
 * The players are lean duel players of this file's own: they play only
 * legal moves (refusals touch no store, and duel measures them) and note
 * every room they sit in and every game they see end, which DuelDriver does
 * not report.
 */
import { randomBytes } from 'node:crypto';
import { createConnection, type Connection, type RowDataPacket } from 'mysql2/promise';
import { createClient } from 'redis';
import { guestLogin, PlayhouseClient, type RoomOverMessage, type RoomStateMessage } from '@playhouse/client';
import { cpuSeconds, pidListeningOn } from '../harness/proc';
import { byLabel, difference, histogram, quantile, scrape, total, type Histogram, type Sample } from '../harness/prometheus';
import type { DriverOptions, RunContext, Scenario, ScenarioDriver, ScenarioRun, SeenByClients } from '../harness/scenario';
import type { ServerProcess } from '../harness/server-process';
import { connectInBatches, errorCodeOf, settleWithin } from './shared';

export const scenario: Scenario = {
  name: 'persist',
  description: 'duel load while rooms snapshot to Redis and record match results in MariaDB through the persistence actor',
  defaults: { clients: 600, durationS: 20, thinkMs: 50 },
  quickClients: 200,
  driverModule: __filename,
  baseline: {
    label: 'memory stores',
    noCeilingBecause: 'a bare Socket.IO server has no persistence to compare with; the baseline is the same server and load with in-memory stores',
  },
  prepareRun: (context) => PersistRun.prepare(context),
};

/** The snapshot interval when --snapshot-interval is not given: a flood of low-priority writes. */
export const DEFAULT_SNAPSHOT_INTERVAL_MS = 10;

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const MARIADB_URL = process.env.MARIADB_URL ?? 'mysql://root@127.0.0.1:3306/test';
const PRIORITIES = ['critical', 'normal', 'low'] as const;
/** Queue depth is sampled this often during the window. */
const SAMPLE_EVERY_MS = 1_000;
/** Rooms per SQL statement (an IN list). */
const ROOMS_PER_QUERY = 500;
const SERVICE_TIMEOUT_MS = 5_000;

export function createDriver(options: DriverOptions): ScenarioDriver {
  return new PersistDriver(options);
}

// ---- The clients (in the load workers) -----------------------------------------

interface BoardView {
  readonly columns: number;
  readonly rows: number;
  readonly board: ReadonlyArray<ReadonlyArray<number | null>>;
  readonly currentPlayer: string | null;
}

class PersistDriver implements ScenarioDriver {
  private players: PersistPlayer[] = [];

  constructor(private readonly options: DriverOptions) {}

  async start(): Promise<void> {
    this.players = await connectInBatches(this.options.clients, (i) => PersistPlayer.join(this.options, i), this.options.recorder);
    await settleWithin(30_000, this.players.map((player) => player.playing));
  }

  async stop(): Promise<void> {
    for (const player of this.players) player.stop();
    await settleWithin(5_000, this.players.map((player) => player.idle()));
    for (const player of this.players) player.close();
  }
}

/**
 * One duel player: on its turn, after a think time, drops a disc in a random
 * open column; when a game ends it notes the game (`games_ended`, for the
 * check against MariaDB) and votes a rematch.
 */
class PersistPlayer {
  readonly playing: Promise<void>;
  private markPlaying!: () => void;
  private hasPlayed = false;
  private roomId = '';
  private stopped = false;
  private thinking: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  /** The last game this player saw end (both players see it; one note each is enough). */
  private endedGame = -1;

  private constructor(
    private readonly options: DriverOptions,
    private readonly client: PlayhouseClient,
  ) {
    this.playing = new Promise((resolve) => (this.markPlaying = resolve));
  }

  static async join(options: DriverOptions, index: number): Promise<PersistPlayer> {
    const { recorder } = options;
    const login = await guestLogin(options.url, `persist-${options.workerIndex}-${index}`);
    const client = await PlayhouseClient.connect({ url: options.url, token: login.token, ackTimeoutMs: 10_000, reconnect: false, io: { transports: ['websocket'] } });
    recorder.gauges.connected++;
    client.on('disconnected', () => recorder.gauges.connected--);
    const player = new PersistPlayer(options, client);
    client.on('state', (state) => player.onState(state));
    client.on('over', (over) => void player.onOver(over));
    await player.seat();
    return player;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.thinking);
  }

  /** Resolves once the move in flight, if any, is answered. */
  async idle(): Promise<void> {
    while (this.inFlight) await this.inFlight;
  }

  close(): void {
    this.client.close();
  }

  private async seat(): Promise<void> {
    this.roomId = (await this.client.findMatch('connect-four')).roomId;
    this.options.recorder.saw('rooms', this.roomId);
    const current = this.client.state(this.roomId);
    if (current) this.onState(current);
  }

  private onState(state: RoomStateMessage): void {
    if (state.roomId !== this.roomId || this.stopped) return;
    if (state.status === 'playing' && !this.hasPlayed) {
      this.hasPlayed = true;
      this.options.recorder.gauges.playing++;
      this.markPlaying();
    }
    this.maybeMove();
  }

  private async onOver(over: RoomOverMessage): Promise<void> {
    if (over.roomId !== this.roomId || this.stopped) return;
    const gameNumber = this.client.state(over.roomId)?.gameNumber;
    if (gameNumber === undefined || gameNumber === this.endedGame) return;
    this.endedGame = gameNumber;
    const { recorder } = this.options;
    recorder.count('games_finished');
    // The room records this game's result under this id (room actor: '<roomId>#<gameNumber>').
    recorder.saw('games_ended', `${over.roomId}#${gameNumber}`);
    try {
      if (over.outcome.reason === 'opponent-left') {
        recorder.count('opponent_left');
        await this.client.leave(over.roomId);
        await this.seat();
      } else {
        await this.client.rematch(over.roomId);
      }
    } catch (error) {
      this.failed(errorCodeOf(error));
    }
  }

  /** On our turn, with nothing in flight: think, then move. */
  private maybeMove(): void {
    if (this.stopped || this.inFlight || this.thinking) return;
    const state = this.client.state(this.roomId);
    if (!state || state.status !== 'playing' || (state.view as BoardView).currentPlayer !== this.client.playerId) return;
    const think = this.options.thinkMs <= 0 ? 0 : Math.random() * 2 * this.options.thinkMs;
    this.thinking = setTimeout(() => {
      this.thinking = undefined;
      this.play();
    }, think);
  }

  private play(): void {
    const state = this.client.state(this.roomId);
    if (this.stopped || !state || state.status !== 'playing') return;
    const view = state.view as BoardView;
    if (view.currentPlayer !== this.client.playerId) return;
    const top = view.board[view.rows - 1] ?? [];
    const open = Array.from({ length: view.columns }, (_, column) => column).filter((column) => top[column] === null);
    const column = open[Math.floor(Math.random() * open.length)]!;
    const { recorder } = this.options;
    const sentAt = performance.now();
    recorder.gauges.inFlight++;
    this.inFlight = this.client.move(this.roomId, 'drop', { column }, state.version).then(
      () => {
        recorder.counters.legalApplied++;
        // The mover's new state rides on the acknowledgement.
        recorder.roundTrip(performance.now() - sentAt);
      },
      (error: unknown) => this.failed(errorCodeOf(error)),
    );
    void this.inFlight.finally(() => {
      this.inFlight = undefined;
      recorder.gauges.inFlight--;
      this.maybeMove();
    });
  }

  private failed(code: string): void {
    const { recorder } = this.options;
    // Closing the clients at the end of the run cuts what is still waiting: not a server fault.
    if (this.stopped && code === 'client/disconnected') return recorder.count('cut_at_stop');
    if (code === 'client/timeout') recorder.counters.unanswered++;
    else recorder.error(code);
  }
}

// ---- The server side of a run (in the main thread) ------------------------------

type RedisClient = ReturnType<typeof createClient>;

class PersistRun implements ScenarioRun {
  readonly env: NodeJS.ProcessEnv;
  /** Every Redis key of the run starts with this (the snapshot store's and, on a cluster, the backplane's). */
  private readonly prefix: string;
  /** Rows older than the run are not its own (room ids are random, not unique forever). */
  private readonly startedAt = Date.now();
  private readonly redisPid = pidListeningOn(portOf(REDIS_URL, 6379));
  private readonly mariadbPid = pidListeningOn(portOf(MARIADB_URL, 3306));
  /** /metrics when the window opened. */
  private before: readonly Sample[] | undefined;
  private servicesCpu0 = { redis: 0, mariadb: 0 };
  private sampler: NodeJS.Timeout | undefined;
  private depthPeaks = new Map<string, number>();
  private failedSamples = 0;
  private cleaned = false;

  private constructor(
    private readonly context: RunContext,
    name: string,
    private readonly redis: RedisClient | undefined,
    private readonly sql: Connection | undefined,
  ) {
    this.prefix = `${name}:`;
    const databases = context.variant === 'main';
    this.env = {
      // The Redis snapshot store keys everything under '<cluster name>:'.
      PLAYHOUSE_CLUSTER: name,
      PLAYHOUSE_SNAPSHOT_STORE: databases ? 'redis' : 'memory',
      PLAYHOUSE_RECORD_STORE: databases ? 'mariadb' : 'memory',
      PLAYHOUSE_SNAPSHOT_REDIS_URL: REDIS_URL,
      PLAYHOUSE_MARIADB_URL: MARIADB_URL,
      // One process writes no room snapshots unless told to (nothing there could restore from them): this load is about them.
      PLAYHOUSE_ROOM_SNAPSHOTS: 'true',
      PLAYHOUSE_SNAPSHOT_INTERVAL_MS: String(this.snapshotIntervalMs),
      // This scenario measures persistence, not the gateway's per-session rate limit (20/s), which a short think time passes.
      PLAYHOUSE_REQUESTS_PER_SECOND: '100000',
      PLAYHOUSE_REQUEST_BURST: '100000',
    };
  }

  /** Main run: checks Redis and MariaDB answer (and fails saying so), then configures the server to use them. */
  static async prepare(context: RunContext): Promise<PersistRun> {
    // 'bench-' like the cluster target's names: tests find leftover processes by it.
    const name = `bench-persist-${randomBytes(3).toString('hex')}`;
    if (context.variant === 'baseline') return new PersistRun(context, name, undefined, undefined);
    const redis = createClient({ url: REDIS_URL, disableOfflineQueue: true, socket: { reconnectStrategy: false, connectTimeout: SERVICE_TIMEOUT_MS } });
    redis.on('error', () => undefined); // a failed call rejects; the client's own error events add nothing
    try {
      await redis.connect();
    } catch (error) {
      throw new Error(`persist needs Redis at ${REDIS_URL} (REDIS_URL): ${String(error)}`);
    }
    try {
      const sql = await createConnection({ uri: MARIADB_URL, connectTimeout: SERVICE_TIMEOUT_MS });
      return new PersistRun(context, name, redis, sql);
    } catch (error) {
      redis.destroy();
      throw new Error(`persist needs MariaDB at ${MARIADB_URL} (MARIADB_URL): ${String(error)}`);
    }
  }

  private get snapshotIntervalMs(): number {
    return this.context.settings.snapshotIntervalMs ?? DEFAULT_SNAPSHOT_INTERVAL_MS;
  }

  async windowOpened(server: ServerProcess): Promise<void> {
    this.before = await this.read(server);
    this.servicesCpu0 = this.servicesCpu();
    let sampling = false;
    this.sampler = setInterval(() => {
      if (sampling) return;
      sampling = true;
      void this.read(server)
        .catch(() => void this.failedSamples++)
        .finally(() => (sampling = false));
    }, SAMPLE_EVERY_MS);
  }

  async windowClosed(server: ServerProcess, window: { readonly seconds: number; readonly legalMoves: number }): Promise<Record<string, number>> {
    clearInterval(this.sampler);
    const before = this.before ?? [];
    const after = await this.read(server);
    const cpu = this.servicesCpu();
    const { seconds, legalMoves } = window;
    const perSecond = (n: number) => round(n / seconds, 1);
    const figures: Record<string, number> = { snapshot_interval_ms: this.snapshotIntervalMs };

    // Per priority: writes the rooms made that became durable, and how long each waited (enqueue → durable).
    for (const priority of PRIORITIES) {
      const wait = difference(histogram(after, 'playhouse_persistence_write_wait_seconds', { priority }), histogram(before, 'playhouse_persistence_write_wait_seconds', { priority }));
      figures[`durable_per_s_${priority}`] = perSecond(wait.count);
      figures[`wait_ms_p50_${priority}`] = ms(quantile(wait, 0.5));
      figures[`wait_ms_p99_${priority}`] = ms(quantile(wait, 0.99));
      figures[`wait_ms_mean_${priority}`] = wait.count > 0 ? ms(wait.sum / wait.count) : 0;
      figures[`queue_depth_peak_${priority}`] = this.depthPeaks.get(priority) ?? 0;
    }
    figures.queue_depth_peak = this.depthPeaks.get('all') ?? 0;

    // Per store: what actually reached it after coalescing, in how many calls, and how long a call took.
    for (const store of [...new Set(after.filter((s) => s.name === 'playhouse_persistence_batch_size_count').map((s) => s.labels.store ?? '?'))]) {
      const batch = diff(after, before, 'playhouse_persistence_batch_size', { store });
      const flush = diff(after, before, 'playhouse_persistence_flush_seconds', { store });
      figures[`store_writes_per_s_${store}`] = perSecond(batch.sum);
      figures[`batches_per_s_${store}`] = perSecond(batch.count);
      figures[`batch_mean_${store}`] = batch.count > 0 ? round(batch.sum / batch.count, 1) : 0;
      figures[`flush_ms_mean_${store}`] = flush.count > 0 ? ms(flush.sum / flush.count) : 0;
      figures[`flush_ms_p99_${store}`] = ms(quantile(flush, 0.99));
    }

    // Since the server started: these should all be 0 on a healthy machine.
    figures.retries = total(after, 'playhouse_persistence_retries_total');
    figures.conflicts = total(after, 'playhouse_persistence_conflicts_total');
    figures.shed = total(after, 'playhouse_persistence_shed_total', { reason: 'shed' });
    figures.refused = total(after, 'playhouse_persistence_shed_total', { reason: 'refused' });
    if (this.failedSamples > 0) figures.metrics_samples_failed = this.failedSamples;

    // The databases' own CPU (shared with anything else on the machine using them).
    for (const service of ['redis', 'mariadb'] as const) {
      if ((service === 'redis' ? this.redisPid : this.mariadbPid) === undefined) continue;
      const used = cpu[service] - this.servicesCpu0[service];
      figures[`db_${service}_cpu_pct`] = round((used / seconds) * 100, 1);
      figures[`db_${service}_cpu_us_per_move`] = legalMoves > 0 ? round((used / legalMoves) * 1e6, 1) : 0;
    }
    return figures;
  }

  async afterStop(seen: SeenByClients): Promise<Record<string, number>> {
    const games = seen.get('games_ended') ?? new Set<string>();
    if (!this.sql || !this.redis) return { games_seen_ended: games.size };
    const rooms = [...(seen.get('rooms') ?? [])];
    const stored = await this.storedResults(rooms);
    const missing = [...games].filter((matchId) => !stored.has(matchId));
    if (missing.length > 0) process.stderr.write(`persist: ${missing.length} games the clients saw end have no row in match_results, e.g. ${missing.slice(0, 5).join(', ')}\n`);
    await this.cleanUp(rooms);
    return {
      games_seen_ended: games.size,
      results_stored: stored.size,
      results_missing: missing.length,
      // What the run left behind after cleaning up: must be 0.
      result_rows_left: (await this.storedResults(rooms)).size,
      redis_keys_left: await this.countKeys(),
    };
  }

  async close(seen: SeenByClients): Promise<void> {
    clearInterval(this.sampler);
    if (!this.cleaned) {
      await this.cleanUp([...(seen.get('rooms') ?? [])]).catch((error: unknown) => process.stderr.write(`persist: cleaning up ${this.prefix}* failed: ${String(error)}\n`));
    }
    this.redis?.destroy();
    await this.sql?.end().catch(() => undefined);
  }

  /** One read of /metrics (every process of the target); tracks the queue depth's peaks. */
  private async read(server: ServerProcess): Promise<Sample[]> {
    const samples = await scrape(server.metricsUrls);
    const depth = byLabel(samples, 'playhouse_persistence_queue_depth', 'priority');
    let all = 0;
    for (const [priority, value] of depth) {
      all += value;
      this.depthPeaks.set(priority, Math.max(this.depthPeaks.get(priority) ?? 0, value));
    }
    this.depthPeaks.set('all', Math.max(this.depthPeaks.get('all') ?? 0, all));
    return samples;
  }

  private servicesCpu(): { redis: number; mariadb: number } {
    return {
      redis: this.redisPid === undefined ? 0 : cpuSeconds([this.redisPid]),
      mariadb: this.mariadbPid === undefined ? 0 : cpuSeconds([this.mariadbPid]),
    };
  }

  /** Match ids of this run's rows in match_results, for these rooms. */
  private async storedResults(rooms: readonly string[]): Promise<Set<string>> {
    const stored = new Set<string>();
    for (const chunk of chunks(rooms, ROOMS_PER_QUERY)) {
      const [rows] = await this.sql!.query<RowDataPacket[]>('SELECT match_id FROM match_results WHERE room_id IN (?) AND ended_at >= ?', [chunk, this.startedAt]);
      for (const row of rows) stored.add(String(row.match_id));
    }
    return stored;
  }

  /** Deletes the run's match results (and their players) and every key under its prefix. */
  private async cleanUp(rooms: readonly string[]): Promise<void> {
    this.cleaned = true;
    if (this.sql) {
      for (const chunk of chunks(rooms, ROOMS_PER_QUERY)) {
        await this.sql.query('DELETE p FROM match_players p JOIN match_results r ON r.match_id = p.match_id WHERE r.room_id IN (?) AND r.ended_at >= ?', [chunk, this.startedAt]);
        await this.sql.query('DELETE FROM match_results WHERE room_id IN (?) AND ended_at >= ?', [chunk, this.startedAt]);
      }
    }
    if (this.redis) {
      for await (const keys of this.redis.scanIterator({ MATCH: `${this.prefix}*`, COUNT: 500 })) if (keys.length > 0) await this.redis.del(keys);
    }
  }

  private async countKeys(): Promise<number> {
    let count = 0;
    for await (const keys of this.redis!.scanIterator({ MATCH: `${this.prefix}*`, COUNT: 500 })) count += keys.length;
    return count;
  }
}

function diff(after: readonly Sample[], before: readonly Sample[], name: string, where: Record<string, string>): Histogram {
  return difference(histogram(after, name, where), histogram(before, name, where));
}

function* chunks<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

function portOf(url: string, fallback: number): number {
  return Number(new URL(url).port || fallback);
}

/** Seconds → milliseconds, two decimals. */
function ms(seconds: number): number {
  return round(seconds * 1000, 2);
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
