/**
 * The SDK's side of resume: its own reconnection loop (backoff with jitter,
 * `connection` events), requests that survive a drop (re-sent with the same
 * actionId, queued while offline up to a bound, refused loudly past it), the
 * end of it all (close, maxAttempts, a final session:closed), and numbered
 * messages (duplicates dropped, cumulative acks batched).
 *
 * Real server, real sockets. "Offline" is made either by killing the
 * client's transport (`engine.close()`, like a phone losing its network) or by
 * a TCP proxy in front of the server that cuts every connection and refuses
 * new ones until it is switched back on.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Socket as NetSocket } from 'node:net';
import { after, test } from 'node:test';
import {
  guestLogin,
  PlayhouseClient,
  PlayhouseError,
  reconnectDelay,
  type ClientOptions,
  type ConnectionEvent,
  type DroppedRequest,
  type ErrorMessage,
  type RoomStateMessage,
} from '@playhouse/client';
import { startTestServer, stateWhere, useTestServer } from '../support/playhouse';

const opened: PlayhouseClient[] = [];
// Registered before the server's own hook: clients close first, so none starts reconnecting to a stopped server.
after(() => {
  for (const client of opened) client.close();
});
const testServer = useTestServer();

/** Fast reconnection for tests: the first attempt within 20 ms, never more than 200 ms apart. */
const FAST = { initialDelayMs: 20, maxDelayMs: 200 } as const;
const WAIT_MS = 10_000;

async function player(url: string, options: Partial<ClientOptions> = {}, token?: string, loginUrl = url): Promise<PlayhouseClient> {
  const login = token ?? (await guestLogin(loginUrl)).token;
  const client = await PlayhouseClient.connect({ url, token: login, io: { transports: ['websocket'] }, reconnect: FAST, ...options });
  opened.push(client);
  return client;
}

function connectionEvents(client: PlayhouseClient): ConnectionEvent[] {
  const events: ConnectionEvent[] = [];
  client.on('connection', (event) => events.push(event));
  return events;
}

function whenState(client: PlayhouseClient, state: ConnectionEvent['state']): Promise<ConnectionEvent> {
  return client.waitFor('connection', (event) => event.state === state, WAIT_MS);
}

/** A device losing its network: the transport dies without a goodbye. */
function dropTransport(client: PlayhouseClient): void {
  client.socket.io.engine.close();
}

function isCode(code: string): (error: unknown) => boolean {
  return (error) => error instanceof PlayhouseError && error.code === code;
}

