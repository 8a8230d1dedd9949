/**
 * chaos — a cluster under a duel load while faults are injected on a
 * schedule, and a verdict per fault from the clients' own records and the
 * stored match results (`npm run bench -- chaos [--quick]`).
 *
 * The cluster (2 gateways, 2 forked workers, scripts/cluster.ts, which starts
 * again any role that dies) runs on a redis-server and a mariadbd of the
 * load tester's own, so both can be killed and restarted. Clients play
 * Connect Four in this process (legal moves only, think time, rematch at
 * each game's end) and write everything they are told into a Ledger
 * (harness/chaos-ledger.ts), which judges each fault window: acknowledged
 * moves lost, moves doubled, results missing or contradicting, clients
 * stuck, seconds to recover. How each fault is made: harness/faults.ts.
 */
import { writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { createConnection, type RowDataPacket } from 'mysql2/promise';
import { guestLogin, PlayhouseClient, PlayhouseError, type RoomStateMessage } from '@playhouse/client';
import { formatVerdicts, judge, Ledger, meetsTargets, type StoredResult, type Window } from '../harness/chaos-ledger';
import { inject, labelOf, type Fault, type FaultKind, type FaultWindow } from '../harness/faults';
import { haveMariadbd, startPrivateMariadb, startPrivateRedis, type PrivateServer } from '../harness/private-services';
import { startServer, type ServerProcess } from '../harness/server-process';
import { startSilentProxy, type SilentProxy } from '../harness/silent-proxy';

/** Every client must be playing again this long after a fault ended (the target), and is stuck otherwise. */
const RECOVER_WITHIN_MS = 10_000;

/** Each fault, one after another, with quiet time between them. */
const FULL_SCHEDULE: readonly Fault[] = [
  { kind: 'worker-kill' },
  { kind: 'worker-term' },
  { kind: 'worker-stop' },
  { kind: 'gateway-kill' },
  { kind: 'gateway-term' },
  { kind: 'redis-restart-empty', seconds: 10 },
  { kind: 'redis-restart-empty', seconds: 60 },
  { kind: 'mariadb-kill', seconds: 10 },
  { kind: 'silent-connection', seconds: 8 },
];
/** A subset that still goes through the cluster's fault handling, in under two minutes. */
const QUICK_SCHEDULE: readonly Fault[] = [{ kind: 'worker-kill' }, { kind: 'worker-term' }, { kind: 'worker-stop' }, { kind: 'redis-restart-empty', seconds: 4 }, { kind: 'gateway-kill' }];

const FAULT_KINDS: readonly FaultKind[] = ['worker-kill', 'worker-term', 'worker-stop', 'gateway-kill', 'gateway-term', 'redis-restart-empty', 'mariadb-kill', 'silent-connection'];

export const CHAOS_USAGE = `chaos: a cluster under a duel load, faults injected on a schedule, a verdict per fault
  npm run bench -- chaos [--quick] [--clients N] [--think MS] [--faults LIST] [--target cluster|cluster-snapshot] [--out FILE]
  --quick           5 faults (worker kill -9 and SIGTERM, worker SIGSTOP, Redis restarted empty, gateway kill -9), short cluster timings; CI runs it
  --faults LIST     a comma list of faults instead of the schedule (kind or kind:seconds), e.g. worker-kill,redis-restart-empty:10
                    kinds: ${FAULT_KINDS.join(', ')}
  --target T        cluster (durability moves, default) or cluster-snapshot (durability snapshot: a worker kill loses moves)
  --ledger FILE     write every record the clients made there (JSON), to look into a failure
  --server-log FILE write the cluster's output there (with LOG_LEVEL=info in the environment, every node's log)
  --quiet S         seconds of quiet play after each fault (default 15; --quick: 12)
Exit code 1 when any target is missed: a move lost or doubled, a result missing or contradicting, a client stuck, recovery over 10 s.
`;

interface ConnectFourView {
  readonly columns: number;
  readonly rows: number;
  readonly board: ReadonlyArray<ReadonlyArray<number | null>>;
  readonly currentPlayer: string | null;
  readonly moveCount: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const codeOf = (error: unknown) => (error instanceof PlayhouseError ? error.code : 'client/exception');
/** Answers that leave a move's fate unknown: it may have been applied. */
const UNSURE = new Set(['client/timeout', 'client/disconnected', 'server/unavailable']);

/** One player: plays on its turn, votes a rematch at each game's end, and writes what it sees into the ledger. */
class ChaosPlayer {
  private client!: PlayhouseClient;
  private roomId = '';
  private busy = false;
  private stopped = false;
  private votedGame = -1;
  private lastProgressKey = '';
  private nudge: NodeJS.Timeout | undefined;

  private constructor(
    private readonly url: string,
    private readonly ledger: Ledger,
    private readonly thinkMs: number,
  ) {}

  static async join(url: string, name: string, ledger: Ledger, thinkMs: number): Promise<ChaosPlayer> {
    const player = new ChaosPlayer(url, ledger, thinkMs);
    await player.connect(name);
    // A real player keeps trying: whatever was refused or went unanswered, it looks at the board again.
    player.nudge = setInterval(() => player.act(), 500);
    return player;
  }

  get id(): string {
    return this.client.playerId;
  }

  private async connect(name: string): Promise<void> {
    const login = await guestLogin(this.url, name);
    this.client = await PlayhouseClient.connect({
      url: this.url,
      token: login.token,
      ackTimeoutMs: 30_000,
      reconnect: { initialDelayMs: 100, maxDelayMs: 1000 },
      io: { transports: ['websocket'] },
    });
    this.client.on('state', (state) => this.onState(state));
    this.client.on('error', (error) => {
      this.ledger.error(this.id, error.code);
      if (error.code === 'room/lost' && error.roomId === this.roomId) void this.findMatch();
    });
    this.client.on('closed', (error) => this.ledger.error(this.id, `closed:${error.code}`));
    // How each reconnection went, so a stuck client's record says whether it ever got back.
    this.client.on('connection', (event) => event.state === 'connected' && this.ledger.error(this.id, `reconnected:${event.resumed ?? 'fresh'}`));
    const seated = this.client.session.rooms[0];
    if (seated) this.roomId = seated;
    else await this.findMatch();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.nudge);
  }

  close(): void {
    this.client.close();
  }

  private async findMatch(): Promise<void> {
    this.busy = true;
    try {
      this.roomId = (await this.client.findMatch('connect-four')).roomId;
    } catch (error) {
      this.ledger.error(this.id, `match:${codeOf(error)}`);
      // Tried again at the next nudge: a refusal that comes at once (a closed client) must not loop.
      return this.rest();
    }
    this.busy = false;
    const current = this.client.state(this.roomId);
    if (current) this.onState(current);
  }

  private onState(state: RoomStateMessage): void {
    if (state.roomId !== this.roomId) return;
    const view = state.view as ConnectFourView | null;
    const at = Date.now();
    this.ledger.state({
      at,
      client: this.id,
      room: state.roomId,
      game: state.gameNumber,
      version: state.version,
      status: state.status,
      moveCount: view?.moveCount ?? 0,
      board: view?.board ?? [],
      seats: Object.fromEntries(state.players.map((player) => [player.playerId, player.seat])),
      outcome: state.outcome ? { winners: state.outcome.winners, draw: state.outcome.draw } : null,
    });
    // Progress is play: a new move, a new game or a new status (not a presence change).
    const key = `${state.roomId}|${state.gameNumber}|${view?.moveCount ?? 0}|${state.status}`;
    if (key !== this.lastProgressKey) {
      this.lastProgressKey = key;
      this.ledger.progressed(this.id, at);
    }
    this.act();
  }

  /** With nothing in flight: a rematch vote after a game, a move on our turn, a new match if the opponent left. */
  private act(): void {
    if (this.stopped || this.busy) return;
    const state = this.client.state(this.roomId);
    if (!state) return;
    if (state.status === 'over' && state.outcome?.reason === 'opponent-left') {
      this.busy = true;
      void this.client
        .leave(this.roomId)
        .catch(() => undefined)
        .then(() => this.findMatch());
      return;
    }
    if (state.status === 'over' && this.votedGame !== state.gameNumber) {
      this.busy = true;
      const game = state.gameNumber;
      this.client.rematch(this.roomId).then(
        () => {
          this.votedGame = game;
          this.idle();
        },
        (error: unknown) => {
          this.ledger.error(this.id, `rematch:${codeOf(error)}`);
          this.rest();
        },
      );
      return;
    }
    const view = state.view as ConnectFourView | null;
    if (state.status !== 'playing' || !view || view.currentPlayer !== this.id) return;
    this.busy = true;
    setTimeout(() => this.move(), Math.random() * 2 * this.thinkMs);
  }

  private move(): void {
    const state = this.client.state(this.roomId);
    const view = state?.view as ConnectFourView | undefined;
    if (this.stopped || !state || !view || state.status !== 'playing' || view.currentPlayer !== this.id) return this.idle();
    const top = view.board[view.rows - 1] ?? [];
    const open = Array.from({ length: view.columns }, (_, column) => column).filter((column) => top[column] === null);
    const column = open[Math.floor(Math.random() * open.length)]!;
    const room = state.roomId;
    const game = state.gameNumber;
    this.client.move(room, 'drop', { column }, state.version).then(
      (accepted) => {
        // A re-sent move the server remembered is answered with its version alone: the board at that version is
        // the one a state of the same version showed, if one came; otherwise the ack still counts, with no board to check.
        const current = this.client.state(room);
        const after = accepted.state ?? (current?.version === accepted.version ? current : undefined);
        const board = after ? (after.view as ConnectFourView).board : [];
        this.ledger.ack({ at: Date.now(), client: this.id, room, game: after?.gameNumber ?? game, version: accepted.version, board });
        this.idle();
      },
      (error: unknown) => {
        const code = codeOf(error);
        if (UNSURE.has(code)) this.ledger.unanswered(this.id, room, game);
        if (!this.stopped || code !== 'client/disconnected') this.ledger.error(this.id, `move:${code}`);
        this.rest();
      },
    );
  }

  private idle(): void {
    this.busy = false;
    this.act();
  }

  /** After a failure: nothing more until the next nudge or state. */
  private rest(): void {
    this.busy = false;
  }
}

interface ChaosOptions {
  readonly quick: boolean;
  readonly clients: number;
  readonly thinkMs: number;
  readonly schedule: readonly Fault[];
  readonly target: 'cluster' | 'cluster-snapshot';
  readonly quietS: number;
  readonly out: string | undefined;
  readonly ledger: string | undefined;
  readonly serverLog: string | undefined;
}

function parseOptions(argv: readonly string[]): ChaosOptions {
  const { values } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      quick: { type: 'boolean', default: false },
      clients: { type: 'string' },
      think: { type: 'string', default: '200' },
      faults: { type: 'string' },
      target: { type: 'string', default: 'cluster' },
      quiet: { type: 'string' },
      out: { type: 'string' },
      ledger: { type: 'string' },
      'server-log': { type: 'string' },
    },
  });
  const quick = values.quick === true;
  const positive = (name: string, raw: string, min: number) => {
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min) throw new Error(`--${name} must be a number ≥ ${min}, got '${raw}'`);
    return value;
  };
  const schedule = values.faults
    ? values.faults.split(',').map((item): Fault => {
        const [kind, seconds] = item.trim().split(':');
        if (!FAULT_KINDS.includes(kind as FaultKind)) throw new Error(`unknown fault '${kind}': ${FAULT_KINDS.join(', ')}`);
        return seconds === undefined ? { kind: kind as FaultKind } : { kind: kind as FaultKind, seconds: positive('faults', seconds, 1) };
      })
    : quick
      ? QUICK_SCHEDULE
      : FULL_SCHEDULE;
  if (values.target !== 'cluster' && values.target !== 'cluster-snapshot') throw new Error(`chaos runs against cluster or cluster-snapshot, got '${values.target}'`);
  const clients = Math.round(positive('clients', values.clients ?? (quick ? '40' : '100'), 2));
  return {
    quick,
    // Pairs: an odd client out would wait alone and look stuck.
    clients: clients % 2 === 0 ? clients : clients + 1,
    thinkMs: positive('think', values.think ?? '200', 0),
    schedule,
    target: values.target,
    quietS: positive('quiet', values.quiet ?? (quick ? '12' : '15'), RECOVER_WITHIN_MS / 1000),
    out: values.out,
    ledger: values.ledger,
    serverLog: values['server-log'],
  };
}

