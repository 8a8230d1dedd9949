/**
 * Tests that need a real service (Redis, MariaDB) skip with a printed reason
 * when it is unreachable — except under CI=true, where a missing service is a
 * failure, not a skip.
 */
import { connect } from 'node:net';
import type { TestContext } from 'node:test';
import { createClient } from 'redis';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** MariaDB (or MySQL) for the SQL driver's tests: root with an empty password on the machine's server. */
export const MARIADB_URL = process.env.MARIADB_URL ?? 'mysql://root@127.0.0.1:3306/test';

/** Resolves whether something accepts TCP connections at host:port (bounded wait). */
function reachable(host: string, port: number, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * True when Redis answers. Otherwise: under CI=true throws (the test fails);
 * elsewhere marks the test skipped with the reason and returns false.
 */
export function needRedis(t: TestContext): Promise<boolean> {
  return needService(t, 'Redis', REDIS_URL, 6379);
}

/** Like needRedis, for MariaDB at MARIADB_URL. */
export function needMariadb(t: TestContext): Promise<boolean> {
  return needService(t, 'MariaDB', MARIADB_URL, 3306);
}

async function needService(t: TestContext, name: string, serviceUrl: string, defaultPort: number): Promise<boolean> {
  const url = new URL(serviceUrl);
  if (await reachable(url.hostname, Number(url.port || defaultPort))) return true;
  const reason = `${name} is not reachable at ${serviceUrl}`;
  if (process.env.CI === 'true') throw new Error(`${reason} (CI=true: a missing service is a failure)`);
  console.log(`# SKIPPED: ${reason}`);
  t.skip(reason);
  return false;
}

/**
 * Resolves with the first truthy result of `probe`, tried again on each turn
 * of a short timer until `timeoutMs`; rejects naming `what` after that. For
 * conditions another process makes true (a heartbeat, a restart), where there
 * is no event to wait on in this process.
 */
export async function eventually<T>(probe: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Deletes the keys under `prefix` from the shared Redis: a test run's leftovers (nothing when Redis is not there). */
export async function forgetRedisKeys(prefix: string): Promise<void> {
  const client = createClient({ url: REDIS_URL, disableOfflineQueue: true, socket: { reconnectStrategy: false } });
  client.on('error', () => undefined);
  const connected = await client.connect().then(
    () => true,
    () => false,
  );
  if (!connected) return;
  for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) if (keys.length > 0) await client.del(keys);
  client.destroy();
}
