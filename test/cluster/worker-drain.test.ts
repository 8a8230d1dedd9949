/**
 * A worker process stopped with SIGTERM in a cluster hands over what it
 * holds: placement skips it at once, its room writes its state and stops,
 * its players' sessions save what a resume needs and tell the devices to
 * connect again (`server/shutting-down`); it leaves the cluster and exits 0;
 * the devices resume on the worker that stays and play the same game on,
 * with every move kept. Nothing waits for the game to end.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { guestLogin, PlayhouseClient } from '@playhouse/client';
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

test('a worker drained with SIGTERM hands its game over: its players resume on the worker that stays and play the same game on', async (t) => {
  if (!(await needRedis(t))) return;
  // A drain timeout far longer than the test: nothing may wait for the game to end.
  cluster = createTestCluster({ drainTimeoutMs: 60_000 });
  const leaving = await cluster.startWorkers(1, 'forked');
  const leavingSlot = leaving.ready.workers!;
  const gateway = await cluster.startGateway();
  const logins = await Promise.all([guestLogin(gateway.url, 'First'), guestLogin(gateway.url, 'Second')]);
  const clients = await Promise.all(
    logins.map((login) => PlayhouseClient.connect({ url: gateway.url, token: login.token, reconnect: { initialDelayMs: 50, maxDelayMs: 500 }, io: { transports: ['websocket'] } })),
  );
  t.after(() => clients.forEach((client) => client.close()));
  const duel = await startDuel({ player: inOrder(clients) });
  for (const column of [0, 1, 0]) await duel.drop(column);
  const before = await duel.drop(1);
  const staying = await cluster.startWorkers(1, 'forked');
  const stayingSlot = staying.ready.workers!;
  await eventually(async () => ((await actorsBySlot(gateway.url, 'session')).has(stayingSlot) ? true : undefined), 'the gateway sees the second worker');

  const told = duel.players.map((client) => client.waitFor('disconnected', () => true, 20_000));
  const resumed = duel.players.map((client) => client.waitFor('connection', (event) => event.state === 'connected', 20_000));
  leaving.kill('SIGTERM');
  // Draining: new players go to the worker that stays.
  const newcomer = await cluster.player(gateway, 'Newcomer');
  await eventually(async () => (((await actorsBySlot(gateway.url, 'session')).get(stayingSlot) ?? 0) > 0 ? true : undefined), 'the newcomer placed on the staying worker');
  newcomer.close();

  await Promise.all(told);
  for (const event of await Promise.all(resumed)) assert.equal(event.resumed, 'snapshot', 'each device resumed its session (taken up from its saved record), not a fresh one');
  assert.equal(await leaving.exited, 0, 'the drained worker process exits cleanly');
  assert.equal((await actorsBySlot(gateway.url, 'session')).get(leavingSlot) ?? 0, 0, 'the drained worker left the cluster');

  // The same game goes on where it was: every move kept, and it plays to its end.
  const moved = await Promise.all(duel.players.map((client) => stateWhere(client, duel.roomId, (s) => s.version >= before.version)));
  for (const state of moved) assert.deepEqual(state.view, before.view, 'the room was taken up with every move');
  for (const column of [0, 1]) await duel.drop(column);
  const final = await duel.drop(0);
  assert.equal(final.status, 'over', 'the handed-over game was played to its end');
  await eventually(async () => ((await actorsBySlot(gateway.url, 'room')).get(stayingSlot) === 1 ? true : undefined), 'the room on the worker that stayed');
});
