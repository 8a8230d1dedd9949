/** The contract between the load tester and a scenario. */
import type { FlakyLink, NetworkOptions } from './flaky-link';
import type { Recorder } from './recorder';
import type { ServerProcess, TargetName } from './server-process';

export interface ScenarioOptions {
  readonly clients: number;
  readonly durationS: number;
  readonly thinkMs: number;
  readonly quick: boolean;
}

/** What a driver gets inside its worker thread. */
export interface DriverOptions extends ScenarioOptions {
  readonly url: string;
  /** How many clients this worker drives. */
  readonly clients: number;
  readonly workerIndex: number;
  readonly recorder: Recorder;
  readonly link: FlakyLink;
}

/** Runs in a worker thread: connects its clients, plays until told to stop. */
export interface ScenarioDriver {
  /** Connects every client and gets it playing; resolves when all are. */
  start(): Promise<void>;
  /** The measurement window opens (optional hook). */
  measuring?(): void;
  /** Stops sending, waits for what is in flight (bounded), closes the clients. */
  stop(): Promise<void>;
}

export interface WorkerInit {
  readonly driverModule: string;
  readonly url: string;
  readonly clients: number;
  readonly workerIndex: number;
  readonly options: ScenarioOptions;
  readonly network: NetworkOptions;
}

/** A scenario as the main thread sees it. */
export interface Scenario {
  readonly name: string;
  readonly description: string;
  readonly defaults: { readonly clients: number; readonly durationS: number; readonly thinkMs: number };
  readonly quickClients: number;
  /** Absolute path of the module exporting `createDriver` (loaded in each worker). */
  readonly driverModule: string;
  /** Figures computed from the window's counters (arena: achieved tick rate). */
  derive?(extra: Readonly<Record<string, number>>, playingClients: number, seconds: number): Record<string, number>;
  /**
   * The window ends only once every client is connected (bounded): idle connects its second stage during
   * the window, and on a slow machine that can take longer than a quick run's few seconds.
   */
  readonly awaitAllConnected?: boolean;
  /** Extra measurement the scenario does on the server itself (idle: memory per client). */
  measureServer?(server: ServerProcess, phase: 'before' | 'after', connectedClients: number): Promise<Record<string, number>>;
  /**
   * What this scenario is compared with instead of the ceiling, where a bare
   * Socket.IO server has nothing to compare (persist: the same server and
   * load with in-memory stores). With it, the ceiling target is refused.
   */
  readonly baseline?: { readonly label: string; readonly noCeilingBecause: string };
  /** Sets up one run (main or baseline) in the main thread: the server's environment and the hooks below. */
  prepareRun?(context: RunContext): Promise<ScenarioRun>;
}

/** Which run of a scenario: its own, or the baseline it is compared with. */
export type RunVariant = 'main' | 'baseline';

export interface RunContext {
  readonly target: TargetName;
  readonly variant: RunVariant;
  readonly options: ScenarioOptions;
  /** Scenario settings from the command line (persist: snapshotIntervalMs). */
  readonly settings: Readonly<Record<string, number>>;
}

/** What the clients saw over the whole run, by kind (see Recorder.saw). */
export type SeenByClients = ReadonlyMap<string, ReadonlySet<string>>;

/**
 * A scenario's own part of one run, in the main thread (persist: the stores,
 * the server's /metrics, the check of what was written). The load tester
 * calls `windowOpened` and `windowClosed` around the measured window,
 * `afterStop` once the server has stopped (its queues drained), and `close`
 * last, whatever happened.
 */
export interface ScenarioRun {
  /** Environment for the server, over the load tester's own. */
  readonly env: NodeJS.ProcessEnv;
  windowOpened(server: ServerProcess): Promise<void>;
  /** Figures over the window (into `extra`). */
  windowClosed(server: ServerProcess, window: { readonly seconds: number; readonly legalMoves: number }): Promise<Record<string, number>>;
  /** Checks against what the clients saw (into `extra`). */
  afterStop(seen: SeenByClients): Promise<Record<string, number>>;
  /** Removes anything the run left behind and closes connections; never throws. */
  close(seen: SeenByClients): Promise<void>;
}
