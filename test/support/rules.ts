/** Helpers for unit tests of game rules: a seeded random source and a deep freeze to catch mutation. */
import { SeededRandom } from '../../actors/room/seeded-random';

/** The room's own deterministic generator, as a plain function. */
export function seededRandom(seed: number): () => number {
  const random = new SeededRandom(seed);
  return () => random.next();
}

/** Freezes a state and everything in it, so a rule that mutates its input throws. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
