/**
 * A clock a test moves by hand: `advance(ms)` runs every timer that falls due
 * on the way, in order of due time, each seeing `now()` at its own due time.
 * Timer-driven behaviour (ask deadlines, grace periods, ticks) is then tested
 * without waiting, and exactly.
 */
import type { Clock, Timer } from '../../actors/ports';

interface Pending {
  at: number;
  readonly everyMs: number | undefined;
  readonly callback: () => void;
  /** Order of creation: timers due at the same time run in the order they were set. */
  readonly order: number;
}

export class ManualClock implements Clock {
  private time: number;
  private created = 0;
  private readonly pending = new Set<Pending>();

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): Timer {
    return this.add(callback, ms, undefined);
  }

  setInterval(callback: () => void, ms: number): Timer {
    return this.add(callback, ms, Math.max(1, ms));
  }

  clear(timer: Timer | undefined): void {
    if (timer !== undefined) this.pending.delete(timer as unknown as Pending);
  }

  /** Timers waiting to run. */
  get timers(): number {
    return this.pending.size;
  }

  /**
   * Moves time forward by `ms`, running each timer due on the way at its due time; between two timers the
   * promises they started settle (what an actor does in reply to a timer happens before the next one).
   */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (let next = this.nextDue(end); next; next = this.nextDue(end)) {
      // A timer overdue (after a jump) runs late, once, as Node's would.
      this.time = Math.max(this.time, next.at);
      if (next.everyMs === undefined) this.pending.delete(next);
      else next.at = this.time + next.everyMs;
      next.callback();
      await settle();
    }
    this.time = end;
    await settle();
  }

  /**
   * Moves time forward by `ms` without running any timer, as when the event loop is blocked: the timers due
   * meanwhile run late, each once, at the next `advance`.
   */
  jump(ms: number): void {
    this.time += ms;
  }

  private add(callback: () => void, ms: number, everyMs: number | undefined): Timer {
    const pending: Pending = { at: this.time + Math.max(0, ms), everyMs, callback, order: this.created++ };
    this.pending.add(pending);
    return pending as unknown as Timer;
  }

  private nextDue(end: number): Pending | undefined {
    let next: Pending | undefined;
    for (const pending of this.pending) {
      if (pending.at > end) continue;
      if (!next || pending.at < next.at || (pending.at === next.at && pending.order < next.order)) next = pending;
    }
    return next;
  }
}

/** Lets promises already resolved run their continuations (several turns: chains of awaits). */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}
