/**
 * Persistence: one per worker process (and one in a single process). Game
 * logic never waits on a database: rooms hand their writes here, tagged with a
 * priority, and this actor batches, coalesces and flushes them, retrying with
 * backoff while a store is down, and answers each writer when its write is
 * durable (the store said it is written), never before.
 *
 * Two lanes write concurrently, so a flood of low-priority snapshots never
 * holds up a critical write:
 * - the critical lane flushes critical writes at once, except that under load
 *   its commits start at least `criticalSpacingMs` apart, so critical writes
 *   arriving meanwhile share one commit (a store's cost is per commit: a
 *   SQLite transaction and its fsync, a MariaDB round trip); a write after a
 *   quiet spell still goes at once;
 * - the background lane flushes normal writes within `normalWindowMs` and
 *   low ones every `lowIntervalMs` (or as soon as a batch is full).
 * Its mailbox is the bounded WriteQueue (overflow policy there).
 *
 * Not a MailboxActor: its messages are not handled one at a time to the end
 * (a write's answer waits for a flush), so it is bound to the host as a
 * local service at the address PERSISTENCE.
 */
import { refusal } from '../../protocol/errors';
import type { PersistenceMessage, PersistenceProtocol, ReadSnapshotReply, WritePriority, WriteReply, WriteRequest } from './persistence-protocol';
import { dispatch, type Handlers } from '../kit/protocol';
import type { ActorLog, Clock, PersistenceMetrics, Timer } from '../ports';
import { StoreWriter, type BatchResult, type PersistenceStores } from './store-writer';
import { StoreUnavailableError } from './stores';
import { PRIORITIES, WriteQueue, type QueuedWrite } from './write-queue';

export interface PersistenceSettings {
  /** Writes that may wait; past it low then normal writes are shed, and critical ones refused. */
  readonly maxQueued: number;
  /** Most writes sent to a store in one call. */
  readonly batchSize: number;
  /** A normal write waits at most this long for others to batch with. */
  readonly normalWindowMs: number;
  /** Low writes (snapshots) are flushed this often. */
  readonly lowIntervalMs: number;
  /** Critical commits start at least this far apart (0: each as soon as the previous one is done). */
  readonly criticalSpacingMs?: number;
  /** Backoff between retries while a store fails: from `initialMs`, doubling, at most `maxMs` (with jitter). */
  readonly retry: { readonly initialMs: number; readonly maxMs: number };
}

interface Lane {
  readonly name: 'critical' | 'background';
  readonly priorities: readonly WritePriority[];
  running: boolean;
  failures: number;
  wake: Timer | undefined;
  /** When `wake` fires (a scheduled window, not a backoff). */
  wakeAt: number;
  /** Batches start at least this far apart (group commit under load). */
  readonly spacingMs: number;
  /** When the last batch started. */
  startedAt: number;
  /** The wake is a retry backoff (nothing is taken until it fires). */
  backingOff: boolean;
}

/** The lanes' timers: writes waiting for their window or a retry keep the process alive until written. */
const KEEP_ALIVE = { keepAlive: true } as const;

export class PersistenceActor {
  private readonly queue: WriteQueue;
  private readonly writer: StoreWriter;
  private readonly lanes: readonly Lane[];
  /** When low writes are next due. */
  private lowDueAt: number;
  private draining = false;
  private readonly idleWaiters: Array<() => void> = [];

  constructor(
    private readonly stores: PersistenceStores,
    private readonly settings: PersistenceSettings,
    private readonly metrics: PersistenceMetrics,
    private readonly log: ActorLog,
    private readonly clock: Clock,
  ) {
    this.queue = new WriteQueue(settings.maxQueued);
    this.writer = new StoreWriter(stores);
    this.lanes = [
      { name: 'critical', priorities: ['critical'], running: false, failures: 0, wake: undefined, wakeAt: 0, backingOff: false, spacingMs: settings.criticalSpacingMs ?? 0, startedAt: 0 },
      { name: 'background', priorities: ['normal', 'low'], running: false, failures: 0, wake: undefined, wakeAt: 0, backingOff: false, spacingMs: 0, startedAt: 0 },
    ];
    this.lowDueAt = this.clock.now() + settings.lowIntervalMs;
    // The stores opened (a worker does not start otherwise): up until a write says otherwise, so a fresh
    // worker's series are there from its start, not from its first write.
    for (const store of new Set([stores.snapshots.driver, stores.matches.driver])) metrics.persistenceStoreUp(store, true);
  }

  /** Writes waiting (not yet sent to a store). */
  get depth(): number {
    return this.queue.size;
  }

  private static readonly handlers: Handlers<PersistenceProtocol, PersistenceActor> = {
    write: (actor, { priority, write }) => actor.accept(priority, write),
    'read-snapshot': (actor, { key }) => actor.readSnapshot(key),
  };

