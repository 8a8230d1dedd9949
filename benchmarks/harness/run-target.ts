/**
 * Runs one scenario against one server (Playhouse or the ceiling): start the
 * server, spread the clients over worker threads, warm up, measure a fixed
 * window, stop, drain, and stop the server. A scenario with its own part of
 * a run (persist) configures the server, reads it around the window and checks
 * what it wrote once it has stopped. Bounded in time; leaves nothing running.
 */
import { statSync } from 'node:fs';
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { NetworkOptions } from './flaky-link';
import { perfMapPath } from './perf-map';
import { PERF_HZ, perfFile, recordThread, writePerfWindow } from './perf-record';
import { scrape, total as totalOf } from './prometheus';
import { addCounters, emptyCounters, type Counters, type Gauges, type WorkerReport } from './recorder';
import type { RunVariant, Scenario, ScenarioOptions, ScenarioRun, WorkerInit } from './scenario';
import { isCluster, startServer, type ClusterShape, type ServerProcess, type TargetName } from './server-process';

export interface TargetResult {
  readonly moves_per_s: number;
  readonly cpu_us_per_move: number;
  /** Legal moves applied over the whole run (ramp-up and drain included), beside illegal_sent. */
  readonly legal_total: number;
  readonly illegal_sent: number;
  readonly illegal_rejected: number;
  readonly unanswered: number;
  readonly errors: Readonly<Record<string, number>>;
  readonly rtt_ms: { readonly p50: number; readonly p95: number; readonly p99: number };
  readonly observe_ms?: { readonly p50: number; readonly p99: number };
  readonly server: { readonly cpu_pct: number; readonly rss_mb: number };
  readonly clients_connected: number;
  readonly clients_playing: number;
  readonly measured_s: number;
  /** Scenario counts over the measured window (and server figures). */
  readonly extra: Readonly<Record<string, number>>;
  /** The same scenario counts over the whole run, ramp-up and drain included. */
  readonly extra_total: Readonly<Record<string, number>>;
  readonly loadgen_cpu_pct: number;
}

export interface RunSettings {
  readonly scenario: Scenario;
  readonly options: ScenarioOptions;
  readonly network: NetworkOptions;
  readonly workers: number;
  readonly warmupS: number;
  /** Folder for a CPU profile of each server (optional). */
  readonly profileDir?: string;
  /** Folder for a `perf record` of each server's main thread over the measured window (optional). */
  readonly perfDir?: string;
  /** Extra environment for the Playhouse server (e.g. lifted rate limits for saturation runs). */
  readonly playhouseEnv?: NodeJS.ProcessEnv;
  /** Gateways and workers of the cluster target. */
  readonly cluster: ClusterShape;
  /** Called about once a second with a one-line status. */
  readonly progress: (line: string) => void;
  /** The scenario's own run or its baseline (default main). */
  readonly variant?: RunVariant;
  /** Scenario settings from the command line, for `Scenario.prepareRun`. */
  readonly scenarioSettings?: Readonly<Record<string, number>>;
}

const WORKER_ENTRY = path.join(__dirname, 'load-worker.cjs');
const STOP_TIMEOUT_MS = 15_000;

/** How long past its window a run waits for every client to be connected (scenarios that ask for it). */
const ALL_CONNECTED_TIMEOUT_MS = 60_000;

export async function runTarget(target: TargetName, settings: RunSettings): Promise<TargetResult> {
  const { scenario, options } = settings;
  const variant = settings.variant ?? 'main';
  const run = await scenario.prepareRun?.({ target, variant, options, settings: settings.scenarioSettings ?? {} });
  // Ids the clients saw over the whole run, for the scenario's checks after the server stopped.
  const seen = new Map<string, Set<string>>();
  try {
    const server = await startServer(target, {
      ...(settings.profileDir ? { profileDir: settings.profileDir } : {}),
      ...(settings.perfDir ? { perfNames: true } : {}),
      ...(target !== 'ceiling' && (settings.playhouseEnv || run) ? { env: { ...settings.playhouseEnv, ...run?.env } } : {}),
      cluster: settings.cluster,
    });
    let result: TargetResult;
    try {
      result = await measure(target, server, settings, run, seen);
    } catch (error) {
      const died = server.exitReport();
      throw died ? new Error(`the ${target} server died during the run: ${died}`) : error;
    } finally {
      await server.stop();
    }
    const checked = await run?.afterStop(seen);
    return checked ? { ...result, extra: { ...result.extra, ...checked } } : result;
  } finally {
    await run?.close(seen);
  }
}

