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
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

export type TargetName = 'playhouse' | 'cluster' | 'ceiling';

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
/** A cluster drains gateways then workers (PLAYHOUSE_DRAIN_TIMEOUT_MS each, set short below). */
const STOP_TIMEOUT_MS = 20_000;
/** Linux USER_HZ: /proc reports CPU time in these ticks. */
const CLOCK_TICKS_PER_SECOND = 100;

export interface ServerProcess {
  readonly target: TargetName;
  readonly url: string;
  /** Every address clients may use (a cluster's gateways; one for the others). */
  readonly urls: readonly string[];
  /** Prometheus endpoints of every process (a cluster's gateways and worker supervisor; empty for the others). */
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
  stop(): Promise<void>;
}

export interface ServerOptions {
  /** Write a V8 CPU profile of the server's main process into this folder (node --cpu-prof). */
  readonly profileDir?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** For the cluster target (default: 1 gateway, 2 workers). */
  readonly cluster?: ClusterShape;
}

export async function startServer(target: TargetName, options: ServerOptions = {}): Promise<ServerProcess> {
  const launch = launchOf(target, options.cluster ?? { gateways: 1, workers: 2 });
  // One file per thread (V8 names them by pid and thread id); the largest is each process's main thread.
  // The cluster launcher hands these flags on to its gateways and workers, and comedy to forked workers.
  const profileFlags = options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(options.profileDir, target)}`] : [];
  const clusterEnv: NodeJS.ProcessEnv =
    target === 'cluster'
      ? { PLAYHOUSE_CLUSTER: `bench-${randomBytes(3).toString('hex')}`, PLAYHOUSE_METRICS_PORT: '0', PLAYHOUSE_DRAIN_TIMEOUT_MS: '2000' }
      : {};
  const child = spawn(
    process.execPath,
    [...profileFlags, '--import', 'tsx', '--expose-gc', '--require', path.join(__dirname, 'gc-on-request.cjs'), launch.entry, ...launch.args],
    {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: 'warn', PORT: '0', HOST: '127.0.0.1', ...clusterEnv, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    },
  );
  const { urls, output } = await listeningUrls(child, target, launch.listening);
  const url = urls[0]!;
  const metricsUrls = target === 'cluster' ? [...urls.map((u) => `${u}/metrics`), ...[...output.matchAll(/metrics=(http:\/\/\S+)/g)].map((m) => m[1]!)] : [];
  const pid = child.pid!;
  const redisPids = target === 'cluster' ? pidsNamed('redis-server') : [];
  return {
    target,
    url,
    urls,
    metricsUrls,
    pid,
    cpuSeconds: () => processTree(pid).reduce((sum, id) => sum + cpuTicks(id), 0) / CLOCK_TICKS_PER_SECOND,
    redisCpuSeconds: () => redisPids.reduce((sum, id) => sum + cpuTicks(id), 0) / CLOCK_TICKS_PER_SECOND,
    rssBytes: () => processTree(pid).reduce((sum, id) => sum + rss(id), 0),
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
    stop: () => stopChild(child),
  };
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

/** The pid and all its descendants, from /proc/<pid>/task/<tid>/children. */
function processTree(pid: number): number[] {
  const all = [pid];
  for (let i = 0; i < all.length; i++) {
    try {
      for (const tid of readdirSync(`/proc/${all[i]}/task`)) {
        const children = readFileSync(`/proc/${all[i]}/task/${tid}/children`, 'utf8').trim();
        if (children) all.push(...children.split(/\s+/).map(Number));
      }
    } catch {
      // the process exited between listing and reading
    }
  }
  return all;
}

/** Processes whose command name is `name` (Redis: the cluster's backplane, shared with the machine). */
function pidsNamed(name: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === name) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

function cpuTicks(pid: number): number {
  try {
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

function rss(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}
