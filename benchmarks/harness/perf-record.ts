/**
 * `perf record -g` of one thread (a server's main thread) for the measured
 * window, for `npm run bench:layers`. Linux's perf must be installed (Debian:
 * linux-perf); the server must run with `--perf-basic-prof` so that its
 * JIT-compiled JavaScript has names.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Samples per second: a prime, so sampling does not beat in step with a timer of the server's. */
export const PERF_HZ = 1999;

export interface PerfRecording {
  /** Stops sampling at once; resolves when perf has written its file. */
  stop(): Promise<void>;
}

export async function recordThread(tid: number, file: string): Promise<PerfRecording> {
  const perf: ChildProcess = spawn('perf', ['record', '-F', String(PERF_HZ), '-g', '-t', String(tid), '-o', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let errors = '';
  perf.stderr!.on('data', (chunk: Buffer) => (errors = (errors + chunk.toString()).slice(-2_000)));
  // A missing perf fails here, at spawn, rather than after the whole window.
  await Promise.race([
    once(perf, 'spawn'),
    once(perf, 'error').then(([error]) => {
      throw new Error(`--perf needs Linux's perf (Debian: apt-get install linux-perf): ${String(error)}`);
    }),
  ]);
  const exited = once(perf, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  return {
    async stop() {
      if (perf.exitCode === null) perf.kill('SIGINT');
      const [code, signal] = await exited;
      // perf writes its file on SIGINT, then ends by that signal; anything else means the recording is unusable.
      if (code !== 0 && signal !== 'SIGINT') throw new Error(`perf record of thread ${tid} failed (exit ${code ?? signal}): ${errors.trim()}`);
    },
  };
}

/** What `bench:layers` needs besides the samples: how many moves the recorded window held. */
export interface PerfWindow {
  /** The recorded process, whose /tmp/perf-PID.map names its JavaScript. */
  readonly pid: number;
  /** How long that map was when the window ended (what was compiled later does not name the window's samples). */
  readonly mapBytes: number;
  readonly seconds: number;
  readonly legalMoves: number;
  readonly hz: number;
}

/** Where a run's recording goes: `DIR/playhouse.perf.data`, `DIR/ceiling.perf.data`, … */
export function perfFile(dir: string, label: string): string {
  mkdirSync(dir, { recursive: true });
  return path.resolve(dir, `${label.replace(/[^a-z0-9]+/gi, '-')}.perf.data`);
}

export function writePerfWindow(dir: string, label: string, window: PerfWindow): void {
  writeFileSync(windowFileOf(perfFile(dir, label)), `${JSON.stringify(window, null, 2)}\n`);
}

export function readPerfWindow(perfData: string): PerfWindow {
  const file = windowFileOf(perfData);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`${perfData}: no ${path.basename(file)} beside it (${(error as NodeJS.ErrnoException).code ?? String(error)}); record with npm run bench -- duel --perf DIR`);
  }
  return JSON.parse(text) as PerfWindow;
}

function windowFileOf(perfData: string): string {
  return perfData.replace(/\.perf\.data$/, '') + '.window.json';
}
