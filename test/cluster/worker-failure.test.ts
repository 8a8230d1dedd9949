/**
 * A worker killed with SIGKILL mid-game: every player of the lost room hears
 * a clear event (their room is gone, or their session is), nobody hangs, new
 * rooms go to the surviving worker, and the dead worker is restarted.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, test } from 'node:test';
import type { NodeInfo } from '../../actors/cluster/backplane';
import type { ErrorMessage } from '../../protocol/messages';
import { guestLogin, type PlayhouseClient } from '../../protocol/client';
import { createTestCluster, type TestCluster } from '../support/cluster';
import { Device } from '../support/raw-device';
import { stateWhere } from '../support/playhouse';
import { eventually, needRedis, REDIS_URL } from '../support/services';

let cluster: TestCluster | undefined;
after(() => cluster?.stop());

function redis(...args: string[]): string {
  return execFileSync('redis-cli', ['-u', REDIS_URL, ...args]).toString().trim();
}

function members(name: string): NodeInfo[] {
  const ids = redis('smembers', `${name}:nodes`).split('\n').filter(Boolean);
  return ids.map((id) => redis('get', `${name}:alive:${id}`)).filter(Boolean).map((json) => JSON.parse(json) as NodeInfo);
}

/** What the player hears first once its room's worker died: its room is lost, or its whole session. */
function nextFailure(client: PlayhouseClient): Promise<ErrorMessage> {
  return Promise.race([client.waitFor('error', (error) => error.code === 'room/lost', 15_000), client.waitFor('closed', () => true, 15_000)]);
}

/**
 * Two raw devices whose sessions live on different workers (placement spreads them; a newcomer that
 * lands beside the first is replaced by another), seated in one Connect Four game.
 */
async function twoOnDifferentWorkers(cluster: TestCluster, gateway: { url: string }, t: { after(fn: () => void): void }) {
  const nodeOf = (device: Device) => redis('get', `${cluster.name}:dir:session:${device.ready.playerId}`);
  const connect = async (name: string) => {
    const login = await guestLogin(gateway.url, name);
    const device = await Device.connect(gateway.url, login.token);
    t.after(() => device.close());
    return { device, token: login.token };
  };
  const first = await connect('First');
  let second = await connect('Second');
  for (let tries = 0; nodeOf(second.device) === nodeOf(first.device); tries++) {
    assert.ok(tries < 10, 'placement put ten sessions in a row on one worker');
    second.device.close();
    second = await connect('Second');
  }
  const players = [first, second];
  let roomId = '';
  for (const { device } of players) roomId = ((await device.request<{ roomId: string }>('match:find', { actionId: 'find', game: 'connect-four' })) as { roomId: string }).roomId;
  await Promise.all(players.map(({ device }) => device.waitFor((m) => m.event === 'room:state' && m.payload.status === 'playing', 'playing')));
  // One session shares the room's worker, the other does not: killing the other's worker leaves the room running.
  const roomNode = redis('get', `${cluster.name}:dir:room:${roomId}`);
  const apart = players.find(({ device }) => nodeOf(device) !== roomNode)!;
  const beside = players.find((player) => player !== apart)!;
  return { roomId, apart, beside, apartNode: nodeOf(apart.device) };
}

