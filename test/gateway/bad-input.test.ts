/**
 * Bad input of every kind gets a typed error (or, at the transport level, a
 * clean disconnect) and changes nothing; the server keeps serving everyone else.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SignJWT } from 'jose';
import { io, type Socket } from 'socket.io-client';
import WebSocket from 'ws';
import { PlayhouseClient, PlayhouseError, guestLogin, type ErrorMessage, type Reply } from '@playhouse/client';
import { startDuel, startTestServer, type TestServer } from '../support/playhouse';

let server: TestServer;
before(async () => {
  // A low per-message limit and flood threshold keep the test's payloads small.
  server = await startTestServer({ limits: { maxMessageBytes: 1024, maxFrameBytes: 16 * 1024, floodEventsPerSecond: 100, requestsPerSecond: 20, requestBurst: 40 } });
});
after(() => server.stop());

/** A raw Socket.IO client, free to send whatever it likes. */
async function rawSocket(auth?: object): Promise<Socket> {
  const token = (await guestLogin(server.url)).token;
  const socket = io(server.url, { auth: auth ?? { token, protocol: 1 }, transports: ['websocket'], reconnection: false });
  await new Promise<void>((resolve, reject) => {
    socket.once('session:ready', () => resolve());
    socket.once('connect_error', reject);
  });
  return socket;
}

function ackOf(socket: Socket, event: string, ...args: unknown[]): Promise<Reply> {
  return socket.timeout(5000).emitWithAck(event, ...args) as Promise<Reply>;
}

function errorCode(reply: Reply): string {
  assert.equal(reply.ok, false, `expected a refusal, got ${JSON.stringify(reply)}`);
  return (reply as { error: { code: string } }).error.code;
}

async function connectError(auth: object): Promise<{ code: string; message: string }> {
  const socket = io(server.url, { auth, transports: ['websocket'], reconnection: false });
  try {
    const error = await new Promise<Error & { data?: { code: string; message: string } }>((resolve, reject) => {
      socket.once('connect_error', resolve);
      socket.once('session:ready', () => reject(new Error('the handshake was accepted')));
    });
    assert.ok(error.data, `connect_error without data: ${error.message}`);
    return error.data;
  } finally {
    socket.close();
  }
}

function disconnected(socket: Socket): Promise<string> {
  return new Promise((resolve) => socket.once('disconnect', (reason) => resolve(reason)));
}

/** The server still plays a game for well-behaved players. */
async function assertStillServing(): Promise<void> {
  const duel = await startDuel(server);
  const state = await duel.drop(3);
  assert.equal(state.status, 'playing');
}

test('messages of the wrong shape are refused with protocol/bad-message', async () => {
  const socket = await rawSocket();
  try {
    const cases: unknown[] = [
      { actionId: 5, game: 'connect-four' }, // wrong type
      { actionId: 'a1' }, // missing field
      { actionId: 'a1', game: 'connect-four', admin: true }, // unknown key
      { actionId: 'a1', game: 'connect four!' }, // characters outside the id pattern
      { actionId: 'a1', game: 'x'.repeat(65) }, // too long
      { actionId: '', game: 'connect-four' }, // empty action id
      'connect-four',
      null,
      42,
      [{ actionId: 'a1', game: 'connect-four' }],
    ];
    for (const body of cases) assert.equal(errorCode(await ackOf(socket, 'match:find', body)), 'protocol/bad-message', JSON.stringify(body));
    const moves: unknown[] = [
      { actionId: 'm1', roomId: 'r', version: 'zero', move: 'drop', payload: { column: 1 } },
      { actionId: 'm1', roomId: 'r', version: -1, move: 'drop', payload: {} },
      { actionId: 'm1', roomId: 'r', version: 1.5, move: 'drop', payload: {} },
      { actionId: 'm1', roomId: ['r'], version: 0, move: 'drop', payload: {} },
      { actionId: 'm1', roomId: 'r', version: 0, move: '', payload: {} },
    ];
    for (const body of moves) assert.equal(errorCode(await ackOf(socket, 'room:move', body)), 'protocol/bad-message', JSON.stringify(body));
    // The refused requests did nothing: this player is not in any room.
    assert.equal(errorCode(await ackOf(socket, 'room:leave', { actionId: 'l1', roomId: 'connect-four.1.abcd' })), 'room/not-member');
  } finally {
    socket.close();
  }
});

