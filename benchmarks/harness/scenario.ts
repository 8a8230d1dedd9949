/** The contract between the load tester and a scenario. */
import type { FlakyLink, NetworkOptions } from './flaky-link';
import type { Recorder } from './recorder';
import type { ServerProcess } from './server-process';

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
  /** Extra measurement the scenario does on the server itself (idle: memory per client). */
  /** Figures computed from the window's counters (arena: achieved tick rate). */
  derive?(extra: Readonly<Record<string, number>>, playingClients: number, seconds: number): Record<string, number>;
  measureServer?(server: ServerProcess, phase: 'before' | 'after', connectedClients: number): Promise<Record<string, number>>;
}
