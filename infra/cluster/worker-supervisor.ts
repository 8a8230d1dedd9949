/**
 * The `worker` role: places worker actors with comedy (in this process, forked,
 * in worker threads, or on other hosts through comedy's node listener), keeps
 * them running, and drains them on shutdown.
 *
 * Each worker joins the cluster's backplane itself; this process only places,
 * watches and stops them (over comedy), so it is never on a message's path.
 */
import { createServer, type ServerResponse, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { createComedySystem, destroyActor, stopRespawning, type ActorHandle, type ChildOptions, type ComedySystem } from '../../actors/kit/comedy';
import type { ActorSettings } from '../../actors/kit/mailbox-actor';
import type { ActorKind } from '../../actors/messages';
import type { ActorLog } from '../../actors/ports';
import type { Readiness } from '../../actors/system';
import type { WorkerParameters, WorkerStats } from '../../actors/worker/worker-actor';
import { WORKER_ACTOR_MODULE } from '../../actors/worker/worker-module';
import { persistenceSettings, storesConfig } from '../stores/stores-config';
import { ACTOR_RESOURCES } from '../actor-resources';
import type { PlayhouseConfig } from '../config';
import { MergedWorkerMetrics, metricFamilies, type WorkerScrape } from './merged-metrics';
import { isPrivateAddress } from './private-address';

export interface RunningWorkers {
  readonly slots: readonly string[];
  /** Where the merged metrics of every worker are served (http://host:port/metrics); /livez and /readyz are beside it. */
  readonly metricsUrl: string;
  /** Each worker's counts, or an error string for one that did not answer. */
  stats(): Promise<WorkerAnswer[]>;
  /** Drains every worker (see WorkerActor.drain), then stops them. */
  stop(): Promise<void>;
}

/** What a worker's `stats` topic answers (a worker of an older build may not say whether it is fenced). */
type WorkerStatsReply = Omit<WorkerStats, 'fenced' | 'backplaneUp'> & Partial<Pick<WorkerStats, 'fenced' | 'backplaneUp'>>;

/** A worker's stats, or why it did not answer. */
export type WorkerAnswer = WorkerStatsReply | { readonly slot: string; readonly error: string };

interface Slot {
  readonly name: string;
  readonly options: ChildOptions;
  handle: ActorHandle;
  restarting: boolean;
}

export function actorSettings(config: PlayhouseConfig): Record<ActorKind, ActorSettings> {
  const settingsFor = (kind: ActorKind): ActorSettings => ({ mailboxCapacity: config.actors.mailboxCapacity[kind], askTimeoutMs: config.actors.askTimeoutMs });
  return {
    session: settingsFor('session'),
    room: {
      ...settingsFor('room'),
      // Only a cluster's workers can restore a room from its snapshot (see config persistence.roomSnapshots).
      snapshots: config.persistence.roomSnapshots ?? config.role === 'worker',
      snapshotIntervalMs: config.persistence.snapshotIntervalMs,
      durability: config.persistence.durability,
      awayGraceMs: config.resume.graceMs,
    },
    lobby: settingsFor('lobby'),
  };
}

/** What a worker's persistence actor needs: its stores, its batching, how long it may drain. */
export function workerPersistence(config: PlayhouseConfig): WorkerParameters['persistence'] {
  return { stores: storesConfig(config), settings: persistenceSettings(config), drainTimeoutMs: config.cluster.drainTimeoutMs };
}

export async function startWorkers(config: PlayhouseConfig, log: ActorLog): Promise<RunningWorkers> {
  const { cluster } = config;
  const remoteTargets = await checkRemoteHosts(config);
  const system: ComedySystem = createComedySystem({ resources: ACTOR_RESOURCES });
  const root = await system.rootActor();
  const supervisorId = `${hostname()}-${process.pid}`;
  const slots: Slot[] = [];

  const place = async (name: string, index: number): Promise<Slot> => {
    const parameters: WorkerParameters = {
      settings: actorSettings(config),
      persistence: workerPersistence(config),
      // Cluster workers take new game versions from the gateways (Redis), not from files of their own.
      games: { watch: false },
      cluster: { redisUrl: cluster.redisUrl, name: cluster.name, slot: name, heartbeatMs: cluster.heartbeatMs, deadAfterMs: cluster.deadAfterMs },
    };
    const options: Slot['options'] = {
      mode: cluster.workerMode,
      customParameters: parameters,
      // comedy restarts a forked or remote worker whose process died; threaded ones the watchdog below restarts.
      ...(cluster.workerMode === 'forked' || cluster.workerMode === 'remote' ? { onCrash: 'respawn' as const } : {}),
      ...(cluster.workerMode === 'remote' ? remoteTargets[index % remoteTargets.length] : {}),
    };
    const handle = await root.createChild(WORKER_ACTOR_MODULE, options);
    return { name, options, handle, restarting: false };
  };

  for (let i = 0; i < cluster.workers; i++) slots.push(await place(`${supervisorId}-w${i + 1}`, i));
  log.info({ workers: slots.length, mode: cluster.workerMode }, 'workers started');

  // Threaded workers are not restarted by comedy: ask each for its stats; one that cannot answer is replaced.
  const watchdog =
    cluster.workerMode === 'threaded'
      ? setInterval(() => {
          for (const [index, slot] of slots.entries()) {
            if (slot.restarting) continue;
            void withTimeout(slot.handle.sendAndReceive('stats', {}), cluster.deadAfterMs).catch(async (error: unknown) => {
              slot.restarting = true;
              log.warn({ slot: slot.name, err: String(error) }, 'worker not answering: restarting it');
              await destroyActor(slot.handle).catch(() => undefined);
              slots[index] = await place(slot.name, index);
            });
          }
        }, cluster.heartbeatMs)
      : undefined;
  watchdog?.unref();

  const stats = (): Promise<WorkerAnswer[]> =>
    Promise.all(
      slots.map((slot) =>
        withTimeout(slot.handle.sendAndReceive('stats', {}), cluster.deadAfterMs).then(
          (answer) => answer as WorkerStatsReply,
          (error: unknown) => ({ slot: slot.name, error: String(error) }),
        ),
      ),
    );
  let draining = false;
  const merged = new MergedWorkerMetrics();
  const statusServer = await serveWorkerStatus(config, {
    metrics: () => merged.scrape(() => Promise.all(slots.map((slot) => scrapeWorker(slot, cluster.deadAfterMs)))),
    readiness: async () => workersReadiness(await stats(), cluster.deadAfterMs),
    isDraining: () => draining,
  });
  const { port } = statusServer.address() as AddressInfo;

  return {
    slots: slots.map((slot) => slot.name),
    metricsUrl: `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}/metrics`,
    stats,
    async stop() {
      clearInterval(watchdog);
      // The status server answers while the workers drain: /livez stays 200, /readyz says draining.
      draining = true;
      // A worker signalled with this process (the whole group, as service managers do) drains itself and ends: no new one.
      for (const slot of slots) stopRespawning(slot.handle);
      await Promise.all(
        slots.map((slot) =>
          withTimeout(slot.handle.sendAndReceive('drain', { timeoutMs: cluster.drainTimeoutMs }), cluster.drainTimeoutMs * 2 + 5000).catch((error: unknown) =>
            log.warn({ slot: slot.name, err: String(error) }, 'worker did not drain cleanly'),
          ),
        ),
      );
      statusServer.closeAllConnections();
      await new Promise<void>((resolve) => statusServer.close(() => resolve()));
      await Promise.all(slots.map((slot) => destroyActor(slot.handle).catch(() => undefined)));
      await system.destroy();
    },
  };
}

/**
 * One worker's part of a scrape: its metrics, and which incarnation gave them
 * (asked before and after, so the metrics of a worker that restarted
 * mid-scrape are not credited to the wrong incarnation: that scrape counts it
 * silent).
 */
async function scrapeWorker(slot: Slot, timeoutMs: number): Promise<WorkerScrape> {
  const ask = (topic: string) => withTimeout(slot.handle.sendAndReceive(topic, {}), timeoutMs);
  try {
    const before = metricsIncarnationOf(await ask('stats'));
    const snapshot = await ask('metricsSnapshot');
    const after = metricsIncarnationOf(await ask('stats'));
    if (before === undefined || before !== after) return { slot: slot.name, answered: false };
    return { slot: slot.name, answered: true, incarnation: before, families: metricFamilies(snapshot) };
  } catch {
    return { slot: slot.name, answered: false };
  }
}

/**
 * Which registry a worker's metrics come from: its process. Not its cluster
 * node id, which a fenced worker renews when it rejoins while its counters go
 * on. A threaded worker restarted in this process keeps the pid; the merger
 * sees its restart as counters that shrank.
 */
export function metricsIncarnationOf(stats: unknown): string | undefined {
  const { pid } = (stats ?? {}) as Partial<WorkerStats>;
  return typeof pid === 'number' ? String(pid) : undefined;
}

/**
 * A worker process is ready when every worker answers its `stats` within the
 * dead timeout and none was fenced (declared gone by the cluster while it
 * still ran: it serves nothing until it rejoins).
 */
export function workersReadiness(answers: readonly WorkerAnswer[], timeoutMs: number): Readiness {
  const reasons: string[] = [];
  for (const answer of answers) {
    if ('error' in answer) reasons.push(`worker ${answer.slot} did not answer within ${timeoutMs} ms (${answer.error})`);
    else if (answer.fenced === true) reasons.push(`worker ${answer.nodeId} was fenced by the cluster and serves nothing until it rejoins`);
    else if (answer.backplaneUp === false) reasons.push(`worker ${answer.nodeId} cannot reach the cluster's Redis`);
  }
  return { ready: reasons.length === 0, reasons };
}

interface WorkerStatusSources {
  /** Every worker's metrics, merged (see merged-metrics.ts). */
  metrics(): Promise<{ readonly contentType: string; metrics(): Promise<string> }>;
  readiness(): Promise<Readiness>;
  /** True once the process is stopping: /readyz then answers 503 draining. */
  isDraining(): boolean;
}

/**
 * The worker process's own port (PLAYHOUSE_METRICS_PORT): /metrics with its
 * workers' merged metrics, /livez (200 while this process's event loop
 * answers, draining or not) and /readyz (200 when every worker answers and
 * none is fenced; 503 with the reasons otherwise, and while draining).
 */
async function serveWorkerStatus(config: PlayhouseConfig, sources: WorkerStatusSources): Promise<Server> {
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (request.method !== 'GET') return void response.writeHead(405).end();
    if (path === '/livez') return sendJson(response, 200, { status: 'alive', uptimeSeconds: Math.round(process.uptime()) });
    if (path === '/readyz') {
      if (sources.isDraining()) return sendJson(response, 503, { status: 'draining', reasons: ['the worker process is shutting down'] });
      sources.readiness().then(
        ({ ready, reasons }) => sendJson(response, ready ? 200 : 503, { status: ready ? 'ok' : 'not-ready', reasons }),
        (error: unknown) => sendJson(response, 503, { status: 'not-ready', reasons: [String(error)] }),
      );
      return;
    }
    if (path !== '/metrics') return void response.writeHead(404).end();
    sources
      .metrics()
      .then(async (merged) => response.writeHead(200, { 'content-type': merged.contentType }).end(await merged.metrics()))
      .catch((error: unknown) => response.writeHead(500).end(String(error)));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.cluster.metricsPort, config.host, () => resolve());
  });
  return server;
}

function sendJson(response: ServerResponse, status: number, body: object): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** host:port targets for remote workers, refusing public addresses unless allowed. */
async function checkRemoteHosts(config: PlayhouseConfig): Promise<Array<{ host: string; port: number }>> {
  if (config.cluster.workerMode !== 'remote') return [];
  if (config.cluster.remoteHosts.length === 0) throw new Error('workerMode "remote" needs cluster.remoteHosts (PLAYHOUSE_REMOTE_HOSTS=host:port,...)');
  const targets: Array<{ host: string; port: number }> = [];
  for (const entry of config.cluster.remoteHosts) {
    const separator = entry.lastIndexOf(':');
    const host = entry.slice(0, separator);
    const port = Number(entry.slice(separator + 1));
    if (!config.cluster.allowPublicRemote && !(await isPrivateAddress(host))) {
      throw new Error(
        `remote worker host ${host} is not a private address; comedy's listener has no authentication. ` +
          'Put workers on a private network, or set cluster.allowPublicRemote if it is firewalled.',
      );
    }
    targets.push({ host, port });
  }
  return targets;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
