/**
 * Actors that come and go leave nothing behind: players connect and leave all
 * day, so anything retained per session is a leak that grows until the
 * process dies. (comedy 2.1.7 retained a logger per actor ever created; see
 * actors/kit/comedy.ts.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gatewayRef } from '../../actors/messages';
import { startActorSystem } from '../../actors/system';
import { ACTOR_RESOURCES } from '../../infra/actor-resources';
import { workerPersistence } from '../../infra/cluster/worker-supervisor';
import { loadConfig } from '../../infra/config';
import { heapAfterGc } from '../support/heap';

test('thousands of sessions that open and retire leave the heap where it was', async () => {
  const settings = { mailboxCapacity: 16, askTimeoutMs: 5000 };
  const actors = await startActorSystem({
    settings: { session: settings, room: settings, lobby: settings },
    persistence: workerPersistence(loadConfig({ persistence: { snapshots: 'memory', records: 'memory' } }, {})),
    resources: ACTOR_RESOURCES,
    gateway: { address: gatewayRef('test'), deliver: () => undefined },
  });
  let opened = 0;
  const churn = async (count: number) => {
    for (let i = 0; i < count; i++, opened++) {
      await actors.openSession({ playerId: `p${opened}`, name: 'p', rateLimit: { perSecond: 20, burst: 40 }, delivery: { bufferMessages: 64, actionWindow: 32 } });
      await actors.attach(`p${opened}`, `c${opened}`);
      actors.detach(`p${opened}`, `c${opened}`); // not in a room: the session retires at once
    }
    // Retirement is asynchronous: wait until the router has let every session go.
    while ((await actors.stats()).actors.session > 0) await new Promise((resolve) => setImmediate(resolve));
  };
  try {
    await churn(6000); // warm-up: code paths compiled, caches and tables grown to their working size
    const before = await heapAfterGc();
    await churn(6000);
    const grown = (await heapAfterGc()) - before;
    // The leak this guards against retained ~360 bytes per session (~2 MB here).
    assert.ok(grown < 600 * 1024, `heap grew ${(grown / 1024).toFixed(0)} KB over 6,000 sessions that came and went`);
  } finally {
    await actors.stop();
  }
});
