/**
 * "Durable" means durable: a write the persistence actor acknowledged is in
 * the store even if the process dies the instant after. A child process
 * (fixtures/durable-writer.ts) streams writes of every priority through a
 * real PersistenceActor into real stores and prints each acknowledgement as
 * it arrives; this test SIGKILLs it mid-stream, opens the stores itself and
 * looks for every acknowledged write — per driver: a SQLite file, MariaDB,
 * and Redis snapshots (durable there means held by the Redis server, which
 * outlives our process).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, test, type TestContext } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { profileKey } from '../../actors/persistence/store-writer';
import type { OpenedStores, StoresConfig } from '../../actors/persistence/stores';
import type { ActorLog } from '../../actors/ports';
import { openStores } from '../../infra/stores/open-stores';
import { MARIADB_URL, needMariadb, needRedis, REDIS_URL } from '../support/services';
import { matchResultOf, parseAck, plannedWrite, type Ack, type StreamConfig } from './fixtures/durability-stream';

const WRITER = join(__dirname, 'fixtures', 'durable-writer.ts');
/** The child is killed right after this many acknowledgements, with writes still in flight. */
const KILL_AFTER_ACKS = 200;

const folder = mkdtempSync(join(tmpdir(), 'playhouse-durability-'));
after(() => rmSync(folder, { recursive: true, force: true }));
const quiet: ActorLog = { debug() {}, info() {}, warn() {}, error() {} };

interface Driver {
  readonly name: string;
  /** False when the service is missing (the test is skipped, or fails under CI). */
  readonly available: (t: TestContext) => Promise<boolean>;
  readonly stores: (run: string) => StoresConfig;
}

const sqliteFileOf = (run: string) => join(folder, `${run}.sqlite`);

const DRIVERS: readonly Driver[] = [
  {
    name: 'sqlite',
    available: async () => true,
    stores: (run) => ({ snapshots: { driver: 'sqlite', file: sqliteFileOf(run) }, records: { driver: 'sqlite', file: sqliteFileOf(run) }, migrate: true }),
  },
  {
    name: 'mariadb',
    available: needMariadb,
    stores: () => ({ snapshots: { driver: 'mariadb', url: MARIADB_URL }, records: { driver: 'mariadb', url: MARIADB_URL }, migrate: true }),
  },
  {
    // Match results need a record store: a SQLite file beside the Redis snapshots.
    name: 'redis',
    available: needRedis,
    stores: (run) => ({ snapshots: { driver: 'redis', url: REDIS_URL, prefix: `playhouse-durability-test:${run}:` }, records: { driver: 'sqlite', file: sqliteFileOf(run) }, migrate: true }),
  },
];

interface CrashedRun {
  readonly acks: readonly Ack[];
  /** Writes handed to the actor (acknowledged or not). */
  readonly sent: ReadonlySet<number>;
  readonly refused: readonly string[];
}

/** Runs the writer until its KILL_AFTER_ACKS-th acknowledgement, SIGKILLs it, and returns everything it printed. */
async function writeUntilKilled(config: StreamConfig): Promise<CrashedRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'] });
  // Should the test fail or time out before the kill: the writer must not outlive it.
  after(() => void child.kill('SIGKILL'));
  let errors = '';
  child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const lines = createInterface({ input: child.stdout });
  const acks: Ack[] = [];
  const sent = new Set<number>();
  const refused: string[] = [];
  lines.on('line', (line) => {
    if (line.startsWith('sent ')) sent.add(Number(line.slice(5)));
    else if (line.startsWith('refused ')) refused.push(line);
    const ack = parseAck(line);
    if (!ack) return;
    acks.push(ack);
    // Right after the acknowledgement, while the stream goes on: no chance to flush, close or drain.
    if (acks.length === KILL_AFTER_ACKS) child.kill('SIGKILL');
  });
  // Every line the child printed before it died is read (the pipe closes after the exit).
  const [[code, signal]] = await Promise.all([exited, once(lines, 'close')]);
  assert.equal(signal, 'SIGKILL', `the writer should have been killed mid-stream, it exited with ${code}:\n${errors}`);
  return { acks, sent, refused };
}

/** A SQLite file the crash left behind (with the log SQLite recovers from) passes SQLite's own integrity check (read with better-sqlite3 directly, apart from our code). */
async function assertSqliteIntact(file: string): Promise<void> {
  const database = new BetterSqlite3(file, { fileMustExist: true });
  try {
    assert.deepEqual(database.pragma('integrity_check'), [{ integrity_check: 'ok' }]);
  } finally {
    database.close();
  }
}

