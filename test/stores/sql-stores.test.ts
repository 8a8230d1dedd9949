/**
 * The SQL drivers — SQLite (better-sqlite3, in a temporary file) and MariaDB (the
 * shared `test` database) — against the store contract; then what only the
 * SQL drivers do: migrations, a SQLite file across a reopen and a kill -9, a
 * full disk, a MariaDB that is unreachable, goes away and comes back,
 * or goes silent.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test, type TestContext } from 'node:test';
import { StoreUnavailableError, VersionConflictError } from '../../actors/persistence/stores';
import { SqlDatabase } from '../../infra/stores/sql/sql-database';
import { SqliteFileInUseError } from '../../infra/stores/sql/sqlite-file';
import { MARIADB_URL, needMariadb } from '../support/services';
import { matchRecordContract, result, snapshotStoreContract } from '../support/store-contract';
import { startSilentProxy } from '../support/tcp-proxy';
import { startStoppableProxy } from './fixtures/stoppable-tcp-proxy';
import { freePort } from '../support/free-port';

const folder = mkdtempSync(join(tmpdir(), 'playhouse-sql-'));
after(() => rmSync(folder, { recursive: true, force: true }));
const sqliteFile = (name: string) => join(folder, `${name}-${randomUUID().slice(0, 8)}.sqlite`);
const runId = (name: string) => `sql-test-${randomUUID().slice(0, 8)}/${name}`;

// One database per driver for both contracts (a SQLite file takes one opener); it closes with its last store.
let sqlite: Promise<SqlDatabase> | undefined;
const sharedSqlite = () => (sqlite ??= SqlDatabase.open({ kind: 'sqlite', file: sqliteFile('contract') }, { migrate: true }));
let mariadb: Promise<SqlDatabase> | undefined;
const sharedMariadb = async (t: TestContext) => {
  if (!(await needMariadb(t))) return undefined;
  // The shared database may be migrated already: migrating is a no-op then.
  return (mariadb ??= SqlDatabase.open({ kind: 'mariadb', url: MARIADB_URL }, { migrate: true }));
};

snapshotStoreContract('sqlite', async () => (await sharedSqlite()).snapshots);
matchRecordContract('sqlite', async () => (await sharedSqlite()).matches);
snapshotStoreContract('mariadb', async (t) => (await sharedMariadb(t))?.snapshots);
matchRecordContract('mariadb', async (t) => (await sharedMariadb(t))?.matches);

/** A database of each driver, migrated, closed after the test. */
const drivers: Array<[string, (t: TestContext) => Promise<SqlDatabase | undefined>]> = [
  ['sqlite', async (t) => opened(t, await SqlDatabase.open({ kind: 'sqlite', file: sqliteFile('each') }, { migrate: true }))],
  [
    'mariadb',
    async (t) => ((await needMariadb(t)) ? opened(t, await SqlDatabase.open({ kind: 'mariadb', url: MARIADB_URL }, { migrate: true })) : undefined),
  ],
];

function opened(t: TestContext, database: SqlDatabase): SqlDatabase {
  t.after(() => database.close());
  return database;
}


function mariadbUrlAt(port: number): string {
  const url = new URL(MARIADB_URL);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return url.toString();
}

