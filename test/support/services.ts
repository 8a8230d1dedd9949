/**
 * Tests that need a real service (Redis, MariaDB) skip with a printed reason
 * when it is unreachable — except under CI=true, where a missing service is a
 * failure, not a skip.
 */
import { connect } from 'node:net';
import type { TestContext } from 'node:test';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

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
export async function needRedis(t: TestContext): Promise<boolean> {
  const url = new URL(REDIS_URL);
  if (await reachable(url.hostname, Number(url.port || 6379))) return true;
  const reason = `Redis is not reachable at ${REDIS_URL}`;
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
