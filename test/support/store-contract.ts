/**
 * One contract for every store driver, run for real against each (memory,
 * SQLite, MariaDB, Redis; Riak where RIAK_NODES is set): what the persistence
 * actor relies on, version conflicts included. A driver's test file calls
 * these with a function that opens the driver (or returns undefined after
 * skipping the test, when its service is unreachable).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test, type TestContext } from 'node:test';
import {
  VersionConflictError,
  type JsonObject,
  type MatchRecordStore,
  type MatchResult,
  type SnapshotStore,
} from '../../actors/persistence/stores';

export type OpenStore<S> = (t: TestContext) => Promise<S | undefined>;

/** Each run writes under its own prefix: shared databases keep earlier runs' data. */
const runKey = (name: string) => `contract-${randomUUID().slice(0, 8)}/${name}`;

const ROOM: JsonObject = {
  params: { roomId: 'connect-four.1.ab#x', game: 'connect-four', seed: 12345 },
  match: { version: 7, status: 'playing', seats: [{ playerId: 'p1', name: 'Ana ✓', seat: 0 }], board: [[0, 1, null], [2]], over: false, score: -1.5 },
};

export function snapshotStoreContract(driver: string, open: OpenStore<SnapshotStore>): void {
  describe(`snapshot store contract: ${driver}`, () => {
    const opened: SnapshotStore[] = [];
    after(async () => {
      for (const store of opened) await store.close();
    });
    const use = async (t: TestContext): Promise<SnapshotStore | undefined> => {
      const store = await open(t);
      if (store) opened.push(store);
      return store;
    };

    test('nothing stored reads as undefined; a first write is version 1 and reads back equal', async (t) => {
      const store = await use(t);
      if (!store) return;
      const key = runKey('room');
      assert.equal(await store.read(key), undefined);
      assert.equal(await store.write(key, ROOM, 0), 1);
      assert.deepEqual(await store.read(key), { key, version: 1, data: ROOM });
    });

    test('each write moves the version on by one; a write against an old version is a VersionConflictError and changes nothing', async (t) => {
      const store = await use(t);
      if (!store) return;
      const key = runKey('profile');
      await store.write(key, { wins: 1 }, 0);
      assert.equal(await store.write(key, { wins: 2 }, 1), 2);
      await assert.rejects(store.write(key, { wins: 99 }, 1), (error: unknown) => {
        assert.ok(error instanceof VersionConflictError, `expected VersionConflictError, got ${String(error)}`);
        assert.equal(error.code, 'persistence/conflict');
        assert.equal(error.key, key);
        assert.equal(error.expectedVersion, 1);
        if (error.storedVersion !== undefined) assert.equal(error.storedVersion, 2);
        return true;
      });
      assert.deepEqual(await store.read(key), { key, version: 2, data: { wins: 2 } });
    });

    test('creating what exists, or replacing a version that was never written, conflicts', async (t) => {
      const store = await use(t);
      if (!store) return;
      const existing = runKey('existing');
      await store.write(existing, { a: 1 }, 0);
      await assert.rejects(store.write(existing, { a: 2 }, 0), VersionConflictError);
      const missing = runKey('missing');
      await assert.rejects(store.write(missing, { a: 1 }, 3), VersionConflictError);
      assert.equal(await store.read(missing), undefined);
      assert.deepEqual((await store.read(existing))?.data, { a: 1 });
    });

    test('two writers racing from the same version: exactly one wins', async (t) => {
      const store = await use(t);
      if (!store) return;
      const key = runKey('race');
      await store.write(key, { writer: 'none' }, 0);
      const outcomes = await Promise.allSettled([store.write(key, { writer: 'a' }, 1), store.write(key, { writer: 'b' }, 1)]);
      const won = outcomes.filter((outcome) => outcome.status === 'fulfilled');
      const lost = outcomes.filter((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
      assert.equal(won.length, 1, 'one writer wins');
      assert.equal(lost.length, 1, 'the other is refused');
      assert.ok(lost[0]!.reason instanceof VersionConflictError);
      const stored = await store.read(key);
      assert.equal(stored?.version, 2);
      assert.equal(stored?.data.writer, outcomes[0]!.status === 'fulfilled' ? 'a' : 'b');
    });

    test('removal is conditional on the version too; afterwards the key starts again from 0', async (t) => {
      const store = await use(t);
      if (!store) return;
      const key = runKey('closed-room');
      await store.write(key, { x: 1 }, 0);
      await store.write(key, { x: 2 }, 1);
      await assert.rejects(store.remove(key, 1), VersionConflictError);
      assert.equal((await store.read(key))?.version, 2, 'a refused removal removes nothing');
      await store.remove(key, 2);
      assert.equal(await store.read(key), undefined);
      await store.remove(runKey('never-written'), 0);
      assert.equal(await store.write(key, { x: 3 }, 0), 1);
    });

    test('a batch answers each write on its own, in order: versions for the applied, conflicts for the refused', async (t) => {
      const store = await use(t);
      if (!store) return;
      const [fresh, stale, gone, next] = [runKey('b1'), runKey('b2'), runKey('b3'), runKey('b4')];
      await store.write(stale, { v: 1 }, 0);
      await store.write(stale, { v: 2 }, 1);
      await store.write(gone, { v: 1 }, 0);
      await store.write(next, { v: 1 }, 0);
      const outcomes = await store.writeBatch([
        { key: fresh, data: { v: 1 }, expectedVersion: 0 },
        { key: stale, data: { v: 'lost' }, expectedVersion: 1 },
        { key: gone, data: null, expectedVersion: 1 },
        { key: next, data: { v: 2 }, expectedVersion: 1 },
      ]);
      assert.equal(outcomes.length, 4);
      assert.equal(outcomes[0], 1);
      assert.ok(outcomes[1] instanceof VersionConflictError, `expected a conflict, got ${String(outcomes[1])}`);
      assert.equal((outcomes[1] as VersionConflictError).key, stale);
      assert.equal(outcomes[2], 0);
      assert.equal(outcomes[3], 2);
      assert.deepEqual((await store.read(stale))?.data, { v: 2 });
      assert.equal(await store.read(gone), undefined);
      assert.deepEqual(await store.read(next), { key: next, version: 2, data: { v: 2 } });
      assert.deepEqual(await store.writeBatch([]), []);
    });

    test('readMany answers the stored documents among many keys, missing ones left out', async (t) => {
      const store = await use(t);
      if (!store) return;
      const keys = Array.from({ length: 250 }, (_, i) => runKey(`many/${i}`));
      await store.writeBatch(keys.filter((_, i) => i % 3 !== 0).map((key, i) => ({ key, data: { i }, expectedVersion: 0 })));
      await store.write(keys[1]!, { i: 'again' }, 1);
      const found = await store.readMany(keys);
      assert.equal(found.size, keys.filter((_, i) => i % 3 !== 0).length);
      for (const [i, key] of keys.entries()) {
        if (i % 3 === 0) assert.equal(found.has(key), false, `${key} was never written`);
        else assert.deepEqual(found.get(key), await store.read(key));
      }
      assert.deepEqual(found.get(keys[1]!), { key: keys[1], version: 2, data: { i: 'again' } });
      assert.equal((await store.readMany([])).size, 0);
    });

    test('a large document (200 KB) and awkward keys round-trip', async (t) => {
      const store = await use(t);
      if (!store) return;
      const key = runKey('room/connect-four.1.ab#x:ü');
      const big: JsonObject = { cells: Array.from({ length: 20_000 }, (_, i) => `c${i}-xxxx`) };
      await store.write(key, big, 0);
      assert.deepEqual((await store.read(key))?.data, big);
    });
  });
}

export function result(overrides: Partial<MatchResult> & Pick<MatchResult, 'matchId'>): MatchResult {
  return {
    roomId: overrides.matchId.split('#')[0]!,
    game: 'connect-four',
    gameNumber: 1,
    players: [
      { playerId: 'p1', name: 'Ana', seat: 0 },
      { playerId: 'p2', name: 'Bo ✓', seat: 1 },
    ],
    winners: ['p1'],
    draw: false,
    reason: 'four-in-a-row',
    moves: 17,
    startedAt: 1_700_000_000_000,
    endedAt: 1_700_000_060_000,
    ...overrides,
  };
}

export function matchRecordContract(driver: string, open: OpenStore<MatchRecordStore>): void {
  describe(`match record contract: ${driver}`, () => {
    const opened: MatchRecordStore[] = [];
    after(async () => {
      for (const store of opened) await store.close();
    });
    const use = async (t: TestContext): Promise<MatchRecordStore | undefined> => {
      const store = await open(t);
      if (store) opened.push(store);
      return store;
    };

    test('a saved result reads back whole, by id and by player', async (t) => {
      const store = await use(t);
      if (!store) return;
      const room = runKey('room');
      const players = [
        { playerId: `${room}-a`, name: 'Ana', seat: 0 },
        { playerId: `${room}-b`, name: 'Bo ✓', seat: 1 },
      ];
      const won = result({ matchId: `${room}#1`, players, winners: [players[0]!.playerId] });
      const drawn = result({ matchId: `${room}#2`, gameNumber: 2, players, winners: [], draw: true, reason: 'board-full', endedAt: won.endedAt + 1000 });
      await store.saveResults([won, drawn]);
      assert.deepEqual(await store.result(won.matchId), won);
      assert.deepEqual(await store.resultsOf(players[1]!.playerId, 10), [drawn, won], 'newest first');
      assert.deepEqual(await store.resultsOf(players[0]!.playerId, 1), [drawn], 'limited');
      assert.deepEqual(await store.resultsOf(`${room}-nobody`, 10), []);
      assert.equal(await store.result(`${room}#3`), undefined);
    });

    test('saving the same result again saves it once (a retried write makes no second row)', async (t) => {
      const store = await use(t);
      if (!store) return;
      const first = result({ matchId: `${runKey('room')}#1` });
      const before = await store.count();
      await store.saveResults([first]);
      await store.saveResults([first]);
      await store.saveResults([first, result({ matchId: `${runKey('room')}#1` })]);
      assert.equal((await store.count()) - before, 2);
    });

    test('a different result under a saved id is a VersionConflictError, and nothing of that batch is saved', async (t) => {
      const store = await use(t);
      if (!store) return;
      const saved = result({ matchId: `${runKey('room')}#1` });
      await store.saveResults([saved]);
      const innocent = result({ matchId: `${runKey('room')}#1` });
      await assert.rejects(store.saveResults([innocent, { ...saved, winners: ['p2'] }]), VersionConflictError);
      assert.deepEqual(await store.result(saved.matchId), saved);
      assert.equal(await store.result(innocent.matchId), undefined, 'the batch is one transaction');
    });

    test('a batch of 1,000 results is saved in one call', async (t) => {
      const store = await use(t);
      if (!store) return;
      const room = runKey('bulk');
      const before = await store.count();
      const many = Array.from({ length: 1000 }, (_, i) => result({ matchId: `${room}#${i + 1}`, gameNumber: i + 1, endedAt: 1_700_000_000_000 + i }));
      await store.saveResults(many);
      assert.equal((await store.count()) - before, 1000);
      assert.deepEqual(await store.result(`${room}#500`), many[499]);
    });
  });
}
