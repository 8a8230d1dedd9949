/**
 * The persistence actor's mailbox: writes waiting to be flushed, one lane per
 * priority, bounded, with a stated overflow policy.
 *
 * - **critical** writes are never coalesced and never shed. When the queue is
 *   full of critical writes, a new one is refused (`persistence/overloaded`):
 *   the writer is told, so nothing it was told is durable is ever lost.
 * - **normal** and **low** writes to the same key coalesce while they wait
 *   (a snapshot replaces the older one, profile additions add up): the queue
 *   holds at most one unsent entry per key, whose waiters all hear when it is
 *   durable.
 * - **full** (`maxQueued` entries): the oldest entry of the lowest priority is
 *   shed (its waiters are refused), low before normal; critical never.
 *
 * Writes to one key reach the store in the order they were made: an entry is
 * taken only when it is the oldest queued for its key and no write of that key
 * is in flight.
 */
import type { JsonObject } from './stores';
import type { WritePriority, WriteReply, WriteRequest } from './persistence-protocol';

/** Most urgent first. */
export const PRIORITIES: readonly WritePriority[] = ['critical', 'normal', 'low'];
const RANK: Readonly<Record<WritePriority, number>> = { critical: 0, normal: 1, low: 2 };

export interface Waiter {
  /** When the writer asked (epoch ms), for the wait-time metric. */
  readonly since: number;
  readonly settle: (reply: WriteReply) => void;
}

/** What one attempt sent to the store, to recognise it there after an unanswered write. */
export interface Attempt {
  readonly expectedVersion: number;
  readonly data: JsonObject | null;
}

export class QueuedWrite {
  /** Sent to the store at least once without a clear answer (never coalesced after that). */
  readonly attempts: Attempt[] = [];

  constructor(
    public priority: WritePriority,
    public write: WriteRequest,
    /** Writes with the same key are ordered (and coalesce); match results have none. */
    readonly key: string | undefined,
    public readonly waiters: Waiter[],
    public enqueuedAt: number,
  ) {}
}

export type Admission = { readonly accepted: true; readonly shed: readonly QueuedWrite[] } | { readonly accepted: false };

export class WriteQueue {
  private readonly lanes: Record<WritePriority, QueuedWrite[]> = { critical: [], normal: [], low: [] };
  /** Queued (not in flight) entries per key, oldest first. */
  private readonly byKey = new Map<string, QueuedWrite[]>();
  private readonly inFlight = new Set<string>();
  private queued = 0;

  constructor(private readonly maxQueued: number) {}

  /** Entries waiting (not in flight). */
  get size(): number {
    return this.queued;
  }

  count(priority: WritePriority): number {
    return this.lanes[priority].length;
  }

  /** When the oldest entry of a lane was queued, or undefined if it is empty. */
  oldest(priority: WritePriority): number | undefined {
    return this.lanes[priority][0]?.enqueuedAt;
  }

  /** Queues a write (or merges it into the one waiting for its key); past the bound, sheds or refuses. */
  add(priority: WritePriority, write: WriteRequest, waiter: Waiter, now: number): Admission {
    const key = keyOf(write);
    const waiting = key === undefined ? undefined : this.byKey.get(key)?.at(-1);
    if (waiting && priority !== 'critical' && waiting.priority !== 'critical' && waiting.attempts.length === 0) {
      waiting.write = coalesce(waiting.write, write);
      waiting.waiters.push(waiter);
      if (RANK[priority] < RANK[waiting.priority]) this.promote(waiting, priority);
      return { accepted: true, shed: [] };
    }
    // A critical write takes in the unsent writes queued before it for its key (it is newer: a low snapshot
    // must not hold it up waiting for its interval, nor be written after it).
    const absorbed: QueuedWrite[] = [];
    if (priority === 'critical' && key !== undefined) {
      for (const older of this.byKey.get(key) ?? []) if (older.priority !== 'critical' && older.attempts.length === 0) absorbed.push(older);
    }
    let merged = write;
    for (const older of absorbed) {
      merged = coalesce(older.write, merged);
      this.removeQueued(older);
    }
    const shed: QueuedWrite[] = [];
    if (this.queued >= this.maxQueued) {
      const victim = this.victimFor(priority);
      if (!victim) return { accepted: false };
      this.removeQueued(victim);
      shed.push(victim);
    }
    const waiters = [...absorbed.flatMap((older) => older.waiters), waiter];
    const entry = new QueuedWrite(priority, merged, key, waiters, absorbed[0]?.enqueuedAt ?? now);
    this.lanes[priority].push(entry);
    if (key !== undefined) this.keyList(key).push(entry);
    this.queued++;
    return { accepted: true, shed };
  }