  /** The single entry point (tell or ask). */
  receive(message: PersistenceMessage): Promise<unknown> {
    return Promise.resolve(dispatch(PersistenceActor.handlers, this, message));
  }

  /**
   * Flushes everything queued, now (SIGTERM). Resolves when the queue is empty,
   * or at `timeoutMs` with what is left (logged, with the writes, at error level).
   */
  async drain(timeoutMs: number): Promise<{ readonly left: number }> {
    this.draining = true;
    const idle = new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    for (const lane of this.lanes) this.schedule(lane);
    let timer: Timer | undefined;
    const timedOut = new Promise<void>((resolve) => (timer = this.clock.setTimeout(resolve, timeoutMs, KEEP_ALIVE)));
    await Promise.race([idle, timedOut]);
    this.clock.clear(timer);
    const left = this.queue.all();
    if (left.length > 0) {
      this.log.error({ left: left.length, writes: left.map((entry) => ({ priority: entry.priority, write: entry.write })) }, 'persistence drain timed out: these writes were never acknowledged and are not written');
    }
    return { left: left.length };
  }

  /** Stops the timers (after a drain); writes still queued stay unanswered. */
  stop(): void {
    for (const lane of this.lanes) this.clock.clear(lane.wake);
  }

  private accept(priority: WritePriority, write: WriteRequest): Promise<WriteReply> {
    return new Promise<WriteReply>((settle) => {
      const admission = this.queue.add(priority, write, { since: this.clock.now(), settle }, this.clock.now());
      if (!admission.accepted) {
        this.metrics.persistenceShed(priority, 'refused');
        this.log.warn({ priority, kind: write.kind, queued: this.queue.size }, 'persistence queue full: write refused');
        settle(refusal('persistence/overloaded', `the write queue is full (${this.settings.maxQueued} writes)`, { retryAfterMs: this.settings.retry.maxMs }));
        return;
      }
      for (const victim of admission.shed) this.shed(victim);
      this.reportDepth();
      this.schedule(this.laneFor(priority));
    });
  }

  private shed(victim: QueuedWrite): void {
    this.metrics.persistenceShed(victim.priority, 'shed');
    this.log.warn({ priority: victim.priority, kind: victim.write.kind, queued: this.queue.size }, 'persistence queue full: oldest lowest-priority write shed');
    const reply = refusal('persistence/overloaded', 'shed: the write queue filled up with more urgent writes', { retryAfterMs: this.settings.retry.maxMs });
    for (const waiter of victim.waiters) waiter.settle(reply);
  }

  private async readSnapshot(key: string): Promise<ReadSnapshotReply> {
    try {
      const stored = await this.stores.snapshots.read(key);
      return { ok: true, snapshot: stored ? { version: stored.version, data: stored.data } : null };
    } catch (error) {
      this.log.warn({ key, err: String(error) }, 'snapshot read failed');
      return refusal('server/unavailable', error instanceof StoreUnavailableError ? error.message : 'the snapshot store failed');
    }
  }

  private laneFor(priority: WritePriority): Lane {
    return priority === 'critical' ? this.lanes[0]! : this.lanes[1]!;
  }

  /** Runs the lane now if something in it is due, else wakes it when something will be. */
  private schedule(lane: Lane): void {
    if (lane.running || lane.backingOff) return;
    const due = this.duePriorities(lane);
    const spacedUntil = this.spacedUntil(lane);
    if (due.length > 0 && spacedUntil <= this.clock.now()) {
      this.clock.clear(lane.wake);
      lane.wake = undefined;
      void this.run(lane);
      return;
    }
    const next = due.length > 0 ? spacedUntil : this.nextDueAt(lane);
    if (next === undefined) return this.checkIdle();
    // Already waking in time: most writes arrive while their lane waits for its window, and a timer
    // remade for each of them (thousands a second) would cost more than the writes.
    if (lane.wake && lane.wakeAt <= next) return;
    this.clock.clear(lane.wake);
    lane.wakeAt = next;
    // Kept alive: writes waiting for their window keep the process alive until they are written.
    lane.wake = this.clock.setTimeout(
      () => {
        lane.wake = undefined;
        this.schedule(lane);
      },
      Math.max(0, next - this.clock.now()),
      KEEP_ALIVE,
    );
  }

  /** When the lane may start its next batch (a drain does not wait). */
  private spacedUntil(lane: Lane): number {
    return this.draining ? 0 : lane.startedAt + lane.spacingMs;
  }

