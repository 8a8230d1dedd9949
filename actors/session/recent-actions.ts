/**
 * The results of a session's recent actions, by action id: a device that did
 * not hear the answer (the connection dropped) sends the action again with the
 * same id and gets the first answer — the action is never applied twice. A
 * retry that arrives while the first attempt is still running waits for it.
 */
export class RecentActions<R> {
  // Created on first use: most sessions are idle most of the time, and each session has one of these.
  private resultsByAction: Map<string, Promise<R>> | undefined;
  /** The same answers once settled, so they can be saved and taken up elsewhere. */
  private settledByAction: Map<string, R> | undefined;

  private get results(): Map<string, Promise<R>> {
    return (this.resultsByAction ??= new Map());
  }

  private get settled(): Map<string, R> {
    return (this.settledByAction ??= new Map());
  }

  /**
   * `applied(result)` says whether an answer is final; others (e.g. "not processed, retry later") are
   * forgotten. `keep(result)` is what is remembered of a final answer (a smaller form of it: a window of
   * full answers per session would cost far more memory than the session itself).
   */
  constructor(
    private readonly window: number,
    private readonly applied: (result: R) => boolean,
    private readonly keep: (result: R) => R = (result) => result,
  ) {}

  /** The first result for `actionId`, running `run` only if the id is new. */
  answer(actionId: string, run: () => Promise<R>): { readonly result: Promise<R>; readonly repeated: boolean } {
    const known = this.results.get(actionId);
    if (known) return { result: known, repeated: true };
    const result = run();
    this.results.set(actionId, result);
    void result.then(
      (value) => {
        if (this.results.get(actionId) !== result) return; // already pushed out of the window
        if (!this.applied(value)) return void this.results.delete(actionId);
        const kept = this.keep(value);
        this.settled.set(actionId, kept);
        this.results.set(actionId, Promise.resolve(kept));
      },
      () => this.results.delete(actionId),
    );
    // Maps iterate in insertion order: the first key is the oldest action.
    if (this.results.size > this.window) {
      const oldest = this.results.keys().next().value!;
      this.results.delete(oldest);
      this.settled.delete(oldest);
    }
    return { result, repeated: false };
  }

  /** Answers still being worked out. */
  pending(): Array<Promise<R>> {
    if (!this.resultsByAction) return [];
    return [...this.resultsByAction].filter(([actionId]) => !this.settledByAction?.has(actionId)).map(([, result]) => result);
  }

  /** The settled answers, oldest first (what a session saves for a resume elsewhere). */
  answered(): Array<readonly [string, R]> {
    return this.settledByAction ? [...this.settledByAction] : [];
  }

  /** Answers remembered by a previous incarnation of the session. */
  remember(answers: ReadonlyArray<readonly [string, R]>): void {
    for (const [actionId, value] of answers.slice(-this.window)) {
      this.results.set(actionId, Promise.resolve(value));
      this.settled.set(actionId, value);
    }
  }

  get size(): number {
    return this.resultsByAction?.size ?? 0;
  }
}
