/**
 * Databases of the load tester's own, as child processes on free ports of
 * 127.0.0.1, so a run can kill and restart them without touching the machine's
 * shared servers: a redis-server that keeps nothing (a restart brings it back
 * empty) and a mariadbd in a fresh temp directory. Both are SIGKILLed if the
 * load tester exits without stopping them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createConnection } from 'mysql2/promise';

const MARIADBD = '/usr/sbin/mariadbd';
const MARIADB_INSTALL_DB = '/usr/bin/mariadb-install-db';
const READY_TIMEOUT_MS = 30_000;
const POLL_MS = 25;

/** A server we can take away and bring back on the same port. */
export interface PrivateServer {
  readonly url: string;
  readonly port: number;
  readonly pid: number | undefined;
  /** Starts it again on the same port; resolves once it answers. */
  start(): Promise<void>;
  /** SIGKILL (a crash) and wait for the exit. */
  kill(): Promise<void>;
  /** SIGTERM (a clean stop) and wait for the exit. */
  stop(): Promise<void>;
  /** SIGTERM, wait for the exit, and remove what it left on disk; safe to call twice. */
  destroy(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no port from the probe server');
  return address.port;
}

export function haveRedisServer(): boolean {
  return ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].some((file) => existsSync(file));
}

export function haveMariadbd(): boolean {
  return existsSync(MARIADBD) && existsSync(MARIADB_INSTALL_DB);
}

/** `redis-server --save '' --appendonly no`: a restart is a Redis that lost everything. */
export async function startPrivateRedis(): Promise<PrivateServer> {
  const port = await freePort();
  const server = new ChildServer(
    'redis-server',
    () => ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', tmpdir(), '--loglevel', 'warning'],
    () => answersPing(port),
  );
  await server.start();
  return { url: `redis://127.0.0.1:${port}`, port, get pid() { return server.pid; }, start: () => server.start(), kill: () => server.end('SIGKILL'), stop: () => server.end('SIGTERM'), destroy: () => server.end('SIGTERM') };
}

/** A fresh datadir (root without a password over TCP, database `test`) and a mariadbd on it. */
export async function startPrivateMariadb(): Promise<PrivateServer> {
  if (!haveMariadbd()) throw new Error(`${MARIADBD} is missing (apt-get install mariadb-server)`);
  const dir = mkdtempSync(path.join(tmpdir(), 'playhouse-bench-mariadb-'));
  // Small buffers so it starts in about a second; every commit durable, since a fault kills it.
  const options = ['--skip-name-resolve', '--skip-log-bin', '--innodb-buffer-pool-size=16M', '--innodb-log-file-size=4M', '--innodb-flush-log-at-trx-commit=1', '--character-set-server=utf8mb4', ...(process.getuid?.() === 0 ? ['--user=root'] : [])];
  writeFileSync(path.join(dir, 'init.sql'), 'CREATE DATABASE test;\n');
  const install = spawn(MARIADB_INSTALL_DB, ['--no-defaults', `--datadir=${dir}/data`, '--auth-root-authentication-method=normal', '--skip-test-db', `--extra-file=${dir}/init.sql`, ...options], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  install.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const [code] = (await once(install, 'close')) as [number | null];
  if (code !== 0) throw new Error(`mariadb-install-db failed (${code}): ${log.slice(-2000)}`);
  const port = await freePort();
  const url = `mysql://root@127.0.0.1:${port}/test`;
  const server = new ChildServer(
    MARIADBD,
    (restart) => ['--no-defaults', `--datadir=${dir}/data`, `--port=${port}`, '--bind-address=127.0.0.1', `--socket=${dir}/mysqld.sock`, `--pid-file=${dir}/mysqld.pid`, ...(restart ? ['--port-open-timeout=10'] : []), ...options],
    () => answersQuery(port),
  );
  await server.start();
  return {
    url,
    port,
    get pid() { return server.pid; },
    start: () => server.start(),
    kill: () => server.end('SIGKILL'),
    stop: () => server.end('SIGTERM'),
    destroy: async () => {
      await server.end('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One server process at a time, restartable; killed with the load tester. */
class ChildServer {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private output = '';
  private starts = 0;
  private readonly killAtExit = () => this.child?.kill('SIGKILL');

  constructor(
    private readonly command: string,
    private readonly args: (restart: boolean) => string[],
    private readonly answers: () => Promise<boolean>,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    if (this.child) throw new Error(`${this.command} is already running`);
    const child = spawn(this.command, this.args(this.starts++ > 0), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('close', () => resolve()));
    void this.exited.then(() => {
      if (this.child === child) this.child = undefined;
    });
    const keep = (chunk: Buffer) => (this.output = (this.output + chunk.toString()).slice(-4000));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    process.once('exit', this.killAtExit);
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (!(await this.answers())) {
      if (this.child !== child) throw new Error(`${this.command} exited before answering:\n${this.output}`);
      if (Date.now() > deadline) throw new Error(`${this.command} did not answer within ${READY_TIMEOUT_MS} ms:\n${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  async end(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill(signal);
    await this.exited;
    process.off('exit', this.killAtExit);
  }
}

function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let answer = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString();
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG'));
    });
  });
}

async function answersQuery(port: number): Promise<boolean> {
  try {
    const connection = await createConnection({ host: '127.0.0.1', port, user: 'root', database: 'test', connectTimeout: 2000 });
    await connection.query('SELECT 1');
    await connection.end();
    return true;
  } catch {
    return false;
  }
}
