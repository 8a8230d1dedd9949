/**
 * A gateway that stalls past the dead timeout (SIGSTOP, then SIGCONT) is
 * declared gone: the sessions of its players drop their connection (the
 * opponent sees them away, their seats are held for the grace period). When
 * it wakes it finds it was fenced, tells its devices to reconnect, and rejoins
 * under the same id with a higher epoch; the devices resume and the game
 * goes on to its end.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { NodeInfo } from '../../actors/cluster/backplane';
import { createTestCluster, redisCli, type TestCluster } from '../support/cluster';
import { stateWhere, viewOf } from '../support/playhouse';
import { eventually, needRedis, REDIS_URL } from '../support/services';

let cluster: TestCluster | undefined;
let stopped: number | undefined;
after(async () => {
  if (stopped !== undefined) process.kill(stopped, 'SIGCONT');
  await cluster?.stop();
});

const redis = (...args: string[]): string => redisCli(REDIS_URL, ...args);

function member(name: string, id: string): NodeInfo | undefined {
  const json = redis('get', `${name}:alive:${id}`);
  return json ? (JSON.parse(json) as NodeInfo) : undefined;
}

test('a gateway stalled past the dead timeout: its players are away meanwhile; on waking it is fenced, rejoins, and its devices resume and finish the game', async (t) => {
  if (!(await needRedis(t))) return;
  cluster = createTestCluster({ heartbeatMs: 200, deadAfterMs: 1200 });
  await cluster.startWorkers(2, 'forked');
  const [stalling, steady] = [await cluster.startGateway(), await cluster.startGateway()];
  const stallingId = `${cluster.name}-gw1`;
  const before = await eventually(() => member(cluster!.name, stallingId), 'the first gateway a member');
  const far = await cluster.player(stalling, 'Far');
  const near = await cluster.player(steady, 'Near');
  const { roomId } = await far.findMatch('connect-four');
  await near.findMatch('connect-four');
  const [playing] = await Promise.all([near, far].map((client) => stateWhere(client, roomId, (state) => state.status === 'playing')));
  const seats = playing!.players;
  const bySeat = seats.map((seat) => (seat.playerId === far.playerId ? far : near));
  const drop = async (column: number) => {
    const state = await stateWhere(near, roomId, (s) => s.status !== 'waiting');
    const mover = bySeat.find((client) => client.playerId === viewOf(state).currentPlayer)!;
    const accepted = await mover.move(roomId, 'drop', { column });
    await Promise.all(bySeat.map((client) => stateWhere(client, roomId, (s) => s.version >= accepted.version)));
    return accepted;
  };
  await drop(0);
  await drop(1);

  const away = near.waitFor('player', (change) => change.playerId === far.playerId && change.change === 'away', 15_000);
  const pid = stalling.child.pid!;
  process.kill(pid, 'SIGSTOP');
  stopped = pid;
  // Declared gone: the session of its player drops the connection, and the opponent hears the player is away.
  await away;
  assert.notEqual(redis('get', `${cluster.name}:fenced:${stallingId}`), '', 'the stalled gateway is fenced');

  const told = far.waitFor('closed', (error) => error.code === 'server/unavailable', 15_000);
  const back = far.waitFor('connection', (event) => event.state === 'connected', 15_000);
  process.kill(pid, 'SIGCONT');
  stopped = undefined;
  await told;
  const reconnected = await back;
  assert.notEqual(reconnected.resumed, 'fresh', 'the device resumed its session');
  const reborn = await eventually(() => {
    const now = member(cluster!.name, stallingId);
    return now && now.epoch > before.epoch ? now : undefined;
  }, 'the gateway rejoined with a higher epoch');
  assert.equal(reborn.pid, pid, 'the same process');

  // The game goes on to its end: seat 0 connects four in column 0.
  await drop(0);
  await drop(1);
  await drop(0);
  await drop(1);
  await drop(0);
  const over = await Promise.all(bySeat.map((client) => stateWhere(client, roomId, (state) => state.status === 'over')));
  for (const state of over) assert.deepEqual(state.outcome?.winners, [seats[0]!.playerId]);
});
