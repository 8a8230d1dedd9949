/**
 * Test support: a private, real MariaDB server (Debian's mariadbd) in a fresh
 * temp directory on a free port of 127.0.0.1, for fault tests that stop, kill
 * and restart the database mid-run. The machine's shared server (3306) is
 * never touched. Root logs in over TCP with an empty password and real grant
 * tables, as on the shared server, and database `test` exists.
 *
 * Every server started here is SIGKILLed when the test process exits, and a
 * later start sweeps up directories left by a test process that was itself
 * SIGKILLed (its server included).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createConnection, type RowDataPacket } from 'mysql2/promise';
import { guard, unguard } from './exit-guard';
import { freePort } from './free-port';

export const MARIADBD = '/usr/sbin/mariadbd';
export const MARIADB_INSTALL_DB = '/usr/bin/mariadb-install-db';

const HOST = '127.0.0.1';
const DIR_PREFIX = 'playhouse-mariadb-';
const READY_TIMEOUT_MS = 30_000;
const POLL_MS = 25;
const STOP_TIMEOUT_MS = 30_000;
const PORT_ATTEMPTS = 3;
const LOG_LINES_ON_FAILURE = 30;
const LOG_KEEP_CHARS = 64 * 1024;
const EXITED = Symbol('exited');

/**
 * Options for both the bootstrap and the server. Small buffers so it starts in
 * well under a second; utf8mb4 like Debian's packaged config (--no-defaults
 * would otherwise give latin1); every commit flushed to the redo log, because
 * fault tests count committed rows after a SIGKILL.
 */
const SERVER_OPTIONS: readonly string[] = [
  '--skip-name-resolve',
  '--skip-log-bin',
  '--innodb-buffer-pool-size=16M',
  '--innodb-log-file-size=4M',
  '--innodb-flush-log-at-trx-commit=1',
  '--character-set-server=utf8mb4',
  '--collation-server=utf8mb4_general_ci',
  // As root, run the server as root: no chown of the datadir, and no need for
  // `mysql` to reach into a 0700 temp dir. (Not root: it runs as whoever we are.)
  ...(process.getuid?.() === 0 ? ['--user=root'] : []),
];

export function haveMariadbd(): boolean {
  return existsSync(MARIADBD) && existsSync(MARIADB_INSTALL_DB);
}

export interface PrivateMariadb {
  /** mysql://root@127.0.0.1:<port>/test */
  readonly url: string;
  readonly port: number;
  /** The temp directory holding the datadir, socket and pid file (removed by destroy). */
  readonly workDir: string;
  /** The server's log (stderr) so far, all runs, for assertion messages. */
  log(): string;
  /** SIGTERM (clean shutdown) and wait for the exit; SIGKILL and throw if it takes over 30 s. No-op when not running. */
  stop(): Promise<void>;
  /** SIGKILL (a crash) and wait for the exit. No-op when not running. */
  kill(): Promise<void>;
  /** Starts again on the same port and datadir; resolves when it answers a query. Throws if already running. */
  start(): Promise<void>;
  /** SIGKILL and remove the temp directory. Idempotent; call it in `after`. */
  destroy(): Promise<void>;
}

