/**
 * A worker: the comedy actor that hosts a share of the game's sessions, rooms
 * and (on one worker) the lobby. comedy places workers — in this process,
 * forked, in a worker thread, or on another host — and supervises them; the
 * actors inside a worker are lightweight (see actors/worker/actor-host.ts).
 *
 * In a cluster the worker joins the backplane (Redis) itself, so gateways and
 * other workers reach it directly, not through the process that placed it.
 */
import { randomBytes } from 'node:crypto';
import { errorBody } from '../../protocol/errors';
import { ClusterNode } from '../cluster/cluster-node';
import type { Backplane } from '../cluster/backplane';
import type { SelfHandle } from '../kit/comedy';
import type { ActorSettings } from '../kit/mailbox-actor';
import { LOBBY } from '../lobby/lobby-protocol';
import { gatewayRef, idSet, idsOf, type ActorKind, type Address } from '../messages';
import { PERSISTENCE } from '../persistence/persistence-protocol';
import { sessionRef } from '../session/session-protocol';
import { PersistenceActor, type PersistenceSettings } from '../persistence/persistence-actor';
import type { OpenedStores, StoreConnector, StoresConfig } from '../persistence/stores';
import { delayOn, RESOURCE, type ActorLog, type ActorMetrics, type Clock, type ClusterConnector, type GameCatalog, type ProcessPorts } from '../ports';
import { ActorHost, type HostStats } from './actor-host';
import { drainOnSignals } from './worker-signals';

export interface WorkerClusterParameters {
  readonly redisUrl: string;
  readonly name: string;
  /** This worker's slot, unique in the cluster ('host-1234-w1'); a restarted worker keeps it. */
  readonly slot: string;
  readonly heartbeatMs: number;
  readonly deadAfterMs: number;
}

export interface WorkerParameters {
  readonly settings: Readonly<Record<ActorKind, ActorSettings>>;
  /** Whether this worker's process watches games/ for designers' edits (hot reload). */
  readonly games?: { readonly watch: boolean };
  /** The stores this worker's persistence actor writes to, and how it batches. */
  readonly persistence: { readonly stores: StoresConfig; readonly settings: PersistenceSettings; readonly drainTimeoutMs: number };
  /** Absent for the in-process worker of a single-process server. */
  readonly cluster?: WorkerClusterParameters;
}

export interface WorkerStats extends HostStats {
  readonly nodeId: string;
  readonly pid: number;
  /** The cluster declared this worker's incarnation gone; it serves nothing until it has rejoined. */
  readonly fenced: boolean;
  /** The worker's last heartbeat reached the cluster's Redis (always true outside a cluster). */
  readonly backplaneUp: boolean;
}

const DRAIN_POLL_MS = 100;

export default class WorkerActor {
  static inject(): string[] {
    return [RESOURCE.context, RESOURCE.cluster, RESOURCE.stores];
  }

  /** Set in `initialize`; a worker in the caller's process is used through it directly. */
  host!: ActorHost;
  private node: ClusterNode | undefined;
  private backplane: Backplane | undefined;
  private nodeId = 'local';
  private persistence: PersistenceActor | undefined;
  private stores: OpenedStores | undefined;
  private drainTimeoutMs = 0;
  private watchingGames = false;
  private unfollowGames: (() => Promise<void>) | undefined;
  private draining: Promise<WorkerStats> | undefined;

  private readonly metrics: ActorMetrics;
  private readonly log: ActorLog;
  private readonly games: GameCatalog;
  private readonly clock: Clock;

  constructor(
    private readonly context: ProcessPorts,
    private readonly cluster: ClusterConnector,
    private readonly storeConnector: StoreConnector,
  ) {
    this.metrics = context.metrics;
    this.log = context.log;
    this.games = context.games;
    this.clock = context.clock;
  }

  /** comedy lifecycle hook. */
  async initialize(self: SelfHandle): Promise<void> {
    const parameters = self.getCustomParameters() as WorkerParameters;
    this.host = new ActorHost(this.context, parameters.settings);
    this.watchingGames = parameters.games?.watch === true;
    if (this.watchingGames) await this.games.watch?.();
    // Stores that cannot be opened at boot stop the worker from starting (a clear error, not a half-working worker);
    // once running, a store that goes away only delays writes.
    this.stores = await this.storeConnector.open(parameters.persistence.stores);
    this.persistence = new PersistenceActor(this.stores, parameters.persistence.settings, this.metrics, this.log, this.clock);
    this.drainTimeoutMs = parameters.persistence.drainTimeoutMs;
    this.host.bindService(PERSISTENCE, this.persistence);
    if (parameters.cluster) await this.joinCluster(parameters.cluster, parameters.settings.session.askTimeoutMs);
    drainOnSignals(self, { drain: () => this.drain({ timeoutMs: this.drainTimeoutMs }), drainTimeoutMs: this.drainTimeoutMs, log: this.log });
  }