test('a worker killed mid-game: clear events, new rooms elsewhere, the worker comes back', async (t) => {
  if (!(await needRedis(t))) return;
  cluster = createTestCluster({ heartbeatMs: 200, deadAfterMs: 1200 });
  await cluster.startWorkers(2, 'forked');
  const gateway = await cluster.startGateway();
  const alice = await cluster.player(gateway, 'Alice');
  const bob = await cluster.player(gateway, 'Bob');
  const seat = await alice.findMatch('connect-four');
  await bob.findMatch('connect-four');
  await Promise.all([alice, bob].map((client) => stateWhere(client, seat.roomId, (state) => state.status === 'playing')));

  const roomNode = redis('get', `${cluster.name}:dir:room:${seat.roomId}`);
  const victim = members(cluster.name).find((member) => member.id === roomNode);
  assert.ok(victim, `the room's worker ${roomNode} is a live member`);
  const sessionNodes = new Map([alice, bob].map((client) => [client, redis('get', `${cluster!.name}:dir:session:${client.playerId}`)]));

  const heard = [alice, bob].map((client) => nextFailure(client));
  process.kill(victim.pid, 'SIGKILL');
  const events = await Promise.all(heard);
  [alice, bob].forEach((client, i) => {
    const expected = sessionNodes.get(client) === victim.id ? 'session/lost' : 'room/lost';
    assert.equal(events[i]!.code, expected, `${client.playerId} was told what it lost`);
  });

  // The supervisor restarts the worker: its slot is filled again by a new node.
  const restarted = await eventually(() => members(cluster!.name).find((member) => member.slot === victim.slot && member.id !== victim.id), 'the killed worker restarted');
  assert.notEqual(restarted.pid, victim.pid);
  assert.equal(redis('exists', `${cluster.name}:dir:room:${seat.roomId}`), '0', "the dead worker's directory entries are gone");

  // Players play on in a new room (a player whose session was lost logs in again).
  const again = await Promise.all(
    [alice, bob].map(async (client) => (sessionNodes.get(client) === victim.id ? cluster!.player(gateway, 'Again') : client)),
  );
  const next = await again[0]!.findMatch('connect-four');
  assert.equal((await again[1]!.findMatch('connect-four')).roomId, next.roomId);
  assert.notEqual(next.roomId, seat.roomId);
  const [playing] = await Promise.all(again.map((client) => stateWhere(client, next.roomId, (state) => state.status === 'playing')));
  const mover = again.find((client) => client.playerId === (playing!.view as { currentPlayer: string }).currentPlayer)!;
  const accepted = await mover.move(next.roomId, 'drop', { column: 3 });
  assert.ok(accepted.version > playing!.version);
});

test("the lobby's worker killed: rooms waiting for players on other workers are offered again by the new lobby", async (t) => {
  if (!(await needRedis(t))) return;
  const lobbyCluster = createTestCluster({ heartbeatMs: 200, deadAfterMs: 1200 });
  t.after(() => lobbyCluster.stop());
  await lobbyCluster.startWorkers(2, 'forked');
  const gateway = await lobbyCluster.startGateway();
  // One waiting room per game: placement puts the second room on the other worker, so one of them is not the lobby's.
  const waiting = await Promise.all(
    ['connect-four', 'arena'].map(async (game) => {
      const device = await Device.connect(gateway.url, (await guestLogin(gateway.url, 'Waiting')).token);
      t.after(() => device.close());
      const seat = (await device.request<{ roomId: string }>('match:find', { actionId: 'find', game })) as { ok: true; roomId: string };
      return { game, seat, device };
    }),
  );
  const lobbyNode = redis('get', `${lobbyCluster.name}:dir:lobby`);
  const survivor = waiting.find(({ seat }) => redis('get', `${lobbyCluster.name}:dir:room:${seat.roomId}`) !== lobbyNode);
  assert.ok(survivor, 'a waiting room lives on a worker other than the lobby’s');
  // Its player steps away (a drop: the session is saved for resume), so the seat is held even if that
  // player's session was on the lobby's worker too — a connected player's seat would be freed with it.
  survivor.device.drop();
  await eventually(() => (redis('exists', `${lobbyCluster.name}:session:${survivor.device.ready.playerId}`) === '1' ? true : undefined), 'the waiting player away');
  const victim = members(lobbyCluster.name).find((member) => member.id === lobbyNode)!;

  process.kill(victim.pid, 'SIGKILL');
  // The waiting room offers its seats again, which opens a new lobby on a live worker.
  await eventually(() => {
    const node = redis('get', `${lobbyCluster.name}:dir:lobby`);
    return node !== '' && node !== lobbyNode ? true : undefined;
  }, 'a new lobby');
  const newcomer = await lobbyCluster.player(gateway, 'Newcomer');
  const seat = await newcomer.findMatch(survivor.game);
  assert.equal(seat.roomId, survivor.seat.roomId, 'the newcomer was seated in the room that was waiting');
});

