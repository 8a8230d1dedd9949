/**
 * What the local cluster launcher (scripts/cluster.ts) asks of Redis itself:
 * whether one answers before it starts anything (every process of a cluster
 * would otherwise wait for it, retrying, without end), and removing a
 * throwaway cluster's keys once it has stopped.
 */
import { createClient } from 'redis';

/** undefined when Redis answered PING; otherwise why not, in a few words. */
export async function whyRedisUnreachable(url: string, boundMs = 3000): Promise<string | undefined> {
  const client = createClient({ url, socket: { connectTimeout: boundMs, reconnectStrategy: false } });
  // Without a listener a failed connection would be an uncaught 'error' event; connect() reports it.
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
    return undefined;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));
  } finally {
    if (client.isOpen) client.destroy();
  }
}

/** Deletes every key whose name starts with `prefix`. */
export async function deleteKeys(url: string, prefix: string): Promise<void> {
  const client = createClient({ url, socket: { reconnectStrategy: false } });
  client.on('error', () => undefined);
  await client.connect();
  try {
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) if (keys.length > 0) await client.unlink(keys);
  } finally {
    client.destroy();
  }
}
