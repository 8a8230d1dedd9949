/**
 * The stores go away mid-run: a server writing match results to its own real
 * MariaDB and snapshots/profiles to its own real Redis (append-only, as a
 * production Redis is) keeps running games while both are killed; the writes
 * wait and are retried with backoff (metrics say so); once the databases are
 * back every row is there, exactly once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createConnection } from 'mysql2/promise';
import { createClient } from 'redis';
import { startPrivateMariadb, haveMariadbd } from '../support/private-mariadb';
import { startPrivateRedis } from '../support/private-redis';
import { startDuel, startTestServer, type Duel } from '../support/playhouse';
import { eventually } from '../support/services';

/** Seat 0 drops in column 0, seat 1 in column 1: seat 0 wins on the seventh move. */
async function playToWin(duel: Duel): Promise<void> {
  for (const column of [0, 1, 0, 1, 0, 1]) await duel.drop(column);
  const last = await duel.drop(0);
  assert.equal(last.status, 'over');
}

async function metric(url: string, pattern: RegExp): Promise<number | undefined> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const match = pattern.exec(text);
  return match ? Number(match[1]) : undefined;
}

test('MariaDB and Redis killed mid-run: games go on, writes wait and are retried, and every row is written once they are back', async (t) => {
  if (!haveMariadbd()) {
    if (process.env.CI === 'true') throw new Error('mariadbd is missing (CI=true: a missing service is a failure)');
    console.log('# SKIPPED: /usr/sbin/mariadbd is missing');
    t.skip('mariadbd is missing');
    return;
  }
  const mariadb = await startPrivateMariadb();
  const redis = await startPrivateRedis({ durable: true }).catch(async (error: unknown) => {
    await mariadb.destroy();
    throw error;
  });
  // Clients first, then the server, then the databases (node:test runs t.after hooks in the order given).
  const cleanups: Array<() => Promise<unknown>> = [];
  t.after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    await redis.stop();
    await mariadb.destroy();
  });
  const server = await startTestServer({
    persistence: {
      snapshots: 'redis',
      records: 'mariadb',
      redisUrl: redis.url,
      mariadbUrl: mariadb.url,
      queue: { normalWindowMs: 10, lowIntervalMs: 50, retryInitialMs: 50, retryMaxMs: 300 },
    },
  });
  cleanups.push(() => server.stop());

  const games: Duel[] = [];
  const play = async () => {
    const duel = await startDuel(server);
    await playToWin(duel);
    games.push(duel);
  };
  await play();
  await play();

  await Promise.all([mariadb.kill(), redis.kill()]);
  // The server keeps running games while its stores are down.
  await play();
  await play();
  await play();
  const down = await eventually(async () => {
    const mariadbUp = await metric(server.url, /^playhouse_persistence_store_up\{store="mariadb"\} (\d+)/m);
    const redisUp = await metric(server.url, /^playhouse_persistence_store_up\{store="redis"\} (\d+)/m);
    return mariadbUp === 0 && redisUp === 0 ? true : undefined;
  }, 'both stores reported down');
  assert.ok(down);
  const waiting = await metric(server.url, /^playhouse_persistence_queue_depth\{priority="critical"\} (\d+)/m);
  assert.ok(waiting !== undefined && waiting >= 1, `match results wait in the queue (${waiting})`);
  assert.ok(((await metric(server.url, /^playhouse_persistence_retries_total\{store="mariadb"\} (\d+)/m)) ?? 0) >= 1, 'retries counted');

  await Promise.all([mariadb.start(), redis.start()]);
  const roomIds = games.map((duel) => duel.roomId);
  const connection = await createConnection(mariadb.url);
  cleanups.push(() => connection.end());
  const count = async () => {
    const [rows] = await connection.query('SELECT room_id, game_number FROM match_results WHERE room_id IN (?)', [roomIds]);
    return rows as Array<{ room_id: string; game_number: number }>;
  };
  const rows = await eventually(async () => ((await count()).length === roomIds.length ? count() : undefined), 'every match result in MariaDB', 20_000);
  assert.deepEqual(rows.map((row) => row.room_id).sort(), [...roomIds].sort(), 'one result per game, none twice');
  assert.ok(rows.every((row) => row.game_number === 1));

  // Each player's profile counts their one game once, whether it was written before, during or after the outage.
  const client = createClient({ url: redis.url });
  client.on('error', () => undefined);
  await client.connect();
  cleanups.push(() => client.close());
  for (const duel of games) {
    for (const [seat, player] of duel.players.entries()) {
      const profile = await eventually(async () => {
        const data = await client.hGet(`playhouse:snapshot:profile/${player.playerId}`, 'data');
        return data ? (JSON.parse(data) as { counters: Record<string, number> }) : undefined;
      }, `the profile of ${player.playerId}`, 20_000);
      assert.deepEqual(profile.counters, seat === 0 ? { played: 1, won: 1, lost: 0, drawn: 0 } : { played: 1, won: 0, lost: 1, drawn: 0 });
    }
  }
  assert.equal(await metric(server.url, /^playhouse_persistence_store_up\{store="mariadb"\} (\d+)/m), 1);
});
