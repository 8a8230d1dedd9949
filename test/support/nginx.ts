/**
 * Test support: Debian's nginx in front of test servers, rendered from
 * infra/nginx/playhouse.conf.template into a fresh temp directory (pid, temp
 * files, logs all there; /etc/nginx and /var are never touched), on a free
 * port of 127.0.0.1. Every wait is on an event or a short bounded poll.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { renderNginxConfig, type NginxConfigOptions } from '../../infra/nginx/render';
import { guard, unguard } from './exit-guard';
import { freePort } from './free-port';

export const NGINX = '/usr/sbin/nginx';
const HOST = '127.0.0.1';
const CONNECT_ATTEMPTS = 250;
const CONNECT_RETRY_MS = 20;
const STOP_GRACE_MS = 5000;
const PORT_ATTEMPTS = 3;

export function haveNginx(): boolean {
  return existsSync(NGINX);
}

export interface StartNginxOptions {
  /** Gateways (or any HTTP servers) as `host:port`. */
  readonly gateways: readonly string[];
  /** Who may reach /metrics and /admin/; loopback only when absent. */
  readonly internalNetwork?: NginxConfigOptions['internalNetwork'];
  /** Serve TLS on the port (the url is then https://). */
  readonly tls?: NginxConfigOptions['tls'];
}

export interface RunningNginx {
  readonly port: number;
  readonly url: string;
  /** The temp directory holding nginx.conf, the pid file, temp files and logs (removed by stop). */
  readonly workDir: string;
  /** The error log so far (for assertion messages). */
  errorLog(): string;
  /** SIGQUIT (graceful), SIGKILL to the whole process group after a bound; removes the temp directory. */
  stop(): Promise<void>;
}

/** Renders the config into a fresh temp dir (nginx.conf there) and returns the dir. */
export function renderIntoTempDir(options: Omit<NginxConfigOptions, 'workDir'>): string {
  const workDir = mkdtempSync(path.join(tmpdir(), 'playhouse-nginx-'));
  // As root, nginx's workers run as `nobody` and must reach their temp dirs here.
  if (process.getuid?.() === 0) chmodSync(workDir, 0o711);
  writeFileSync(path.join(workDir, 'nginx.conf'), renderNginxConfig({ ...options, workDir }));
  return workDir;
}

/** nginx's command line for a config rendered into `workDir`. */
export function nginxArgs(workDir: string, ...extra: string[]): string[] {
  return ['-e', 'stderr', '-p', `${workDir}/`, '-c', path.join(workDir, 'nginx.conf'), ...extra];
}

export async function startNginx(options: StartNginxOptions): Promise<RunningNginx> {
  if (!haveNginx()) throw new Error('nginx is not installed (apt-get install nginx-light)');
  let lastError: Error | undefined;
  // The free port can be taken between probing and nginx binding it: try again then.
  for (let attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
    const port = await freePort();
    const workDir = renderIntoTempDir({
      listenPort: port,
      listenAddress: HOST,
      gateways: options.gateways,
      workerProcesses: 1,
      ...(options.internalNetwork !== undefined ? { internalNetwork: options.internalNetwork } : {}),
      ...(options.tls !== undefined ? { tls: options.tls } : {}),
    });
    const child = spawn(NGINX, nginxArgs(workDir, '-g', 'daemon off;'), { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    const running = track(child, port, workDir, options.tls ? 'https' : 'http');
    try {
      await running.ready;
      return running.handle;
    } catch (error: unknown) {
      await running.handle.stop();
      lastError = error instanceof Error ? error : new Error(String(error));
      if (!/Address already in use/.test(lastError.message)) throw lastError;
    }
  }
  throw lastError ?? new Error('nginx did not start');
}

function track(child: ChildProcess, port: number, workDir: string, scheme: 'http' | 'https'): { ready: Promise<void>; handle: RunningNginx } {
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-8192);
  });
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  // If the test process dies first, take nginx (master and workers) with it.
  const killGroup = () => {
    signalGroup(child, 'SIGKILL');
    rmSync(workDir, { recursive: true, force: true });
  };
  guard(killGroup);

  const errorLog = () => {
    const file = path.join(workDir, 'error.log');
    return [stderr, existsSync(file) ? readFileSync(file, 'utf8') : ''].filter(Boolean).join('\n');
  };

  let stopping: Promise<void> | undefined;
  const handle: RunningNginx = {
    port,
    url: `${scheme}://${HOST}:${port}`,
    workDir,
    errorLog,
    stop() {
      stopping ??= (async () => {
        if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
          child.kill('SIGQUIT');
          const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), STOP_GRACE_MS);
          await exited;
          clearTimeout(timer);
        }
        // Workers outlive a killed master: make sure none of the group is left.
        signalGroup(child, 'SIGKILL');
        unguard(killGroup);
        rmSync(workDir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };

  const ready = (async () => {
    const failed = exited.then(() => {
      throw new Error(`nginx exited (code ${child.exitCode}, signal ${child.signalCode}) before answering on port ${port}:\n${errorLog()}`);
    });
    const started = new Promise<never>((_, reject) => child.once('error', reject));
    failed.catch(() => undefined);
    started.catch(() => undefined);
    for (let attempt = 0; attempt < CONNECT_ATTEMPTS; attempt++) {
      const answered = await Promise.race([connects(port), failed, started]);
      if (answered) return;
      await Promise.race([delay(CONNECT_RETRY_MS), failed]);
    }
    throw new Error(`nginx did not answer on port ${port} after ${CONNECT_ATTEMPTS} attempts:\n${errorLog()}`);
  })();
  // `failed` may reject after `ready` settled; nobody needs that rejection then.
  ready.catch(() => undefined);
  return { ready, handle };
}

/** True once a TCP connection to the port succeeds, false when it is refused. */
function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: HOST, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// nginx runs in its own process group, so it would outlive this process: exit-guard kills it then.

/** Signals nginx's own process group (it was started detached, as its leader). */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}
