/**
 * A redis-server of a test's own, as a child process on a free port, for
 * tests that take Redis away and bring it back (outages, restarts) without
 * touching the machine's shared Redis. Nothing is saved to disk.
 *
 *   const redis = await startPrivateRedis();
 *   after(() => redis.stop());
 *   await redis.kill();   // SIGKILL, as a crash would
 *   await redis.start();  // again on the same port, answering PING
 *
 * Every server started here is also killed when the test process exits, so a
 * failing test leaves none behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './free-port';

export interface PrivateRedis {
  readonly url: string;
  readonly port: number;
  /** Starts the server again on the same port (after kill or stop); resolves once it answers PING. */
  start(): Promise<void>;
  /** Kills the server with SIGKILL (no goodbye to clients) and waits for it to be gone. */
  kill(): Promise<void>;
  /** Stops the server for good (SIGTERM) and waits for it to be gone; safe to call twice. */
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 5_000;
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export interface PrivateRedisOptions {
  /**
   * Keep data across kill and start, as a production Redis configured for it does (an append-only file,
   * fsynced on every write, in a directory of its own). Default: nothing kept, like the machine's Redis.
   */
  readonly durable?: boolean;
}

export async function startPrivateRedis(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const persistence = options.durable
    ? ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', mkdtempSync(path.join(tmpdir(), 'playhouse-redis-'))]
    : ['--appendonly', 'no', '--dir', tmpdir()];

  const start = async (): Promise<void> => {
    if (child) throw new Error(`private redis on port ${port} is already running`);
    const started = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence, '--loglevel', 'warning'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = started;
    running.add(started);
    let gone = false;
    let output = '';
    started.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    started.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    started.once('exit', () => {
      running.delete(started);
      if (child === started) child = undefined;
      gone = true;
    });
    const spawnFailed = once(started, 'error').then(([error]: unknown[]) => {
      throw new Error(`could not start redis-server: ${String(error)}`);
    });
    spawnFailed.catch(() => undefined); // Seen by the race below; not an unhandled rejection after it.
    // Wait for PING to be answered; fail at once if the server exits first (port taken, bad flag).
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      const ready = await Promise.race([answersPing(port), spawnFailed]);
      if (ready) return;
      if (gone) throw new Error(`redis-server on port ${port} exited before answering: ${output.trim()}`);
      if (Date.now() > deadline) {
        started.kill('SIGKILL');
        throw new Error(`redis-server on port ${port} did not answer PING within ${READY_TIMEOUT_MS} ms: ${output.trim()}`);
      }
      // The server is starting up: ask again on the next turn of a short timer.
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  const end = async (signal: NodeJS.Signals): Promise<void> => {
    const current = child;
    if (!current) return;
    const exited = once(current, 'exit');
    current.kill(signal);
    await exited;
    running.delete(current);
    if (child === current) child = undefined;
  };

  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    start,
    kill: () => end('SIGKILL'),
    stop: () => end('SIGTERM'),
  };
}

/** Whether a Redis at 127.0.0.1:port answers PING with PONG (bounded wait). */
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
