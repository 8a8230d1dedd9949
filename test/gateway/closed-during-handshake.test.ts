/**
 * A connection that ends during its handshake is a drop like any other. A
 * client that sends a request right behind its Socket.IO CONNECT packet (before
 * the server's CONNECT reply) has its connection closed by Socket.IO while the
 * session is taking it: the session must still hear that it closed, so the
 * player goes away, keeps the seat for the grace period, then leaves, and the
 * session ends.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { PlayhouseClient, guestLogin, PROTOCOL_VERSION } from '@playhouse/client';
import { Device, RefusedHandshake } from '../support/raw-device';
import { startTestServer, stateWhere, type TestServer } from '../support/playhouse';
import { eventually } from '../support/services';

/** Long enough for the test to see every session held, short enough to wait out. */
const GRACE_MS = 1500;

let server: TestServer;
before(async () => {
  server = await startTestServer({ resume: { graceMs: GRACE_MS } });
});
after(() => server.stop());

/**
 * Opens an engine.io WebSocket, then sends the Socket.IO CONNECT packet and a request in the same breath,
 * as a hand-written client might. Resolves when the server has closed the connection; `frames` is what
 * it sent meanwhile.
 */
async function connectAndRequestAtOnce(token: string): Promise<{ frames: string[] }> {
  const ws = new WebSocket(`${server.url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`);
  const frames: string[] = [];
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    ws.once('error', reject);
    ws.once('message', (data) => {
      frames.push(String(data)); // the engine.io open packet: 0{"sid":…}
      resolve();
    });
  });
  ws.on('message', (data) => frames.push(String(data)));
  ws.send(`40${JSON.stringify({ token, protocol: PROTOCOL_VERSION })}`);
  ws.send(`420${JSON.stringify(['match:find', { actionId: 'early-1', game: 'connect-four' }])}`);
  await closed;
  return { frames };
}

async function sessionsAlive(): Promise<number> {
  return (await server.server.actors.stats()).actors.session;
}

test('a connection closed during its handshake replaces the old one, then the player goes away and leaves after the grace period', async () => {
  const aliceLogin = await guestLogin(server.url, 'Alice');
  const alice = await PlayhouseClient.connect({ url: server.url, token: aliceLogin.token, io: { transports: ['websocket'] } });
  const bob = await server.player('Bob');
  const { roomId } = await alice.findMatch('connect-four');
  assert.equal((await bob.findMatch('connect-four')).roomId, roomId);
  await stateWhere(bob, roomId, (state) => state.status === 'playing');

  const replaced = alice.waitFor('closed');
  const away = bob.waitFor('player', (change) => change.playerId === aliceLogin.playerId && change.change === 'away');
  const left = bob.waitFor('player', (change) => change.playerId === aliceLogin.playerId && change.change === 'left', 10_000);
  const { frames } = await connectAndRequestAtOnce(aliceLogin.token);
  assert.ok(!frames.some((frame) => frame.includes('session:ready')), `the connection was accepted: ${frames.join(' | ')}`);

  // The session took the new connection during the handshake: the old one was replaced...
  assert.equal((await replaced).code, 'session/replaced');
  // ...and the new one's close is a drop: away, the seat held for the grace period, then left.
  const wentAway = Date.now();
  await away;
  await left;
  assert.ok(Date.now() - wentAway >= GRACE_MS - 50, 'the seat was held for the grace period');
  const over = await stateWhere(bob, roomId, (state) => state.status === 'over');
  assert.equal(over.players.some((player) => player.playerId === aliceLogin.playerId), false);
  await eventually(async () => (await sessionsAlive()) === 1, "only Bob's session is left");
  alice.close();
});

test('many connections closed during their handshake leave no session behind', async () => {
  const sessionsBefore = await sessionsAlive();
  const metricsBefore = await sessionGauge();
  const logins = await Promise.all(Array.from({ length: 40 }, (_, i) => guestLogin(server.url, `Early${i}`)));
  await Promise.all(logins.map((login) => connectAndRequestAtOnce(login.token)));
  // Each session took its connection, so each holds its player for the grace period, then ends.
  await eventually(async () => (await sessionsAlive()) === sessionsBefore + logins.length, 'a session per connection, held');
  await eventually(async () => (await sessionsAlive()) === sessionsBefore, 'every session ended after its grace period');
  assert.equal(await sessionGauge(), metricsBefore, 'playhouse_sessions is back where it was');

  // The server still serves a well-behaved client with a token used that way.
  const client = await PlayhouseClient.connect({ url: server.url, token: logins[0]!.token, io: { transports: ['websocket'] } });
  assert.equal(client.playerId, logins[0]!.playerId);
  client.close();
});

async function sessionGauge(): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split('\n').find((row) => row.startsWith('playhouse_sessions '));
  assert.ok(line, 'playhouse_sessions is exported');
  return Number(line.split(' ')[1]);
}

test('a handshake whose resume is refused leaves no session behind', async () => {
  const login = await guestLogin(server.url, 'Stale');
  const first = await Device.connect(server.url, login.token);
  const sessionsBefore = await sessionsAlive();
  const goodbye = new Promise<void>((resolve) => first.socket.once('disconnect', () => resolve()));
  first.close(); // a goodbye: the session ends at once
  await goodbye;
  await eventually(async () => (await sessionsAlive()) === sessionsBefore - 1, 'the session ended with the goodbye');
  // Its resume token is genuine but no longer current: a new session is started, then refuses it.
  await assert.rejects(
    Device.connect(server.url, login.token, { token: first.ready.resumeToken, lastSeq: first.ready.seq }),
    (error: unknown) => error instanceof RefusedHandshake && error.body?.code === 'session/resume-refused',
  );
  await eventually(async () => (await sessionsAlive()) === sessionsBefore - 1, 'the session started for the refused handshake ended');
});