test('requests without an acknowledgement, or with extra arguments, get protocol/ack-required', async () => {
  const socket = await rawSocket();
  try {
    const error = new Promise<ErrorMessage>((resolve) => socket.once('session:error', resolve));
    socket.emit('match:find', { actionId: 'a1', game: 'connect-four' });
    assert.equal((await error).code, 'protocol/ack-required');
    assert.equal((await error).event, 'match:find');
    assert.equal(errorCode(await ackOf(socket, 'match:find', { actionId: 'a2', game: 'connect-four' }, 'extra')), 'protocol/ack-required');
  } finally {
    socket.close();
  }
});

test('unknown events are refused with protocol/unknown-event, with or without an ack', async () => {
  const socket = await rawSocket();
  try {
    assert.equal(errorCode(await ackOf(socket, 'admin:grant-coins', { amount: 1e9 })), 'protocol/unknown-event');
    const error = new Promise<ErrorMessage>((resolve) => socket.once('session:error', resolve));
    socket.emit('room:teleport', { x: 1 });
    const received = await error;
    assert.equal(received.code, 'protocol/unknown-event');
    assert.equal(received.event, 'room:teleport');
    assert.ok(socket.connected);
  } finally {
    socket.close();
  }
});

test('a message over the size limit gets protocol/payload-too-large; a frame over the hard limit closes only that connection', async () => {
  const socket = await rawSocket();
  try {
    const big = { actionId: 'm1', roomId: 'r', version: 0, move: 'drop', payload: { junk: 'x'.repeat(2000) } };
    assert.equal(errorCode(await ackOf(socket, 'room:move', big)), 'protocol/payload-too-large');
    assert.ok(socket.connected);
    const gone = disconnected(socket);
    socket.emit('room:move', { ...big, payload: { junk: 'x'.repeat(40_000) } }, () => assert.fail('a huge frame was answered'));
    assert.equal(await gone, 'transport close');
  } finally {
    socket.close();
  }
  await assertStillServing();
});

test('junk bytes on the raw WebSocket close that connection and nothing else', async () => {
  const wsUrl = `${server.url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`;
  const junk: Array<string | Buffer> = ['garbage', '4{not json', '42["room:move",{', '40/../../etc/passwd,', Buffer.from([0xff, 0x00, 0x13, 0x37]), '9'.repeat(500)];
  for (const frame of junk) {
    const ws = new WebSocket(wsUrl);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.send(frame);
    assert.ok((await closed) > 0, `connection closed after ${String(frame).slice(0, 20)}`);
  }
  await assertStillServing();
});

test('a reserved Socket.IO event name from a client does not reach the session', async () => {
  const wsUrl = `${server.url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`;
  const token = (await guestLogin(server.url)).token;
  const ws = new WebSocket(wsUrl);
  const frames: string[] = [];
  ws.on('message', (data) => frames.push(String(data)));
  await new Promise((resolve) => ws.once('open', resolve));
  ws.send(`40${JSON.stringify({ token, protocol: 1 })}`);
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
  // Wait for the Socket.IO CONNECT reply and session:ready before misbehaving.
  while (!frames.some((frame) => frame.includes('session:ready'))) await new Promise((resolve) => ws.once('message', resolve));
  ws.send('42["disconnect","spoofed"]');
  await closed; // the parser refuses reserved names by closing the connection
  await assertStillServing();
});

