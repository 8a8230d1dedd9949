/**
 * The server under test, as a child process: Playhouse in one process
 * (`scripts/start.ts`), Playhouse as a local cluster (`scripts/cluster.ts`: one
 * gateway and forked workers against the local Redis), or the ceiling
 * (`benchmarks/ceiling/server.ts`). Reads CPU time and memory from /proc for
 * the whole process tree, so gateways and forked workers are all counted;
 * Redis, which the cluster shares with anything else on the machine, is read
 * separately.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient } from 'redis';
import { cpuSeconds, pidsNamed, processTree, rssBytes } from './proc';
import { SERVER_NODE_FLAGS } from '../../scripts/server-node-flags';

/** `cluster` runs with the cluster's default durability (`moves`); `cluster-snapshot` with durability `snapshot`. */
export type TargetName = 'playhouse' | 'cluster' | 'cluster-snapshot' | 'ceiling';

/** Whether the target is a cluster (launched by scripts/cluster.ts, on the local Redis). */
export function isCluster(target: TargetName): target is 'cluster' | 'cluster-snapshot' {
  return target === 'cluster' || target === 'cluster-snapshot';
}

/** Bytes, read in the server's main process right after a forced full GC. */
export interface MemoryAfterGc {
  readonly rss: number;
  /** Live JavaScript objects: exact, where RSS also holds what the allocator kept. */
  readonly heapUsed: number;
  /** Memory of C++ objects bound to JavaScript (sockets' buffers). */
  readonly external: number;
}

const ROOT = path.resolve(__dirname, '..', '..');

/** How to start each target, and the line that says where it listens. */
interface Launch {
  readonly entry: string;
  readonly args: readonly string[];
  readonly listening: RegExp;
}

function launchOf(target: TargetName, cluster: ClusterShape): Launch {
  switch (target) {
    case 'playhouse':
      return { entry: 'scripts/start.ts', args: ['--port', '0', '--host', '127.0.0.1'], listening: /url=(http:\/\/127\.0\.0\.1:\d+)/ };
    case 'cluster':
    case 'cluster-snapshot':
      return {
        entry: 'scripts/cluster.ts',
        args: ['--gateways', String(cluster.gateways), '--workers', String(cluster.workers), '--port', '0'],
        // The launcher prints each gateway's ready line, then its own once all are up.
        listening: /role=gateway url=(http:\/\/\S+)[\s\S]*PLAYHOUSE_READY role=cluster/,
      };
    case 'ceiling':
      return { entry: 'benchmarks/ceiling/server.ts', args: ['--port', '0', '--host', '127.0.0.1'], listening: /listening on (http:\/\/127\.0\.0\.1:\d+)/ };
  }
}

/** The cluster target's size: gateways and forked workers. */
export interface ClusterShape {
  readonly gateways: number;
  readonly workers: number;
}
const START_TIMEOUT_MS = 60_000;
/** How much of a server's latest output is kept, to show if it dies. */
const OUTPUT_TAIL_CHARS = 8_000;
/** A cluster drains gateways then workers (PLAYHOUSE_DRAIN_TIMEOUT_MS each, set short below). */
const STOP_TIMEOUT_MS = 20_000;

export interface ServerProcess {
  readonly target: TargetName;
  readonly url: string;
  /** Every address clients may use (a cluster's gateways; one for the others). */
  readonly urls: readonly string[];
  /** Prometheus endpoints of every Playhouse process (a cluster's gateways and worker supervisor; empty for the ceiling). */
  readonly metricsUrls: readonly string[];
  readonly pid: number;
  /** CPU seconds (user + system) used so far by the server and its descendants. */
  cpuSeconds(): number;
  /** CPU seconds used so far by the Redis server the cluster target talks to (0 for the others). */
  redisCpuSeconds(): number;
  /** Resident memory of the server and its descendants, in bytes. */
  rssBytes(): number;
  /** Forces a full GC in the server's main process and returns its memory afterwards. */
  collectGarbage(): Promise<MemoryAfterGc>;
  /** Undefined while the server runs; once it exited by itself, how, with the end of its output. */
  exitReport(): string | undefined;
  stop(): Promise<void>;
}

export interface ServerOptions {
  /** Write a V8 CPU profile of the server's main process into this folder (node --cpu-prof). */
  readonly profileDir?: string;
  /** Name JIT-compiled JavaScript for Linux's perf (node --perf-basic-prof), for a `--perf` recording. */
  readonly perfNames?: boolean;
  readonly env?: NodeJS.ProcessEnv;
  /** For the cluster target (default: 1 gateway, 2 workers). */
  readonly cluster?: ClusterShape;
  /** Append everything the server prints to this file (its logs, at the LOG_LEVEL given in `env`). */
  readonly outputFile?: string;
}

