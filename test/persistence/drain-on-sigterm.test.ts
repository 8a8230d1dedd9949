/**
 * SIGTERM drains the persistence queues before the process exits: the real
 * single-process server (`scripts/start.ts`, SQLite in a temporary file) plays
 * a Connect Four game to its end with two SDK clients, with windows so long
 * that the players' profile additions and the room's snapshot are still
 * queued (its /metrics says so) when SIGTERM arrives. It must exit 0 having
 * written them: the file it leaves holds the match result, both profiles and
 * the room's last snapshot. Told nothing, one process writes no room snapshot
 * (only a cluster can restore a room from one): the same game leaves the
 * result and the profiles, and no snapshot.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { WritePriority } from '../../actors/persistence/persistence-protocol';
import { roomSnapshotKey } from '../../actors/room/room-protocol';
import { profileKey } from '../../actors/persistence/store-writer';
import { SqlDatabase } from '../../infra/stores/sql/sql-database';
import { guestLogin, PlayhouseClient } from '@playhouse/client';
import { startScript, type ClusterProcess } from '../support/cluster';
import { startDuel } from '../support/playhouse';
import { eventually } from '../support/services';

const folder = mkdtempSync(join(tmpdir(), 'playhouse-drain-'));
const servers: ClusterProcess[] = [];
const clients: PlayhouseClient[] = [];
const names = new Map<PlayhouseClient, string>();
after(async () => {
  for (const client of clients) client.close();
  for (const server of servers) {
    if (server.child.exitCode !== null || server.child.signalCode !== null) continue;
    server.kill('SIGKILL');
    await server.exited;
  }
  rmSync(folder, { recursive: true, force: true });
});

/** Writes waiting in the server's persistence actor, per priority, from its /metrics. */
async function queueDepth(url: string): Promise<Record<WritePriority, number>> {
  const text = await (await fetch(new URL('/metrics', url))).text();
  const depth: Record<WritePriority, number> = { critical: 0, normal: 0, low: 0 };
  for (const match of text.matchAll(/^playhouse_persistence_queue_depth\{priority="(\w+)"\} (\d+)/gm)) depth[match[1] as WritePriority] = Number(match[2]);
  return depth;
}

test('SIGTERM drains the queues before exit: the game\'s result, both profiles and the room\'s snapshot are in the file', { timeout: 30_000 }, () =>
  playAndDrain({ roomSnapshots: true }),
);

test('one process writes no room snapshot (nothing there could restore a room from it); the result and profiles are written', { timeout: 30_000 }, () =>
  playAndDrain({ roomSnapshots: false }),
);

/**
 * One game to its end on a one-process server, then SIGTERM. With `roomSnapshots` the server is told to
 * write room snapshots (PLAYHOUSE_ROOM_SNAPSHOTS=true); without, it runs with its default, which writes none.
 */
