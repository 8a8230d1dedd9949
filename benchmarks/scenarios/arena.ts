/**
 * arena — real-time, fan-out-heavy (BENCHMARKS.md). Rooms of 16 on a 100×100
 * grid; each client sends an input {dx, dy} at 10 Hz, 10 % of them outside the
 * limits (too fast), which must be refused. The room ticks at
 * 20 Hz and sends each player the positions that changed.
 *
 * Round trip = input sent → its acknowledgement. Observe = input sent → the
 * tick delta showing the player at its new position. Achieved tick rate =
 * deltas a client receives per second.
 */
import { guestLogin, PlayhouseClient, type RoomDeltaMessage, type RoomStateMessage } from '@playhouse/client';
import type { DriverOptions, Scenario, ScenarioDriver } from '../harness/scenario';
import { connectInBatches, errorCodeOf, settleWithin } from './shared';

const INPUT_EVERY_MS = 100;
const ILLEGAL_SHARE = 0.1;
/** Cells kept from the grid's edges, so a position a few ticks stale still gives a legal step. */
const EDGE_MARGIN = 8;

export const scenario: Scenario = {
  name: 'arena',
  description: 'real-time: 16 players per room, inputs at 10 Hz, 20 Hz tick, deltas',
  defaults: { clients: 1024, durationS: 20, thinkMs: 0 },
  quickClients: 192,
  driverModule: __filename,
  derive: (extra, playing, seconds) => ({
    tick_rate_hz: playing > 0 && seconds > 0 ? Math.round(((extra.deltas_received ?? 0) / playing / seconds) * 10) / 10 : 0,
  }),
};

interface Position {
  readonly x: number;
  readonly y: number;
}
interface ArenaView {
  readonly width: number;
  readonly height: number;
  readonly positions: Readonly<Record<string, Position>>;
}
interface ArenaDelta {
  readonly moved: Readonly<Record<string, Position>>;
}

export function createDriver(options: DriverOptions): ScenarioDriver {
  let runners: ArenaRunner[] = [];
  return {
    async start() {
      runners = await connectInBatches(options.clients, (i) => ArenaRunner.join(options, i), options.recorder);
      for (const runner of runners) runner.run();
    },
    async stop() {
      for (const runner of runners) runner.stop();
      await settleWithin(5_000, runners.map((runner) => runner.idle()));
      for (const runner of runners) runner.close();
    },
  };
}

class ArenaRunner {
  private roomId = '';
  private size = { width: 100, height: 100 };
  private position: Position | undefined;
  private timer: NodeJS.Timeout | undefined;
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];
  /** Input awaiting the delta that shows its effect. */
  private expecting: { readonly at: Position; readonly sentAt: number } | undefined;

  private constructor(
    private readonly options: DriverOptions,
    private readonly client: PlayhouseClient,
  ) {}

  static async join(options: DriverOptions, index: number): Promise<ArenaRunner> {
    const login = await guestLogin(options.url, `arena-${options.workerIndex}-${index}`);
    const client = await PlayhouseClient.connect({ url: options.url, token: login.token, ackTimeoutMs: 10_000, io: { transports: ['websocket'] } });
    const runner = new ArenaRunner(options, client);
    options.recorder.gauges.connected++;
    client.on('disconnected', () => options.recorder.gauges.connected--);
    client.on('state', (state) => options.link.oneWay(() => runner.onState(state)));
    client.on('delta', (delta) => options.link.oneWay(() => runner.onDelta(delta)));
    const match = await client.findMatch('arena');
    runner.roomId = match.roomId;
    const state = client.state(match.roomId);
    if (state) runner.onState(state);
    options.recorder.gauges.playing++;
    return runner;
  }

  run(): void {
    // Spread the clients' input clocks so they do not all fire on the same millisecond.
    this.timer = setTimeout(() => {
      this.timer = setInterval(() => this.sendInput(), INPUT_EVERY_MS);
    }, Math.random() * INPUT_EVERY_MS);
  }

  stop(): void {
    clearTimeout(this.timer);
    clearInterval(this.timer);
  }

  idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  close(): void {
    this.client.close();
  }

  private onState(state: RoomStateMessage): void {
    if (state.roomId !== this.roomId || state.view === null) return;
    const view = state.view as ArenaView;
    this.size = { width: view.width, height: view.height };
    this.position = view.positions[this.client.playerId] ?? this.position;
  }

  private onDelta(message: RoomDeltaMessage): void {
    if (message.roomId !== this.roomId) return;
    this.options.recorder.count('deltas_received');
    const moved = (message.delta as ArenaDelta).moved[this.client.playerId];
    if (!moved) return;
    this.position = moved;
    const expecting = this.expecting;
    if (expecting && moved.x === expecting.at.x && moved.y === expecting.at.y) {
      this.options.recorder.observed(performance.now() - expecting.sentAt);
      this.expecting = undefined;
    }
  }

  private sendInput(): void {
    const at = this.position;
    if (!at) return;
    const illegal = Math.random() < ILLEGAL_SHARE;
    const step = illegal ? this.illegalStep() : this.legalStep(at);
    const sentAt = performance.now();
    const recorder = this.options.recorder;
    if (illegal) recorder.counters.illegalSent++;
    else if (step.dx !== 0 || step.dy !== 0) this.expecting ??= { at: { x: at.x + step.dx, y: at.y + step.dy }, sentAt };
    this.inFlight++;
    recorder.gauges.inFlight++;
    this.options.link.oneWay(() => {
      this.client.move(this.roomId, 'input', step).then(
        () => {
          if (illegal) recorder.error('illegal-accepted');
          else recorder.counters.legalApplied++;
          recorder.roundTrip(performance.now() - sentAt);
          this.settled();
        },
        (error: unknown) => {
          const code = errorCodeOf(error);
          if (illegal && code === 'move/illegal') recorder.counters.illegalRejected++;
          else if (code === 'client/timeout') recorder.counters.unanswered++;
          else recorder.error(code);
          this.settled();
        },
      );
    });
  }

  private settled(): void {
    this.inFlight--;
    this.options.recorder.gauges.inFlight--;
    if (this.inFlight === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  /**
   * A random step of at most one cell. Under load the position this client
   * knows lags the server's by a few ticks, so it keeps EDGE_MARGIN cells from
   * the edges (stepping inwards there): the input is legal whatever the lag.
   */
  private legalStep(at: Position): { dx: number; dy: number } {
    const pick = (value: number, limit: number) => {
      if (value < EDGE_MARGIN) return 1;
      if (value >= limit - EDGE_MARGIN) return -1;
      return [-1, 0, 1][Math.floor(Math.random() * 3)]!;
    };
    return { dx: pick(at.x, this.size.width), dy: pick(at.y, this.size.height) };
  }

  /** Too fast (|d| > 1): illegal wherever the player really is. */
  private illegalStep(): { dx: number; dy: number } {
    const speed = Math.random() < 0.5 ? 2 : -3;
    return Math.random() < 0.5 ? { dx: speed, dy: 0 } : { dx: 0, dy: speed };
  }
}
