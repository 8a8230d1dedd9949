/**
 * Placement is configuration: the same workers run forked, in worker threads,
 * or on another host through comedy's node listener (here on 127.0.0.1), and
 * a game plays the same through each. Remote listeners have no
 * authentication, so public addresses are refused unless explicitly allowed.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createTestCluster, startScript, type ClusterProcess, type TestCluster } from '../support/cluster';
import { startDuel } from '../support/playhouse';
import { needRedis } from '../support/services';

const started: TestCluster[] = [];
const listeners: ClusterProcess[] = [];
after(async () => {
  await Promise.all(started.map((cluster) => cluster.stop()));
  for (const listener of listeners) listener.kill('SIGKILL');
});

async function playOneGame(cluster: TestCluster): Promise<void> {
  const gateway = await cluster.startGateway();
  const duel = await startDuel({ player: (name) => cluster.player(gateway, name) });
  for (const column of [0, 1, 0, 1, 0, 1]) await duel.drop(column);
  const final = await duel.drop(0);
  assert.equal(final.status, 'over');
  assert.deepEqual(final.outcome?.winners, [duel.players[0].playerId]);
  await assert.rejects(duel.players[1].move(duel.roomId, 'drop', { column: 0 }), /move\/game-over/);
}

for (const mode of ['forked', 'threaded'] as const) {
  test(`a game plays through ${mode} workers`, async (t) => {
    if (!(await needRedis(t))) return;
    const cluster = createTestCluster();
    started.push(cluster);
    const workers = await cluster.startWorkers(2, mode);
    assert.equal(workers.ready.workers?.split(',').length, 2);
    await playOneGame(cluster);
  });
}

test('a game plays through a remote worker started by a comedy node listener on 127.0.0.1', async (t) => {
  if (!(await needRedis(t))) return;
  const listener = await startScript('worker-node', 'scripts/worker-node.ts', ['--host', '127.0.0.1', '--port', '0'], process.env);
  listeners.push(listener);
  const cluster = createTestCluster();
  started.push(cluster);
  await cluster.startWorkers(1, 'remote', { PLAYHOUSE_REMOTE_HOSTS: listener.ready.listen! });
  await playOneGame(cluster);
});

test('remote listeners and remote workers refuse public addresses unless allowed', async () => {
  await assert.rejects(startScript('worker-node', 'scripts/worker-node.ts', ['--host', '0.0.0.0', '--port', '0'], process.env), /refusing to listen on 0\.0\.0\.0/);
  const cluster = createTestCluster();
  await assert.rejects(cluster.startWorkers(1, 'remote', { PLAYHOUSE_REMOTE_HOSTS: '8.8.8.8:6161' }), /8\.8\.8\.8 is not a private address/);
});

test('a gateway that joined since the workers last heartbeat still gets its players’ pushes', async (t) => {
  if (!(await needRedis(t))) return;
  // Workers read the members only every 4 s here: the gateway below joins between two reads.
  const cluster = createTestCluster({ heartbeatMs: 4000, deadAfterMs: 12_000 });
  started.push(cluster);
  await cluster.startWorkers(2, 'forked');
  await playOneGame(cluster);
});