  /** comedy topic: what this worker holds. */
  stats(): WorkerStats {
    const health = this.node?.health();
    return { ...this.host.stats(), nodeId: this.nodeId, pid: process.pid, fenced: health?.fenced ?? false, backplaneUp: health?.backplaneUp ?? true };
  }

  /** comedy topic: this worker process's metrics, for its supervisor to merge and serve. */
  metricsSnapshot(): Promise<object[]> {
    return this.metrics.snapshot();
  }

  /**
   * comedy topic: stop taking new work and give what this worker holds to
   * the others, then leave. In a cluster nothing waits for games to end:
   * every room writes its state and stops, every session saves what a resume
   * needs and tells its device to connect again, and the worker leaves as if
   * it had died — the others take its rooms, sessions and lobby up from the
   * stores, and the devices resume there. Alone (one process) there is no one
   * to hand over to: running games finish (for at most `timeoutMs`), then
   * the players are sent away. Its supervisor and a signal to its own process
   * may both ask: one drain answers both.
   */
  drain(request: { timeoutMs: number }): Promise<WorkerStats> {
    this.draining ??= this.node ? this.handOver(request) : this.drainOnce(request);
    return this.draining;
  }

  private async handOver(request: { timeoutMs: number }): Promise<WorkerStats> {
    await this.node?.drain();
    const deadline = this.clock.now() + request.timeoutMs;
    // Rooms first: once written and stopped they push nothing more, so a session's saved numbering is its last.
    await this.handOverAll('room', deadline);
    await this.handOverAll('session', deadline);
    const stats = this.stats();
    await this.host.shutdown();
    await this.leaveCluster();
    await this.closeStores(request.timeoutMs);
    this.log.info({ rooms: stats.actors.room, sessions: stats.actors.session }, 'worker handed its rooms and sessions over');
    return stats;
  }

  /** Asks every actor of a kind held here to hand itself over, and waits for their answers until `deadline`. */
  private async handOverAll(kind: 'room' | 'session', deadline: number): Promise<void> {
    const answers = this.host.askAll(kind, { type: 'hand-over' });
    // Past the deadline the drain goes on without the stragglers (allSettled itself never rejects).
    await this.host.deadlines.within(answers, Math.max(0, deadline - this.clock.now()), () => new Error(`${kind}s not handed over by the drain timeout`)).catch(() => undefined);
  }

  private async drainOnce(request: { timeoutMs: number }): Promise<WorkerStats> {
    const deadline = this.clock.now() + request.timeoutMs;
    while (this.host.stats().actors.room > 0 && this.clock.now() < deadline) await delayOn(this.clock, DRAIN_POLL_MS);
    this.host.tellAll('session', { type: 'evict', error: errorBody('server/shutting-down', 'the server holding your session is stopping; connect again') });
    while (this.host.stats().queued > 0 && this.clock.now() < deadline + request.timeoutMs) await delayOn(this.clock, DRAIN_POLL_MS);
    const stats = this.stats();
    await this.leaveCluster();
    await this.closeStores(request.timeoutMs);
    return stats;
  }

  /** comedy lifecycle hook: the worker is being destroyed. */
  async destroy(): Promise<void> {
    if (this.watchingGames) await this.games.close?.();
    this.watchingGames = false;
    await this.host.shutdown();
    await this.leaveCluster();
    await this.closeStores(this.drainTimeoutMs);
  }

  /** Writes what the persistence actor still holds (rooms' last snapshots included), then closes the stores. */
  private async closeStores(timeoutMs: number): Promise<void> {
    const persistence = this.persistence;
    const stores = this.stores;
    this.persistence = undefined;
    this.stores = undefined;
    if (persistence) {
      await persistence.drain(timeoutMs);
      persistence.stop();
    }
    await stores?.close().catch((error: unknown) => this.log.warn({ err: String(error) }, 'closing the stores failed'));
  }

