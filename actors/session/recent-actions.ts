/**
 * The results of a session's recent actions, by action id: a device that did
 * not hear the answer (the connection dropped) sends the action again with the
 * same id and gets the first answer — the action is never applied twice. A
 * retry that arrives while the first attempt is still running waits for it.
 */
/** A remembered final answer (a class, so it cannot be mistaken for a promise still running). */
class Settled<R> {
  constructor(readonly value: R) {}
}

export class RecentActions<R> {
  /**
   * By action id, oldest first: the answer still being worked out, or the final one. One map, updated in
   * place: every request of every player passes here. Created on first use: most sessions are idle.
   */
  private byAction: Map<string, Promise<R> | Settled<R>> | undefined;

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
    const actions = (this.byAction ??= new Map());
    const known = actions.get(actionId);
    if (known) return { result: known instanceof Settled ? Promise.resolve(known.value) : known, repeated: true };
    const result = run();
    actions.set(actionId, result);
    void result.then(
      (value) => {
        if (actions.get(actionId) !== result) return; // already pushed out of the window
        if (this.applied(value)) actions.set(actionId, new Settled(this.keep(value)));
        else actions.delete(actionId);
      },
      () => actions.delete(actionId),
    );
    // Maps iterate in insertion order: the first key is the oldest action.
    if (actions.size > this.window) actions.delete(actions.keys().next().value!);
    return { result, repeated: false };
  }

  /** Answers still being worked out. */
  pending(): Array<Promise<R>> {
    const running: Array<Promise<R>> = [];
    for (const entry of this.byAction?.values() ?? []) if (!(entry instanceof Settled)) running.push(entry);
    return running;
  }

  /** The settled answers, oldest first (what a session saves for a resume elsewhere). */
  answered(): Array<readonly [string, R]> {
    const settled: Array<readonly [string, R]> = [];
    for (const [actionId, entry] of this.byAction ?? []) if (entry instanceof Settled) settled.push([actionId, entry.value]);
    return settled;
  }

  /** Answers remembered by a previous incarnation of the session. */
  remember(answers: ReadonlyArray<readonly [string, R]>): void {
    const actions = (this.byAction ??= new Map());
    for (const [actionId, value] of answers.slice(-this.window)) actions.set(actionId, new Settled(value));
  }

  get size(): number {
    return this.byAction?.size ?? 0;
  }
}
