/**
 * Two gateways and two forked workers, real processes on the real Redis:
 * players connected to different gateways meet in one room and play a whole
 * game; sessions and rooms live on the workers, spread over both.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { guestLogin, type PlayhouseClient } from '@playhouse/client';
import { createTestCluster, type TestCluster } from '../support/cluster';
import { Device } from '../support/raw-device';
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

  // The worker process serves each of its workers' own metrics, labelled by worker: summed, the room's moves are counted there.
  const workerMetrics = await (await fetch(cluster!.workers[0]!.ready.metrics!)).text();
  const summed = (pattern: RegExp) => [...workerMetrics.matchAll(pattern)].reduce((sum, m) => sum + Number(m[1]), 0);
  assert.equal(summed(/^playhouse_moves_applied_total\{game="connect-four",worker="[^"]+"\} (\d+)$/gm), 7);
  assert.equal(summed(/^playhouse_moves_rejected_total\{game="connect-four",reason="move\/not-your-turn",worker="[^"]+"\} (\d+)$/gm), 1);
});

test('a device dropped on one gateway resumes on the other: it gets what it missed, and its retried action counts once', async (t) => {
  if (!(await needRedis(t))) return;
  const [north, south] = cluster!.gateways as [NonNullable<TestCluster['gateways'][0]>, NonNullable<TestCluster['gateways'][0]>];
  const [moverLogin, otherLogin] = await Promise.all([guestLogin(north.url, 'Traveller'), guestLogin(south.url, 'Host')]);
  const traveller = await Device.connect(north.url, moverLogin.token);
  const host = await Device.connect(south.url, otherLogin.token);
  const devices = [traveller, host];
  try {
    const seats = [];
    for (const device of devices) seats.push(await device.request<{ roomId: string; seat: number }>('match:find', { actionId: `find-${device.ready.playerId}`, game: 'connect-four' }));
    const roomId = (seats[0] as { roomId: string }).roomId;
    await Promise.all(devices.map((device) => device.waitFor((m) => m.event === 'room:state' && m.payload.status === 'playing', 'playing')));
    const [first, second] = (seats[0] as { seat: number }).seat === 0 ? [traveller, host] : [host, traveller];
    const move = (device: Device, column: number, actionId: string) =>
      device.request<{ version: number }>('room:move', { actionId, roomId, version: device.latestState(roomId)!.version, move: 'drop', payload: { column } });

    // The traveller's move leaves just before its connection drops; the other player answers while it is away.
    const opening = await move(first, 0, 'opening');
    assert.ok(opening.ok);
    await second.waitFor((m) => m.event === 'room:state' && m.payload.version === opening.version, 'the opening seen');
    const resume = { token: traveller.ready.resumeToken, lastSeq: traveller.lastSeq };
    traveller.drop();
    await host.waitFor((m) => m.event === 'room:player' && m.payload.change === 'away', 'away');
    if (second === host) assert.ok((await move(host, 1, 'reply')).ok);

    const back = await Device.connect(south.url, moverLogin.token, resume);
    devices.push(back);
    assert.equal(back.ready.resumed, 'replay');
    assert.deepEqual(back.ready.rooms, [roomId]);
    const seqs = back.received.filter((m) => m.seq !== undefined).map((m) => m.seq!);
    await back.waitFor((m) => m.event === 'room:state' && m.seq === back.ready.seq, 'the replay, up to the newest message');
    // The missed ones (up to session:ready's seq), then live ones: contiguous, nothing twice.
    const received = back.received.filter((m) => m.seq !== undefined).map((m) => m.seq!);
    assert.deepEqual(received, Array.from({ length: received.length }, (_, i) => resume.lastSeq + 1 + i), `in order, no gap, no duplicate (first seen: ${seqs.join(',')})`);
    assert.ok(received.length >= back.ready.seq - resume.lastSeq);
    await host.waitFor((m) => m.event === 'room:player' && m.payload.change === 'back', 'back');
    if (first === traveller) {
      // Retrying the opening through the other gateway: the first answer, not a second disc.
      const retried = await back.request<{ version: number }>('room:move', { actionId: 'opening', roomId, version: 0, move: 'drop', payload: { column: 0 } });
      assert.ok(retried.ok);
      assert.equal(retried.version, opening.version);
    }
  } finally {
    for (const device of devices) device.close();
  }
});
