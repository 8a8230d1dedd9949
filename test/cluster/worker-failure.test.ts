/**
 * A worker killed with SIGKILL mid-game: its rooms are taken up from their
 * latest snapshots on a surviving worker and their players resume into them
 * (through a new session if theirs died too), nobody hangs, and the dead
 * worker is restarted.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createConnection } from 'mysql2/promise';
import type { NodeInfo } from '../../actors/cluster/backplane';
import { RESTORED_VERSION_JUMP } from '../../actors/room/room-state';
import { guestLogin } from '@playhouse/client';
import { clusterMembers, createTestCluster, redisCli, type TestCluster } from '../support/cluster';
import { Device } from '../support/raw-device';
import { startDuel, stateWhere, viewOf } from '../support/playhouse';
import { eventually, MARIADB_URL, needMariadb, needRedis, REDIS_URL } from '../support/services';

let cluster: TestCluster | undefined;
after(() => cluster?.stop());

const redis = (...args: string[]): string => redisCli(REDIS_URL, ...args);

const members = (name: string): NodeInfo[] => clusterMembers(name);

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

test('durability moves: a worker killed right after a move — the room is restored elsewhere with every acknowledged move (its last snapshot plus its log), the result of the game before is kept, and the game goes on', async (t) => {
  if (!(await needRedis(t)) || !(await needMariadb(t))) return;
  const logCluster = createTestCluster({ heartbeatMs: 200, deadAfterMs: 1200 });
  t.after(() => logCluster.stop());
  // No snapshot on an interval: the only snapshot is the end of the first game; the rest is in the log.
  await logCluster.startWorkers(2, 'forked', { PLAYHOUSE_RECORD_STORE: 'mariadb', PLAYHOUSE_MARIADB_URL: MARIADB_URL, PLAYHOUSE_SNAPSHOT_INTERVAL_MS: '0' });
  const gateway = await logCluster.startGateway();
  const duel = await startDuel({ player: (name) => logCluster.player(gateway, name) });
  const { roomId } = duel;
  // Game 1: seat 0 connects four in column 0.
  for (const column of [0, 1, 0, 1, 0, 1]) await duel.drop(column);
  const first = await duel.drop(0);
  assert.equal(first.status, 'over');
  // Game 2: both ask for a rematch, then three moves, the last one acknowledged just before the worker dies.
  await Promise.all(duel.players.map((client) => client.rematch(roomId)));
  await Promise.all(duel.players.map((client) => stateWhere(client, roomId, (state) => state.status === 'playing' && state.gameNumber === 2)));
  await duel.drop(3);
  await duel.drop(4);
  const last = await duel.drop(3);

  const roomNode = redis('get', `${logCluster.name}:dir:room:${roomId}`);
  const victim = members(logCluster.name).find((member) => member.id === roomNode)!;
  const synced = duel.players.map((client) => client.waitFor('state', (state) => state.roomId === roomId, 20_000));
  process.kill(victim.pid, 'SIGKILL');
  const states = await Promise.all(synced);
  for (const state of states) {
    assert.equal(state.gameNumber, 2);
    assert.equal(viewOf(state).moveCount, 3, 'every acknowledged move of game 2');
    assert.equal(state.version, last.version, 'exactly the state the players were shown: no version jump');
  }
  const newNode = redis('get', `${logCluster.name}:dir:room:${roomId}`);
  assert.ok(newNode !== '' && newNode !== roomNode, 'the room lives on another worker');
  // Game 2 goes on to its end (its opener, seat 1, connects four in column 3).
  await duel.drop(4);
  await duel.drop(3);
  await duel.drop(4);
  const won = await duel.drop(3);
  assert.equal(won.status, 'over');
  // One row per game, with the winners the players saw.
  const rows = await eventually(async () => {
    const count = await countRows('SELECT COUNT(*) AS n FROM match_results WHERE room_id = ?', [roomId]);
    return count >= 2 ? count : undefined;
  }, 'both results in MariaDB');
  assert.equal(rows, 2);
  for (const [gameNumber, outcome] of [[1, first.outcome], [2, won.outcome]] as const) {
    const matching = await countRows('SELECT COUNT(*) AS n FROM match_results WHERE match_id = ? AND winners = ?', [`${roomId}#${gameNumber}`, JSON.stringify(outcome!.winners)]);
    assert.equal(matching, 1, `game ${gameNumber}'s stored winner is the one the players saw`);
  }
});

test('durability snapshot: a worker killed mid-game — the room is restored from its snapshot elsewhere, the players resume into it and finish the game; the worker comes back', async (t) => {
  if (!(await needRedis(t)) || !(await needMariadb(t))) return;
  cluster = createTestCluster({ heartbeatMs: 200, deadAfterMs: 1200 });
  // Snapshots go to the cluster's Redis; match results to MariaDB.
  await cluster.startWorkers(2, 'forked', {
    PLAYHOUSE_RECORD_STORE: 'mariadb',
    PLAYHOUSE_MARIADB_URL: MARIADB_URL,
    PLAYHOUSE_SNAPSHOT_INTERVAL_MS: '200',
    PLAYHOUSE_DURABILITY: 'snapshot',
  });
  const gateway = await cluster.startGateway();
  const duel = await startDuel({ player: (name) => cluster!.player(gateway, name) });
  const { roomId } = duel;
  // Seat 0 drops in column 0, seat 1 in column 1: three moves now, the rest after the restore.
  let last = await duel.drop(0);
  last = await duel.drop(1);
  last = await duel.drop(0);
  const snapshotKey = `${cluster.name}:snapshot:room/${roomId}`;
  await eventually(() => {
    const data = redis('hget', snapshotKey, 'data');
    return data && (JSON.parse(data) as { match: { version: number } }).match.version >= last.version ? true : undefined;
  }, 'the latest state snapshotted');

  const roomNode = redis('get', `${cluster.name}:dir:room:${roomId}`);
  const victim = members(cluster.name).find((member) => member.id === roomNode);
  assert.ok(victim, `the room's worker ${roomNode} is a live member`);
  const restored = duel.players.map((client) => stateWhere(client, roomId, (state) => state.version > RESTORED_VERSION_JUMP));
  process.kill(victim.pid, 'SIGKILL');

  // Both players get the restored state (one of them may have lost its session too, and comes back through a new one).
  const states = await Promise.all(restored);
  for (const state of states) {
    assert.equal(state.status, 'playing');
    assert.equal(viewOf(state).moveCount, 3, 'the board as it was snapshotted');
    assert.equal(state.players.length, 2, 'both still seated');
  }
  const newNode = redis('get', `${cluster.name}:dir:room:${roomId}`);
  assert.ok(newNode !== '' && newNode !== roomNode, 'the room lives on another worker');
  // They finish the game: seat 0 connects four in column 0.
  await duel.drop(1);
  await duel.drop(0);
  await duel.drop(1);
  const won = await duel.drop(0);
  assert.equal(won.status, 'over');
  assert.deepEqual(won.outcome?.winners, [duel.players[0].playerId]);

  // The result was written once, to MariaDB.
  const rows = await eventually(async () => {
    const count = await countRows('SELECT COUNT(*) AS n FROM match_results WHERE room_id = ?', [roomId]);
    return count > 0 ? count : undefined;
  }, 'the match result in MariaDB');
  assert.equal(rows, 1);

  // The supervisor restarts the worker: its slot is filled again by a new node (a fresh process opens its
  // stores and runs its migration check first: allow for a loaded machine).
  const restarted = await eventually(
    () => members(cluster!.name).find((member) => member.slot === victim.slot && member.id !== victim.id),
    'the killed worker restarted',
    30_000,
  );
  assert.notEqual(restarted.pid, victim.pid);
});

async function countRows(sql: string, values: string[]): Promise<number> {
  const connection = await createConnection(MARIADB_URL);
  try {
    const [rows] = await connection.query(sql, values);
    return Number((rows as Array<{ n: number }>)[0]!.n);
  } finally {
    await connection.end();
  }
}

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

test('the worker holding a connected player’s session dies: the player hears session/lost, the room holds the seat, and a new session finds the room again', async (t) => {
  if (!(await needRedis(t))) return;
  const lostCluster = createTestCluster({ heartbeatMs: 200, deadAfterMs: 1200 });
  t.after(() => lostCluster.stop());
  await lostCluster.startWorkers(2, 'forked');
  const gateway = await lostCluster.startGateway();
  const { roomId, apart, beside, apartNode } = await twoOnDifferentWorkers(lostCluster, gateway, t);
  const [gone, other] = [apart.device, beside.device];
  const victim = members(lostCluster.name).find((member) => member.id === apartNode)!;

  process.kill(victim.pid, 'SIGKILL');
  const closed = await gone.waitFor((m) => m.event === 'session:closed', 'told the session is lost');
  assert.equal(closed.payload.code, 'session/lost');
  // The session kept a record of its seat: the room holds it, the player counts as away.
  await other.waitFor((m) => m.event === 'room:player' && m.payload.change === 'away' && m.payload.playerId === gone.ready.playerId, 'away');
  const fresh = await Device.connect(gateway.url, apart.token);
  t.after(() => fresh.close());
  assert.deepEqual(fresh.ready.rooms, [roomId], 'seated in the same room');
  const state = await fresh.waitFor((m) => m.event === 'room:state' && m.payload.roomId === roomId, 'the room state');
  assert.equal(state.payload.status, 'playing');
  await other.waitFor((m) => m.event === 'room:player' && m.payload.change === 'back' && m.payload.playerId === gone.ready.playerId, 'back');
});