async function playAndDrain({ roomSnapshots }: { roomSnapshots: boolean }): Promise<void> {
  const file = join(folder, `playhouse-${roomSnapshots ? 'snapshots' : 'default'}.sqlite`);
  const server = await startScript('single', 'scripts/start.ts', [], {
    ...process.env,
    PORT: '0',
    HOST: '127.0.0.1',
    PLAYHOUSE_ROLE: 'single',
    PLAYHOUSE_TOKEN_SECRET: randomBytes(32).toString('base64url'),
    PLAYHOUSE_SQLITE_FILE: file,
    PLAYHOUSE_SNAPSHOT_STORE: 'sqlite',
    PLAYHOUSE_RECORD_STORE: 'sqlite',
    // Nothing but a drain would write a profile or a snapshot within the test: they wait ten minutes.
    PLAYHOUSE_WRITE_NORMAL_WINDOW_MS: '600000',
    PLAYHOUSE_WRITE_LOW_INTERVAL_MS: '600000',
    PLAYHOUSE_SNAPSHOT_INTERVAL_MS: '0',
    ...(roomSnapshots ? { PLAYHOUSE_ROOM_SNAPSHOTS: 'true' } : {}),
    PLAYHOUSE_DRAIN_TIMEOUT_MS: '10000',
    LOG_LEVEL: 'warn',
  });
  servers.push(server);
  const url = server.url;
  const player = async (name?: string) => {
    const login = await guestLogin(url, name);
    const client = await PlayhouseClient.connect({ url, token: login.token, reconnect: false, io: { transports: ['websocket'] } });
    clients.push(client);
    names.set(client, login.name);
    return client;
  };

  const duel = await startDuel({ player });
  const [winner, loser] = duel.players;
  for (const column of [0, 1, 0, 1, 0, 1]) await duel.drop(column);
  const final = await duel.drop(0);
  assert.equal(final.status, 'over', 'seat 0 connected four');

  // The game's writes reached the persistence actor: its result taken at once (critical; it may still be
  // in flight) and the two profile additions waiting for their window. With room snapshots the snapshot of
  // the game's end is written first, at once (critical), and the result and profiles once it is durable, so
  // no restore could bring the game back. A SIGKILL here loses the profiles (tried); SIGTERM must write them.
  const queued = await eventually(async () => {
    const depth = await queueDepth(url);
    return depth.normal === 2 && depth.low === 0 && depth.critical === 0 ? depth : undefined;
  }, 'two profile additions queued, the match result taken');
  assert.deepEqual(queued, { critical: 0, normal: 2, low: 0 });

  server.kill('SIGTERM');
  assert.equal(await server.exited, 0, `the server exits cleanly after SIGTERM:\n${server.output()}`);
  assert.doesNotMatch(server.output(), /drain timed out/, 'nothing was left unwritten');

  assert.equal(existsSync(`${file}-wal`), false, 'the server closed its stores on the way out (SQLite folded its log into the file)');
  const database = await SqlDatabase.open({ kind: 'sqlite', file });
  try {
    const results = await database.matches.resultsOf(winner.playerId, 10);
    assert.equal(results.length, 1, 'the match result is stored');
    assert.deepEqual(
      { ...results[0], startedAt: 0, endedAt: 0 },
      {
        matchId: `${duel.roomId}#1`,
        roomId: duel.roomId,
        game: 'connect-four',
        gameNumber: 1,
        players: [
          { playerId: winner.playerId, name: names.get(winner), seat: 0 },
          { playerId: loser.playerId, name: names.get(loser), seat: 1 },
        ],
        winners: [winner.playerId],
        draw: false,
        reason: 'connect-line',
        moves: 7,
        startedAt: 0,
        endedAt: 0,
      },
    );
    for (const [client, counters] of [
      [winner, { played: 1, won: 1, lost: 0, drawn: 0 }],
      [loser, { played: 1, won: 0, lost: 1, drawn: 0 }],
    ] as const) {
      const profile = await database.snapshots.read(profileKey(client.playerId));
      assert.ok(profile, `the profile of ${client.playerId} was written by the drain`);
      assert.deepEqual(profile.data.counters, counters);
      assert.equal(profile.data.playerId, client.playerId);
      assert.equal(profile.data.name, names.get(client));
    }
    const room = await database.snapshots.read(roomSnapshotKey(duel.roomId));
    if (!roomSnapshots) {
      assert.equal(room, undefined, 'no room snapshot in one process by default');
      return;
    }
    // The room's last snapshot (the game over) was queued too.
    assert.ok(room, 'the room snapshot was written by the drain');
    const match = room.data.match as { status?: unknown; moves?: unknown; outcome?: unknown };
    assert.deepEqual({ version: room.version, status: match.status, moves: match.moves, outcome: match.outcome }, { version: 1, status: 'over', moves: 7, outcome: { winners: [winner.playerId], draw: false, reason: 'connect-line' } });
  } finally {
    await database.close();
  }
}
