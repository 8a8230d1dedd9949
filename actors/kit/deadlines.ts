/**
 * Time limits on asks, kept by one sweeping timer per process instead of a
 * timer per ask: every move makes at least one ask, and a Node timer (object,
 * list insert, clear) plus the promise chain around it cost more than the
 * room's whole check of the move. A limit fires up to SWEEP_MS late, which
 * for limits of seconds does not matter.
 */

const SWEEP_MS = 50;

interface Pending {
  readonly at: number;
  readonly reject: (reason: unknown) => void;
  readonly timedOut: () => Error;
}

/** Pending limits by duration: within one duration, insertion order is deadline order. */
const pendingByDuration = new Map<number, Set<Pending>>();
let pendingCount = 0;
let sweeper: NodeJS.Timeout | undefined;

/** `promise`, or a rejection with `timedOut()` if it has not settled within `ms`. */
export function withDeadline<T>(promise: Promise<T>, ms: number, timedOut: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let pending = pendingByDuration.get(ms);
    if (!pending) pendingByDuration.set(ms, (pending = new Set()));
    const entry: Pending = { at: Date.now() + ms, reject, timedOut };
    pending.add(entry);
    pendingCount++;
    // Ref'd while anything waits, as a timer per ask would be: a process waiting on an answer stays up.
    sweeper ??= setInterval(sweep, SWEEP_MS);
    promise.then(
      (value) => {
        if (forget(pending, entry)) resolve(value);
      },
      (error: unknown) => {
        if (forget(pending, entry)) reject(error);
      },
    );
  });
}

function forget(pending: Set<Pending>, entry: Pending): boolean {
  if (!pending.delete(entry)) return false; // timed out already
  if (--pendingCount === 0) stopSweeper();
  return true;
}

function sweep(): void {
  const now = Date.now();
  for (const pending of pendingByDuration.values()) {
    for (const entry of pending) {
      if (entry.at > now) break;
      pending.delete(entry);
      pendingCount--;
      entry.reject(entry.timedOut());
    }
  }
  if (pendingCount === 0) stopSweeper();
}

function stopSweeper(): void {
  clearInterval(sweeper);
  sweeper = undefined;
}

/** Limits waiting to be met or to fire (tests, and a look at a live process). */
export function pendingDeadlines(): number {
  return pendingCount;
}
