/**
 * A bounded, strictly serial mailbox.
 *
 * One message at a time, in arrival order, each handed to the owner's
 * `handle`. Overflow policy: when `capacity` messages are already waiting, the
 * newest is refused at once (tail drop) with MailboxFullError, which the owner
 * turns into a typed `server/overloaded` reply (`failed`). Nothing already
 * accepted is ever dropped.
 *
 * Two ways in: `post` (the sender waits for the answer) and `deliver` (a
 * tell: no promise is made, which on the hot path — every push to a player —
 * saves the allocations of a reply nobody reads).
 */
export class MailboxFullError extends Error {
  constructor(readonly capacity: number) {
    super(`mailbox full (${capacity} waiting)`);
    this.name = 'MailboxFullError';
  }
}

export interface MailboxOwner<M> {
  /** Handles one message; its value (or what its promise resolves to) is the answer. */
  handle(message: M): unknown;
  /**
   * The answer when handling failed (or the mailbox was full). Without it a
   * posted message's promise rejects with the error, and a delivered one's
   * error is dropped.
   */
  failed?(error: unknown, message: M): unknown;
  /** Called whenever the number of waiting messages changes (for metrics). */
  depthChanged?(delta: number): void;
}

/**
 * Mailboxes with letters to handle, drained together on one microtask: waking a thousand actors in a turn
 * costs one microtask, not a closure and a microtask each. One list per event loop (as the microtask queue
 * it feeds is), whichever hosts and actors share the loop.
 */
const ready: Array<{ drain(): void }> = [];
let drainScheduled = false;

function drainReady(): void {
  drainScheduled = false;
  // Mailboxes woken while these drain (a handler telling another actor) join the end of the list.
  for (let i = 0; i < ready.length; i++) {
    try {
      ready[i]!.drain();
    } catch (error) {
      // A bug in an owner's callbacks: reported as an uncaught error, without holding up the other mailboxes.
      queueMicrotask(() => {
        throw error;
      });
    }
  }
  ready.length = 0;
}

interface Letter<M> {
  readonly message: M;
  /** Absent for a delivered message: nobody waits for its answer. */
  readonly resolve: ((value: unknown) => void) | undefined;
  readonly reject: ((reason: unknown) => void) | undefined;
}

export class Mailbox<M> {
  private letters: Array<Letter<M> | undefined> = [];
  private head = 0;
  /** A drain is running or scheduled. */
  private running = false;
  private processing = 0;

  constructor(
    readonly capacity: number,
    private readonly owner: MailboxOwner<M>,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`mailbox capacity must be a positive integer, got ${capacity}`);
  }

  /** Messages accepted and not yet finished. */
  get depth(): number {
    return this.letters.length - this.head + this.processing;
  }

  /** Queues a message and answers with what handling it returned. */
  post(message: M): Promise<unknown> {
    if (this.full) return this.refuse(message);
    return new Promise<unknown>((resolve, reject) => this.accept({ message, resolve, reject }));
  }

  /** Queues a message nobody waits for (a tell). */
  deliver(message: M): void {
    if (this.full) {
      this.refuse(message).catch(() => undefined);
      return;
    }
    this.accept({ message, resolve: undefined, reject: undefined });
  }

  private get full(): boolean {
    return this.letters.length - this.head >= this.capacity;
  }

  private refuse(message: M): Promise<unknown> {
    const error = new MailboxFullError(this.capacity);
    const { failed } = this.owner;
    return failed ? Promise.resolve(failed.call(this.owner, error, message)) : Promise.reject(error);
  }

  private accept(letter: Letter<M>): void {
    this.letters.push(letter);
    this.owner.depthChanged?.(1);
    if (!this.running) {
      this.running = true;
      // Never run the receiver inside the sender's call stack: drain on the next microtask.
      ready.push(this);
      if (!drainScheduled) {
        drainScheduled = true;
        queueMicrotask(drainReady);
      }
    }
  }

  /**
   * Handles letters in order until none is left, or until a handler answers with a promise: the mailbox
   * then waits for it (one message at a time) and goes on when it settles. Synchronous handlers, most of
   * them, run in one plain loop with no promise of the mailbox's own. Only the shared microtask calls it
   * (and the mailbox itself, when an awaited answer settles): a sender calling it would run the receiver
   * inside its own call stack.
   */
  drain(): void {
    const owner = this.owner;
    while (this.head < this.letters.length) {
      const letter = this.letters[this.head]!;
      this.letters[this.head] = undefined;
      this.head++;
      if (this.head > 1024 && this.head * 2 > this.letters.length) {
        this.letters.splice(0, this.head);
        this.head = 0;
      }
      this.processing = 1;
      let result: unknown;
      try {
        result = owner.handle(letter.message);
      } catch (error) {
        this.finish(letter, error, true);
        continue;
      }
      if (result instanceof Promise) {
        result.then(
          (value: unknown) => this.finishAndGoOn(letter, value, false),
          (error: unknown) => this.finishAndGoOn(letter, error, true),
        );
        return;
      }
      this.finish(letter, result, false);
    }
    // An idle actor (most of them) keeps no backing store for letters it has handled: a new empty array has none.
    this.letters = [];
    this.head = 0;
    this.running = false;
  }

  private finishAndGoOn(letter: Letter<M>, outcome: unknown, failed: boolean): void {
    this.finish(letter, outcome, failed);
    this.drain();
  }

  /** Answers one letter with its handler's value, or its failure (through the owner's `failed` if it has one). */
  private finish(letter: Letter<M>, outcome: unknown, failed: boolean): void {
    this.processing = 0;
    try {
      if (!failed) {
        letter.resolve?.(outcome);
      } else if (this.owner.failed) {
        // Called for a tell too (nobody waits for its answer, but the owner logs the failure).
        const answer = this.owner.failed(outcome, letter.message);
        letter.resolve?.(answer);
      } else {
        letter.reject?.(outcome);
      }
    } finally {
      this.owner.depthChanged?.(-1);
    }
  }
}
