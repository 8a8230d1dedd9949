/**
 * A worker that stalls past the dead timeout (SIGSTOP, then SIGCONT: a long
 * GC pause, a frozen VM) is declared gone and fenced while it sleeps; its room
 * is taken up elsewhere, with every acknowledged move (its log), and the game
 * goes on. When it wakes it finds out at
 * its first heartbeat, drops what it held without a word to anyone, and comes
 * back as a new incarnation of its slot (same process, new node id, higher
 * epoch). The one match result stored is the one the players were shown.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createConnection } from 'mysql2/promise';
import type { NodeInfo } from '../../actors/cluster/backplane';
import { clusterMembers, createTestCluster, redisCli, type TestCluster } from '../support/cluster';
import { startDuel, viewOf } from '../support/playhouse';
import { eventually, MARIADB_URL, needMariadb, needRedis, REDIS_URL } from '../support/services';

let cluster: TestCluster | undefined;
let stopped: number | undefined;
after(async () => {
  // Never leave a stopped process behind, whatever failed.
  if (stopped !== undefined) process.kill(stopped, 'SIGCONT');
  await cluster?.stop();
});

const redis = (...args: string[]): string => redisCli(REDIS_URL, ...args);

const members = (name: string): NodeInfo[] => clusterMembers(name);

async function resultsOf(roomId: string): Promise<Array<{ winners: string }>> {
  const connection = await createConnection(MARIADB_URL);
  try {
    const [rows] = await connection.query('SELECT winners FROM match_results WHERE room_id = ?', [roomId]);
    return rows as Array<{ winners: string }>;
  } finally {
    await connection.end();
  }
}

test('a worker stalled past the dead timeout is fenced: its room goes on elsewhere, and on waking it drops what it held and rejoins as a new incarnation', async (t) => {
  if (!(await needRedis(t)) || !(await needMariadb(t))) return;
  cluster = createTestCluster({ heartbeatMs: 200, deadAfterMs: 1200 });
  await cluster.startWorkers(2, 'forked', { PLAYHOUSE_RECORD_STORE: 'mariadb', PLAYHOUSE_MARIADB_URL: MARIADB_URL });
  const gateway = await cluster.startGateway();
  const duel = await startDuel({ player: (name) => cluster!.player(gateway, name) });
  const { roomId } = duel;
  let last = await duel.drop(0);
  last = await duel.drop(1);
  last = await duel.drop(0);

  const roomNode = redis('get', `${cluster.name}:dir:room:${roomId}`);
  const victim = members(cluster.name).find((member) => member.id === roomNode);
  assert.ok(victim, `the room's worker ${roomNode} is a live member`);
  const restored = duel.players.map((client) => client.waitFor('state', (state) => state.roomId === roomId, 20_000));
  process.kill(victim.pid, 'SIGSTOP');
  stopped = victim.pid;

  // While it sleeps: declared gone and fenced, its room taken up on the other worker with every acknowledged move.
  const states = await Promise.all(restored);
  for (const state of states) {
    assert.equal(viewOf(state).moveCount, 3, 'every acknowledged move');
    assert.equal(state.version, last.version, 'the state the players were shown');
  }
  assert.notEqual(redis('get', `${cluster.name}:fenced:${victim.id}`), '', 'the stalled incarnation is fenced');
  const newNode = redis('get', `${cluster.name}:dir:room:${roomId}`);
  assert.ok(newNode !== '' && newNode !== victim.id, 'the room lives on another worker');

  process.kill(victim.pid, 'SIGCONT');
  stopped = undefined;
  // Same process, same slot, new incarnation.
  const reborn = await eventually(
    () => members(cluster!.name).find((member) => member.pid === victim.pid && member.id !== victim.id),
    'the woken worker rejoined as a new incarnation',
  );
  assert.equal(reborn.slot, victim.slot);
  assert.ok(reborn.epoch > victim.epoch, 'with a higher epoch');
  assert.equal(members(cluster.name).some((member) => member.id === victim.id), false, 'the old incarnation is not a member');
  await eventually(() => (cluster!.workers[0]!.output().includes('declared this node gone') ? true : undefined), 'the worker says it was fenced');
  assert.equal(redis('get', `${cluster.name}:dir:room:${roomId}`), newNode, 'the zombie did not take its room back');

  // The game goes on where the players were shown it was, and ends once.
  await duel.drop(1);
  await duel.drop(0);
  await duel.drop(1);
  const won = await duel.drop(0);
  assert.equal(won.status, 'over');
  assert.deepEqual(won.outcome?.winners, [duel.players[0].playerId]);
  const rows = await eventually(async () => {
    const found = await resultsOf(roomId);
    return found.length > 0 ? found : undefined;
  }, 'the match result in MariaDB');
  assert.equal(rows.length, 1);
  assert.deepEqual(JSON.parse(rows[0]!.winners), [duel.players[0].playerId], 'the stored winner is the one the players saw');
});
