/**
 * mulberry32: a tiny deterministic generator. The room owns its seed and the
 * generator's position, so a game replayed from the same seed and moves ends
 * in the same state.
 */
export class SeededRandom {
  constructor(private position: number) {}

  next(): number {
    let t = (this.position = (this.position + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Where the sequence stands, to store beside a snapshot. */
  get state(): number {
    return this.position;
  }

  /** Goes on from where a snapshot left the sequence. */
  restore(position: number): void {
    this.position = position;
  }
}
