/**
 * Test support: a real cluster on this machine — gateway and worker processes
 * started with `scripts/start.ts` (or its build) as real child processes
 * against the real Redis, each cluster under its own name so runs never see each other.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { NodeInfo } from '../../actors/cluster/backplane';
import { guestLogin, PlayhouseClient, type ClientOptions } from '@playhouse/client';
import { REDIS_URL } from './services';

const ROOT = path.resolve(__dirname, '..', '..');
const START = 'scripts/start.ts';

/**
 * How a script of scripts/ runs: from source through tsx (as `npm start`
 * does), or from the build in dist/ (`npm run build`) with plain node, as
 * production does.
 */
export type Launch = 'source' | 'build';

/** node's arguments that run `script` (a path from the repository root, `scripts/<name>.ts`) as `launch` says. */
export function scriptCommand(script: string, launch: Launch): string[] {
  if (launch === 'source') return ['--import', 'tsx', path.resolve(ROOT, script)];
  return [path.resolve(ROOT, 'dist', script.replace(/\.ts$/, '.js'))];
}

export interface ClusterProcess {
  readonly role: string;
  readonly child: ChildProcess;
  /** Gateways: base URL. */
  readonly url: string;
  /** The fields of the process's PLAYHOUSE_READY line (url=..., listen=..., workers=...). */
  readonly ready: Readonly<Record<string, string>>;
  /** Everything the process printed (stdout and stderr), for failure messages. */
  output(): string;
  /** Resolves when the process exits, with its exit code or signal. */
  readonly exited: Promise<number | NodeJS.Signals>;
  kill(signal?: NodeJS.Signals): void;
}

export interface TestCluster {
  readonly name: string;
  readonly gateways: ClusterProcess[];
  readonly workers: ClusterProcess[];
  env: NodeJS.ProcessEnv;
  startGateway(extraEnv?: NodeJS.ProcessEnv): Promise<ClusterProcess>;
  startWorkers(count: number, mode?: 'forked' | 'threaded' | 'in-memory' | 'remote', extraEnv?: NodeJS.ProcessEnv): Promise<ClusterProcess>;
  /** Logs a guest in and connects it over WebSocket to `gateway`. */
  player(gateway: ClusterProcess, name?: string, options?: Pick<ClientOptions, 'ackTimeoutMs'>): Promise<PlayhouseClient>;
  /** Closes every client, stops every process (SIGKILL after a bound), leaves nothing behind. */
  stop(): Promise<void>;
}

export interface ClusterTimings {
  readonly heartbeatMs?: number;
  readonly deadAfterMs?: number;
  readonly drainTimeoutMs?: number;
}

export function createTestCluster(timings: ClusterTimings = {}, launch: Launch = 'source'): TestCluster {
  const name = `test-${process.pid}-${randomBytes(3).toString('hex')}`;
  const clients: PlayhouseClient[] = [];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: '0',
    HOST: '127.0.0.1',
    REDIS_URL,
    PLAYHOUSE_CLUSTER: name,
    PLAYHOUSE_TOKEN_SECRET: randomBytes(32).toString('base64url'),
    PLAYHOUSE_HEARTBEAT_MS: String(timings.heartbeatMs ?? 250),
    PLAYHOUSE_DEAD_AFTER_MS: String(timings.deadAfterMs ?? 1500),
    PLAYHOUSE_DRAIN_TIMEOUT_MS: String(timings.drainTimeoutMs ?? 5000),
    PLAYHOUSE_METRICS_PORT: '0',
    // Snapshots go to the cluster's Redis (the default); match results stay in each worker's memory unless a test asks for MariaDB.
    PLAYHOUSE_RECORD_STORE: 'memory',
    // Gateways do not watch games/ (and publish versions) unless a test of hot reload asks.
    PLAYHOUSE_GAMES_WATCH: 'false',
    // Tests log in many players from one address; the sign-in limit has tests of its own.
    PLAYHOUSE_SIGN_IN_ATTEMPTS: '100000',
    LOG_LEVEL: process.env.CLUSTER_LOG_LEVEL ?? 'warn',
  };
  let gatewayCount = 0;
  const cluster: TestCluster = {
    name,
    gateways: [],
    workers: [],
    env,
    async startGateway(extraEnv = {}) {
      const gateway = await startProcess('gateway', { ...cluster.env, PLAYHOUSE_GATEWAY_ID: `${name}-gw${++gatewayCount}`, ...extraEnv }, launch);
      cluster.gateways.push(gateway);
      return gateway;
    },
    async startWorkers(count, mode = 'forked', extraEnv = {}) {
      const workers = await startProcess('worker', { ...cluster.env, PLAYHOUSE_WORKERS: String(count), PLAYHOUSE_WORKER_MODE: mode, ...extraEnv }, launch);
      cluster.workers.push(workers);
      return workers;
    },
    async player(gateway, playerName, options = {}) {
      const login = await guestLogin(gateway.url, playerName);
      const client = await PlayhouseClient.connect({ url: gateway.url, token: login.token, io: { transports: ['websocket'] }, ...options });
      clients.push(client);
      return client;
    },
    async stop() {
      for (const client of clients) client.close();
      await Promise.all([...cluster.gateways, ...cluster.workers].map((process) => stopProcess(process)));
    },
  };
  return cluster;
}