/** A TCP proxy that can cut every connection and refuse new ones (down), then forward again (up). */
async function startProxy(targetUrl: string) {
  let target = new URL(targetUrl);
  let down = false;
  const sockets = new Set<NetSocket>();
  const server = createServer((client) => {
    if (down) return void client.destroy();
    const upstream = connect(Number(target.port), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
    }
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    down() {
      down = true;
      for (const socket of sockets) socket.destroy();
    },
    up() {
      down = false;
    },
    /** Forward new connections to another server, at the same address for clients. */
    retarget(url: string) {
      target = new URL(url);
    },
    close() {
      down = true;
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// ---- Backoff -------------------------------------------------------------

test('reconnectDelay: the ceiling doubles from initialDelayMs up to maxDelayMs, and the delay is jittered below it', () => {
  const top = () => 1;
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8].map((attempt) => reconnectDelay(attempt, {}, top)), [200, 400, 800, 1600, 3200, 6400, 10_000, 10_000]);
  assert.deepEqual([1, 2, 3, 4].map((attempt) => reconnectDelay(attempt, { initialDelayMs: 50, maxDelayMs: 300 }, top)), [50, 100, 200, 300]);
  assert.equal(reconnectDelay(1_000, {}, top), 10_000, 'no overflow far into the attempts');
  // Full jitter: uniform between 0 and the ceiling.
  assert.equal(reconnectDelay(3, {}, () => 0), 0);
  assert.equal(reconnectDelay(3, {}, () => 0.5), 400);
  const samples = Array.from({ length: 200 }, () => reconnectDelay(4));
  assert.ok(samples.every((delay) => delay >= 0 && delay <= 1600), 'always within [0, ceiling]');
  assert.ok(new Set(samples).size > 20, 'clients dropped together do not come back together');
  const mean = (attempt: number) => Array.from({ length: 400 }, () => reconnectDelay(attempt)).reduce((a, b) => a + b, 0) / 400;
  assert.ok(mean(1) < mean(4) && mean(4) < mean(7), 'delays grow with the attempts');
});

// ---- Drop and comeback ---------------------------------------------------

test('a dropped connection comes back by itself: disconnected, reconnecting, connected (resumed), and the client plays on', async () => {
  const client = await player(testServer().url);
  const events = connectionEvents(client);
  const firstReady = client.session;
  const disconnected = client.waitFor('disconnected', undefined, WAIT_MS);
  const back = whenState(client, 'connected');
  const reconnecting = whenState(client, 'reconnecting');
  dropTransport(client);
  await disconnected;
  await reconnecting;
  const connected = await back;

  assert.equal(client.connectionState, 'connected');
  assert.deepEqual(
    events.map((event) => [event.state, event.attempt]),
    [
      ['reconnecting', 1],
      ['connected', 1],
    ],
  );
  assert.equal(typeof events[0]!.reason, 'string');
  assert.equal(connected.resumed, 'replay', 'the session was resumed');
  assert.equal(client.session.resumed, 'replay', 'session returns the latest session:ready');
  assert.notEqual(client.session.resumeToken, firstReady.resumeToken, 'the resume token is rotated on every connection');
  assert.equal(client.playerId, firstReady.playerId);
  const seat = await client.findMatch('connect-four');
  assert.equal(typeof seat.roomId, 'string');
});

test('a request in flight when the connection drops is sent again after the comeback, with the same actionId, and answered once', async () => {
  const client = await player(testServer().url);
  const sent: string[] = [];
  client.socket.onAnyOutgoing((event: string, request: { actionId?: string }) => {
    if (event === 'match:find' && request.actionId) sent.push(request.actionId);
  });
  const found = client.findMatch('connect-four');
  dropTransport(client); // the request is on the wire, its answer is not
  const seat = await found;
  assert.equal(typeof seat.roomId, 'string');
  assert.equal(sent.length, 2, 'sent on the first connection, then once more on the next');
  assert.equal(sent[0], sent[1], 'the retry carries the same actionId');
  // The server applied it once (a second application would have answered match/already-in-room); the seat holds.
  await assert.rejects(client.findMatch('connect-four'), isCode('match/already-in-room'));
});

test('offline, requests queue up to maxQueuedActions; past it they are refused with client/queue-full and a dropped event; the queue is sent in order on comeback', async () => {
  const proxy = await startProxy(testServer().url);
  try {
    const client = await player(proxy.url, { maxQueuedActions: 2 }, undefined, testServer().url);
    const dropped: DroppedRequest[] = [];
    client.on('dropped', (event) => dropped.push(event));
    const offline = whenState(client, 'reconnecting');
    proxy.down();
    await offline;

    const first = client.findMatch('connect-four');
    const second = client.findMatch('connect-four');
    const third = client.findMatch('arena');
    await assert.rejects(third, isCode('client/queue-full'));
    assert.equal(dropped.length, 1);
    assert.equal(dropped[0]!.event, 'match:find');
    assert.ok(dropped[0]!.error instanceof PlayhouseError && dropped[0]!.error.code === 'client/queue-full');
    assert.deepEqual((dropped[0]!.request as { game: string }).game, 'arena', 'the dropped event names the refused request');
    assert.equal(client.connectionState, 'reconnecting', 'still offline: the refusal did not wait for the network');

    const back = whenState(client, 'connected');
    proxy.up();
    await back;
    // Sent in call order: the first seats the player, so the second finds it already seated.
    const seat = await first;
    await assert.rejects(second, isCode('match/already-in-room'));
    assert.equal(typeof seat.roomId, 'string');
    assert.equal(dropped.length, 1, 'nothing else was dropped');
  } finally {
    await proxy.close();
  }
});

test('a request that gets no answer within ackTimeoutMs of the call rejects with client/timeout and is reported as dropped', async () => {
  const proxy = await startProxy(testServer().url);
  try {
    const client = await player(proxy.url, { ackTimeoutMs: 300 }, undefined, testServer().url);
    const offline = whenState(client, 'reconnecting');
    proxy.down();
    await offline;
    const dropped = client.waitFor('dropped', undefined, WAIT_MS);
    await assert.rejects(client.findMatch('connect-four'), isCode('client/timeout'));
    const event = await dropped;
    assert.equal(event.event, 'match:find');
    assert.equal(event.error.code, 'client/timeout');
    assert.equal(client.connectionState, 'reconnecting', 'a timed-out request does not end the reconnection');
  } finally {
    await proxy.close();
  }
});

// ---- The end of reconnection -----------------------------------------------

test('close() while reconnecting stops for good and rejects every pending and queued request with client/disconnected', async () => {
  const proxy = await startProxy(testServer().url);
  try {
    const client = await player(proxy.url, {}, undefined, testServer().url);
    const events = connectionEvents(client);
    const inFlight = client.findMatch('connect-four');
    const offline = whenState(client, 'reconnecting');
    proxy.down();
    await offline;
    const queued = client.findMatch('arena');
    // Let a few attempts fail: the loop is running.
    await client.waitFor('connection', (event) => event.state === 'reconnecting' && (event.attempt ?? 0) >= 3, WAIT_MS);

    client.close();
    await assert.rejects(inFlight, isCode('client/disconnected'));
    await assert.rejects(queued, isCode('client/disconnected'));
    assert.equal(client.connectionState, 'closed');
    assert.equal(client.socket.active, false, 'no socket left to reconnect');
    assert.deepEqual(events.at(-1), { state: 'closed', reason: 'closed by the client' });
    const count = events.length;
    await assert.rejects(client.findMatch('connect-four'), isCode('client/disconnected'));

    // The proxy forwards again: a closed client stays closed (the next attempt would have been due long ago).
    proxy.up();
    const other = await player(proxy.url, {}, undefined, testServer().url);
    await other.findMatch('connect-four').catch(() => undefined);
    assert.equal(events.length, count, 'no connection event after close()');
    assert.equal(client.connectionState, 'closed');
  } finally {
    await proxy.close();
  }
});

test('after maxAttempts failed attempts the client closes and rejects what was queued', async () => {
  const proxy = await startProxy(testServer().url);
  try {
    const client = await player(proxy.url, { reconnect: { initialDelayMs: 5, maxDelayMs: 20, maxAttempts: 3 } }, undefined, testServer().url);
    const events = connectionEvents(client);
    const closed = whenState(client, 'closed');
    proxy.down();
    await whenState(client, 'reconnecting');
    const queued = client.findMatch('connect-four');
    const end = await closed;
    await assert.rejects(queued, isCode('client/disconnected'));
    assert.match(end.reason ?? '', /gave up after 3 attempts/);
    assert.deepEqual(
      events.map((event) => [event.state, event.attempt]),
      [
        ['reconnecting', 1],
        ['reconnecting', 2],
        ['reconnecting', 3],
        ['closed', undefined],
      ],
    );
  } finally {
    await proxy.close();
  }
});

test('reconnect: false — a drop closes the client, as before', async () => {
  const client = await player(testServer().url, { reconnect: false });
  const events = connectionEvents(client);
  const pending = assert.rejects(client.findMatch('connect-four'), isCode('client/disconnected'));
  const closed = whenState(client, 'closed');
  dropTransport(client);
  await closed;
  await pending;
  assert.equal(client.connectionState, 'closed');
  await assert.rejects(client.findMatch('connect-four'), isCode('client/disconnected'));
  assert.deepEqual(
    events.map((event) => event.state),
    ['closed'],
  );
});

test('session/replaced is final: the replaced device does not reconnect (it would only take the seat back)', async () => {
  const login = await guestLogin(testServer().url, 'Twice');
  const phone = await player(testServer().url, {}, login.token);
  const events = connectionEvents(phone);
  const closed = phone.waitFor('closed', undefined, WAIT_MS);
  const ended = whenState(phone, 'closed');
  const tablet = await player(testServer().url, {}, login.token);
  assert.equal((await closed).code, 'session/replaced');
  assert.equal((await ended).reason, 'session/replaced');
  assert.deepEqual(
    events.map((event) => event.state),
    ['closed'],
    'no reconnection attempt',
  );
  assert.equal(tablet.connectionState, 'connected');
  await tablet.findMatch('connect-four');
});

test('a server shutting down: the client reconnects to its replacement, is refused the resume, tells the game and starts fresh', async () => {
  // Both servers share the token secret, as the gateways of a cluster do: the player's token stays valid.
  const secret = randomBytes(32).toString('base64url');
  const old = await startTestServer({ auth: { secret } });
  const proxy = await startProxy(old.url);
  let replacement: Awaited<ReturnType<typeof startTestServer>> | undefined;
  try {
    const client = await player(proxy.url, {}, undefined, old.url);
    await client.findMatch('connect-four');
    const events = connectionEvents(client);
    const errors: ErrorMessage[] = [];
    client.on('error', (error) => errors.push(error));
    const told = client.waitFor('closed', undefined, WAIT_MS);
    const reconnecting = whenState(client, 'reconnecting');
    await old.stop();
    assert.equal((await told).code, 'server/shutting-down');
    assert.equal((await reconnecting).reason, 'server/shutting-down');

    replacement = await startTestServer({ auth: { secret } });
    const back = whenState(client, 'connected');
    proxy.retarget(replacement.url);
    const connected = await back;
    assert.equal(connected.resumed, 'fresh', 'the new server knows nothing of the old session');
    assert.deepEqual(
      errors.map((error) => error.code),
      ['session/resume-refused'],
      'the resume was tried, and its refusal reported',
    );
    assert.ok(events.some((event) => event.state === 'reconnecting' && event.reason === 'session/resume-refused'));
    assert.deepEqual(client.session.rooms, []);
    await client.findMatch('connect-four');
  } finally {
    await proxy.close();
    await replacement?.stop();
  }
});

// ---- Numbered messages -----------------------------------------------------

test('numbered messages at or below the last seq are dropped as duplicates; unnumbered ones pass; older versions are still ignored', async () => {
  const client = await player(testServer().url);
  const states: RoomStateMessage[] = [];
  const errors: ErrorMessage[] = [];
  client.on('state', (state) => states.push(state));
  client.on('error', (error) => errors.push(error));
  // Feed the socket's own listeners, as if these came off the wire.
  const state = (version: number, seq: number) => {
    const message: RoomStateMessage = { roomId: 'fake.room', game: 'connect-four', version, status: 'playing', gameNumber: 1, players: [], view: {}, outcome: null };
    for (const listener of client.socket.listeners('room:state')) listener(message, seq);
  };
  const error = (seq?: number) => {
    for (const listener of client.socket.listeners('session:error')) listener({ code: 'room/lost', message: 'gone', roomId: 'fake.room' }, seq);
  };
  const base = client.session.seq; // numbering goes on from the session's (a gap would make the SDK resume)
  state(5, base + 1);
  state(6, base + 1); // a duplicate of seq base+1
  state(4, base + 2); // new seq, older version
  state(7, base + 3);
  state(8, base); // replayed twice
  error(); // a refusal at the wire: not numbered
  error(base + 3);
  error(base + 4);
  assert.deepEqual(
    states.map((s) => s.version),
    [5, 7],
  );
  assert.equal(client.state('fake.room')?.version, 7);
  assert.equal(errors.length, 2);
  client.close();
});

test('a numbered message that never arrived: the SDK resumes at once and the server sends what it missed, in order', async () => {
  const client = await player(testServer().url);
  const { roomId } = await client.findMatch('connect-four');
  await stateWhere(client, roomId, () => true);
  const players: string[] = [];
  client.on('player', (change) => players.push(change.playerId));
  const resumed = whenState(client, 'connected');
  // A message two ahead of the last one: the one between was lost on its way (as a push is while a cluster's Redis is away).
  const gap = client.session.seq + 1000;
  for (const listener of client.socket.listeners('room:player')) listener({ roomId, playerId: 'from-the-future', change: 'joined' }, gap);
  const connected = await resumed;
  assert.equal(connected.resumed, 'replay', 'resumed from the last seq received');
  assert.deepEqual(players, [], 'the message after the gap was not handed to the game');
  // A real push after the resume arrives as usual.
  const opponent = await player(testServer().url);
  await opponent.findMatch('connect-four');
  await stateWhere(client, roomId, (state) => state.status === 'playing');
  client.close();
  opponent.close();
});

test('acknowledgements are cumulative and batched: at once after 32 messages, otherwise shortly after the first unacknowledged one', async () => {
  // The defaults are sparser (64 messages or 5 s); the same rule, faster.
  const client = await player(testServer().url, { acknowledge: { messages: 32, withinMs: 200 } });
  const acks: number[] = [];
  let nextAck: (seq: number) => void = () => undefined;
  client.socket.onAnyOutgoing((event: string, body: { seq?: number }) => {
    if (event !== 'session:ack' || body.seq === undefined) return;
    acks.push(body.seq);
    nextAck(body.seq);
  });
  const waitAck = () => new Promise<number>((resolve) => (nextAck = resolve));

  // Real pushes from the server are acknowledged with the last seq received when the ack leaves.
  const seqs: number[] = [];
  client.socket.onAny((_event: string, ...args: unknown[]) => {
    if (typeof args[1] === 'number') seqs.push(args[1]);
  });
  const acked = new Promise<[number, number]>((resolve) => (nextAck = (seq) => resolve([seq, Math.max(...seqs)])));
  await client.findMatch('connect-four');
  const [first, received] = await acked;
  assert.ok(seqs.length > 0, 'the server numbers its pushes');
  assert.equal(first, received, 'cumulative: the last seq received');

  // 40 messages in one go: one ack at the 32nd, the rest 200 ms later.
  acks.length = 0;
  const base = received; // numbering goes on from the last real message (a gap would make the SDK resume)
  const later = waitAck();
  for (let i = 1; i <= 40; i++) {
    for (const listener of client.socket.listeners('room:player')) listener({ roomId: 'fake.room', playerId: 'p', change: 'joined' }, base + i);
  }
  assert.deepEqual(acks, [base + 32], 'the 32nd message is acknowledged at once');
  assert.equal(await later, base + 32);
  assert.equal(await waitAck(), base + 40, 'the rest follow on the timer');
  client.close();
});

test('a request carries `seen`, the last seq received, and counts as the acknowledgement of everything before it', async () => {
  // Acknowledged every 32 messages (the timer never fires within the test).
  const client = await player(testServer().url, { acknowledge: { messages: 32, withinMs: 60_000 } });
  const outgoing: Array<{ event: string; seen?: number; seq?: number }> = [];
  client.socket.onAnyOutgoing((event: string, body: { seen?: number; seq?: number }) => outgoing.push({ event, seen: body.seen, seq: body.seq }));
  const inject = (from: number, count: number) => {
    for (let seq = from; seq < from + count; seq++) {
      for (const listener of client.socket.listeners('room:player')) listener({ roomId: 'fake.room', playerId: 'p', change: 'joined' }, seq);
    }
  };

  const found = await client.findMatch('connect-four');
  assert.equal(outgoing[0]?.event, 'match:find');
  assert.equal(outgoing[0]?.seen, undefined, 'nothing received yet: no seen');
  // The room's numbered state push, before anything is counted below.
  if (!client.state(found.roomId)) await new Promise((resolve) => client.on('state', resolve));

  // Numbered messages (injected, as above), then a request: it acknowledges all of them...
  const base = client.session.seq; // numbering goes on from the session's (a gap would make the SDK resume)
  inject(base + 1, 20);
  await client.leave('fake.room').catch(() => undefined); // refused (not a member): what it carried still counts
  assert.equal(outgoing.find((entry) => entry.event === 'room:leave')?.seen, base + 20);
  // ...so the count starts again there: 31 more are not yet 32 unacknowledged ones, the 32nd is.
  inject(base + 21, 31);
  assert.deepEqual(outgoing.filter((entry) => entry.event === 'session:ack'), [], 'no session:ack: the request acknowledged the first 20');
  inject(base + 52, 1);
  assert.deepEqual(outgoing.filter((entry) => entry.event === 'session:ack'), [{ event: 'session:ack', seen: undefined, seq: base + 52 }], '32 after the request');
  client.close();
});