test('a flood of messages is rate limited, then the connection is closed with session/flood', async () => {
  const login = await guestLogin(server.url);
  const client = await PlayhouseClient.connect({ url: server.url, token: login.token, io: { transports: ['websocket'] } });
  try {
    // Within the flood threshold: the session's token bucket answers rate/limited.
    const replies = await Promise.allSettled(Array.from({ length: 60 }, (_, i) => client.leave(`connect-four.${i}.abcd`)));
    const codes = replies.map((reply) => (reply.status === 'rejected' ? (reply.reason as PlayhouseError).code : 'ok'));
    const limited = replies.filter((reply) => reply.status === 'rejected' && (reply.reason as PlayhouseError).code === 'rate/limited');
    assert.ok(limited.length >= 15, `expected rate/limited past the burst of 40, got ${JSON.stringify(codes)}`);
    assert.ok((limited[0] as PromiseRejectedResult).reason.retryAfterMs > 0);
    // Far past it: the gateway cuts the connection off.
    const closed = client.waitFor('closed');
    const gone = client.waitFor('disconnected');
    for (let i = 0; i < 300; i++) client.socket.emit('room:leave', { actionId: `f${i}`, roomId: 'r' }, () => undefined);
    assert.equal((await closed).code, 'session/flood');
    await gone;
  } finally {
    client.close();
  }
  await assertStillServing();
});

