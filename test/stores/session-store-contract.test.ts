/**
 * One contract for the hot-state stores of away sessions (SessionStateStore),
 * run against the in-memory driver and the Redis driver: what the session
 * actor relies on when a session moves to another worker — a saved session
 * loads back whole, the last save wins, removal forgets it, and it is gone
 * once its grace period has ended.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test, type TestContext } from 'node:test';
import type { SavedSession, SessionStateStore } from '../../actors/ports';
import { MemorySessionStore } from '../../infra/stores/memory/memory-session-store';
import { RedisSessionStore } from '../../infra/stores/redis/redis-session-store';
import { eventually, forgetRedisKeys, needRedis, REDIS_URL } from '../support/services';

type OpenSessionStore = (t: TestContext) => Promise<SessionStateStore | undefined>;

const player = () => `player-${randomUUID().slice(0, 8)}`;

const saved = (playerId: string, overrides: Partial<SavedSession> = {}): SavedSession => ({
  playerId,
  name: 'Ana ✓',
  roomId: 'connect-four.1.ab#x',
  resumeNonce: randomUUID(),
  seq: 17,
  graceEndsAt: Date.now() + 60_000,
  answers: [
    ['action-1', { ok: true, version: 4 }],
    ['action-2', { ok: false, error: { code: 'room/not-your-turn' } }],
  ],
  ...overrides,
});

function sessionStoreContract(driver: string, open: OpenSessionStore): void {
  describe(`session store contract: ${driver}`, () => {
    const opened: SessionStateStore[] = [];
    after(async () => {
      for (const store of opened) await store.close();
    });
    const use = async (t: TestContext): Promise<SessionStateStore | undefined> => {
      const store = await open(t);
      if (store) opened.push(store);
      return store;
    };

    test('nothing saved loads as undefined; a saved session loads back whole', async (t) => {
      const store = await use(t);
      if (!store) return;
      const playerId = player();
      assert.equal(await store.load(playerId), undefined);
      const state = saved(playerId);
      await store.save(state);
      assert.deepEqual(await store.load(playerId), state);
      assert.deepEqual(await store.load(playerId), state, 'loading does not consume it');
      assert.equal(await store.load(player()), undefined, 'another player has nothing saved');
    });

    test('saving again replaces what was saved', async (t) => {
      const store = await use(t);
      if (!store) return;
      const playerId = player();
      await store.save(saved(playerId, { seq: 1, roomId: 'room-a' }));
      const latest = saved(playerId, { seq: 2, roomId: null, answers: [] });
      await store.save(latest);
      assert.deepEqual(await store.load(playerId), latest);
    });

    test('a removed session is gone; removing what is not there succeeds', async (t) => {
      const store = await use(t);
      if (!store) return;
      const [kept, removed] = [player(), player()];
      await store.save(saved(kept));
      await store.save(saved(removed));
      await store.remove(removed);
      assert.equal(await store.load(removed), undefined);
      assert.equal((await store.load(kept))?.playerId, kept, 'removal touches only that player');
      await store.remove(player());
    });

    test('a session expires when its grace period ends, not before', async (t) => {
      const store = await use(t);
      if (!store) return;
      const playerId = player();
      const graceEndsAt = Date.now() + 300;
      await store.save(saved(playerId, { graceEndsAt }));
      assert.equal((await store.load(playerId))?.playerId, playerId, 'there during the grace period');
      const goneAt = await eventually(async () => ((await store.load(playerId)) === undefined ? Date.now() : undefined), 'the session expired', 3_000);
      // Redis's PX counts from the save, computed from graceEndsAt: never earlier (1 ms of clock rounding allowed).
      assert.ok(goneAt >= graceEndsAt - 1, `gone ${graceEndsAt - goneAt} ms before its grace period ended`);
    });
  });
}

sessionStoreContract('memory', async () => new MemorySessionStore());

const name = `test-sessions-${randomUUID().slice(0, 8)}`;
sessionStoreContract('redis', async (t) => {
  if (!(await needRedis(t))) return undefined;
  return RedisSessionStore.connect({ url: REDIS_URL, name });
});

// The shared Redis keeps what a run writes: delete this run's keys.
after(() => forgetRedisKeys(`${name}:`));