/** `npm run bench -- chaos ...`: resolves with the exit code. */
export async function runChaos(argv: readonly string[]): Promise<number> {
  const options = parseOptions(argv);
  if (!haveMariadbd()) throw new Error('chaos needs mariadbd (apt-get install mariadb-server) for a MariaDB of its own');
  const log = (line: string) => process.stderr.write(`[chaos ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
  // Quick: short cluster timings so a frozen worker is declared gone in 1.5 s. Full: the defaults.
  const timings = options.quick ? { heartbeatMs: 250, deadAfterMs: 1500 } : { heartbeatMs: 1000, deadAfterMs: 4000 };
  const cluster = `bench-chaos-${randomBytes(3).toString('hex')}`;
  const ledger = new Ledger();
  const players: ChaosPlayer[] = [];
  let redis: PrivateServer | undefined;
  let mariadb: PrivateServer | undefined;
  let proxy: SilentProxy | undefined;
  let server: ServerProcess | undefined;
  const windows: Window[] = [];
  const details: string[] = [];
  let runEndedAt = 0;
  let stored: Map<string, StoredResult> | undefined;
  try {
    [redis, mariadb] = await Promise.all([startPrivateRedis(), startPrivateMariadb()]);
    log(`private redis on :${redis.port}, mariadb on :${mariadb.port}; starting the cluster (${options.target})`);
    server = await startServer(options.target, {
      cluster: { gateways: 2, workers: 2 },
      ...(options.serverLog ? { outputFile: options.serverLog } : {}),
      env: {
        ...(process.env.LOG_LEVEL ? { LOG_LEVEL: process.env.LOG_LEVEL } : {}),
        REDIS_URL: redis.url,
        PLAYHOUSE_CLUSTER: cluster,
        PLAYHOUSE_RECORD_STORE: 'mariadb',
        PLAYHOUSE_MARIADB_URL: mariadb.url,
        PLAYHOUSE_HEARTBEAT_MS: String(timings.heartbeatMs),
        PLAYHOUSE_DEAD_AFTER_MS: String(timings.deadAfterMs),
        // A silent connection is noticed after interval + timeout.
        PLAYHOUSE_PING_INTERVAL_MS: '2000',
        PLAYHOUSE_PING_TIMEOUT_MS: '2000',
      },
    });
    const urls = server.urls;
    if (options.schedule.some((fault) => fault.kind === 'silent-connection')) proxy = await startSilentProxy(new URL(urls[0]!));
    // Clients alternate between the gateways; with a silent-connection fault, every fourth goes through the relay.
    const urlOf = (i: number) => (proxy && i % 4 === 0 ? proxy.url : urls[i % urls.length]!);
    for (let start = 0; start < options.clients; start += 10) {
      const batch = await Promise.allSettled(Array.from({ length: Math.min(10, options.clients - start) }, (_, i) => ChaosPlayer.join(urlOf(start + i), `chaos-${start + i}`, ledger, options.thinkMs)));
      for (const joined of batch) {
        if (joined.status === 'fulfilled') players.push(joined.value);
        else throw new Error(`a client could not join: ${String(joined.reason)}`);
      }
    }
    log(`${players.length} clients playing; quiet start`);
    const runStartedAt = Date.now();
    windows.push({ label: 'quiet start', startedAt: runStartedAt, endedAt: runStartedAt, isFault: false });
    details.push('');
    await sleep(options.quietS * 1000);
    const targets = { cluster, redis, mariadb, proxy, deadAfterMs: timings.deadAfterMs };
    for (const fault of options.schedule) {
      log(`fault: ${labelOf(fault)}`);
      const window: FaultWindow = await inject(fault, targets);
      windows.push({ label: window.label, startedAt: window.startedAt, endedAt: window.endedAt, isFault: true });
      details.push(window.detail);
      log(`  ${window.detail}, over after ${((window.endedAt - window.startedAt) / 1000).toFixed(1)} s; quiet for ${options.quietS} s`);
      await sleep(options.quietS * 1000);
    }
    runEndedAt = Date.now();
    for (const player of players) player.stop();
    // What is in flight gets its answer before the clients close.
    await sleep(2000);
    for (const player of players) player.close();
    // Stopping drains the cluster: the persistence queues flush their match results.
    await server.stop();
    server = undefined;
    stored = await readResults(mariadb.url);
  } finally {
    for (const player of players) {
      player.stop();
      player.close();
    }
    await server?.stop();
    await proxy?.close();
    await redis?.destroy();
    await mariadb?.destroy();
  }
  const verdicts = judge(ledger, windows, details, runEndedAt, stored, RECOVER_WITHIN_MS);
  process.stdout.write(`\nchaos (${options.quick ? 'quick' : 'full'}, ${options.target}, ${options.clients} clients)\n${formatVerdicts(verdicts)}\n`);
  const passed = verdicts.every(meetsTargets);
  if (options.ledger) writeFileSync(options.ledger, JSON.stringify({ windows, states: ledger.states, acks: ledger.acks, errors: ledger.errors, unsure: Object.fromEntries(ledger.unsure), progress: Object.fromEntries(ledger.progress) }));
  process.stdout.write(`\n${passed ? 'every target met' : 'TARGETS MISSED'}\n`);
  if (options.out) {
    const report = { scenario: 'chaos', mode: options.quick ? 'quick' : 'full', target: options.target, clients: options.clients, think_ms: options.thinkMs, recover_within_s: RECOVER_WITHIN_MS / 1000, passed, windows: verdicts };
    writeFileSync(options.out, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`JSON written to ${options.out}\n`);
  }
  return passed ? 0 : 1;
}

async function readResults(url: string): Promise<Map<string, StoredResult>> {
  const connection = await createConnection(url);
  try {
    const [rows] = await connection.query<RowDataPacket[]>('SELECT match_id, winners, draw FROM match_results');
    const results = new Map<string, StoredResult>();
    for (const row of rows) {
      const matchId = String(row['match_id']);
      // The key is the match id, so a game stored twice would be refused, not duplicated: one row each.
      results.set(matchId, { matchId, winners: JSON.parse(String(row['winners'])) as string[], draw: Boolean(row['draw']) });
    }
    return results;
  } finally {
    await connection.end();
  }
}
