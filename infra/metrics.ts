/**
 * Domain metrics with Prometheus (prom-client) as the implementation.
 *
 * Prometheus scrapes processes, so there is one registry per process: the
 * gateway serves it on /metrics, and actors in the same process write to it
 * through the ActorMetrics port. Names follow Prometheus conventions
 * (`_total` counters, `_seconds` histograms) so dashboards can be built on them.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { NodeInfo } from '../actors/cluster/backplane';
import type { ActorKind } from '../actors/messages';
import type { WritePriority } from '../actors/persistence/persistence-protocol';
import type { ActorMetrics } from '../actors/ports';

export class PlayhouseMetrics implements ActorMetrics {
  readonly registry = new Registry();

  private readonly connectedClients = new Gauge({ name: 'playhouse_connected_clients', help: 'Socket.IO clients connected to this gateway.', registers: [this.registry] });
  private readonly sessions = new Gauge({ name: 'playhouse_sessions', help: 'Session actors alive in this process.', registers: [this.registry] });
  private readonly rooms = new Gauge({
    name: 'playhouse_rooms',
    help: 'Room actors alive in this process, by game and the version of its rules they run.',
    labelNames: ['game', 'version'],
    registers: [this.registry],
  });
  /** Counted on every move: plain numbers, handed to Prometheus at scrape time (see Tally). */
  private readonly movesAppliedByGame = new Tally();
  private readonly movesApplied: Counter<'game'> = new Counter({
    name: 'playhouse_moves_applied_total',
    help: 'Moves the rules accepted and applied.',
    labelNames: ['game'],
    registers: [this.registry],
    collect: () => {
      this.movesAppliedByGame.publish(this.movesApplied, 'game');
    },
  });
  private readonly movesRejected = new Counter({
    name: 'playhouse_moves_rejected_total',
    help: 'Moves refused by a room, by error code (and rules reason for move/illegal).',
    labelNames: ['game', 'reason'],
    registers: [this.registry],
  });
  private readonly requestsByEvent = new Tally();
  private readonly requests: Counter<'event' | 'outcome'> = new Counter({
    name: 'playhouse_requests_total',
    help: 'Client requests answered by this gateway, by event and outcome (ok or error code).',
    labelNames: ['event', 'outcome'],
    registers: [this.registry],
    collect: () => {
      this.requestsByEvent.publish(this.requests, 'event', 'outcome');
    },
  });
  private readonly requestDuration = new Histogram({
    name: 'playhouse_request_duration_seconds',
    help: 'Time from a request reaching the gateway to its acknowledgement, by event (room:move is move handling latency).',
    labelNames: ['event'],
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });
  /** Mailbox depth changes twice per message: keep plain numbers and hand them to Prometheus at scrape time. */
  private readonly depthByKind: Record<ActorKind, number> = { session: 0, room: 0, lobby: 0 };
  private readonly mailboxDepth = new Gauge({
    name: 'playhouse_mailbox_depth',
    help: 'Messages waiting in actor mailboxes, summed by actor kind.',
    labelNames: ['kind'],
    registers: [this.registry],
    collect: () => {
      for (const [kind, depth] of Object.entries(this.depthByKind)) this.mailboxDepth.set({ kind }, depth);
    },
  });
  /** Labelled children looked up once, not hashed on every move. */
  private readonly children = new Map<string, { inc(): void } | { observe(value: number): void }>();
  private readonly mailboxOverflows = new Counter({ name: 'playhouse_mailbox_overflows_total', help: 'Messages refused because a mailbox was full.', labelNames: ['kind'], registers: [this.registry] });
  private readonly clusterBatches = new Counter({ name: 'playhouse_cluster_batches_total', help: 'Batches of frames this process sent to or received from other nodes of the cluster.', labelNames: ['direction'], registers: [this.registry] });
  private readonly clusterFrames = new Counter({ name: 'playhouse_cluster_frames_total', help: 'Frames (messages, asks, replies, spawns) in those batches.', labelNames: ['direction'], registers: [this.registry] });
  private readonly clusterBytes = new Counter({ name: 'playhouse_cluster_bytes_total', help: 'JSON bytes of those batches.', labelNames: ['direction'], registers: [this.registry] });
  private readonly wireErrors = new Counter({ name: 'playhouse_wire_errors_total', help: 'Messages refused by the gateway before reaching an actor, by error code.', labelNames: ['code'], registers: [this.registry] });

  private readonly persistenceQueue = new Gauge({ name: 'playhouse_persistence_queue_depth', help: 'Writes waiting in the persistence actor, by priority.', labelNames: ['priority'], registers: [this.registry] });
  private readonly persistenceBatchSize = new Histogram({
    name: 'playhouse_persistence_batch_size',
    help: 'Writes sent to a store in one call, by store driver.',
    labelNames: ['store'],
    buckets: [1, 2, 5, 10, 25, 50, 100, 200, 500],
    registers: [this.registry],
  });
  private readonly persistenceFlush = new Histogram({
    name: 'playhouse_persistence_flush_seconds',
    help: 'Time one batch took to write, by store driver.',
    labelNames: ['store'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  private readonly persistenceWait = new Histogram({
    name: 'playhouse_persistence_write_wait_seconds',
    help: 'From a write reaching the persistence actor to it being durable, by priority.',
    labelNames: ['priority'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  private readonly persistenceRetries = new Counter({ name: 'playhouse_persistence_retries_total', help: 'Batches a store failed to write (kept and retried with backoff), by store driver.', labelNames: ['store'], registers: [this.registry] });
  private readonly persistenceConflictCount = new Counter({ name: 'playhouse_persistence_conflicts_total', help: 'Writes refused by a version conflict, by store driver.', labelNames: ['store'], registers: [this.registry] });
  private readonly persistenceShedCount = new Counter({
    name: 'playhouse_persistence_shed_total',
    help: 'Writes dropped because the queue was full, by priority: shed (an accepted low/normal write dropped for a more urgent one) or refused (not accepted).',
    labelNames: ['priority', 'reason'],
    registers: [this.registry],
  });
  private readonly persistenceUp = new Gauge({ name: 'playhouse_persistence_store_up', help: 'Whether a store works: 1 once it opened and after each write that succeeded, 0 after a write that failed, by store driver.', labelNames: ['store'], registers: [this.registry] });

  constructor() {
    // Process CPU, memory, GC and event-loop lag (nodejs_eventloop_lag_seconds).
    collectDefaultMetrics({ register: this.registry });
  }

  clientConnected(): void {
    this.connectedClients.inc();
  }
  clientDisconnected(): void {
    this.connectedClients.dec();
  }
  requestAnswered(event: string, outcome: string, seconds: number): void {
    this.requestsByEvent.add(event, outcome);
    // Keyed by the event's own string (the other children's keys carry a prefix with '|', which no event has).
    this.child(event, () => this.requestDuration.labels(event)).observe(seconds);
  }
  wireError(code: string): void {
    this.wireErrors.inc({ code });
  }

  sessionStarted(): void {
    this.sessions.inc();
  }
  sessionEnded(): void {
    this.sessions.dec();
  }
  roomOpened(game: string, version: string): void {
    this.rooms.inc({ game, version });
  }
  roomClosed(game: string, version: string): void {
    this.rooms.dec({ game, version });
  }
  moveApplied(game: string): void {
    this.movesAppliedByGame.add(game);
  }
  moveRejected(game: string, reason: string): void {
    this.child(`rejected|${game}|${reason}`, () => this.movesRejected.labels(game, reason)).inc();
  }
  mailboxDepthChanged(kind: ActorKind, delta: number): void {
    this.depthByKind[kind] += delta;
  }
  private child<T extends { inc(): void } | { observe(value: number): void }>(key: string, create: () => T): T {
    let found = this.children.get(key) as T | undefined;
    if (!found) this.children.set(key, (found = create()));
    return found;
  }

  mailboxOverflow(kind: ActorKind): void {
    this.mailboxOverflows.inc({ kind });
  }

  clusterBatch(direction: 'sent' | 'received', frames: number, bytes: number): void {
    this.clusterBatches.inc({ direction });
    this.clusterFrames.inc({ direction }, frames);
    this.clusterBytes.inc({ direction }, bytes);
  }

  persistenceQueueDepth(priority: WritePriority, depth: number): void {
    this.persistenceQueue.set({ priority }, depth);
  }
  persistenceBatch(store: string, writes: number, seconds: number): void {
    this.persistenceBatchSize.observe({ store }, writes);
    this.persistenceFlush.observe({ store }, seconds);
  }
  persistenceRetry(store: string): void {
    this.persistenceRetries.inc({ store });
  }
  persistenceConflicts(store: string, count: number): void {
    this.persistenceConflictCount.inc({ store }, count);
  }
  persistenceShed(priority: WritePriority, reason: 'shed' | 'refused'): void {
    this.persistenceShedCount.inc({ priority, reason });
  }
  persistenceDurable(priority: WritePriority, seconds: number): void {
    this.child(`persistence|${priority}`, () => this.persistenceWait.labels(priority)).observe(seconds);
  }
  persistenceStoreUp(store: string, up: boolean): void {
    this.persistenceUp.set({ store }, up ? 1 : 0);
  }

  /** Rooms of this process by game and rules version (the admin endpoint shows them). */
  async roomsByVersion(): Promise<Array<{ game: string; version: string; rooms: number }>> {
    const { values } = await this.rooms.get();
    return values.map((value) => ({ game: String(value.labels.game), version: String(value.labels.version), rooms: value.value }));
  }

  snapshot(): Promise<object[]> {
    return this.registry.getMetricsAsJSON() as Promise<object[]>;
  }

  /** A gateway of a cluster reports every live node's actors and connections (as of their last heartbeat). */
  watchCluster(members: () => readonly NodeInfo[]): void {
    new Gauge({
      name: 'playhouse_cluster_node_actors',
      help: 'Sessions and rooms on each live worker of the cluster, as of its last heartbeat.',
      labelNames: ['node', 'slot', 'kind'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const node of members()) {
          if (node.role !== 'worker') continue;
          this.set({ node: node.id, slot: node.slot, kind: 'session' }, node.sessions);
          this.set({ node: node.id, slot: node.slot, kind: 'room' }, node.rooms);
        }
      },
    });
    new Gauge({
      name: 'playhouse_cluster_nodes',
      help: 'Live nodes of the cluster by role, and how many of them are draining.',
      labelNames: ['role', 'draining'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const node of members()) this.inc({ role: node.role, draining: String(node.draining) });
      },
    });
  }
}

/**
 * Counts by one or two label values, kept as plain numbers and handed to a prom-client counter when it is
 * scraped. prom-client's labelled `inc` builds and looks up a string of the labels on every call (a child
 * from `labels()` too): on the request and move counters, which count every move, that cost more than the
 * rest of the metrics together. The label values here are the caller's own strings, not rebuilt per call.
 */
class Tally {
  private readonly counts = new Map<string, Map<string, number>>();

  add(first: string, second = ''): void {
    let inner = this.counts.get(first);
    if (!inner) this.counts.set(first, (inner = new Map()));
    inner.set(second, (inner.get(second) ?? 0) + 1);
  }

  /** Sets `counter` to these totals (under `firstLabel` and, if given, `secondLabel`). */
  publish<L extends string>(counter: Counter<L>, firstLabel: L, secondLabel?: L): void {
    counter.reset();
    for (const [first, inner] of this.counts) {
      for (const [second, count] of inner) {
        const labels = { [firstLabel]: first } as Partial<Record<L, string>>;
        if (secondLabel !== undefined) labels[secondLabel] = second;
        counter.inc(labels, count);
      }
    }
  }
}
