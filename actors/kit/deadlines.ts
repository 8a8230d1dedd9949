/**
 * Time limits on asks, kept by one sweeping timer per process instead of a
 * timer per ask: every move makes at least one ask, and a Node timer (object,
 * list insert, clear) plus the promise chain around it cost more than the
 * room's whole check of the move. A limit fires up to SWEEP_MS late, which
 * for limits of seconds does not matter.
 */
import type { Clock, Timer } from '../ports';

const SWEEP_MS = 50;

/**
 * One ask's limit, linked into the list of its duration. A linked list, not a Set: thousands of asks are in
 * flight at once and each leaves within milliseconds, and a long-lived Set that slides like that rebuilds
 * its hash table every few hundred asks, tables big enough to outlive the young generation.
 */
class Limit {
  previous: Limit | undefined;
  next: Limit | undefined;
  /** In its list: neither answered nor timed out yet. */
  waiting = true;

  constructor(
    readonly list: LimitList,
    readonly at: number,
    readonly reject: (reason: unknown) => void,
    readonly timedOut: () => Error,
  ) {}
}

/** The waiting limits of one duration, oldest first: within one duration, insertion order is deadline order. */
class LimitList {
  first: Limit | undefined;
  last: Limit | undefined;

  append(limit: Limit): void {
    limit.previous = this.last;
    if (this.last) this.last.next = limit;
    else this.first = limit;
    this.last = limit;
  }

  remove(limit: Limit): void {
    if (limit.previous) limit.previous.next = limit.next;
    else this.first = limit.next;
    if (limit.next) limit.next.previous = limit.previous;
    else this.last = limit.previous;
    limit.previous = limit.next = undefined;
    limit.waiting = false;
  }
}

/** The time limits of one process's asks, on its clock. */
export class Deadlines {
  private readonly listsByDuration = new Map<number, LimitList>();
  private pendingCount = 0;
  private sweeper: Timer | undefined;

  constructor(private readonly clock: Clock) {}

  /** `promise`, or a rejection with `timedOut()` if it has not settled within `ms`. */
  within<T>(promise: Promise<T>, ms: number, timedOut: () => Error): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let list = this.listsByDuration.get(ms);
      if (!list) this.listsByDuration.set(ms, (list = new LimitList()));
      const limit = new Limit(list, this.clock.now() + ms, reject, timedOut);
      list.append(limit);
      this.pendingCount++;
      // Kept alive while anything waits, as a timer per ask would be: a process waiting on an answer stays up.
      this.sweeper ??= this.clock.setInterval(() => this.sweep(), SWEEP_MS, { keepAlive: true });
      promise.then(
        (value) => {
          if (this.forget(limit)) resolve(value);
        },
        (error: unknown) => {
          if (this.forget(limit)) reject(error);
        },
      );
    });
  }

  /** Limits waiting to be met or to fire (tests, and a look at a live process). */
  get pending(): number {
    return this.pendingCount;
  }

  private forget(limit: Limit): boolean {
    if (!limit.waiting) return false; // timed out already
    limit.list.remove(limit);
    if (--this.pendingCount === 0) this.stopSweeper();
    return true;
  }

  private sweep(): void {
    const now = this.clock.now();
    for (const list of this.listsByDuration.values()) {
      for (let limit = list.first; limit && limit.at <= now; limit = list.first) {
        list.remove(limit);
        this.pendingCount--;
        limit.reject(limit.timedOut());
      }
    }
    if (this.pendingCount === 0) this.stopSweeper();
  }

  private stopSweeper(): void {
    this.clock.clear(this.sweeper);
    this.sweeper = undefined;
  }
}