export async function startServer(target: TargetName, options: ServerOptions = {}): Promise<ServerProcess> {
  const launch = launchOf(target, options.cluster ?? { gateways: 1, workers: 2 });
  // One file per thread (V8 names them by pid and thread id); the largest is each process's main thread.
  // The cluster launcher hands these flags on to its gateways and workers, and comedy to forked workers.
  const profileFlags = [
    ...(options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(options.profileDir, target)}`] : []),
    ...(options.perfNames ? ['--perf-basic-prof'] : []),
  ];
  // Every run writes to stores of its own, removed when it stops: data left by earlier runs would grow
  // (a bigger SQLite file makes writes dearer) and skew later runs. Match results of a cluster
  // run stay in memory unless the scenario says otherwise (persist writes them to MariaDB and counts them).
  const runName = `bench-${randomBytes(3).toString('hex')}`;
  const sqliteFile = path.join(tmpdir(), `playhouse-${runName}.sqlite`);
  const clusterEnv: NodeJS.ProcessEnv =
    isCluster(target)
      ? {
          PLAYHOUSE_CLUSTER: runName,
          PLAYHOUSE_METRICS_PORT: '0',
          PLAYHOUSE_DRAIN_TIMEOUT_MS: '2000',
          PLAYHOUSE_RECORD_STORE: 'memory',
          PLAYHOUSE_DURABILITY: target === 'cluster-snapshot' ? 'snapshot' : 'moves',
        }
      : target === 'playhouse'
        ? { PLAYHOUSE_SQLITE_FILE: sqliteFile }
        : {};
  const child = spawn(
    process.execPath,
    // Playhouse's servers run with the flags it ships with; the ceiling, a bare Socket.IO server, with Node's defaults.
    [...(target === 'ceiling' ? [] : SERVER_NODE_FLAGS), ...profileFlags, '--import', 'tsx', '--expose-gc', '--require', path.join(__dirname, 'gc-on-request.cjs'), launch.entry, ...launch.args],
    {
      cwd: ROOT,
      // Every client of a run signs in from this machine's address: no sign-in limit applies.
      env: { ...process.env, LOG_LEVEL: 'warn', PORT: '0', HOST: '127.0.0.1', PLAYHOUSE_SIGN_IN_ATTEMPTS: '1000000000', ...clusterEnv, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    },
  );
  const { urls, output } = await listeningUrls(child, target, launch.listening);
  const url = urls[0]!;
  // The end of the server's output, for when it dies mid-run (a crash, a fatal error it logged).
  let tail = output.slice(-OUTPUT_TAIL_CHARS);
  const copy = options.outputFile ? createWriteStream(options.outputFile, { flags: 'a' }) : undefined;
  copy?.write(output);
  const keep = (chunk: Buffer) => {
    copy?.write(chunk);
    tail = (tail + chunk.toString()).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let stopping = false;
  let exitedBy: string | undefined;
  child.once('exit', (code, signal) => (exitedBy = `exited with ${signal ?? code}`));
  const metricsUrls =
    isCluster(target)
      ? [...urls.map((u) => `${u}/metrics`), ...[...output.matchAll(/metrics=(http:\/\/\S+)/g)].map((m) => m[1]!)]
      : target === 'playhouse'
        ? [`${url}/metrics`]
        : [];
  const pid = child.pid!;
  const redisPids = isCluster(target) ? pidsNamed('redis-server') : [];
  return {
    target,
    url,
    urls,
    metricsUrls,
    pid,
    cpuSeconds: () => cpuSeconds(processTree(pid)),
    redisCpuSeconds: () => cpuSeconds(redisPids),
    rssBytes: () => rssBytes(processTree(pid)),
    collectGarbage: () =>
      new Promise((resolve) => {
        const onMessage = (message: { benchmark?: string } & Partial<MemoryAfterGc>) => {
          if (message.benchmark !== 'gc-done') return;
          child.off('message', onMessage);
          resolve({ rss: message.rss ?? 0, heapUsed: message.heapUsed ?? 0, external: message.external ?? 0 });
        };
        child.on('message', onMessage);
        child.send({ benchmark: 'gc' });
      }),
    exitReport: () => (exitedBy && !stopping ? `${exitedBy}; its last output:\n${tail}` : undefined),
    stop: async () => {
      stopping = true;
      await stopChild(child);
      await rm(sqliteFile, { force: true });
      // SQLite's log, when the server died before folding it into the file.
      await rm(`${sqliteFile}-wal`, { force: true });
      if (isCluster(target)) await forgetRedisKeys(`${runName}:`);
    },
  };
}

/** Removes a cluster run's keys (snapshots, profiles, seat records) from the local Redis. */
async function forgetRedisKeys(prefix: string): Promise<void> {
  const redis = createClient({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', disableOfflineQueue: true, socket: { reconnectStrategy: false, connectTimeout: 2000 } });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    for await (const keys of redis.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) if (keys.length > 0) await redis.del(keys);
  } catch {
    // Redis gone: nothing to clean that anyone could read.
  } finally {
    redis.destroy();
  }
}

/** Waits for `listening` in the output; returns every URL it names (all gateways of a cluster). */
function listeningUrls(child: ChildProcess, target: TargetName, listening: RegExp): Promise<{ urls: string[]; output: string }> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => fail(new Error(`${target} did not start within ${START_TIMEOUT_MS / 1000} s:\n${output}`)), START_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = listening.exec(output);
      if (match) {
        clearTimeout(timer);
        const urls = [...output.matchAll(/role=gateway url=(http:\/\/\S+)/g)].map((m) => m[1]!);
        resolve({ urls: urls.length > 0 ? urls : [match[1]!], output });
      }
    };
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => fail(new Error(`${target} exited with ${code} before listening:\n${output}`)));
  });
}

/** SIGTERM (a cluster drains its gateways, then its workers), SIGKILL past a bound; no descendant survives. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const family = processTree(child.pid!).slice(1);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
  for (const pid of family) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone, as it should be
    }
  }
}