test('the worker holding an away player’s session dies during the grace period: the player still resumes (with a snapshot)', async (t) => {
  if (!(await needRedis(t))) return;
  const resumeCluster = createTestCluster({ heartbeatMs: 200, deadAfterMs: 1200 });
  t.after(() => resumeCluster.stop());
  await resumeCluster.startWorkers(2, 'forked');
  const gateway = await resumeCluster.startGateway();
  const { roomId, apart, beside, apartNode } = await twoOnDifferentWorkers(resumeCluster, gateway, t);
  const [away, stays] = [apart.device, beside.device];
  const sessionNode = apartNode;
  // The player about to drop makes a move first (after the other, if it is the other's turn).
  const drop = async (device: Device, column: number, actionId: string) =>
    device.request<{ version: number }>('room:move', { actionId, roomId, version: device.latestState(roomId)!.version, move: 'drop', payload: { column } });
  const opening = stays.latestState(roomId)!.view as { currentPlayer: string };
  if (opening.currentPlayer === stays.ready.playerId) {
    const first = await drop(stays, 6, 'stays-first');
    assert.ok(first.ok);
    await away.waitFor((m) => m.event === 'room:state' && m.payload.version === first.version, 'the other’s move seen');
  }
  const beforeDrop = await drop(away, 0, 'before-drop');
  assert.ok(beforeDrop.ok, JSON.stringify(beforeDrop));
  const resume = { token: away.ready.resumeToken, lastSeq: away.lastSeq };
  away.drop();
  await stays.waitFor((m) => m.event === 'room:player' && m.payload.change === 'away', 'away');
  await eventually(() => (redis('exists', `${resumeCluster.name}:session:${away.ready.playerId}`) === '1' ? true : undefined), 'the session saved for resume');

  const victim = members(resumeCluster.name).find((member) => member.id === sessionNode)!;
  process.kill(victim.pid, 'SIGKILL');
  await eventually(() => (redis('exists', `${resumeCluster.name}:alive:${victim.id}`) === '0' ? true : undefined), 'the dead worker noticed');

  const back = await Device.connect(gateway.url, apart.token, resume);
  t.after(() => back.close());
  assert.equal(back.ready.resumed, 'snapshot', 'what was pushed to the dead session is gone: a snapshot, not a replay');
  assert.deepEqual(back.ready.rooms, [roomId], 'still seated');
  const state = await back.waitFor((m) => m.event === 'room:state' && m.payload.roomId === roomId && m.seq! > back.ready.seq, 'the full state');
  assert.equal(state.payload.status, 'playing');
  await stays.waitFor((m) => m.event === 'room:player' && m.payload.change === 'back', 'back');
  // The move retried after the session moved to another worker: its first answer, not a second disc.
  const retried = await back.request<{ version: number }>('room:move', { actionId: 'before-drop', roomId, version: 0, move: 'drop', payload: { column: 0 } });
  assert.ok(retried.ok, JSON.stringify(retried));
  assert.equal(retried.version, beforeDrop.version);
  const mover = (state.payload.view as { currentPlayer: string }).currentPlayer === back.ready.playerId ? back : stays;
  const moved = await mover.request('room:move', { actionId: 'after-resume', roomId, version: mover.latestState(roomId)!.version, move: 'drop', payload: { column: 3 } });
  assert.ok(moved.ok, JSON.stringify(moved));
});

test('the worker holding a connected player’s session dies: the player hears session/lost and the room frees the seat', async (t) => {
  if (!(await needRedis(t))) return;
  const lostCluster = createTestCluster({ heartbeatMs: 200, deadAfterMs: 1200 });
  t.after(() => lostCluster.stop());
  await lostCluster.startWorkers(2, 'forked');
  const gateway = await lostCluster.startGateway();
  const { apart, beside, apartNode } = await twoOnDifferentWorkers(lostCluster, gateway, t);
  const [gone, other] = [apart.device, beside.device];
  const victim = members(lostCluster.name).find((member) => member.id === apartNode)!;

  process.kill(victim.pid, 'SIGKILL');
  const closed = await gone.waitFor((m) => m.event === 'session:closed', 'told the session is lost');
  assert.equal(closed.payload.code, 'session/lost');
  // Nothing was saved for a connected player: the room lets the seat go, and the game ends for the other.
  await other.waitFor((m) => m.event === 'room:player' && m.payload.change === 'left' && m.payload.playerId === gone.ready.playerId, 'the seat freed');
  const over = await other.waitFor((m) => m.event === 'room:over', 'the game ended');
  assert.equal((over.payload.outcome as { reason: string }).reason, 'opponent-left');
  const fresh = await Device.connect(gateway.url, apart.token);
  t.after(() => fresh.close());
  assert.equal(fresh.ready.resumed, 'fresh');
  assert.deepEqual(fresh.ready.rooms, [], 'not seated any more');
});