test('forged, tampered, missing or foreign-version tokens are refused at the handshake', async () => {
  const real = await guestLogin(server.url, 'Real');
  const forged = await new SignJWT({ name: 'Mallory' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(real.playerId)
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode('not-the-server-secret-not-the-server-secret'));
  assert.equal((await connectError({ token: forged, protocol: 1 })).code, 'auth/invalid-token');

  // Swap the subject inside a genuine token: the signature no longer matches.
  const [header, payload, signature] = real.token.split('.');
  const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
  const tampered = [header, Buffer.from(JSON.stringify({ ...claims, sub: 'g-someone-else' })).toString('base64url'), signature].join('.');
  assert.equal((await connectError({ token: tampered, protocol: 1 })).code, 'auth/invalid-token');

  const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${payload}.`;
  assert.equal((await connectError({ token: unsigned, protocol: 1 })).code, 'auth/invalid-token');
  assert.equal((await connectError({ token: 'not-a-jwt', protocol: 1 })).code, 'auth/invalid-token');
  assert.equal((await connectError({ protocol: 1 })).code, 'auth/missing-token');
  assert.equal((await connectError({ token: real.token, protocol: 99 })).code, 'protocol/version-unsupported');
  assert.equal((await connectError({ token: real.token })).code, 'protocol/bad-message');

  // The genuine token still works, and names its own player only.
  const client = await PlayhouseClient.connect({ url: server.url, token: real.token, io: { transports: ['websocket'] } });
  assert.equal(client.playerId, real.playerId);
  client.close();
});

test('guest login refuses malformed bodies with auth/bad-request', async () => {
  const post = (body: string) => fetch(`${server.url}/v1/auth/guest`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  for (const body of ['{not json', '{"name": 12}', '{"name":"ok","admin":true}']) {
    const response = await post(body);
    assert.equal(response.status, 400, body);
    assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'auth/bad-request');
  }
  // A well-formed body whose name is refused has a code of its own (display-names.test.ts has every rule).
  for (const body of ['{"name": ""}', `{"name": "${'x'.repeat(40)}"}`]) {
    const response = await post(body);
    assert.equal(response.status, 400, body);
    assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'auth/invalid-name');
  }
  const huge = await post(JSON.stringify({ name: 'x'.repeat(5000) }));
  assert.equal(huge.status, 413);
  await assert.rejects(guestLogin(server.url, ''), (error: unknown) => error instanceof PlayhouseError && error.code === 'auth/invalid-name');
});

/** A raw engine.io WebSocket, opened (its open packet read); `frames` collects what the server sends after it. */
async function rawEngine(): Promise<{ ws: WebSocket; frames: string[]; next(match: (frame: string) => boolean): Promise<string> }> {
  const ws = new WebSocket(`${server.url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`);
  const frames: string[] = [];
  const waiters: Array<() => void> = [];
  await new Promise((resolve, reject) => {
    ws.once('message', resolve);
    ws.once('error', reject);
  });
  ws.on('message', (data) => {
    frames.push(String(data));
    for (const wake of waiters.splice(0)) wake();
  });
  ws.on('close', () => {
    for (const wake of waiters.splice(0)) wake();
  });
  return {
    ws,
    frames,
    async next(match) {
      for (;;) {
        const found = frames.find(match);
        if (found !== undefined) return found;
        if (ws.readyState !== WebSocket.OPEN) throw new Error(`closed; received ${JSON.stringify(frames)}`);
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
  };
}

test('a handshake whose auth is not an object (null, an array, a string, a number) is refused with auth/missing-token', async () => {
  for (const auth of ['null', '[]', '["token"]', '"eyJhbGciOiJIUzI1NiJ9"', '42']) {
    const raw = await rawEngine();
    raw.ws.send(`40${auth}`);
    const refused = await raw.next((frame) => frame.startsWith('44'));
    assert.equal((JSON.parse(refused.slice(2)) as { data: { code: string } }).data.code, 'auth/missing-token', auth);
    assert.equal(raw.ws.readyState, WebSocket.OPEN, `${auth}: the connection stays open for another try`);
    raw.ws.close();
  }
  await assertStillServing();
});

test('a request whose ack id is not a safe integer is refused as one without an ack; nothing invalid is sent back', async () => {
  const token = (await guestLogin(server.url)).token;
  const raw = await rawEngine();
  raw.ws.send(`40${JSON.stringify({ token, protocol: 1 })}`);
  await raw.next((frame) => frame.includes('session:ready'));
  for (const id of ['9'.repeat(400), '9007199254740993']) {
    raw.frames.length = 0;
    raw.ws.send(`42${id}${JSON.stringify(['match:find', { actionId: `big-${id.length}`, game: 'connect-four' }])}`);
    const refused = await raw.next((frame) => frame.startsWith('42["session:error"'));
    const [, error] = JSON.parse(refused.slice(2)) as [string, ErrorMessage];
    assert.equal(error.code, 'protocol/ack-required');
    assert.equal(error.event, 'match:find');
    assert.ok(!raw.frames.some((frame) => frame.startsWith('43')), `no acknowledgement was sent: ${raw.frames.join(' | ')}`);
  }
  // The largest safe id is answered through its ack; the refused finds did nothing (the player is in no room).
  raw.ws.send(`429007199254740991${JSON.stringify(['room:leave', { actionId: 'safe', roomId: 'connect-four.1.abcd' }])}`);
  const answered = await raw.next((frame) => frame.startsWith('439007199254740991['));
  assert.equal(errorCode((JSON.parse(answered.slice('439007199254740991'.length)) as [Reply])[0]), 'room/not-member');
  raw.ws.close();
});

test('a request nested too deeply to be read is refused with protocol/bad-message', async () => {
  const token = (await guestLogin(server.url)).token;
  const raw = await rawEngine();
  raw.ws.send(`40${JSON.stringify({ token, protocol: 1 })}`);
  await raw.next((frame) => frame.includes('session:ready'));
  // 7,000 levels: within this server's frame limit (16 KiB), deeper than JSON.stringify can follow.
  const deep = `${'['.repeat(7000)}${']'.repeat(7000)}`;
  raw.ws.send(`427["room:move",{"actionId":"deep","roomId":"r","version":0,"move":"drop","payload":${deep}}]`);
  const answered = await raw.next((frame) => frame.startsWith('437['));
  const [reply] = JSON.parse(answered.slice(3)) as [Reply];
  assert.deepEqual(reply, { ok: false, error: { code: 'protocol/bad-message', message: 'room:move: nested too deeply to be read' } });
  assert.equal(raw.ws.readyState, WebSocket.OPEN);
  raw.ws.close();
  await assertStillServing();
});