/** Starts `scripts/start.ts --role <role>` and resolves once it prints its ready line. */
export function startProcess(role: 'gateway' | 'worker', env: NodeJS.ProcessEnv, launch: Launch = 'source'): Promise<ClusterProcess> {
  return startScript(role, START, ['--role', role], env, launch);
}

/** Starts a script of scripts/ (through tsx unless `launch` says build) and resolves once it prints `PLAYHOUSE_READY`; rejects (with its output) if it exits first. */
export function startScript(role: string, script: string, args: readonly string[], env: NodeJS.ProcessEnv, launch: Launch = 'source'): Promise<ClusterProcess> {
  return startCommand(role, [...scriptCommand(script, launch), ...args], env);
}

/** Starts node with `argv` in `cwd` and resolves once it prints `PLAYHOUSE_READY`; rejects (with its output) if it exits first. */
export async function startCommand(role: string, argv: readonly string[], env: NodeJS.ProcessEnv, cwd: string = ROOT): Promise<ClusterProcess> {
  const child = spawn(process.execPath, argv, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | NodeJS.Signals>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code ?? 0)));
  const ready = await new Promise<Record<string, string>>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      output += `${line}\n`;
      if (line.startsWith('PLAYHOUSE_READY ')) resolve(Object.fromEntries(line.split(' ').slice(1).map((field) => field.split('=', 2) as [string, string])));
    });
    void exited.then((how) => reject(new Error(`${role} exited (${how}) before it was ready:\n${output}`)));
  });
  return {
    role,
    child,
    url: ready.url ?? '',
    ready,
    exited,
    output: () => output,
    kill: (signal = 'SIGTERM') => void child.kill(signal),
  };
}

export async function stopProcess(process: ClusterProcess, boundMs = 15_000): Promise<void> {
  if (process.child.exitCode !== null || process.child.signalCode !== null) return;
  process.child.kill('SIGTERM');
  const timer = setTimeout(() => process.child.kill('SIGKILL'), boundMs);
  await process.exited;
  clearTimeout(timer);
}

/** One redis-cli command against `url` (the machine's Redis unless a test runs its own), its answer trimmed. */
export function redisCli(url: string, ...args: string[]): string {
  return execFileSync('redis-cli', ['-u', url, ...args]).toString().trim();
}

/** The cluster's live members, from their heartbeat keys (`<cluster>:alive:<nodeId>`, NodeInfo JSON). */
export function clusterMembers(name: string, url: string = REDIS_URL): NodeInfo[] {
  const ids = redisCli(url, 'smembers', `${name}:nodes`).split('\n').filter(Boolean);
  return ids.map((id) => redisCli(url, 'get', `${name}:alive:${id}`)).filter(Boolean).map((json) => JSON.parse(json) as NodeInfo);
}