  private duePriorities(lane: Lane): WritePriority[] {
    const now = this.clock.now();
    return lane.priorities.filter((priority) => {
      const count = this.queue.count(priority);
      if (count === 0) return false;
      if (this.draining || priority === 'critical' || count >= this.settings.batchSize) return true;
      if (priority === 'normal') return (this.queue.oldest('normal') ?? now) + this.settings.normalWindowMs <= now;
      return this.lowDueAt <= now;
    });
  }

  private nextDueAt(lane: Lane): number | undefined {
    const times: number[] = [];
    if (lane.priorities.includes('normal') && this.queue.count('normal') > 0) times.push((this.queue.oldest('normal') ?? 0) + this.settings.normalWindowMs);
    if (lane.priorities.includes('low') && this.queue.count('low') > 0) times.push(this.lowDueAt);
    return times.length > 0 ? Math.min(...times) : undefined;
  }

  private async run(lane: Lane): Promise<void> {
    lane.running = true;
    try {
      for (;;) {
        const due = this.duePriorities(lane);
        if (due.length === 0) break;
        // Too soon after the last batch: schedule() wakes the lane when its spacing is over.
        if (this.spacedUntil(lane) > this.clock.now()) break;
        lane.startedAt = this.clock.now();
        if (due.includes('low')) this.lowDueAt = this.clock.now() + this.settings.lowIntervalMs;
        const batch = this.queue.take(due, this.settings.batchSize);
        this.reportDepth();
        if (batch.length === 0) break; // every due write waits for an earlier write of its key, in flight in the other lane
        const result = await this.writer.write(batch);
        if (!this.settle(batch, result)) {
          this.backOff(lane, result);
          return;
        }
        lane.failures = 0;
      }
    } catch (error) {
      // A bug in the writer, not a store failure: say so loudly; the batch was requeued or settled above.
      this.log.error({ lane: lane.name, err: error instanceof Error ? error.stack : String(error) }, 'persistence lane failed');
    } finally {
      lane.running = false;
    }
    // Writes of keys that were in flight may be takeable now, by either lane.
    for (const other of this.lanes) if (!other.running) this.schedule(other);
  }

  /** Answers the writers of what was written; queues the rest again. False when some store failed. */
  private settle(batch: readonly QueuedWrite[], result: BatchResult): boolean {
    for (const call of result.calls) {
      this.metrics.persistenceBatch(call.store, call.writes, call.seconds);
      this.metrics.persistenceStoreUp(call.store, true);
      if (call.conflicts > 0) this.metrics.persistenceConflicts(call.store, call.conflicts);
    }
    const now = this.clock.now();
    const done: QueuedWrite[] = [];
    for (const entry of batch) {
      const outcome = result.outcomes.get(entry);
      if (!outcome) continue;
      done.push(entry);
      if (outcome.durable) {
        const reply: WriteReply = outcome.version === undefined ? { ok: true } : { ok: true, version: outcome.version };
        for (const waiter of entry.waiters) {
          this.metrics.persistenceDurable(entry.priority, (now - waiter.since) / 1000);
          waiter.settle(reply);
        }
      } else {
        this.log.warn({ key: outcome.conflict.key, expected: outcome.conflict.expectedVersion, stored: outcome.conflict.storedVersion }, 'persistence: version conflict, write refused');
        const reply = refusal('persistence/conflict', outcome.conflict.message);
        for (const waiter of entry.waiters) waiter.settle(reply);
      }
    }
    this.queue.settled(done);
    const failed = result.failed.flatMap((group) => group.entries);
    if (failed.length > 0) this.queue.requeue(failed);
    this.reportDepth();
    for (const group of result.failed) {
      this.metrics.persistenceRetry(group.store);
      this.metrics.persistenceStoreUp(group.store, false);
      this.log.warn({ store: group.store, writes: group.entries.length, err: String(group.error) }, 'persistence: store write failed; kept for retry');
    }
    return result.failed.length === 0;
  }

  private backOff(lane: Lane, result: BatchResult): void {
    lane.failures++;
    const { initialMs, maxMs } = this.settings.retry;
    const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(lane.failures - 1, 30));
    // Equal jitter: workers that lost the same store do not all come back at once.
    const delayMs = ceiling / 2 + Math.random() * (ceiling / 2);
    lane.backingOff = true;
    lane.wake = this.clock.setTimeout(() => {
      lane.wake = undefined;
      lane.backingOff = false;
      this.schedule(lane);
    }, delayMs, KEEP_ALIVE);
    this.log.debug({ lane: lane.name, failures: lane.failures, delayMs: Math.round(delayMs), stores: result.failed.map((group) => group.store) }, 'persistence lane backing off');
  }

  private reportDepth(): void {
    for (const priority of PRIORITIES) this.metrics.persistenceQueueDepth(priority, this.queue.count(priority));
  }

  private checkIdle(): void {
    if (this.queue.size > 0 || this.lanes.some((lane) => lane.running)) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
