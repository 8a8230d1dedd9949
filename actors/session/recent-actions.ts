/**
 * The results of a session's recent actions, by action id: a device that did
 * not hear the answer (the connection dropped) sends the action again with the
 * same id and gets the first answer — the action is never applied twice. A
 * retry that arrives while the first attempt is still running waits for it.
 */
/**
 * `R` is an answer, `K` what is remembered of a final one: a smaller form (a window of full answers per
 * session would cost far more memory than the session itself; the default window is 128 answers a player).
 * A move's answer is remembered as its version, a number, which a map holds without an object of its own.
 */
export class RecentActions<R, K extends NonNullable<unknown> = NonNullable<R>> {
  /**
   * Final answers by action id, oldest first; created on first use (most sessions are idle). No object per
   * action besides its id: with full windows these are a busy server's largest population of live objects,
   * and each move adds one to the old generation and drops one.
   */
  private settled: Map<string, K> | undefined;
  /** Answers still being worked out: usually none or one. */
  private running: Map<string, Promise<R>> | undefined;

  /**
   * `applied(result)` says whether an answer is final; others (e.g. "not processed, retry later") are
   * forgotten. `keep(result)` is what is remembered of a final answer, `restore(kept)` the answer given again.
   */
  constructor(
    private readonly window: number,
    private readonly applied: (result: R) => boolean,
    private readonly keep: (result: R) => K = (result) => result as unknown as K,
    private readonly restore: (kept: K) => R = (kept) => kept as unknown as R,
  ) {}

  /** The first result for `actionId`, running `run` only if the id is new. */
  answer(actionId: string, run: () => Promise<R>): { readonly result: Promise<R>; readonly repeated: boolean } {
    const running = (this.running ??= new Map());
    const inFlight = running.get(actionId);
    if (inFlight) return { result: inFlight, repeated: true };
    const kept = this.settled?.get(actionId);
    if (kept !== undefined) return { result: Promise.resolve(this.restore(kept)), repeated: true };
    const result = run();
    running.set(actionId, result);
    void result.then(
      (value) => {
        running.delete(actionId);
        if (this.applied(value)) this.settle(actionId, this.keep(value));
      },
      () => running.delete(actionId),
    );
    return { result, repeated: false };
  }

  /** Answers still being worked out. */
  pending(): Array<Promise<R>> {
    return [...(this.running?.values() ?? [])];
  }

  /** The settled answers, oldest first (what a session saves for a resume elsewhere). */
  answered(): Array<readonly [string, R]> {
    const settled: Array<readonly [string, R]> = [];
    for (const [actionId, kept] of this.settled ?? []) settled.push([actionId, this.restore(kept)]);
    return settled;
  }

  /** Answers remembered by a previous incarnation of the session. */
  remember(answers: ReadonlyArray<readonly [string, R]>): void {
    for (const [actionId, value] of answers.slice(-this.window)) this.settle(actionId, this.keep(value));
  }

  /** Ids remembered or running. */
  get size(): number {
    return (this.settled?.size ?? 0) + (this.running?.size ?? 0);
  }

  private settle(actionId: string, kept: K): void {
    const settled = (this.settled ??= new Map());
    settled.set(actionId, kept);
    // Maps iterate in insertion order: the first key is the oldest answer.
    while (this.size > this.window && settled.size > 0) settled.delete(settled.keys().next().value!);
  }
}
