/**
 * Two gateways and two forked workers, real processes on the real Redis:
 * players connected to different gateways meet in one room and play a whole
 * game; sessions and rooms live on the workers, spread over both.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { PlayhouseClient } from '../../protocol/client';
import { createTestCluster, type TestCluster } from '../support/cluster';
import { stateWhere, viewOf } from '../support/playhouse';
import { eventually, needRedis } from '../support/services';

let cluster: TestCluster | undefined;

before(async () => {
  cluster = createTestCluster();
  await cluster.startWorkers(2, 'forked');
  await cluster.startGateway();
  await cluster.startGateway();
});
after(() => cluster?.stop());

test('players on two gateways play a whole game in one room on a worker', async (t) => {
  if (!(await needRedis(t))) return;
  const [north, south] = cluster!.gateways as [NonNullable<TestCluster['gateways'][0]>, NonNullable<TestCluster['gateways'][0]>];
  const alice = await cluster!.player(north, 'Alice');
  const bob = await cluster!.player(south, 'Bob');
  const a = await alice.findMatch('connect-four');
  const b = await bob.findMatch('connect-four');
  assert.equal(a.roomId, b.roomId, 'the lobby seated both in one room');
  const roomId = a.roomId;
  await Promise.all([alice, bob].map((client) => stateWhere(client, roomId, (state) => state.status === 'playing')));

  const bySeat = a.seat === 0 ? [alice, bob] : [bob, alice];
  const moves: Array<[PlayhouseClient, number]> = [
    [bySeat[0]!, 0], [bySeat[1]!, 1], [bySeat[0]!, 0], [bySeat[1]!, 1], [bySeat[0]!, 0], [bySeat[1]!, 1],
  ];
  for (const [mover, column] of moves) {
    const accepted = await mover.move(roomId, 'drop', { column });
    await Promise.all([alice, bob].map((client) => stateWhere(client, roomId, (state) => state.version >= accepted.version)));
  }
  // An illegal move across the cluster is refused with its code and changes nothing.
  await assert.rejects(bySeat[1]!.move(roomId, 'drop', { column: 3 }), /move\/not-your-turn/);
  const winning = await bySeat[0]!.move(roomId, 'drop', { column: 0 });
  const final = await stateWhere(bySeat[1]!, roomId, (state) => state.version >= winning.version);
  assert.equal(final.status, 'over');
  assert.deepEqual(final.outcome?.winners, [bySeat[0]!.playerId]);
  assert.equal(viewOf(final).board.flat().filter((cell) => cell !== null).length, 7);

  // The gateway's /metrics shows each worker's sessions and rooms (as of the workers' last heartbeats).
  const perWorker = await eventually(async () => {
    const metrics = await (await fetch(`${north.url}/metrics`)).text();
    const counts = [...metrics.matchAll(/^playhouse_cluster_node_actors\{node="[^"]+",slot="[^"]+",kind="(session|room)"\} (\d+)$/gm)];
    const total = (kind: string) => counts.filter((m) => m[1] === kind).reduce((sum, m) => sum + Number(m[2]), 0);
    return counts.length === 4 && total('session') === 2 && total('room') === 1 ? counts : undefined;
  }, 'two workers report two sessions and one room');
  assert.equal(perWorker.length, 4);

  // The worker process serves its workers' own metrics, merged: the room's moves are counted there.
  const workerMetrics = await (await fetch(cluster!.workers[0]!.ready.metrics!)).text();
  assert.match(workerMetrics, /^playhouse_moves_applied_total\{game="connect-four"\} 7$/m);
  assert.match(workerMetrics, /^playhouse_moves_rejected_total\{game="connect-four",reason="move\/not-your-turn"\} 1$/m);
});