async function elapsedMs(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

describe('SQL stores: migrations', () => {
  for (const [driver, open] of drivers) {
    test(`${driver}: migrating again runs nothing`, async (t) => {
      const database = await open(t);
      if (!database) return;
      // open() migrated already (a fresh SQLite file ran the initial schema then).
      assert.deepEqual(await database.migrate(), []);
      assert.equal(await database.matches.count() >= 0, true, 'the tables are there');
    });
  }

  test('sqlite: a fresh file runs the initial schema once', async (t) => {
    const database = opened(t, await SqlDatabase.open({ kind: 'sqlite', file: sqliteFile('fresh') }));
    await assert.rejects(database.snapshots.read('x'), StoreUnavailableError, 'no tables before migrating');
    assert.deepEqual(await database.migrate(), ['InitialSchema1732400000000']);
    assert.deepEqual(await database.migrate(), []);
    assert.equal(await database.snapshots.read('x'), undefined);
  });
});

describe('SQL stores: transactions', () => {
  for (const [driver, open] of drivers) {
    test(`${driver}: a batch whose middle write creates an existing key keeps the writes around it`, async (t) => {
      const database = await open(t);
      if (!database) return;
      const [before, existing, afterwards] = [runId('before'), runId('existing'), runId('after')];
      await database.snapshots.write(existing, { v: 1 }, 0);
      const outcomes = await database.snapshots.writeBatch([
        { key: before, data: { v: 1 }, expectedVersion: 0 },
        { key: existing, data: { v: 'lost' }, expectedVersion: 0 },
        { key: afterwards, data: { v: 1 }, expectedVersion: 0 },
      ]);
      assert.equal(outcomes[0], 1);
      assert.ok(outcomes[1] instanceof VersionConflictError);
      assert.equal(outcomes[1].storedVersion, 1);
      assert.equal(outcomes[2], 1);
      assert.deepEqual((await database.snapshots.read(before))?.data, { v: 1 });
      assert.deepEqual((await database.snapshots.read(existing))?.data, { v: 1 });
      assert.deepEqual((await database.snapshots.read(afterwards))?.data, { v: 1 });
    });

    test(`${driver}: a save rolled back for a conflict does not take a batch running beside it along`, async (t) => {
      const database = await open(t);
      if (!database) return;
      const saved = result({ matchId: `${runId('room')}#1` });
      await database.matches.saveResults([saved]);
      const keys = [runId('a'), runId('b'), runId('c')];
      const [save, batch] = await Promise.allSettled([
        database.matches.saveResults([result({ matchId: `${runId('room')}#1` }), { ...saved, moves: 99 }]),
        database.snapshots.writeBatch(keys.map((key) => ({ key, data: { key }, expectedVersion: 0 }))),
      ]);
      assert.equal(save.status, 'rejected');
      assert.deepEqual(batch, { status: 'fulfilled', value: [1, 1, 1] });
      for (const key of keys) assert.deepEqual(await database.snapshots.read(key), { key, version: 1, data: { key } });
    });

    test(`${driver}: two batches crossing each other's keys both answer, even when the server picks one to roll back (deadlock)`, async (t) => {
      const database = await open(t);
      if (!database) return;
      const keys = Array.from({ length: 6 }, (_, i) => runId(`crossed-${i}`));
      for (const key of keys) await database.snapshots.write(key, { by: 'none' }, 0);
      const batch = (by: string, order: string[]) => database.snapshots.writeBatch(order.map((key) => ({ key, data: { by }, expectedVersion: 1 })));
      const [forward, backward] = await Promise.all([batch('forward', keys), batch('backward', [...keys].reverse())]);
      // Every key written exactly once: by one batch, refused to the other.
      for (const [i, key] of keys.entries()) {
        const outcomes = [forward[i], backward[keys.length - 1 - i]];
        assert.equal(outcomes.filter((outcome) => outcome === 2).length, 1, `${key}: ${outcomes.map(String).join(', ')}`);
        assert.equal(outcomes.filter((outcome) => outcome instanceof VersionConflictError).length, 1);
        assert.equal((await database.snapshots.read(key))?.version, 2);
      }
    });

    test(`${driver}: the same new results saved twice at once (a retry racing the original) are both accepted, stored once`, async (t) => {
      const database = await open(t);
      if (!database) return;
      const room = runId('race');
      const results = Array.from({ length: 20 }, (_, i) => result({ matchId: `${room}#${i + 1}`, gameNumber: i + 1 }));
      const before = await database.matches.count();
      await Promise.all([database.matches.saveResults(results), database.matches.saveResults([...results].reverse())]);
      assert.equal((await database.matches.count()) - before, 20);
    });
  }
});

describe('SQL stores: the SQLite file', () => {
  test('what was written is there after closing and opening again', async () => {
    const file = sqliteFile('reopen');
    const first = await SqlDatabase.open({ kind: 'sqlite', file }, { migrate: true });
    const saved = result({ matchId: 'room-ü#1', players: [{ playerId: 'p😀', name: 'Ana ✓', seat: 0 }], winners: ['p😀'] });
    await first.snapshots.write('room/ü', { board: [[1, null]], over: false }, 0);
    await first.matches.saveResults([saved]);
    await first.close();
    assert.equal(existsSync(`${file}-wal`), false, 'closing folds the write-ahead log into the file');

    const second = await SqlDatabase.open({ kind: 'sqlite', file }, { migrate: true });
    try {
      assert.deepEqual(await second.snapshots.read('room/ü'), { key: 'room/ü', version: 1, data: { board: [[1, null]], over: false } });
      assert.deepEqual(await second.matches.resultsOf('p😀', 10), [saved]);
    } finally {
      await second.close();
    }
  });

  test('a second opener of the same file is refused while the first has it', async (t) => {
    const file = sqliteFile('locked');
    opened(t, await SqlDatabase.open({ kind: 'sqlite', file }));
    await assert.rejects(SqlDatabase.open({ kind: 'sqlite', file }), (error: unknown) => {
      assert.ok(error instanceof SqliteFileInUseError);
      assert.equal(error.ownerPid, process.pid);
      return true;
    });
  });

  test('a process killed (SIGKILL) right after its write resolved leaves the write in the file', async () => {
    const file = sqliteFile('killed');
    const id = runId('killed');
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures', 'sqlite-writer.ts'), file, id], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = once(child, 'exit');
    let output = '';
    for await (const chunk of child.stdout) {
      output += String(chunk);
      if (output.includes('written')) break;
    }
    assert.match(output, /written/, 'the child wrote');
    child.kill('SIGKILL');
    const [, signal] = await exited;
    assert.equal(signal, 'SIGKILL');

    // The dead child's lock went with it; its log is left behind, for SQLite to recover from.
    assert.equal(existsSync(`${file}-wal`), true);
    const database = await SqlDatabase.open({ kind: 'sqlite', file });
    try {
      assert.deepEqual(await database.snapshots.read(id), { key: id, version: 1, data: { writtenBy: child.pid } });
      assert.deepEqual(await database.matches.result(`${id}#1`), result({ matchId: `${id}#1` }));
    } finally {
      await database.close();
    }
  });

  test('a change the file could not take (the disk is full) fails as unavailable and changes nothing', async () => {
    const file = sqliteFile('full');
    // A file-size limit on the child (1 MB with sh's 512-byte blocks, 2 MB with 1 KB ones): SQLite's log cannot grow past it.
    const child = spawn('sh', ['-c', 'ulimit -f 2048 && exec "$0" --import tsx "$1" "$2"', process.execPath, join(__dirname, 'fixtures', 'sqlite-file-full.ts'), file], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    for await (const chunk of child.stdout) output += String(chunk);
    assert.deepEqual(JSON.parse(output), {
      first: 1,
      refused: 'StoreUnavailableError',
      // Not applied, as reported: the retry finds version 1, not its own refused version 2.
      after: { key: 'k', version: 1, data: { v: 1 } },
      retried: 2,
    });
  });
});

describe('SQL stores: MariaDB out of reach', () => {
  test('nothing listening: opening fails as unavailable at once', { timeout: 5000 }, async () => {
    const url = mariadbUrlAt(await freePort());
    const ms = await elapsedMs(() => assert.rejects(SqlDatabase.open({ kind: 'mariadb', url }), StoreUnavailableError));
    assert.ok(ms < 2000, `took ${Math.round(ms)} ms`);
  });

  test('a server that accepts but never answers: opening fails as unavailable after the connect timeout', { timeout: 5000 }, async (t) => {
    const accepted: Socket[] = [];
    const silent = createServer((socket) => accepted.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    t.after(async () => {
      for (const socket of accepted) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    });
    const url = mariadbUrlAt((silent.address() as AddressInfo).port);
    const ms = await elapsedMs(() => assert.rejects(SqlDatabase.open({ kind: 'mariadb', url, connectTimeoutMs: 300 }), StoreUnavailableError));
    assert.ok(ms >= 250 && ms < 2000, `took ${Math.round(ms)} ms`);
  });

  test('the server going away fails writes as unavailable quickly; once it is back the same database works again', { timeout: 5000 }, async (t) => {
    if (!(await needMariadb(t))) return;
    const server = new URL(MARIADB_URL);
    const proxy = await startStoppableProxy({ host: server.hostname, port: Number(server.port || 3306) });
    t.after(() => proxy.stop());
    const database = opened(t, await SqlDatabase.open({ kind: 'mariadb', url: mariadbUrlAt(proxy.port) }, { migrate: true }));
    const key = runId('comeback');
    assert.equal(await database.snapshots.write(key, { v: 1 }, 0), 1);

    await proxy.stop();
    const ms = await elapsedMs(() => assert.rejects(database.snapshots.write(key, { v: 2 }, 1), StoreUnavailableError));
    assert.ok(ms < 2000, `took ${Math.round(ms)} ms`);
    await assert.rejects(database.matches.count(), StoreUnavailableError);

    await proxy.start();
    assert.equal(await database.snapshots.write(key, { v: 2 }, 1), 2);
    assert.deepEqual(await database.snapshots.read(key), { key, version: 2, data: { v: 2 } });
  });

  test('a server gone silent mid-connection fails operations as unavailable after the operation timeout', { timeout: 5000 }, async (t) => {
    if (!(await needMariadb(t))) return;
    const proxy = await startSilentProxy(MARIADB_URL);
    const url = mariadbUrlAt(Number(new URL(proxy.url).port));
    const database = await SqlDatabase.open({ kind: 'mariadb', url, operationTimeoutMs: 300 }, { migrate: true });
    // The proxy goes first: a pool cannot say goodbye over a silent link.
    t.after(async () => {
      await proxy.close();
      await database.close();
    });
    const key = runId('silent');
    await database.snapshots.write(key, { v: 1 }, 0);
    proxy.goSilent();
    const ms = await elapsedMs(() => assert.rejects(database.snapshots.read(key), StoreUnavailableError));
    assert.ok(ms >= 250 && ms < 2000, `took ${Math.round(ms)} ms`);
  });
});
