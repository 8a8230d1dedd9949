/**
 * Signals mean what operators expect. SIGTERM to one forked worker's own
 * process drains that worker (its game plays on to the end, its players are
 * told to move, it leaves the cluster at once) and its supervisor puts a new
 * worker in the slot.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, test } from 'node:test';
import type { NodeInfo } from '../../actors/cluster/backplane';
import { RESTORED_VERSION_JUMP } from '../../actors/room/match';
import { guestLogin, PlayhouseClient } from '../../protocol/client';
import { createTestCluster, type TestCluster } from '../support/cluster';
import { startDuel, stateWhere, viewOf } from '../support/playhouse';
import { eventually, needRedis, REDIS_URL } from '../support/services';

let cluster: TestCluster | undefined;
after(() => cluster?.stop());

function redis(...args: string[]): string {
  return execFileSync('redis-cli', ['-u', REDIS_URL, ...args]).toString().trim();
}

/** The cluster's live members, from their heartbeat keys (`<cluster>:alive:<nodeId>`). */
function members(name: string): NodeInfo[] {
  const ids = redis('smembers', `${name}:nodes`).split('\n').filter(Boolean);
  return ids.map((id) => redis('get', `${name}:alive:${id}`)).filter(Boolean).map((json) => JSON.parse(json) as NodeInfo);
}

/** Whether `pid` is a running process (a zombie waiting for its parent to reap it has ended). */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** A `player` for startDuel that hands out already connected clients, in order. */
function inOrder(clients: readonly PlayhouseClient[]): () => Promise<PlayhouseClient> {
  let next = 0;
  return async () => clients[next++]!;
}

test('SIGTERM to one forked worker drains it: its game plays to the end, its players move on, and its slot gets a new worker', async (t) => {
  if (!(await needRedis(t))) return;
  // Heartbeats expire slowly here: a worker that is gone within seconds said so itself.
  cluster = createTestCluster({ deadAfterMs: 15_000, drainTimeoutMs: 8000 });
  const supervisor = await cluster.startWorkers(1, 'forked', { LOG_LEVEL: 'info' });
  const slot = supervisor.ready.workers!;
  const gateway = await cluster.startGateway();
  const logins = await Promise.all([guestLogin(gateway.url, 'First'), guestLogin(gateway.url, 'Second')]);
  // The test connects the players again itself, so each step is seen.
  const connect = (token: string) => PlayhouseClient.connect({ url: gateway.url, token, reconnect: false, io: { transports: ['websocket'] } });
  const clients = await Promise.all(logins.map((login) => connect(login.token)));
  t.after(() => clients.forEach((client) => client.close()));
  // Both sessions and the room are on the only worker there was; a second worker process takes the players afterwards.
  const duel = await startDuel({ player: inOrder(clients) });
  const staying = await cluster.startWorkers(1, 'forked');
  await eventually(() => members(cluster!.name).some((member) => member.slot === staying.ready.workers), 'the second worker in the cluster');
  const victim = members(cluster.name).find((member) => member.slot === slot);
  assert.ok(victim, `the slot ${slot} is a live member`);
  assert.notEqual(victim.pid, supervisor.child.pid, 'a forked worker has a process of its own');

  await duel.drop(0);
  await duel.drop(1);
  const told = duel.players.map((client) =>
    client.waitFor('closed', () => true, 20_000).then(
      (closed) => closed.code,
      (error: unknown) => String(error),
    ),
  );
  process.kill(victim.pid, 'SIGTERM');

  // The game plays on in the draining worker, to its end, with every move kept (a crash would restore a snapshot).
  for (const column of [0, 1, 0, 1]) await duel.drop(column);
  const final = await duel.drop(0);
  assert.equal(final.status, 'over', 'the game in the draining worker was played to its end');
  assert.deepEqual(final.outcome?.winners, [duel.players[0].playerId]);
  assert.equal(viewOf(final).moveCount, 7, 'every acknowledged move is on the board');
  assert.ok(final.version < RESTORED_VERSION_JUMP, 'the room was never restored from a snapshot');
  for (const code of await Promise.all(told)) assert.equal(code, 'server/shutting-down', 'evicted by a drain, not lost in a crash');

  // It left the cluster itself: its heartbeat is gone before its slot has a new worker (that one would announce it gone too).
  await eventually(() => {
    const now = members(cluster!.name);
    assert.ok(!now.some((member) => member.slot === slot && member.id !== victim.id), 'the slot was filled again before the drained worker left');
    return now.every((member) => member.id !== victim.id) ? true : undefined;
  }, 'the drained worker left the cluster');
  await eventually(() => !isRunning(victim.pid), 'the drained worker process ended');
  const replacement = await eventually(() => members(cluster!.name).find((member) => member.slot === slot && member.id !== victim.id), 'a new worker in the slot', 30_000);
  assert.notEqual(replacement.pid, victim.pid);
  assert.equal(supervisor.child.exitCode, null, 'the worker process itself runs on');
  assert.match(supervisor.output(), /worker process signalled: draining this worker/);
  assert.match(supervisor.output(), /worker drained: exiting/);

  // The same players log in again and play.
  const back = await Promise.all(logins.map((login) => connect(login.token)));
  t.after(() => back.forEach((client) => client.close()));
  const again = await startDuel({ player: inOrder(back) });
  const moved = await again.drop(3);
  await Promise.all(again.players.map((client) => stateWhere(client, again.roomId, (state) => state.version >= moved.version)));
});
