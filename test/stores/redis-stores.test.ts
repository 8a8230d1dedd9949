/**
 * The Redis snapshot driver against the store contract (the machine's Redis),
 * then what Redis being unreachable, going away and coming back does to the
 * Redis stores: calls fail fast with StoreUnavailableError, never hang, and
 * the same store object works again once Redis is back, without reopening.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { StoreUnavailableError } from '../../actors/persistence/stores';
import type { SavedSession } from '../../actors/ports';
import { RedisSessionStore } from '../../infra/stores/redis/redis-session-store';
import { RedisSnapshotStore } from '../../infra/stores/redis/redis-snapshot-store';
import { freePort } from '../support/free-port';
import { startPrivateRedis, type PrivateRedis } from '../support/private-redis';
import { eventually, forgetRedisKeys, needRedis, REDIS_URL } from '../support/services';
import { snapshotStoreContract } from '../support/store-contract';

/** What these tests allow for a call to fail while Redis is away. */
const PROMPTLY_MS = 2_000;

const prefix = `test-stores-${randomUUID().slice(0, 8)}:`;

snapshotStoreContract('redis', async (t) => {
  if (!(await needRedis(t))) return undefined;
  return RedisSnapshotStore.open({ url: REDIS_URL, prefix });
});

// The shared Redis keeps what a run writes: delete this run's keys.
after(() => forgetRedisKeys(prefix));

/** Resolves with how long `call` took to reject, after checking it rejected with StoreUnavailableError. */
async function failsFast(call: () => Promise<unknown>): Promise<number> {
  const started = Date.now();
  await assert.rejects(call(), (error: unknown) => {
    assert.ok(error instanceof StoreUnavailableError, `expected StoreUnavailableError, got ${String(error)}`);
    assert.equal(error.code, 'persistence/store-unavailable');
    return true;
  });
  const took = Date.now() - started;
  assert.ok(took < PROMPTLY_MS, `rejected only after ${took} ms`);
  return took;
}

/** The value of `call` once it no longer fails with StoreUnavailableError (Redis is back); other errors fail at once. */
function onceAvailable<T>(call: () => Promise<T>, what: string): Promise<T> {
  return eventually(async () => {
    try {
      return { value: await call() };
    } catch (error) {
      if (error instanceof StoreUnavailableError) return undefined;
      throw error;
    }
  }, what).then(({ value }) => value);
}

const session = (playerId: string): SavedSession => ({
  playerId,
  name: 'Ana',
  roomId: 'connect-four.1',
  resumeNonce: 'nonce',
  seq: 3,
  graceEndsAt: Date.now() + 60_000,
  answers: [],
});

describe('redis stores: Redis unreachable', () => {
  test('opening does not hang, and every call rejects with StoreUnavailableError at once', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const opening = Date.now();
    const snapshots = await RedisSnapshotStore.open({ url, prefix });
    const sessions = await RedisSessionStore.connect({ url, name: prefix });
    try {
      assert.ok(Date.now() - opening < PROMPTLY_MS, 'opening waited on an unreachable Redis');
      await failsFast(() => snapshots.write('room/1', { a: 1 }, 0));
      await failsFast(() => snapshots.read('room/1'));
      await failsFast(() => snapshots.remove('room/1', 1));
      await failsFast(() => snapshots.writeBatch([{ key: 'room/1', data: { a: 1 }, expectedVersion: 0 }]));
      await failsFast(() => sessions.save(session('p1')));
      await failsFast(() => sessions.load('p1'));
    } finally {
      await snapshots.close();
      await sessions.close();
    }
  });
});

describe('redis stores: Redis going away and coming back', () => {
  let redis: PrivateRedis | undefined;
  let snapshots: RedisSnapshotStore | undefined;
  let sessions: RedisSessionStore | undefined;
  before(async () => {
    redis = await startPrivateRedis();
  });
  after(async () => {
    await snapshots?.close();
    await sessions?.close();
    await redis?.stop();
  });

  test('while it is down calls fail fast; once it is back the same store objects work again', async () => {
    assert.ok(redis);
    snapshots = await RedisSnapshotStore.open({ url: redis.url, prefix, maxReconnectDelayMs: 200 });
    sessions = await RedisSessionStore.connect({ url: redis.url, name: prefix, maxReconnectDelayMs: 200 });
    assert.equal(await snapshots.write('room/1', { moves: 1 }, 0), 1);
    await sessions.save(session('p1'));

    await redis.kill();
    await failsFast(() => snapshots!.write('room/1', { moves: 2 }, 1));
    await failsFast(() => snapshots!.read('room/1'));
    await failsFast(() => snapshots!.writeBatch([{ key: 'room/2', data: { moves: 1 }, expectedVersion: 0 }]));
    await failsFast(() => sessions!.load('p1'));

    // The private server keeps nothing on disk: after the restart every key starts again from nothing.
    await redis.start();
    assert.equal(await onceAvailable(() => snapshots!.write('room/1', { moves: 1 }, 0), 'the snapshot store writes again'), 1);
    assert.deepEqual(await snapshots.read('room/1'), { key: 'room/1', version: 1, data: { moves: 1 } });
    assert.deepEqual(await snapshots.writeBatch([{ key: 'room/1', data: { moves: 2 }, expectedVersion: 1 }]), [2]);
    await onceAvailable(() => sessions!.save(session('p2')), 'the session store saves again');
    assert.equal((await sessions.load('p2'))?.playerId, 'p2');
  });
});