/** Spreads the clients over worker threads, warms up, measures the window, stops the clients. */
async function measure(target: TargetName, server: ServerProcess, settings: RunSettings, run: ScenarioRun | undefined, seen: Map<string, Set<string>>): Promise<TargetResult> {
  const { scenario, options, network } = settings;
  const label = settings.variant === 'baseline' ? `${target}, baseline` : target;
  const workers: Worker[] = [];
  try {
    const gauges = new Map<number, Gauges>();
    const total = emptyCounters(); // whole run: illegal, unanswered, errors must hold over everything
    let window = emptyCounters(); // measured window only: rates
    let measuring = false;
    const rtt = createHistogram();
    const observe = createHistogram();
    const ready: Array<Promise<void>> = [];
    const done: Array<Promise<void>> = [];

    const shares = split(options.clients, settings.workers);
    shares.forEach((clients, workerIndex) => {
      // With several gateways, each load worker's clients use one of them, in turn.
      const url = server.urls[workerIndex % server.urls.length]!;
      const init: WorkerInit = { driverModule: scenario.driverModule, url, clients, workerIndex, options, network };
      const worker = new Worker(WORKER_ENTRY, { workerData: init });
      workers.push(worker);
      let markReady!: () => void;
      let markDone!: () => void;
      let fail!: (error: Error) => void;
      ready.push(new Promise<void>((resolve, reject) => ((markReady = resolve), (fail = reject))));
      done.push(new Promise<void>((resolve) => (markDone = resolve)));
      worker.on('message', (message: WorkerReport | { type: 'ready' } | { type: 'done' } | { type: 'failed'; error: string }) => {
        if (message.type === 'report') {
          gauges.set(workerIndex, message.gauges);
          addCounters(total, message.counters);
          for (const [kind, ids] of Object.entries(message.seen)) {
            let set = seen.get(kind);
            if (!set) seen.set(kind, (set = new Set()));
            for (const id of ids) set.add(id);
          }
          if (measuring) {
            addCounters(window, message.counters);
            for (const ms of message.rtt) rtt.record(Math.max(1, Math.round(ms * 1000)));
            for (const ms of message.observe) observe.record(Math.max(1, Math.round(ms * 1000)));
          }
        } else if (message.type === 'ready') markReady();
        else if (message.type === 'done') markDone();
        else if (message.type === 'failed') fail(new Error(`load worker ${workerIndex} failed: ${message.error}`));
      });
      worker.once('error', (error) => fail(error));
      worker.once('exit', () => {
        markDone();
        fail(new Error(`load worker ${workerIndex} exited early`));
      });
    });

    const started = Date.now();
    const status = (phase: string) => {
      const sum = sumGauges(gauges);
      const elapsed = Math.round((Date.now() - started) / 1000);
      const p99 = rtt.count > 0 ? (rtt.percentile(99) / 1000).toFixed(1) : '-';
      const errors = Object.values(total.errors).reduce((a, b) => a + b, 0);
      settings.progress(
        `[${label} ${scenario.name}] ${phase} ${elapsed}s  connected ${sum.connected}  playing ${sum.playing}  moves ${total.legalApplied}  p99 ${p99} ms  errors ${errors}  unanswered ${total.unanswered}`,
      );
    };
    const ticker = setInterval(() => status(measuring ? 'measuring' : 'preparing'), 1000);
    try {
      await Promise.all(ready);
      status('warming up');
      await sleep(settings.warmupS * 1000);

      const before = await scenario.measureServer?.(server, 'before', sumGauges(gauges).connected);
      await run?.windowOpened(server);
      const cpu0 = server.cpuSeconds();
      const redis0 = server.redisCpuSeconds();
      const traffic0 = await clusterTraffic(server);
      const loadgen0 = process.cpuUsage();
      // The main process's main thread: its thread id is the process id.
      const perf = settings.perfDir ? await recordThread(server.pid, perfFile(settings.perfDir, label)) : undefined;
      const t0 = performance.now();
      window = emptyCounters();
      rtt.reset();
      observe.reset();
      measuring = true;
      for (const worker of workers) worker.postMessage({ type: 'measure' });
      await sleep(options.durationS * 1000);
      if (scenario.awaitAllConnected) {
        const deadline = Date.now() + ALL_CONNECTED_TIMEOUT_MS;
        while (sumGauges(gauges).connected < options.clients && Date.now() < deadline) await sleep(100);
      }
      measuring = false;
      const seconds = (performance.now() - t0) / 1000;
      const cpu = server.cpuSeconds() - cpu0;
      // Sampling stops with the window; perf writes its file while the rest of the window's figures are read.
      const perfWritten = perf?.stop();
      perfWritten?.catch(() => undefined); // awaited below; this only keeps a failure from going unhandled meanwhile
      const mapBytes = settings.perfDir ? statSync(perfMapPath(server.pid)).size : 0;
      const redisCpu = server.redisCpuSeconds() - redis0;
      const traffic1 = await clusterTraffic(server);
      const loadgen = process.cpuUsage(loadgen0);
      const rssMb = server.rssBytes() / 2 ** 20;
      if (perfWritten && settings.perfDir) {
        await perfWritten;
        writePerfWindow(settings.perfDir, label, { pid: server.pid, mapBytes, seconds, legalMoves: window.legalApplied, hz: PERF_HZ });
      }
      const sum = sumGauges(gauges);
      const after = await scenario.measureServer?.(server, 'after', sum.connected);
      const ran = await run?.windowClosed(server, { seconds, legalMoves: window.legalApplied });

      for (const worker of workers) worker.postMessage({ type: 'stop' });
      await Promise.race([Promise.all(done), sleep(STOP_TIMEOUT_MS)]);
      status('done');

      const derived = scenario.derive?.(window.extra, sum.playing, seconds);
      // The cluster's backplane: reported beside the Node processes' CPU, not inside it.
      const redis: Record<string, number> =
        isCluster(target)
          ? {
              redis_cpu_pct: round((redisCpu / seconds) * 100, 1),
              redis_cpu_us_per_move: perMove(redisCpu * 1e6, window.legalApplied),
              // Between processes, every node's sends counted once: what the actor hops of one move cost on the wire.
              cluster_batches_per_move: perMove(traffic1.batches - traffic0.batches, window.legalApplied),
              cluster_frames_per_move: perMove(traffic1.frames - traffic0.frames, window.legalApplied),
              cluster_bytes_per_move: perMove(traffic1.bytes - traffic0.bytes, window.legalApplied),
            }
          : {};
      return summarize({ window, total, rtt, observe, seconds, cpu, rssMb, loadgenCpuS: (loadgen.user + loadgen.system) / 1e6, sum, extra: { ...before, ...after, ...derived, ...redis, ...ran } });
    } finally {
      clearInterval(ticker);
    }
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

interface Measured {
  readonly window: Counters;
  readonly total: Counters;
  readonly rtt: RecordableHistogram;
  readonly observe: RecordableHistogram;
  readonly seconds: number;
  readonly cpu: number;
  readonly rssMb: number;
  readonly loadgenCpuS: number;
  readonly sum: Gauges;
  readonly extra: Record<string, number>;
}

function summarize(m: Measured): TargetResult {
  const ms = (histogram: RecordableHistogram, p: number) => (histogram.count > 0 ? round(histogram.percentile(p) / 1000, 2) : 0);
  return {
    moves_per_s: round(m.window.legalApplied / m.seconds, 1),
    cpu_us_per_move: m.window.legalApplied > 0 ? round((m.cpu / m.window.legalApplied) * 1e6, 1) : 0,
    legal_total: m.total.legalApplied,
    illegal_sent: m.total.illegalSent,
    illegal_rejected: m.total.illegalRejected,
    unanswered: m.total.unanswered,
    errors: m.total.errors,
    rtt_ms: { p50: ms(m.rtt, 50), p95: ms(m.rtt, 95), p99: ms(m.rtt, 99) },
    ...(m.observe.count > 0 ? { observe_ms: { p50: ms(m.observe, 50), p99: ms(m.observe, 99) } } : {}),
    server: { cpu_pct: round((m.cpu / m.seconds) * 100, 1), rss_mb: round(m.rssMb, 1) },
    clients_connected: m.sum.connected,
    clients_playing: m.sum.playing,
    measured_s: round(m.seconds, 2),
    extra: { ...m.window.extra, ...m.extra },
    extra_total: m.total.extra,
    loadgen_cpu_pct: round((m.loadgenCpuS / m.seconds) * 100, 1),
  };
}

function perMove(amount: number, moves: number): number {
  return moves > 0 ? round(amount / moves, 1) : 0;
}

/** Batches, frames and bytes every node of a cluster has sent so far, from their /metrics. */
async function clusterTraffic(server: ServerProcess): Promise<{ batches: number; frames: number; bytes: number }> {
  // Parsed, not matched line by line: a worker process labels each series with its worker, a gateway does not.
  const samples = await scrape(server.metricsUrls);
  const sent = { direction: 'sent' };
  return {
    batches: totalOf(samples, 'playhouse_cluster_batches_total', sent),
    frames: totalOf(samples, 'playhouse_cluster_frames_total', sent),
    bytes: totalOf(samples, 'playhouse_cluster_bytes_total', sent),
  };
}

function split(total: number, parts: number): number[] {
  const count = Math.max(1, Math.min(parts, total));
  return Array.from({ length: count }, (_, i) => Math.floor(total / count) + (i < total % count ? 1 : 0));
}

function sumGauges(gauges: Map<number, Gauges>): Gauges {
  const sum: Gauges = { connected: 0, playing: 0, inFlight: 0 };
  for (const g of gauges.values()) {
    sum.connected += g.connected;
    sum.playing += g.playing;
    sum.inFlight += g.inFlight;
  }
  return sum;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
