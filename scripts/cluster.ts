/**
 * `npm run cluster -- --gateways 2 --workers 2`: a local cluster on this
 * machine against the local Redis — one `worker` process placing the workers
 * (forked by default), then the gateways on consecutive ports. Prints where
 * each gateway listens; Ctrl-C (or SIGTERM) drains and stops everything.
 *
 * A role that dies while the cluster runs (a crash, `kill -9`) is started
 * again with the same arguments — a gateway on the port it had, under the
 * same PLAYHOUSE_GATEWAY_ID — after a pause that doubles while it keeps dying
 * soon after starting. Each restart is logged, and once the role is ready
 * again the launcher prints `PLAYHOUSE_RESTARTED name=... pid=...` with the
 * role's ready fields.
 *
 * Each process is `scripts/start` with a role, exactly as containers run
 * them (infra/docker/compose.yaml); put nginx in front (infra/nginx/) to give
 * clients one address.
 *
 * Without a Redis that answers it says so and starts nothing. Without
 * PLAYHOUSE_CLUSTER the cluster gets a name made up for this run, and its
 * keys are removed from Redis when it stops: nothing could reach them again.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { loadConfig, withoutPassword } from '../infra/config';
import { logFormat } from '../infra/logger';
import { deleteKeys, whyRedisUnreachable } from './launcher-redis';
import { SERVER_NODE_FLAGS } from './server-node-flags';
import { explainStartupError } from './startup-errors';

/**
 * The roles run as this launcher runs: from a build (`start.js`, plain node,
 * `npm run cluster`), or from source through tsx (`start.ts`, tests).
 */
const RUNNING_SOURCE = path.extname(__filename) === '.ts';
const START = path.join(__dirname, RUNNING_SOURCE ? 'start.ts' : 'start.js');
const LOADER: readonly string[] = RUNNING_SOURCE ? ['--import', 'tsx'] : [];

/** The pause before restarting a role that died; doubled, up to the most, while it keeps dying soon after starting. */
const FIRST_RESTART_DELAY_MS = 250;
const MOST_RESTART_DELAY_MS = 10_000;
/** A role that ran this long before it died is restarted after the first pause again. */
const STEADY_AFTER_MS = 10_000;

/** V8 profiling flags this launcher was started with (the load tester's --profile) go to every process it starts. */
const PROFILING = process.execArgv.filter((arg) => arg.startsWith('--cpu-prof'));

interface RoleSpec {
  readonly name: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
}

/**
 * One role's process, started again whenever it dies until the launcher
 * stops. Each runs in a process group of its own, so the launcher stops the
 * roles in order (gateways first) and can signal what a dead role left
 * behind (a killed worker process's forked workers).
 */
class SupervisedRole {
  /** The role's ready line (its fields: `role=... url=...`), as of its latest start. */
  ready = '';
  private args: readonly string[];
  private child: ChildProcess | undefined;
  private startedAt = 0;
  private supervising = false;
  private stopped = false;
  private nextDelayMs = FIRST_RESTART_DELAY_MS;
  private restartTimer: NodeJS.Timeout | undefined;

  constructor(private readonly spec: RoleSpec) {
    this.args = spec.args;
  }