/** Checks every acknowledged write against what the stores hold. */
async function assertAcknowledgedWritesStored(stores: OpenedStores, run: string, crashed: CrashedRun): Promise<void> {
  const additions = new Map<string, { acked: number; won: number; sent: number }>();
  const snapshots = new Map<string, { version: number; seq: number }>();
  for (const i of crashed.sent) {
    const { write } = plannedWrite(run, i);
    if (write.kind !== 'profile') continue;
    const entry = additions.get(write.playerId) ?? { acked: 0, won: 0, sent: 0 };
    entry.sent++;
    additions.set(write.playerId, entry);
  }
  for (const ack of crashed.acks) {
    switch (ack.kind) {
      case 'match':
        assert.deepEqual(await stores.matches.result(ack.matchId), matchResultOf(run, ack.i), `acknowledged match result ${ack.matchId} (write ${ack.i})`);
        break;
      case 'profile': {
        const entry = additions.get(ack.playerId)!;
        entry.acked++;
        entry.won += ack.won;
        break;
      }
      case 'snapshot': {
        // Each on its own: the highest version acknowledged, and the data of the newest write acknowledged.
        const newest = snapshots.get(ack.key);
        snapshots.set(ack.key, { version: Math.max(ack.version, newest?.version ?? 0), seq: Math.max(ack.seq, newest?.seq ?? -1) });
        break;
      }
    }
  }
  for (const [key, acked] of snapshots) {
    const stored = await stores.snapshots.read(key);
    assert.ok(stored, `acknowledged snapshot ${key} v${acked.version} is missing`);
    // A later write, in flight at the crash, may have landed too; an earlier one may not be all there is.
    assert.ok(stored.version >= acked.version, `${key}: stored version ${stored.version} < acknowledged ${acked.version}`);
    assert.ok(Number(stored.data.seq) >= acked.seq, `${key}: stored data of write ${String(stored.data.seq)} is older than acknowledged write ${acked.seq}`);
  }
  for (const [player, counted] of additions) {
    const stored = await stores.snapshots.read(profileKey(player));
    const counters = (stored?.data.counters ?? {}) as Record<string, number>;
    const played = counters.played ?? 0;
    assert.ok(played >= counted.acked, `${player}: ${played} games counted, ${counted.acked} additions acknowledged`);
    assert.ok((counters.won ?? 0) >= counted.won, `${player}: ${counters.won ?? 0} wins counted, ${counted.won} acknowledged`);
    // And nothing counted twice: never more than was sent.
    assert.ok(played <= counted.sent, `${player}: ${played} games counted, only ${counted.sent} additions sent`);
  }
  assert.ok(snapshots.size > 0 && additions.size > 0, 'every kind of write was acknowledged');
}

describe('persistence durability across a crash', () => {
  for (const driver of DRIVERS) {
    test(`${driver.name}: a write the actor acknowledged as durable survives the crash of the process right after the acknowledgement`, { timeout: 30_000 }, async (t) => {
      if (!(await driver.available(t))) return;
      const run = `dur-${driver.name}-${randomUUID().slice(0, 8)}`;
      const config: StreamConfig = { run, stores: driver.stores(run), inFlight: 48, total: 20 * KILL_AFTER_ACKS };
      const crashed = await writeUntilKilled(config);
      if (config.stores.records.driver === 'sqlite') await assertSqliteIntact(config.stores.records.file);
      // The dead writer's lock is taken over; the file (or the servers) hold what was acknowledged.
      const stores = await openStores(config.stores, quiet);
      const answered = new Set(crashed.acks.map((ack) => ack.i));
      const unanswered = [...crashed.sent].filter((i) => !answered.has(i));
      try {
        assert.deepEqual(crashed.refused, [], 'no write was refused');
        assert.ok(crashed.acks.length >= KILL_AFTER_ACKS);
        assert.ok(unanswered.length > 0, 'writes were still in flight when the process died');
        const kinds = new Set(crashed.acks.map((ack) => ack.kind));
        assert.deepEqual([...kinds].sort(), ['match', 'profile', 'snapshot'], 'writes of every priority were acknowledged');
        await assertAcknowledgedWritesStored(stores, run, crashed);
        t.diagnostic(`${crashed.acks.length} acknowledged, ${unanswered.length} in flight at the kill`);
      } finally {
        // Shared servers keep no documents of the run (match results cannot be removed through the store: they stay, under ids of their own).
        if (driver.name !== 'sqlite') await removeRunDocuments(stores, run);
        await stores.close();
      }
    });
  }
});

/** Removes the snapshots and profiles a run wrote. */
async function removeRunDocuments(stores: OpenedStores, run: string): Promise<void> {
  const keys = new Set<string>();
  for (let i = 0; i < 60; i++) {
    const { write } = plannedWrite(run, i);
    if (write.kind === 'snapshot') keys.add(write.key);
    if (write.kind === 'profile') keys.add(profileKey(write.playerId));
  }
  for (const key of keys) {
    const stored = await stores.snapshots.read(key);
    if (stored) await stores.snapshots.remove(key, stored.version);
  }
}
