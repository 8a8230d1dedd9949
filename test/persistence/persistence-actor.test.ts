/**
 * The persistence actor on its own, against real stores: in memory for the
 * batching rules, and a private redis-server that is killed and started again
 * for what happens while a store is down (writes kept, retried with backoff,
 * shed lowest-priority first past the bound, all written once it is back).
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { systemClock } from '../../infra/system-clock';
import type { WritePriority, WriteReply, WriteRequest } from '../../actors/persistence/persistence-protocol';
import { PersistenceActor, type PersistenceSettings } from '../../actors/persistence/persistence-actor';
import { profileKey, StoreWriter, type PersistenceStores } from '../../actors/persistence/store-writer';
import type { SnapshotStore } from '../../actors/persistence/stores';
import { QueuedWrite } from '../../actors/persistence/write-queue';
import type { PersistenceMetrics } from '../../actors/ports';
import { MemoryMatchRecords } from '../../infra/stores/memory/memory-match-records';
import { MemorySnapshotStore } from '../../infra/stores/memory/memory-snapshot-store';
import { RedisSnapshotStore } from '../../infra/stores/redis/redis-snapshot-store';
import { startPrivateRedis } from '../support/private-redis';
import { eventually } from '../support/services';
import { result } from '../support/store-contract';
import { QUIET_LOG } from '../support/quiet-log';

const SETTINGS: PersistenceSettings = { maxQueued: 1000, batchSize: 100, normalWindowMs: 20, lowIntervalMs: 50, retry: { initialMs: 20, maxMs: 200 } };

/** Our own metrics port, counting what the actor reports (the Prometheus one is tested through /metrics). */
class CountingMetrics implements PersistenceMetrics {
  readonly depth: Record<WritePriority, number> = { critical: 0, normal: 0, low: 0 };
  batches = 0;
  writes = 0;
  retries = 0;
  conflicts = 0;
  readonly shed: string[] = [];
  readonly durable: WritePriority[] = [];
  readonly up = new Map<string, boolean>();
  persistenceQueueDepth(priority: WritePriority, depth: number): void {
    this.depth[priority] = depth;
  }
  persistenceBatch(_store: string, writes: number): void {
    this.batches++;
    this.writes += writes;
  }
  persistenceRetry(): void {
    this.retries++;
  }
  persistenceConflicts(_store: string, count: number): void {
    this.conflicts += count;
  }
  persistenceShed(priority: WritePriority, reason: string): void {
    this.shed.push(`${priority}:${reason}`);
  }
  persistenceDurable(priority: WritePriority): void {
    this.durable.push(priority);
  }
  persistenceStoreUp(store: string, up: boolean): void {
    this.up.set(store, up);
  }
}

function actorWith(stores: PersistenceStores, settings: Partial<PersistenceSettings> = {}) {
  const metrics = new CountingMetrics();
  const actor = new PersistenceActor(stores, { ...SETTINGS, ...settings }, metrics, QUIET_LOG, systemClock);
  after(() => actor.stop());
  const write = (priority: WritePriority, request: WriteRequest) => actor.receive({ type: 'write', priority, write: request }) as Promise<WriteReply>;
  return { actor, metrics, write };
}

const memoryStores = (): PersistenceStores & { snapshots: MemorySnapshotStore; matches: MemoryMatchRecords } => ({ snapshots: new MemorySnapshotStore(), matches: new MemoryMatchRecords() });

/** Resolves to 'pending' if the promise has not settled by the time everything already queued has run. */
async function settledYet<T>(promise: Promise<T>): Promise<T | 'pending'> {
  return Promise.race([promise, new Promise<'pending'>((resolve) => setImmediate(() => resolve('pending')))]);
}

test('the stores count as up from the start, before any write (a fresh worker has its store_up series at once)', () => {
  const { metrics } = actorWith(memoryStores());
  assert.deepEqual([...metrics.up], [['memory', true]]);
});

test('a critical write is answered only once it is in the store', async () => {
  const stores = memoryStores();
  const { write } = actorWith(stores);
  const saved = result({ matchId: 'room-a#1' });
  const reply = await write('critical', { kind: 'match-result', result: saved });
  assert.deepEqual(reply, { ok: true });
  assert.deepEqual(await stores.matches.result('room-a#1'), saved);
});

