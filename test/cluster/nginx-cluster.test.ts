/**
 * Real nginx (Debian's package, our config) in front of two gateways of a real
 * cluster: players log in and play a whole game through the one address, one
 * of them over HTTP long-polling, which only works if nginx keeps each
 * client's requests on one gateway.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { guestLogin, PlayhouseClient } from '@playhouse/client';
import { createTestCluster, type TestCluster } from '../support/cluster';
import { startNginx, type RunningNginx } from '../support/nginx';
import { stateWhere } from '../support/playhouse';
import { needRedis } from '../support/services';

let cluster: TestCluster | undefined;
let nginx: RunningNginx | undefined;
const clients: PlayhouseClient[] = [];
after(async () => {
  for (const client of clients) client.close();
  await nginx?.stop();
  await cluster?.stop();
});

async function playerThroughNginx(url: string, name: string, transport: 'polling' | 'websocket'): Promise<PlayhouseClient> {
  const login = await guestLogin(url, name);
  // `phlb` is the stickiness key nginx hashes (see infra/nginx/): one random key per client.
  const client = await PlayhouseClient.connect({ url, token: login.token, io: { transports: [transport], query: { phlb: randomBytes(8).toString('hex') } } });
  clients.push(client);
  return client;
}

test('two players play a whole game through nginx in front of two gateways, one of them long-polling', async (t) => {
  if (!(await needRedis(t))) return;
  cluster = createTestCluster();
  await cluster.startWorkers(2, 'forked');
  const gateways = [await cluster.startGateway(), await cluster.startGateway()];
  nginx = await startNginx({ gateways: gateways.map((gateway) => new URL(gateway.url).host) });

  const poller = await playerThroughNginx(nginx.url, 'Poller', 'polling');
  const socketeer = await playerThroughNginx(nginx.url, 'Socketeer', 'websocket');
  const seat = await poller.findMatch('connect-four');
  assert.equal((await socketeer.findMatch('connect-four')).roomId, seat.roomId);
  const [playing] = await Promise.all([poller, socketeer].map((client) => stateWhere(client, seat.roomId, (state) => state.status === 'playing')));
  const first = (playing!.view as { currentPlayer: string }).currentPlayer === poller.playerId ? poller : socketeer;
  const second = first === poller ? socketeer : poller;
  for (const [mover, column] of [[first, 0], [second, 1], [first, 0], [second, 1], [first, 0], [second, 1], [first, 0]] as const) {
    const accepted = await mover.move(seat.roomId, 'drop', { column });
    await stateWhere(mover === first ? second : first, seat.roomId, (state) => state.version >= accepted.version);
  }
  const final = poller.state(seat.roomId)!;
  assert.equal(final.status, 'over');
  assert.deepEqual(final.outcome?.winners, [first.playerId]);

  // Both clients are connected through the gateways (nginx spread them by their keys; they may share one).
  let connected = 0;
  for (const gateway of gateways) {
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    connected += Number(/^playhouse_connected_clients (\d+)$/m.exec(metrics)?.[1] ?? 0);
  }
  assert.equal(connected, 2);
});
