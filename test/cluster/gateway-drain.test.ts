/**
 * A gateway stopped with SIGTERM drains: /healthz turns 503, its clients are
 * told to move (`server/shutting-down`), and — since sessions live on the
 * workers — they reconnect through another gateway and play on in the same
 * room, seat and state intact.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { guestLogin, PlayhouseClient } from '@playhouse/client';
import { createTestCluster, type TestCluster } from '../support/cluster';
import { stateWhere } from '../support/playhouse';
import { needRedis } from '../support/services';

let cluster: TestCluster | undefined;
after(() => cluster?.stop());

test('a gateway drained with SIGTERM: its clients reconnect elsewhere and finish their game', async (t) => {
  if (!(await needRedis(t))) return;
  cluster = createTestCluster({ drainTimeoutMs: 20_000 });
  await cluster.startWorkers(2, 'threaded');
  const leaving = await cluster.startGateway();
  const staying = await cluster.startGateway();
  const login = await guestLogin(leaving.url, 'Mover');
  const mover = await PlayhouseClient.connect({ url: leaving.url, token: login.token, io: { transports: ['websocket'] } });
  const other = await cluster.player(staying, 'Stayer');
  const seat = await mover.findMatch('connect-four');
  await other.findMatch('connect-four');
  await stateWhere(other, seat.roomId, (state) => state.status === 'playing');
  const playing = await stateWhere(mover, seat.roomId, (state) => state.status === 'playing');
  const first = (playing.view as { currentPlayer: string }).currentPlayer === mover.playerId ? mover : other;
  const played = await first.move(seat.roomId, 'drop', { column: 2 });

  const told = mover.waitFor('closed');
  leaving.kill('SIGTERM');
  assert.equal((await told).code, 'server/shutting-down');
  assert.equal(await leaving.exited, 0, 'the drained gateway exits cleanly');

  // The same player (same token) comes back through the other gateway: same session, same seat, same game.
  const back = await PlayhouseClient.connect({ url: staying.url, token: login.token, io: { transports: ['websocket'] } });
  try {
    assert.deepEqual(back.session.rooms, [seat.roomId], 'the session kept the seat');
    const state = await stateWhere(back, seat.roomId, (s) => s.version >= played.version);
    assert.equal(state.status, 'playing');
    const next = (state.view as { currentPlayer: string }).currentPlayer === back.playerId ? back : other;
    const moved = await next.move(seat.roomId, 'drop', { column: 4 });
    await stateWhere(next === back ? other : back, seat.roomId, (s) => s.version >= moved.version);
  } finally {
    back.close();
    mover.close();
  }
});