/** Initialises a fresh datadir and starts a server on it; resolves when it answers a query. */
export async function startPrivateMariadb(): Promise<PrivateMariadb> {
  if (!haveMariadbd()) throw new Error(`${MARIADBD} or ${MARIADB_INSTALL_DB} is missing (apt-get install mariadb-server)`);
  sweepAbandonedDirs();
  const workDir = mkdtempSync(path.join(tmpdir(), DIR_PREFIX));
  // Recorded so a later test process can tell this directory was abandoned.
  writeFileSync(path.join(workDir, 'owner.pid'), String(process.pid));
  try {
    await initialiseDatadir(workDir);
  } catch (error: unknown) {
    rmSync(workDir, { recursive: true, force: true });
    throw error;
  }
  let lastError: Error | undefined;
  // The free port can be taken between probing and mariadbd binding it: try another then.
  for (let attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
    const server = new PrivateMariadbServer(workDir, await freePort());
    try {
      await server.start();
      return server;
    } catch (error: unknown) {
      await server.release();
      lastError = error instanceof Error ? error : new Error(String(error));
      if (!/Address already in use|Can't start server: Bind/.test(lastError.message)) break;
    }
  }
  rmSync(workDir, { recursive: true, force: true });
  throw lastError ?? new Error('mariadbd did not start');
}

/** System tables, root@127.0.0.1 with an empty password (the 'normal' method), and database `test`. */
async function initialiseDatadir(workDir: string): Promise<void> {
  const initSql = path.join(workDir, 'init.sql');
  writeFileSync(initSql, 'CREATE DATABASE test;\n');
  const child = spawn(
    MARIADB_INSTALL_DB,
    [
      '--no-defaults',
      `--datadir=${path.join(workDir, 'data')}`,
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
      `--extra-file=${initSql}`,
      ...SERVER_OPTIONS,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-LOG_KEEP_CHARS);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  if (code !== 0) throw new Error(`${MARIADB_INSTALL_DB} failed (code ${code}, signal ${signal}):\n${lastLines(output)}`);
}

class PrivateMariadbServer implements PrivateMariadb {
  readonly url: string;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private output = '';
  private destroyed = false;
  private startedBefore = false;
  private readonly killOnExit = () => {
    this.child?.kill('SIGKILL');
    try {
      rmSync(this.workDir, { recursive: true, force: true });
    } catch {
      // The server may still be dying; the next startPrivateMariadb sweeps the directory up.
    }
  };

  constructor(
    readonly workDir: string,
    readonly port: number,
  ) {
    this.url = `mysql://root@${HOST}:${port}/test`;
  }

  log(): string {
    return this.output;
  }

  async start(): Promise<void> {
    if (this.destroyed) throw new Error('this private MariaDB was destroyed');
    if (this.running()) throw new Error(`mariadbd is already running on port ${this.port}`);
    const child = spawn(
      MARIADBD,
      [
        '--no-defaults',
        `--datadir=${path.join(this.workDir, 'data')}`,
        `--port=${this.port}`,
        `--bind-address=${HOST}`,
        `--socket=${path.join(this.workDir, 'mysqld.sock')}`,
        `--pid-file=${path.join(this.workDir, 'mysqld.pid')}`,
        // A restart must get this very port back: wait a little if someone holds it. A first
        // start fails at once instead, and startPrivateMariadb tries another port.
        ...(this.startedBefore ? ['--port-open-timeout=10'] : []),
        ...SERVER_OPTIONS,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    // 'close', not 'exit': by then the last lines of its log have arrived too.
    this.exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
    const collect = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString('utf8')).slice(-LOG_KEEP_CHARS);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    guard(this.killOnExit);
    this.startedBefore = true;
    await this.untilAnswering(child);
    this.holdProcessOpen(false);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!this.running() || child === undefined) return this.exited;
    this.holdProcessOpen(true);
    child.kill('SIGTERM');
    let tooSlow = false;
    const timer = setTimeout(() => {
      tooSlow = true;
      child.kill('SIGKILL');
    }, STOP_TIMEOUT_MS);
    await this.exited;
    clearTimeout(timer);
    if (tooSlow) throw new Error(`mariadbd did not shut down within ${STOP_TIMEOUT_MS} ms of SIGTERM (killed):\n${lastLines(this.output)}`);
  }

  async kill(): Promise<void> {
    this.holdProcessOpen(true);
    if (this.running()) this.child?.kill('SIGKILL');
    await this.exited;
  }

  async destroy(): Promise<void> {
    this.destroyed = true;
    await this.release();
    rmSync(this.workDir, { recursive: true, force: true });
  }

  /** SIGKILL and forget it at exit, leaving the directory (for a start that failed and is tried on another port). */
  async release(): Promise<void> {
    await this.kill();
    unguard(this.killOnExit);
  }

  /**
   * A running server alone does not keep this process alive: a test that
   * forgot destroy() still ends (and the exit handler kills the server)
   * instead of hanging. While we wait for it to exit, it must.
   */
  private holdProcessOpen(hold: boolean): void {
    const child = this.child;
    if (child === undefined) return;
    // The pipes are sockets, though typed as plain Readables.
    const pipes = [child.stdout, child.stderr].filter((pipe): pipe is Socket => pipe instanceof Socket);
    for (const handle of [child, ...pipes]) {
      if (hold) handle.ref();
      else handle.unref();
    }
  }

  private running(): boolean {
    const child = this.child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /** Polls a real connection and `SELECT 1` until it answers; throws with the log's tail if the server exits or 30 s pass. */
  private async untilAnswering(child: ChildProcess): Promise<void> {
    const exited = this.exited.then((): typeof EXITED => EXITED);
    const spawnFailed = new Promise<never>((_, reject) => child.once('error', reject));
    spawnFailed.catch(() => undefined);
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let lastError = '';
    for (;;) {
      const answer = await Promise.race([this.answers(), spawnFailed, exited]);
      if (answer === true) return;
      if (answer === EXITED || !this.running()) {
        await this.exited;
        throw new Error(`mariadbd exited (code ${child.exitCode}, signal ${child.signalCode}) before answering on port ${this.port}:\n${lastLines(this.output)}`);
      }
      lastError = answer;
      if (Date.now() > deadline) {
        throw new Error(`mariadbd did not answer on port ${this.port} within ${READY_TIMEOUT_MS} ms (last: ${lastError}):\n${lastLines(this.output)}`);
      }
      await Promise.race([new Promise((resolve) => setTimeout(resolve, POLL_MS)), exited]);
    }
  }

  /**
   * True when a connection as root runs a query and the server is ours (its
   * datadir: another server may have taken the port); otherwise why not.
   */
  private async answers(): Promise<true | string> {
    try {
      const connection = await createConnection({ host: HOST, port: this.port, user: 'root', database: 'test', connectTimeout: 2000 });
      try {
        const [rows] = await connection.query<RowDataPacket[]>('SELECT @@datadir AS datadir');
        const datadir = String(rows[0]?.['datadir'] ?? '');
        if (path.resolve(datadir) === path.resolve(this.workDir, 'data')) return true;
        return `another server (datadir ${datadir}) answers on port ${this.port}`;
      } finally {
        await connection.end().catch(() => undefined);
      }
    } catch (error: unknown) {
      return error instanceof Error ? error.message : String(error);
    }
  }
}

function lastLines(text: string): string {
  return text.trimEnd().split('\n').slice(-LOG_LINES_ON_FAILURE).join('\n');
}

/**
 * Directories whose owning test process is gone (it was SIGKILLed, so its
 * exit handler never ran): kill the server still running there, if it is
 * still that server (its command line names the directory), and remove it.
 */
function sweepAbandonedDirs(): void {
  let names: string[];
  try {
    names = readdirSync(tmpdir()).filter((name) => name.startsWith(DIR_PREFIX));
  } catch {
    return;
  }
  for (const name of names) {
    const dir = path.join(tmpdir(), name);
    const owner = readPid(path.join(dir, 'owner.pid'));
    if (owner === undefined || alive(owner)) continue;
    const server = readPid(path.join(dir, 'mysqld.pid'));
    if (server !== undefined && commandLine(server).includes(dir)) {
      try {
        process.kill(server, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error: unknown) {
    // EPERM: alive, just not ours.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

