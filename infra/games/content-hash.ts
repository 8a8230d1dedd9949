/**
 * Version ids: a short hash of the content, so the same bytes are the same
 * version on every node of the cluster and a file saved again unchanged is
 * not a new version.
 */
import { createHash } from 'node:crypto';

/** 12 hex digits (48 bits) of sha256: collisions are out of reach for the few hundred versions a game sees. */
export function contentHash(...parts: readonly string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) {
    // length-prefixed, so ('ab', 'c') and ('a', 'bc') differ
    hash.update(`${part.length}:`).update(part);
  }
  return hash.digest('hex').slice(0, 12);
}
