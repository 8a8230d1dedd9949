/**
 * The `worker` role: places worker actors with comedy (in this process, forked,
 * in worker threads, or on other hosts through comedy's node listener), keeps
 * them running, and drains them on shutdown.
 *
 * Each worker joins the cluster's backplane itself; this process only places,
 * watches and stops them (over comedy), so it is never on a message's path.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { AggregatorRegistry } from 'prom-client';

/** One worker's metrics as registry.getMetricsAsJSON() gives them. */
type MetricsSnapshot = object[];
import { createComedySystem, destroyActor, type ActorHandle, type ChildOptions, type ComedySystem } from '../../actors/kit/comedy';
import type { ActorSettings } from '../../actors/kit/mailbox-actor';
import type { ActorKind } from '../../actors/messages';
import type { ActorLog } from '../../actors/ports';
import type { WorkerParameters, WorkerStats } from '../../actors/worker/worker-actor';
import { persistenceSettings, storesConfig } from '../stores/stores-config';
import { ACTOR_RESOURCES } from '../actor-resources';
import type { PlayhouseConfig } from '../config';
import { isPrivateAddress } from './private-address';

const WORKER_MODULE = '/actors/worker/worker-actor';

export interface RunningWorkers {
  readonly slots: readonly string[];
  /** Where the merged metrics of every worker are served (http://host:port/metrics). */
  readonly metricsUrl: string;
  /** Each worker's counts, or an error string for one that did not answer. */
  stats(): Promise<Array<WorkerStats | { readonly slot: string; readonly error: string }>>;
  /** Drains every worker (see WorkerActor.drain), then stops them. */
  stop(): Promise<void>;
}

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
    const handle = await root.createChild(WORKER_MODULE, options);
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

  const metricsServer = await serveMergedMetrics(config, () =>
    Promise.all(slots.map((slot) => withTimeout(slot.handle.sendAndReceive('metricsSnapshot', {}), cluster.deadAfterMs).catch(() => []))) as Promise<MetricsSnapshot[]>,
  );
  const { port } = metricsServer.address() as AddressInfo;

  return {
    slots: slots.map((slot) => slot.name),
    metricsUrl: `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}/metrics`,
    async stats() {
      return Promise.all(
        slots.map((slot) =>
          withTimeout(slot.handle.sendAndReceive('stats', {}), cluster.deadAfterMs).then(
            (stats) => stats as WorkerStats,
            (error: unknown) => ({ slot: slot.name, error: String(error) }),
          ),
        ),
      );
    },
    async stop() {
      clearInterval(watchdog);
      metricsServer.closeAllConnections();
      await new Promise<void>((resolve) => metricsServer.close(() => resolve()));
      await Promise.all(
        slots.map((slot) =>
          withTimeout(slot.handle.sendAndReceive('drain', { timeoutMs: cluster.drainTimeoutMs }), cluster.drainTimeoutMs * 2 + 5000).catch((error: unknown) =>
            log.warn({ slot: slot.name, err: String(error) }, 'worker did not drain cleanly'),
          ),
        ),
      );
      await Promise.all(slots.map((slot) => destroyActor(slot.handle).catch(() => undefined)));
      await system.destroy();
    },
  };
}

/**
 * Each worker counts in its own process; Prometheus scrapes this one port and
 * gets the sum (counters and histograms add up; per-worker sessions and rooms
 * are on the gateways' playhouse_cluster_node_actors).
 */
async function serveMergedMetrics(config: PlayhouseConfig, snapshots: () => Promise<MetricsSnapshot[]>): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.url !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    snapshots()
      .then(async (all) => {
        const merged = AggregatorRegistry.aggregate(all.filter((one) => one.length > 0));
        response.writeHead(200, { 'content-type': merged.contentType }).end(await merged.metrics());
      })
      .catch((error: unknown) => response.writeHead(500).end(String(error)));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.cluster.metricsPort, config.host, () => resolve());
  });
  return server;
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
