/**
 * The cluster's Redis goes away mid-game and comes back — restarted empty, or
 * keeping its data (append-only file) after an outage longer than the dead
 * timeout — and the cluster recovers by itself: no node is declared gone, no
 * process restarts, the move sent during the outage is applied once when Redis
 * returns (the SDK retries `server/unavailable`), the players finish their
 * game, and new players log in and are matched. Gateways are not ready while
 * Redis is away.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { NodeInfo } from '../../actors/cluster/backplane';
import { clusterMembers, createTestCluster, type TestCluster } from '../support/cluster';
import { startDuel, stateWhere, viewOf } from '../support/playhouse';
import { startPrivateRedis, type PrivateRedis } from '../support/private-redis';
import { eventually, needRedis } from '../support/services';

const HEARTBEAT_MS = 250;
const DEAD_AFTER_MS = 1500;
/** Longer than the dead timeout: every membership key expires (or is lost) meanwhile. */
const OUTAGE_MS = DEAD_AFTER_MS * 2;

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

function members(redis: PrivateRedis, name: string): NodeInfo[] {
  return clusterMembers(name, redis.url);
}

async function readiness(url: string): Promise<number> {
  return (await fetch(`${url}/readyz`)).status;
}

for (const durable of [false, true]) {
  const how = durable ? 'keeping its data (append-only file)' : 'restarted empty';
  test(`Redis away for ${OUTAGE_MS} ms and back ${how}: the cluster recovers by itself and the game goes on`, async (t) => {
    if (!(await needRedis(t))) return;
    const redis = await startPrivateRedis({ durable });
    cleanups.push(() => redis.stop());
    const cluster: TestCluster = createTestCluster({ heartbeatMs: HEARTBEAT_MS, deadAfterMs: DEAD_AFTER_MS });
    cluster.env.REDIS_URL = redis.url;
    cleanups.push(() => cluster.stop());
    await cluster.startWorkers(2, 'forked');
    const gateway = await cluster.startGateway();
    const before = await eventually(() => {
      const seen = members(redis, cluster.name);
      return seen.filter((member) => member.role === 'worker').length === 2 && seen.length === 3 ? seen : undefined;
    }, 'two workers and a gateway are members');
    // A move sent during the outage waits for Redis, then for the stores' retry backoff to end (up to
    // 5 s): the players give their requests 30 s, as a game would on a bad network.
    const duel = await startDuel({ player: (name) => cluster.player(gateway, name, { ackTimeoutMs: 30_000 }) });
    await duel.drop(0);
    await duel.drop(1);
    await eventually(async () => ((await readiness(gateway.url)) === 200 ? true : undefined), 'the gateway ready');

    await redis.kill();
    await eventually(async () => ((await readiness(gateway.url)) === 503 ? true : undefined), 'the gateway not ready without Redis');
    // A move sent during the outage: answered server/unavailable, which the SDK sends again until Redis is back.
    const mover = await duel.current();
    const moved = mover.move(duel.roomId, 'drop', { column: 0 });
    await sleep(OUTAGE_MS);
    await redis.start();

    const accepted = await moved;
    const states = await Promise.all(duel.players.map((client) => stateWhere(client, duel.roomId, (state) => state.version >= accepted.version)));
    for (const state of states) assert.equal(viewOf(state).moveCount, 3, 'the move made during the outage counted once');
    await eventually(async () => ((await readiness(gateway.url)) === 200 ? true : undefined), 'the gateway ready again');

    // Nobody was declared gone and no process was replaced: the same incarnations are members again.
    const now = await eventually(() => {
      const seen = members(redis, cluster.name);
      return seen.length === before.length ? seen : undefined;
    }, 'every node a member again');
    assert.deepEqual(now.map((member) => `${member.id}/${member.epoch}`).sort(), before.map((member) => `${member.id}/${member.epoch}`).sort());
    const fenced = execFileSync('redis-cli', ['-p', String(redis.port), '--scan', '--pattern', `${cluster.name}:fenced:*`]).toString().trim();
    assert.equal(fenced, '', 'no node was fenced');

    // The game goes on to its end (seat 0 connects four in column 0), and newcomers are matched.
    await duel.drop(1);
    await duel.drop(0);
    await duel.drop(1);
    const won = await duel.drop(0);
    assert.equal(won.status, 'over');
    assert.deepEqual(won.outcome?.winners, [duel.players[0].playerId]);
    const newcomers = await Promise.all(['New 1', 'New 2'].map((name) => cluster.player(gateway, name)));
    const seats = await Promise.all(newcomers.map((client) => client.findMatch('connect-four')));
    assert.equal(seats[0]!.roomId, seats[1]!.roomId, 'the newcomers are matched together');

    // After the outage the room's log is durable again (Redis came back empty: the room snapshotted itself
    // and logs after that): its worker killed now, the rematch and the moves since are all there.
    await Promise.all(duel.players.map((client) => client.rematch(duel.roomId)));
    await Promise.all(duel.players.map((client) => stateWhere(client, duel.roomId, (state) => state.status === 'playing' && state.gameNumber === 2)));
    await duel.drop(2);
    const last = await duel.drop(3);
    const roomNode = execFileSync('redis-cli', ['-p', String(redis.port), 'get', `${cluster.name}:dir:room:${duel.roomId}`]).toString().trim();
    const victim = members(redis, cluster.name).find((member) => member.id === roomNode)!;
    const synced = duel.players.map((client) => client.waitFor('state', (state) => state.roomId === duel.roomId, 20_000));
    process.kill(victim.pid, 'SIGKILL');
    for (const state of await Promise.all(synced)) {
      assert.equal(state.gameNumber, 2);
      assert.equal(viewOf(state).moveCount, 2, 'every move acknowledged after the outage');
      assert.equal(state.version, last.version);
    }
  });
}

test('SIGTERM while the cluster\'s Redis is away: the gateway and the worker process still end, within their drain bound', { timeout: 60_000 }, async (t) => {
  if (!(await needRedis(t))) return;
  const redis = await startPrivateRedis({ durable: false });
  cleanups.push(() => redis.stop());
  const cluster: TestCluster = createTestCluster({ heartbeatMs: HEARTBEAT_MS, deadAfterMs: DEAD_AFTER_MS, drainTimeoutMs: 1000 });
  cluster.env.REDIS_URL = redis.url;
  cleanups.push(() => cluster.stop());
  const workers = await cluster.startWorkers(1, 'forked');
  const gateway = await cluster.startGateway();
  const duel = await startDuel({ player: (name) => cluster.player(gateway, name) });
  await duel.drop(0);
  await redis.kill();
  await eventually(async () => ((await readiness(gateway.url)) === 503 ? true : undefined), 'the gateway sees Redis gone');
  const stoppedAt = Date.now();
  gateway.kill('SIGTERM');
  workers.kill('SIGTERM');
  const [gatewayExit, workersExit] = await Promise.all([gateway.exited, workers.exited]);
  const tookMs = Date.now() - stoppedAt;
  assert.equal(gatewayExit, 0, `the gateway ended cleanly:\n${gateway.output().slice(-2000)}`);
  assert.equal(workersExit, 0, `the worker process ended cleanly:\n${workers.output().slice(-2000)}`);
  // Drain bound: gateways drain for the drain timeout, workers hand over for as long again plus the stores' flush.
  assert.ok(tookMs < 15_000, `both ended in ${tookMs} ms, not waiting on a Redis that is not there`);
  for (const client of duel.players) client.close();
});
