/**
 * Faults injected into the real processes of a running cluster, each undone
 * by itself: a worker or a gateway killed (`kill -9`) or told to stop
 * (SIGTERM; the launcher starts it again either way), a worker frozen
 * (SIGSTOP) past the dead timeout and woken, the cluster's Redis stopped and
 * started again empty, MariaDB killed and started again, client connections
 * gone silent. Which process is which comes from the cluster's own heartbeat
 * keys (`<cluster>:alive:<node>`, with each node's pid).
 */
import { readFileSync } from 'node:fs';
import { createClient } from 'redis';
import type { PrivateServer } from './private-services';
import type { SilentProxy } from './silent-proxy';

export type FaultKind =
  | 'worker-kill'
  | 'worker-term'
  | 'worker-stop'
  | 'gateway-kill'
  | 'gateway-term'
  | 'redis-restart-empty'
  | 'mariadb-kill'
  | 'silent-connection';

export interface Fault {
  readonly kind: FaultKind;
  /** How long the fault lasts, where it has a length (a freeze, an outage, a silence). */
  readonly seconds?: number;
}

/** What faults act on. */
export interface FaultTargets {
  /** The cluster's name (PLAYHOUSE_CLUSTER): its heartbeat keys are `<cluster>:alive:*`. */
  readonly cluster: string;
  readonly redis: PrivateServer;
  readonly mariadb: PrivateServer | undefined;
  readonly proxy: SilentProxy | undefined;
  /** The cluster's dead timeout: a frozen worker stays frozen past it. */
  readonly deadAfterMs: number;
}

/** When the fault began and when it was over (the process gone, woken, the server back), and what it hit. */
export interface FaultWindow {
  readonly label: string;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly detail: string;
}

export function labelOf(fault: Fault): string {
  return fault.seconds === undefined ? fault.kind : `${fault.kind} ${fault.seconds}s`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function inject(fault: Fault, targets: FaultTargets): Promise<FaultWindow> {
  const label = labelOf(fault);
  const startedAt = Date.now();
  const window = (detail: string): FaultWindow => ({ label, startedAt, endedAt: Date.now(), detail });
  switch (fault.kind) {
    case 'worker-kill':
    case 'gateway-kill': {
      const node = await pickNode(targets, fault.kind === 'worker-kill' ? 'worker' : 'gateway');
      process.kill(node.pid, 'SIGKILL');
      return window(`${node.id} pid ${node.pid}`);
    }
    case 'worker-term':
    case 'gateway-term': {
      // The fault lasts while the node drains: it ends when the process has exited.
      const node = await pickNode(targets, fault.kind === 'worker-term' ? 'worker' : 'gateway');
      process.kill(node.pid, 'SIGTERM');
      await untilGone(node.pid, 30_000);
      return window(`${node.id} pid ${node.pid}`);
    }
    case 'worker-stop': {
      const node = await pickNode(targets, 'worker');
      process.kill(node.pid, 'SIGSTOP');
      await sleep(fault.seconds !== undefined ? fault.seconds * 1000 : targets.deadAfterMs + 1500);
      process.kill(node.pid, 'SIGCONT');
      return window(`${node.id} pid ${node.pid}`);
    }
    case 'redis-restart-empty': {
      await targets.redis.stop();
      await sleep((fault.seconds ?? 5) * 1000);
      await targets.redis.start();
      return window(`redis :${targets.redis.port}`);
    }
    case 'mariadb-kill': {
      if (!targets.mariadb) throw new Error('mariadb-kill needs the private MariaDB');
      await targets.mariadb.kill();
      await sleep((fault.seconds ?? 5) * 1000);
      await targets.mariadb.start();
      return window(`mariadb :${targets.mariadb.port}`);
    }
    case 'silent-connection': {
      if (!targets.proxy) throw new Error('silent-connection needs the silent proxy');
      const silenced = targets.proxy.silence();
      await sleep((fault.seconds ?? 8) * 1000);
      targets.proxy.release();
      return window(`${silenced} connections`);
    }
  }
}

interface AliveNode {
  readonly id: string;
  readonly role: string;
  readonly pid: number;
  readonly draining: boolean;
}

/** A live, non-draining node of the role, from the heartbeats; the one with the most rooms or sessions, so the fault hits players. */
async function pickNode(targets: FaultTargets, role: 'worker' | 'gateway'): Promise<AliveNode> {
  const redis = createClient({ url: targets.redis.url, disableOfflineQueue: true, socket: { reconnectStrategy: false, connectTimeout: 2000 } });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    const nodes: Array<AliveNode & { load: number }> = [];
    for await (const keys of redis.scanIterator({ MATCH: `${targets.cluster}:alive:*`, COUNT: 100 })) {
      for (const key of keys) {
        const raw = await redis.get(key);
        if (!raw) continue;
        const info = JSON.parse(raw) as AliveNode & { rooms?: number; sessions?: number; connections?: number };
        if (info.role === role && !info.draining && isRunning(info.pid)) nodes.push({ ...info, load: (info.rooms ?? 0) + (info.sessions ?? 0) + (info.connections ?? 0) });
      }
    }
    nodes.sort((a, b) => b.load - a.load);
    const node = nodes[0];
    if (!node) throw new Error(`no live ${role} in ${targets.cluster}'s heartbeats`);
    return node;
  } finally {
    redis.destroy();
  }
}

/** Alive and not a zombie (a killed child its parent has not reaped yet). */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function untilGone(pid: number, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (isRunning(pid) && Date.now() < deadline) await sleep(50);
}