test('under load critical writes share commits, spaced criticalSpacingMs apart; the first after a QUIET_LOG spell goes at once', async () => {
  const stores = memoryStores();
  const { write, metrics } = actorWith(stores, { criticalSpacingMs: 80 });
  // Nothing written for a while: the first one is committed without waiting.
  const first = write('critical', { kind: 'match-result', result: result({ matchId: 'burst#0' }) });
  assert.deepEqual(await settledYet(first), { ok: true });
  // The nine arriving within its spacing wait, and share the next commit.
  const burst = Array.from({ length: 9 }, (_, i) => write('critical', { kind: 'match-result', result: result({ matchId: `burst#${i + 1}` }) }));
  assert.equal(await settledYet(burst[0]!), 'pending', 'a critical write within the spacing waits for the next commit');
  for (const reply of await Promise.all(burst)) assert.deepEqual(reply, { ok: true });
  assert.equal(metrics.batches, 2, 'ten critical writes, two commits');
  assert.equal(await stores.matches.count(), 10);
});

test('snapshots of one room queued together are written once, the newest; every writer hears it is durable', async () => {
  const stores = memoryStores();
  const { actor, write, metrics } = actorWith(stores, { lowIntervalMs: 60_000, batchSize: 1000 });
  const replies = Array.from({ length: 50 }, (_, i) => write('low', { kind: 'snapshot', key: 'room/r1', data: { turn: i }, basedOn: 0 }));
  assert.equal(await settledYet(replies[0]!), 'pending', 'low writes wait for their interval');
  assert.equal(metrics.depth.low, 1, 'one queued entry for fifty writes');
  // A drain flushes everything now (as SIGTERM does).
  assert.deepEqual(await actor.drain(5000), { left: 0 });
  for (const reply of await Promise.all(replies)) assert.deepEqual(reply, { ok: true, version: 1 });
  assert.deepEqual(await stores.snapshots.read('room/r1'), { key: 'room/r1', version: 1, data: { turn: 49 } });
  assert.equal(metrics.writes, 1);
});

test('profile additions within the normal window merge into one write; later ones build on it', async () => {
  const stores = memoryStores();
  const { write } = actorWith(stores, { normalWindowMs: 30 });
  const add = (won: number) => write('normal', { kind: 'profile', playerId: 'p1', name: 'Ana', add: { played: 1, won } });
  const first = await Promise.all([add(1), add(0), add(1)]);
  assert.ok(first.every((reply) => reply.ok));
  assert.deepEqual(await stores.snapshots.read(profileKey('p1')), { key: profileKey('p1'), version: 1, data: { playerId: 'p1', name: 'Ana', counters: { played: 3, won: 2 } } });
  await add(1);
  assert.deepEqual((await stores.snapshots.read(profileKey('p1')))?.data.counters, { played: 4, won: 3 });
});

test('a flood of low writes waiting for their interval does not hold up a critical write', async () => {
  const stores = memoryStores();
  const { write, metrics } = actorWith(stores, { lowIntervalMs: 60_000, batchSize: 100_000, maxQueued: 100_000 });
  const flood = Array.from({ length: 5000 }, (_, i) => write('low', { kind: 'snapshot', key: `room/f${i}`, data: { i }, basedOn: 0 }));
  const critical = await write('critical', { kind: 'match-result', result: result({ matchId: 'flooded#1' }) });
  assert.ok(critical.ok);
  assert.equal(metrics.depth.low, 5000, 'the flood is still queued');
  assert.equal(await settledYet(flood[0]!), 'pending');
});

test('a write based on a version another writer replaced is refused as a conflict, and counted', async () => {
  const stores = memoryStores();
  await stores.snapshots.write('room/taken', { by: 'another worker' }, 0);
  const { write, metrics } = actorWith(stores);
  const reply = await write('low', { kind: 'snapshot', key: 'room/taken', data: { by: 'us' }, basedOn: 0 });
  assert.equal(reply.ok, false);
  assert.equal(!reply.ok && reply.error.code, 'persistence/conflict');
  assert.equal(metrics.conflicts, 1);
  assert.deepEqual((await stores.snapshots.read('room/taken'))?.data, { by: 'another worker' });
});

test('a write whose answer was lost but which did land is recognised on retry as ours, not as a conflict', async () => {
  const stores = memoryStores();
  const writer = new StoreWriter(stores);
  const entry = new QueuedWrite('low', { kind: 'snapshot', key: 'room/lost-answer', data: { turn: 7 }, basedOn: 0 }, 'snapshot:room/lost-answer', [], Date.now());
  // The first attempt reached the store, but its answer never came back.
  entry.attempts.push({ expectedVersion: 0, data: { turn: 7 } });
  await stores.snapshots.write('room/lost-answer', { turn: 7 }, 0);
  const batch = await writer.write([entry]);
  assert.deepEqual(batch.outcomes.get(entry), { durable: true, version: 1 });
  assert.equal((await stores.snapshots.read('room/lost-answer'))?.version, 1, 'not written twice');
});

