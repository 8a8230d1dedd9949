/**
 * The results of a session's recent actions, by action id: a device that did
 * not hear the answer (the connection dropped) sends the action again with the
 * same id and gets the first answer — the action is never applied twice. A
 * retry that arrives while the first attempt is still running waits for it.
 */
/**
 * One action's answer: running (`running` set) or final (`running` undefined, `value` set). Updated in place
 * when it settles, so an action costs one map insert: every request of every player passes here, and
 * each map operation on a session's cold table is a few cache misses.
 */
class Entry<R, K> {
  value: K | undefined = undefined;
  constructor(public running: Promise<R> | undefined) {}
}

/**
 * `R` is an answer, `K` what is remembered of a final one: a smaller form (a window of full answers per
 * session would cost far more memory than the session itself; the default window is 128 answers a player).
 */
export class RecentActions<R, K = R> {
  /**
   * By action id, oldest first. Created on first use: most sessions are idle.
   */
  private byAction: Map<string, Entry<R, K>> | undefined;

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
    const actions = (this.byAction ??= new Map());
    const known = actions.get(actionId);
    if (known) return { result: known.running ?? Promise.resolve(this.restore(known.value as K)), repeated: true };
    const result = run();
    const entry = new Entry(result);
    actions.set(actionId, entry);
    void result.then(
      (value) => {
        entry.running = undefined;
        if (this.applied(value)) entry.value = this.keep(value);
        else if (actions.get(actionId) === entry) actions.delete(actionId);
      },
      () => {
        entry.running = undefined;
        if (actions.get(actionId) === entry) actions.delete(actionId);
      },
    );
    // Maps iterate in insertion order: the first key is the oldest action.
    if (actions.size > this.window) actions.delete(actions.keys().next().value!);
    return { result, repeated: false };
  }

  /** Answers still being worked out. */
  pending(): Array<Promise<R>> {
    const running: Array<Promise<R>> = [];
    for (const entry of this.byAction?.values() ?? []) if (entry.running) running.push(entry.running);
    return running;
  }

  /** The settled answers, oldest first (what a session saves for a resume elsewhere). */
  answered(): Array<readonly [string, R]> {
    const settled: Array<readonly [string, R]> = [];
    for (const [actionId, entry] of this.byAction ?? []) if (!entry.running) settled.push([actionId, this.restore(entry.value as K)]);
    return settled;
  }

  /** Answers remembered by a previous incarnation of the session. */
  remember(answers: ReadonlyArray<readonly [string, R]>): void {
    const actions = (this.byAction ??= new Map());
    for (const [actionId, value] of answers.slice(-this.window)) {
      const entry = new Entry<R, K>(undefined);
      entry.value = this.keep(value);
      actions.set(actionId, entry);
    }
  }

  get size(): number {
    return this.byAction?.size ?? 0;
  }
}