  get name(): string {
    return this.spec.name;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the role and watches it from then on; rejects if it dies before it is ready. */
  async start(): Promise<void> {
    await this.run();
    this.supervising = true;
  }

  /** SIGTERM (the role drains) and wait for it to end; no restart after this. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }

  private async run(): Promise<void> {
    const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, ...PROFILING, ...LOADER, START, ...this.args], {
      env: this.spec.env,
      stdio: ['ignore', 'pipe', 'inherit'],
      detached: true,
    });
    this.child = child;
    this.startedAt = Date.now();
    const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(String(signal ?? code))));
    void exited.then((how) => this.exited(child, how));
    this.ready = await new Promise<string>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout! });
      lines.on('line', (line) => {
        if (line.startsWith('PLAYHOUSE_READY ')) resolve(line.slice('PLAYHOUSE_READY '.length));
        else console.log(`[${this.name}] ${line}`);
      });
      void exited.then((how) => reject(new Error(`${this.name} exited (${how}) before it was ready`)));
    });
    this.keepPort();
  }

  /** A gateway started on port 0 keeps the port it got, so a restarted one is where clients knew it. */
  private keepPort(): void {
    const url = /(?:^| )url=(\S+)/.exec(this.ready)?.[1];
    const at = this.args.indexOf('--port');
    if (!url || at < 0) return;
    this.args = [...this.args.slice(0, at + 1), new URL(url).port, ...this.args.slice(at + 2)];
  }

  /** SIGTERM to everything in the role's process group: what it left running drains and ends. */
  endGroup(): void {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, 'SIGTERM');
    } catch {
      // nothing left in the group
    }
  }

  private exited(child: ChildProcess, how: string): void {
    // A killed worker process's forked workers are still running: they drain and end.
    if (child === this.child) this.endGroup();
    if (this.stopped || !this.supervising || child !== this.child) return;
    const livedMs = Date.now() - this.startedAt;
    const delayMs = livedMs >= STEADY_AFTER_MS ? FIRST_RESTART_DELAY_MS : this.nextDelayMs;
    this.nextDelayMs = Math.min(delayMs * 2, MOST_RESTART_DELAY_MS);
    console.error(`[${this.name}] exited (${how}) after ${(livedMs / 1000).toFixed(1)} s: restarting it in ${delayMs} ms`);
    this.restartTimer = setTimeout(() => void this.restart(), delayMs);
  }

  private async restart(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.run();
      console.log(`PLAYHOUSE_RESTARTED name=${this.name} pid=${this.pid} ${this.ready}`);
    } catch (error) {
      // It died again before it was ready; its exit already scheduled the next try (unless the launcher is stopping).
      if (!this.stopped) console.error(`[${this.name}] ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

const OPTIONS = {
  gateways: { type: 'string', default: '2' },
  workers: { type: 'string', default: '2' },
  'worker-mode': { type: 'string', default: 'forked' },
  port: { type: 'string', default: '8081' },
  help: { type: 'boolean', short: 'h' },
} as const;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: OPTIONS });
  if (values.help) {
    console.log('usage: npm run cluster -- [--gateways 2] [--workers 2] [--worker-mode forked|threaded] [--port 8081]\nEnvironment: REDIS_URL, PLAYHOUSE_CLUSTER, PLAYHOUSE_TOKEN_SECRET, LOG_LEVEL, LOG_FORMAT');
    return;
  }
  // The environment the roles get, checked once here rather than by each role as it starts.
  const redisUrl = loadConfig({}, { ...process.env, PLAYHOUSE_ROLE: 'worker' }).cluster.redisUrl;
  const unreachable = await whyRedisUnreachable(redisUrl);
  if (unreachable !== undefined) {
    throw new Error(
      `Redis is not reachable at ${withoutPassword(redisUrl)} (${unreachable}), and a cluster keeps its directory and messages there: start one (\`redis-server\`, or \`docker run -d -p 6379:6379 redis:7\`), or point REDIS_URL at yours`,
    );
  }
  // A cluster under a name made up for this run is a throwaway: nobody can reach its data after it stops.
  const throwaway = process.env.PLAYHOUSE_CLUSTER === undefined;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // Every gateway must sign and check tokens with the same secret.
    PLAYHOUSE_TOKEN_SECRET: process.env.PLAYHOUSE_TOKEN_SECRET ?? randomBytes(32).toString('base64url'),
    PLAYHOUSE_CLUSTER: process.env.PLAYHOUSE_CLUSTER ?? `local-${randomBytes(2).toString('hex')}`,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    // The roles' output is read by this launcher: they log readable lines if it writes to a terminal.
    LOG_FORMAT: logFormat(process.env.LOG_FORMAT),
  };
  const workers = new SupervisedRole({ name: 'workers', args: ['--role', 'worker', '--workers', values.workers, '--worker-mode', values['worker-mode']], env });
  const firstPort = Number(values.port);
  const gateways = Array.from(
    { length: Number(values.gateways) },
    (_, i) =>
      new SupervisedRole({
        name: `gateway-${i + 1}`,
        args: ['--role', 'gateway', '--port', String(firstPort === 0 ? 0 : firstPort + i)],
        env: { ...env, PLAYHOUSE_GATEWAY_ID: `${env.PLAYHOUSE_CLUSTER}-gw${i + 1}` },
      }),
  );
  let stopping: Promise<void> | undefined;
  // Gateways first (they drain their clients), then the workers; then a throwaway cluster's keys go (its players' profiles too).
  const stopAll = () =>
    (stopping ??= (async () => {
      await Promise.all(gateways.map((gateway) => gateway.stop()));
      await workers.stop();
      if (!throwaway) return;
      const stores = new Set([redisUrl, process.env.PLAYHOUSE_SNAPSHOT_REDIS_URL ?? redisUrl]);
      for (const url of stores) {
        await deleteKeys(url, `${env.PLAYHOUSE_CLUSTER}:`).catch((error: unknown) =>
          console.error(`could not remove cluster '${env.PLAYHOUSE_CLUSTER}' from Redis at ${withoutPassword(url)}: ${String(error)}`),
        );
      }
    })());
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stopAll().then(() => process.exit(0)));
  // The roles run in groups of their own, out of reach of a terminal's Ctrl-C: if this launcher ends any other way, they drain too.
  process.once('exit', () => [workers, ...gateways].forEach((role) => role.endGroup()));
  try {
    await workers.start();
    await Promise.all(gateways.map((gateway) => gateway.start()));
  } catch (error) {
    await stopAll();
    throw error;
  }
  console.log(`\nPlayhouse cluster '${env.PLAYHOUSE_CLUSTER}' is running:`);
  for (const role of [workers, ...gateways]) console.log(`  ${role.name.padEnd(10)} pid=${role.pid} ${role.ready}`);
  console.log('A role that dies is restarted; Ctrl-C drains and stops them all.');
  console.log('PLAYHOUSE_READY role=cluster');
}

main().catch((error: unknown) => {
  console.error(explainStartupError(error, { name: 'npm run cluster', options: Object.keys(OPTIONS) }) ?? (error instanceof Error ? error.message : error));
  process.exit(1);
});