test('Redis down: writes are kept and retried with backoff, shed lowest first past the bound, and all written once it is back', async (t) => {
  let redis;
  try {
    redis = await startPrivateRedis();
  } catch (error) {
    if (process.env.CI === 'true') throw error;
    t.skip(`no redis-server to start: ${String(error)}`);
    return;
  }
  t.after(() => redis.stop());
  const snapshots: SnapshotStore = await RedisSnapshotStore.open({ url: redis.url, prefix: 'outage:', callTimeoutMs: 500, maxReconnectDelayMs: 100 });
  t.after(() => snapshots.close());
  const stores = { snapshots, matches: new MemoryMatchRecords() };
  const { write, metrics } = actorWith(stores, { maxQueued: 4, normalWindowMs: 10, lowIntervalMs: 10 });
  await redis.kill();

  const lows = [write('low', { kind: 'snapshot', key: 'room/a', data: { n: 1 }, basedOn: 0 }), write('low', { kind: 'snapshot', key: 'room/b', data: { n: 1 }, basedOn: 0 })];
  const normals = [write('normal', { kind: 'profile', playerId: 'p1', name: 'Ana', add: { played: 1 } }), write('normal', { kind: 'profile', playerId: 'p2', name: 'Bo', add: { played: 1 } })];
  await eventually(() => (metrics.retries >= 2 ? true : undefined), 'retries while Redis is down');
  assert.equal(metrics.up.get('redis'), false);
  // The queue is full (4): a fifth, normal write sheds the oldest low one; a sixth sheds the other.
  const third = write('normal', { kind: 'profile', playerId: 'p3', name: 'Cy', add: { played: 1 } });
  const shedFirst = await lows[0]!;
  assert.equal(!shedFirst.ok && shedFirst.error.code, 'persistence/overloaded');
  const fourth = write('normal', { kind: 'profile', playerId: 'p4', name: 'Di', add: { played: 1 } });
  assert.equal(!(await lows[1]!).ok, true);
  // Full of normal writes: a low one is refused at once; a critical one sheds the oldest normal one.
  const refused = await write('low', { kind: 'snapshot', key: 'room/c', data: { n: 1 }, basedOn: 0 });
  assert.equal(!refused.ok && refused.error.code, 'persistence/overloaded');
  const critical = write('critical', { kind: 'match-result', result: result({ matchId: 'outage#1' }) });
  assert.equal(!(await normals[0]!).ok, true, 'the oldest normal write was shed for the critical one');
  assert.deepEqual(metrics.shed, ['low:shed', 'low:shed', 'low:refused', 'normal:shed']);
  assert.ok((await critical).ok, 'the critical write went to its own store, which is up');

  await redis.start();
  const kept = await Promise.all([normals[1]!, third, fourth]);
  assert.ok(kept.every((reply) => reply.ok), JSON.stringify(kept));
  for (const playerId of ['p2', 'p3', 'p4']) assert.deepEqual((await snapshots.read(profileKey(playerId)))?.data.counters, { played: 1 });
  assert.equal(await snapshots.read(profileKey('p1')), undefined, 'the shed write was not written');
  assert.equal(metrics.up.get('redis'), true);
});

test('a profile addition whose answer was lost is counted once, even when another worker changed the profile since', async () => {
  const stores = memoryStores();
  const writer = new StoreWriter(stores);
  const write: WriteRequest = { kind: 'profile', playerId: 'p9', name: 'Ana', add: { played: 1, won: 1 }, ids: ['room-x#1'] };
  const entry = new QueuedWrite('normal', write, 'profile:p9', [], Date.now());
  // The first attempt landed (its answer never came back), then another worker added a game of its own.
  entry.attempts.push({ expectedVersion: 0, data: { playerId: 'p9', name: 'Ana', counters: { played: 1, won: 1 }, recent: ['room-x#1'] } });
  await stores.snapshots.write(profileKey('p9'), { playerId: 'p9', name: 'Ana', counters: { played: 1, won: 1 }, recent: ['room-x#1'] }, 0);
  await stores.snapshots.write(profileKey('p9'), { playerId: 'p9', name: 'Ana', counters: { played: 2, won: 1 }, recent: ['room-x#1', 'room-y#1'] }, 1);
  const batch = await writer.write([entry]);
  assert.deepEqual(batch.outcomes.get(entry), { durable: true });
  assert.deepEqual((await stores.snapshots.read(profileKey('p9')))?.data.counters, { played: 2, won: 1 }, 'not counted twice');
  // A new addition is counted, and remembered.
  const next = new QueuedWrite('normal', { ...write, ids: ['room-z#1'] }, 'profile:p9', [], Date.now());
  await writer.write([next]);
  const stored = await stores.snapshots.read(profileKey('p9'));
  assert.deepEqual(stored?.data.counters, { played: 3, won: 2 });
  assert.deepEqual(stored?.data.recent, ['room-x#1', 'room-y#1', 'room-z#1']);
});
