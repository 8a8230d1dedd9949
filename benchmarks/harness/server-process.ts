/**
 * The server under test, as a child process: Playhouse (`scripts/start.ts`) or
 * the ceiling (`benchmarks/ceiling/server.ts`). Reads its CPU time and memory
 * from /proc for the whole process tree, so actors forked into child processes
 * are counted too.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

export type TargetName = 'playhouse' | 'ceiling';

/** Bytes, read in the server's main process right after a forced full GC. */
export interface MemoryAfterGc {
  readonly rss: number;
  /** Live JavaScript objects: exact, where RSS also holds what the allocator kept. */
  readonly heapUsed: number;
  /** Memory of C++ objects bound to JavaScript (sockets' buffers). */
  readonly external: number;
}

const ROOT = path.resolve(__dirname, '..', '..');
const ENTRY: Readonly<Record<TargetName, string>> = {
  playhouse: 'scripts/start.ts',
  ceiling: 'benchmarks/ceiling/server.ts',
};
/** Linux USER_HZ: /proc reports CPU time in these ticks. */
const CLOCK_TICKS_PER_SECOND = 100;

export interface ServerProcess {
  readonly target: TargetName;
  readonly url: string;
  readonly pid: number;
  /** CPU seconds (user + system) used so far by the server and its descendants. */
  cpuSeconds(): number;
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
}

export async function startServer(target: TargetName, options: ServerOptions = {}): Promise<ServerProcess> {
  // One file per thread (V8 names them by pid and thread id); the largest is the main thread.
  const profiling = options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}/${target}`] : [];
  const child = spawn(
    process.execPath,
    [...profiling, '--import', 'tsx', '--expose-gc', '--require', path.join(__dirname, 'gc-on-request.cjs'), ENTRY[target], '--port', '0', '--host', '127.0.0.1'],
    {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: 'warn', PORT: '0', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    },
  );
  const url = await listeningUrl(child, target);
  const pid = child.pid!;
  return {
    target,
    url,
    pid,
    cpuSeconds: () => processTree(pid).reduce((sum, id) => sum + cpuTicks(id), 0) / CLOCK_TICKS_PER_SECOND,
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

function listeningUrl(child: ChildProcess, target: TargetName): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => fail(new Error(`${target} did not start within 30 s:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /http:\/\/127\.0\.0\.1:\d+/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[0]);
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

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
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
