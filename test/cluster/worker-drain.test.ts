/**
 * A worker process stopped with SIGTERM drains: placement skips it at once,
 * the game it holds plays on until the drain timeout, then its players are
 * told to move (`server/shutting-down`), it leaves the cluster and exits 0;
 * they connect again and play on a worker that stayed.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { guestLogin, PlayhouseClient } from '../../protocol/client';
import { createTestCluster, type TestCluster } from '../support/cluster';
import { startDuel, stateWhere } from '../support/playhouse';
import { eventually, needRedis } from '../support/services';

let cluster: TestCluster | undefined;
after(() => cluster?.stop());

/** The gateway's view of which worker slots hold how many actors of `kind`, from its /metrics. */
async function actorsBySlot(gatewayUrl: string, kind: 'session' | 'room'): Promise<Map<string, number>> {
  const text = await (await fetch(new URL('/metrics', gatewayUrl))).text();
  const counts = new Map<string, number>();
  for (const match of text.matchAll(/^playhouse_cluster_node_actors\{([^}]*)\} (\d+)/gm)) {
    const labels = Object.fromEntries([...match[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (labels.kind === kind) counts.set(labels.slot!, (counts.get(labels.slot!) ?? 0) + Number(match[2]));
  }
  return counts;
}

/** A `player` for startDuel that hands out already connected clients, in order. */
function inOrder(clients: readonly PlayhouseClient[]): () => Promise<PlayhouseClient> {
  let next = 0;
  return async () => clients[next++]!;
}

test('a worker drained with SIGTERM finishes its game, sends its players elsewhere, then exits', async (t) => {
  if (!(await needRedis(t))) return;
  cluster = createTestCluster({ drainTimeoutMs: 6000 });
  const leaving = await cluster.startWorkers(1, 'forked');
  const leavingSlot = leaving.ready.workers!;
  const gateway = await cluster.startGateway();
  const logins = await Promise.all([guestLogin(gateway.url, 'First'), guestLogin(gateway.url, 'Second')]);
  // The test connects the players again itself (the SDK would do it on its own; here each step is checked).
  const connect = (token: string) => PlayhouseClient.connect({ url: gateway.url, token, reconnect: false, io: { transports: ['websocket'] } });
  const clients = await Promise.all(logins.map((login) => connect(login.token)));
  const duel = await startDuel({ player: inOrder(clients) });
  const staying = await cluster.startWorkers(1, 'forked');
  const stayingSlot = staying.ready.workers!;
  await eventually(async () => ((await actorsBySlot(gateway.url, 'session')).has(stayingSlot) ? true : undefined), 'the gateway sees the second worker');

  const told = duel.players.map((client) => client.waitFor('closed', () => true, 20_000));
  leaving.kill('SIGTERM');
  // Draining: new players go to the worker that stays; the running game plays on meanwhile.
  const newcomer = await cluster.player(gateway, 'Newcomer');
  await eventually(async () => (((await actorsBySlot(gateway.url, 'session')).get(stayingSlot) ?? 0) > 0 ? true : undefined), 'the newcomer placed on the staying worker');
  newcomer.close();
  for (const column of [0, 1, 0, 1, 0, 1]) await duel.drop(column);
  const final = await duel.drop(0);
  assert.equal(final.status, 'over', 'the game in the draining worker was played to its end');

  for (const closed of await Promise.all(told)) assert.equal(closed.code, 'server/shutting-down');
  assert.equal(await leaving.exited, 0, 'the drained worker process exits cleanly');
  assert.equal((await actorsBySlot(gateway.url, 'session')).get(leavingSlot) ?? 0, 0, 'the drained worker left the cluster');

  // The same players connect again: new sessions on the staying worker, and a new game.
  const back = await Promise.all(logins.map((login) => connect(login.token)));
  try {
    const again = await startDuel({ player: inOrder(back) });
    const moved = await again.drop(3);
    await Promise.all(again.players.map((client) => stateWhere(client, again.roomId, (s) => s.version >= moved.version)));
  } finally {
    for (const client of [...back, ...duel.players]) client.close();
  }
});