  /**
   * Takes up to `max` entries from the given lanes, most urgent first, oldest first, skipping
   * entries whose key has an older write queued or in flight. Taken entries are in flight until
   * `settled` or `requeued`.
   */
  take(priorities: readonly WritePriority[], max: number): QueuedWrite[] {
    const taken: QueuedWrite[] = [];
    for (const priority of priorities) {
      const lane = this.lanes[priority];
      if (lane.length === 0 || taken.length >= max) continue;
      const left: QueuedWrite[] = [];
      for (const entry of lane) {
        if (taken.length < max && this.isNextOfKey(entry)) {
          taken.push(entry);
          if (entry.key !== undefined) {
            this.inFlight.add(entry.key);
            this.keyList(entry.key).shift();
          }
        } else {
          left.push(entry);
        }
      }
      this.lanes[priority] = left;
    }
    for (const entry of taken) if (entry.key !== undefined) this.forgetEmptyKey(entry.key);
    this.queued -= taken.length;
    return taken;
  }

  /** The entries are written (or refused for good): their keys are free again. */
  settled(entries: readonly QueuedWrite[]): void {
    for (const entry of entries) if (entry.key !== undefined) this.inFlight.delete(entry.key);
  }

  /** The store failed: the entries go back to the head of their lanes, before anything queued since. */
  requeue(entries: readonly QueuedWrite[]): void {
    for (const priority of PRIORITIES) {
      const back = entries.filter((entry) => entry.priority === priority);
      if (back.length > 0) this.lanes[priority] = [...back, ...this.lanes[priority]];
    }
    for (const entry of [...entries].reverse()) {
      if (entry.key === undefined) continue;
      this.inFlight.delete(entry.key);
      this.keyList(entry.key).unshift(entry);
    }
    this.queued += entries.length;
  }

  /** Every queued entry (not in flight), most urgent first: for a final report when a drain times out. */
  all(): QueuedWrite[] {
    return PRIORITIES.flatMap((priority) => this.lanes[priority]);
  }

  /** The oldest entry of the lowest lane that may give way to a write of `priority` (critical never gives way). */
  private victimFor(priority: WritePriority): QueuedWrite | undefined {
    for (const lane of ['low', 'normal'] as const) {
      if (RANK[lane] < RANK[priority]) return undefined; // only less urgent (or, for non-critical, equal) writes give way
      const victim = this.lanes[lane][0];
      if (victim) return victim;
    }
    return undefined;
  }

  private promote(entry: QueuedWrite, priority: WritePriority): void {
    this.lanes[entry.priority] = this.lanes[entry.priority].filter((other) => other !== entry);
    entry.priority = priority;
    // Keep its age: it joins the more urgent lane in the order it was first queued.
    const lane = this.lanes[priority];
    const at = lane.findIndex((other) => other.enqueuedAt > entry.enqueuedAt);
    if (at < 0) lane.push(entry);
    else lane.splice(at, 0, entry);
  }

  private removeQueued(entry: QueuedWrite): void {
    this.lanes[entry.priority] = this.lanes[entry.priority].filter((other) => other !== entry);
    if (entry.key !== undefined) {
      const list = this.keyList(entry.key);
      list.splice(list.indexOf(entry), 1);
      this.forgetEmptyKey(entry.key);
    }
    this.queued--;
  }

  private isNextOfKey(entry: QueuedWrite): boolean {
    if (entry.key === undefined) return true;
    return !this.inFlight.has(entry.key) && this.byKey.get(entry.key)?.[0] === entry;
  }

  private keyList(key: string): QueuedWrite[] {
    let list = this.byKey.get(key);
    if (!list) this.byKey.set(key, (list = []));
    return list;
  }

  private forgetEmptyKey(key: string): void {
    if (this.byKey.get(key)?.length === 0) this.byKey.delete(key);
  }
}

/** Writes to the same key share one entry: 'snapshot:<key>', 'profile:<playerId>'. */
export function keyOf(write: WriteRequest): string | undefined {
  switch (write.kind) {
    case 'snapshot':
      return `snapshot:${write.key}`;
    case 'profile':
      return `profile:${write.playerId}`;
    case 'match-result':
      return undefined;
  }
}

/** One write standing for two made to the same key, older first. */
export function coalesce(older: WriteRequest, newer: WriteRequest): WriteRequest {
  if (older.kind === 'snapshot' && newer.kind === 'snapshot') {
    // The newest document wins; the version the writer started from is the older write's.
    const basedOn = older.basedOn ?? newer.basedOn;
    return basedOn === undefined ? { ...newer } : { ...newer, basedOn };
  }
  if (older.kind === 'profile' && newer.kind === 'profile') {
    const add: Record<string, number> = { ...older.add };
    for (const [counter, amount] of Object.entries(newer.add)) add[counter] = (add[counter] ?? 0) + amount;
    const ids = [...(older.ids ?? []), ...(newer.ids ?? [])];
    return ids.length > 0 ? { ...newer, add, ids } : { ...newer, add };
  }
  throw new Error(`cannot coalesce ${older.kind} with ${newer.kind}`);
}