  private async joinCluster(cluster: WorkerClusterParameters, askTimeoutMs: number): Promise<void> {
    this.backplane = await this.cluster.connect({ url: cluster.redisUrl, name: cluster.name });
    this.host.sessionStore = await this.cluster.sessionStore({ url: cluster.redisUrl, name: cluster.name });
    this.host.roomLog = await this.cluster.roomLog({ url: cluster.redisUrl, name: cluster.name });
    // New versions of the games come from the gateway that watches the files (hot reload).
    this.unfollowGames = await this.cluster.followGames({ url: cluster.redisUrl, name: cluster.name });
    // A worker's node id names its incarnation: directory entries and fences are per incarnation.
    const incarnationId = () => `${cluster.slot}.${randomBytes(3).toString('hex')}`;
    this.nodeId = incarnationId();
    const node = new ClusterNode(this.host, this.backplane, {
      id: this.nodeId,
      nextId: () => (this.nodeId = incarnationId()),
      role: 'worker',
      slot: cluster.slot,
      heartbeatMs: cluster.heartbeatMs,
      deadAfterMs: cluster.deadAfterMs,
      askTimeoutMs,
      log: this.log,
      metrics: this.metrics,
    });
    this.node = node;
    node.onNodeDown((gone, lost) => {
      this.roomsLost(lost);
      // A gateway restarted under the same id is live again: its connections are new ones.
      if (this.node?.isGateway(gone) && !this.node.members().some((member) => member.id === gone)) this.gatewayLost(gone);
    });
    // Declared gone (this worker stalled past the dead timeout): its sessions and rooms were taken up
    // elsewhere, so our copies go without a word to anyone; the node then rejoins as a new incarnation.
    node.onFenced(() => this.host.shutdown());
    // Redis lost this worker (it came back empty): the sessions' seat records and resume state went with it.
    node.onRejoined(() => {
      this.host.tellAll('session', { type: 'save-again' });
    });
    await node.start();
    // A restarted worker replaces its previous incarnation: say at once that that one is gone.
    for (const member of node.members()) {
      if (member.slot === cluster.slot && member.id !== node.id) await this.backplane.announceDown(member.id, member.epoch);
    }
    this.log.info({ node: this.nodeId, pid: process.pid }, 'worker joined the cluster');
  }

  /**
   * Players whose room died with another worker hear it from their session;
   * if the lobby died, this worker's open rooms offer their seats to the new one;
   * rooms free the seats of connected players whose session died.
   */
  private roomsLost(lost: readonly Address[]): void {
    if (lost.includes(LOBBY)) {
      this.host.tellAll('room', { type: 'lobby-lost' });
    }
    const players = idsOf('session', lost);
    if (players.length > 0) void this.sessionsLost(players);
    const rooms = idsOf('room', lost);
    if (rooms.length === 0) return;
    this.host.tellAll('session', { type: 'rooms-lost', roomIds: idSet(rooms) });
  }

  /** Sessions whose device was connected through a gateway that died drop that connection (and wait for the device to resume elsewhere). */
  private gatewayLost(gatewayNode: string): void {
    this.host.tellAll('session', { type: 'gateway-lost', gateway: gatewayRef(gatewayNode) });
  }

  /**
   * Tells this worker's rooms which players' sessions are gone for good. A session an away player
   * already resumed on another worker is not: it owns its address again (we may hear of the death late).
   */
  private async sessionsLost(playerIds: readonly string[]): Promise<void> {
    const owners = await Promise.all(playerIds.map((playerId) => this.node?.locate(sessionRef(playerId)).catch(() => undefined)));
    const gone = playerIds.filter((_, i) => owners[i] === undefined);
    if (gone.length === 0) return;
    this.host.tellAll('room', { type: 'sessions-lost', playerIds: idSet(gone) });
  }

  private async leaveCluster(): Promise<void> {
    const node = this.node;
    const backplane = this.backplane;
    const sessionStore = this.host.sessionStore;
    const roomLog = this.host.roomLog;
    const unfollowGames = this.unfollowGames;
    this.unfollowGames = undefined;
    this.node = undefined;
    this.backplane = undefined;
    this.host.sessionStore = undefined;
    this.host.roomLog = undefined;
    await node?.stop();
    await backplane?.close();
    await sessionStore?.close();
    await roomLog?.close();
    await unfollowGames?.();
  }
}


