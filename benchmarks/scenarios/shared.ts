/** Small helpers the scenario drivers share. */
import { PlayhouseError } from '../../protocol/client';

/** Creates `count` clients, `batchSize` at a time, so the server is not hit by thousands of handshakes at once. */
export async function connectInBatches<T>(count: number, create: (index: number) => Promise<T>, batchSize = 50): Promise<T[]> {
  const created: T[] = [];
  for (let start = 0; start < count; start += batchSize) {
    const batch = Array.from({ length: Math.min(batchSize, count - start) }, (_, i) => create(start + i));
    created.push(...(await Promise.all(batch)));
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
