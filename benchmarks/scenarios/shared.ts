/** Small helpers the scenario drivers share. */
import { PlayhouseError } from '@playhouse/client';
import type { Recorder } from '../harness/recorder';

/**
 * Creates `count` clients, `batchSize` at a time, so the server is not hit by
 * thousands of handshakes at once. A client that cannot connect (an overloaded
 * server times the handshake out) is counted as a `connect:<code>` error and
 * left out; the run goes on with the others, and the report shows how many
 * connected.
 */
export async function connectInBatches<T>(count: number, create: (index: number) => Promise<T>, recorder: Recorder, batchSize = 50): Promise<T[]> {
  const created: T[] = [];
  for (let start = 0; start < count; start += batchSize) {
    const batch = await Promise.allSettled(Array.from({ length: Math.min(batchSize, count - start) }, (_, i) => create(start + i)));
    for (const result of batch) {
      if (result.status === 'fulfilled') created.push(result.value);
      else recorder.error(`connect:${errorCodeOf(result.reason)}`);
    }
  }
  return created;
}

/** Waits for all `promises`, but no longer than `ms`. */
export async function settleWithin(ms: number, promises: ReadonlyArray<Promise<unknown>>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.allSettled(promises), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

export function errorCodeOf(error: unknown): string {
  return error instanceof PlayhouseError ? error.code : 'client/exception';
}
