/**
 * The results of a session's recent actions, by action id: a device that did
 * not hear the answer (the connection dropped) sends the action again with the
 * same id and gets the first answer — the action is never applied twice. A
 * retry that arrives while the first attempt is still running waits for it.
 */
import { IdRing } from './id-ring';

/**
 * `R` is an answer, `K` what is remembered of a final one: a smaller form (a window of full answers per
 * session would cost far more memory than the session itself; the default window is 128 answers a player).
 * A move's answer is remembered as its version, a number. `K` is never a Promise: a slot holding one is running.
 */
export class RecentActions<R, K = R> {
  /** The last `window` action ids, oldest first, each with its running answer or what is kept of the final one. Created on first use: most sessions are idle. */
  private ring: IdRing<K | Promise<R>> | undefined;

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

  /**
   * The first result for `actionId`, running `run` only if the id is new. A new id that `refuse` answers
   * (a rate limit) is neither run nor remembered, and takes no place in the window: it must not push out the
   * answer of an action that was run.
   */
  answer(actionId: string, run: () => Promise<R>, refuse?: () => R | undefined): { readonly result: Promise<R>; readonly repeated: boolean } {
    const ring = (this.ring ??= new IdRing(this.window));
    const known = ring.slotOf(actionId);
    if (known >= 0) {
      const value = ring.valueAt(known);
      return { result: value instanceof Promise ? value : Promise.resolve(this.restore(value)), repeated: true };
    }
    const refusal = refuse?.();
    if (refusal !== undefined) return { result: Promise.resolve(refusal), repeated: false };
    const result = run();
    const slot = ring.add(actionId, result);
    // The slot is still the action's unless the window came round while it ran (a window's worth of newer
    // actions). No named closure for that check: tsx (esbuild's keepNames) would name it on every action.
    void result.then(
      (value) => {
        if (ring.valueAt(slot) !== result) return;
        if (this.applied(value)) ring.setAt(slot, this.keep(value));
        else ring.removeAt(slot);
      },
      () => {
        if (ring.valueAt(slot) === result) ring.removeAt(slot);
      },
    );
    return { result, repeated: false };
  }

  /** Answers still being worked out. */
  pending(): Array<Promise<R>> {
    const running: Array<Promise<R>> = [];
    for (const slot of this.ring?.slots() ?? []) {
      const value = this.ring!.valueAt(slot);
      if (value instanceof Promise) running.push(value);
    }
    return running;
  }

  /** The settled answers, oldest first (what a session saves for a resume elsewhere). */
  answered(): Array<readonly [string, R]> {
    const settled: Array<readonly [string, R]> = [];
    for (const slot of this.ring?.slots() ?? []) {
      const value = this.ring!.valueAt(slot);
      if (!(value instanceof Promise)) settled.push([this.ring!.idAt(slot), this.restore(value)]);
    }
    return settled;
  }

  /** Answers remembered by a previous incarnation of the session. */
  remember(answers: ReadonlyArray<readonly [string, R]>): void {
    const ring = (this.ring ??= new IdRing(this.window));
    for (const [actionId, value] of answers.slice(-this.window)) {
      const known = ring.slotOf(actionId);
      if (known >= 0) ring.setAt(known, this.keep(value));
      else ring.add(actionId, this.keep(value));
    }
  }

  /** Ids remembered or running. */
  get size(): number {
    return this.ring?.size ?? 0;
  }
}
