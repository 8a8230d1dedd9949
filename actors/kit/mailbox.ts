/**
 * A bounded, strictly serial mailbox.
 *
 * comedy runs an in-memory actor's handlers concurrently as promises, so every
 * actor of ours funnels its messages through one of these: one message at a
 * time, in arrival order. Overflow policy: when `capacity` messages are already
 * waiting, the newest is refused at once (tail drop) with MailboxFullError,
 * which the actor turns into a typed `server/overloaded` reply. Nothing already
 * accepted is ever dropped.
 */
export class MailboxFullError extends Error {
  constructor(readonly capacity: number) {
    super(`mailbox full (${capacity} waiting)`);
    this.name = 'MailboxFullError';
  }
}

interface Letter {
  readonly work: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (reason: unknown) => void;
}

export class Mailbox {
  private readonly letters: Letter[] = [];
  private head = 0;
  /** A drain is running or scheduled. */
  private running = false;
  private processing = 0;

  constructor(
    readonly capacity: number,
    /** Called whenever the number of waiting messages changes (for metrics). */
    private readonly onDepthChange: (delta: number) => void = () => {},
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`mailbox capacity must be a positive integer, got ${capacity}`);
  }

  /** Messages accepted and not yet finished. */
  get depth(): number {
    return this.letters.length - this.head + this.processing;
  }

  post<T>(work: () => T | Promise<T>): Promise<T> {
    if (this.letters.length - this.head >= this.capacity) return Promise.reject(new MailboxFullError(this.capacity));
    return new Promise<T>((resolve, reject) => {
      this.letters.push({ work, resolve: resolve as (value: unknown) => void, reject });
      this.onDepthChange(1);
      if (!this.running) {
        this.running = true;
        // Never run the receiver inside the sender's call stack: drain on the next microtask.
        queueMicrotask(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.head < this.letters.length) {
      const letter = this.letters[this.head]!;
      this.letters[this.head] = undefined as unknown as Letter;
      this.head++;
      if (this.head > 1024 && this.head * 2 > this.letters.length) {
        this.letters.splice(0, this.head);
        this.head = 0;
      }
      this.processing = 1;
      try {
        const result = letter.work();
        // Synchronous handlers (most of them) finish without an extra await.
        letter.resolve(result instanceof Promise ? await result : result);
      } catch (error) {
        letter.reject(error);
      } finally {
        this.processing = 0;
        this.onDepthChange(-1);
      }
    }
    this.running = false;
  }
}
