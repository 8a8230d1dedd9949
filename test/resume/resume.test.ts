/**
 * Resume, on one gateway: a dropped device comes back with its resume token
 * and gets exactly what it missed, in order; a retried action is answered with
 * its first result and applied once; tokens that are reused, forged or another
 * player's are refused; a device that missed more than the buffer holds gets a
 * snapshot; the room hears that a player is away and back, or gone once the
 * grace period ends. Real server, real sockets, raw protocol (no SDK).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { guestLogin, PlayhouseClient } from '@playhouse/client';
import { Device, RefusedHandshake, type Received } from '../support/raw-device';
import { startTestServer, stateWhere, type TestServer } from '../support/playhouse';
import { startSilentProxy } from '../support/tcp-proxy';

interface Seated {
  readonly roomId: string;
  /** By seat: [seat 0, seat 1]; seat 0 moves first in Connect Four. */
  readonly devices: readonly [Device, Device];
  readonly tokens: readonly [string, string];
}

let actions = 0;
const actionId = () => `t-${++actions}`;

async function seatTwo(url: string, game = 'connect-four'): Promise<Seated> {
  const logins = await Promise.all([guestLogin(url, 'North'), guestLogin(url, 'South')]);
  const devices = await Promise.all(logins.map((login) => Device.connect(url, login.token)));
  const seats: number[] = [];
  let roomId = '';
  for (const device of devices) {
    const reply = await device.request<{ roomId: string; seat: number }>('match:find', { actionId: actionId(), game });
    assert.ok(reply.ok, JSON.stringify(reply));
    roomId = reply.roomId;
    seats.push(reply.seat);
  }
  await Promise.all(devices.map((device) => device.waitFor((m) => m.event === 'room:state' && m.payload.status === 'playing', 'playing')));
  const order = seats[0] === 0 ? [0, 1] : [1, 0];
  return {
    roomId,
    devices: [devices[order[0]!]!, devices[order[1]!]!],
    tokens: [logins[order[0]!]!.token, logins[order[1]!]!.token],
  };
}

function resumeOf(device: Device): { token: string; lastSeq: number } {
  return { token: device.ready.resumeToken, lastSeq: device.lastSeq };
}

async function move(device: Device, roomId: string, column: number, id = actionId()) {
  const version = device.latestState(roomId)?.version as number;
  return device.request<{ version: number }>('room:move', { actionId: id, roomId, version, move: 'drop', payload: { column } });
}

async function withServer(overrides: Parameters<typeof startTestServer>[0], body: (server: TestServer) => Promise<void>): Promise<void> {
  const server = await startTestServer(overrides);
  try {
    await body(server);
  } finally {
    await server.stop();
  }
}

const numbered = (messages: readonly Received[]) => messages.filter((m) => m.seq !== undefined).map((m) => m.seq!);

test('a dropped device resumes: it gets exactly the messages it missed, in order, and the room saw it away and back', async () => {
  await withServer({ resume: { graceMs: 10_000 } }, async ({ url }) => {
    const { roomId, devices, tokens } = await seatTwo(url);
    const [north, south] = devices;
    const resume = resumeOf(south);
    south.drop();
    await north.waitFor((m) => m.event === 'room:player' && m.payload.change === 'away', 'south away');
    const played = await move(north, roomId, 3);
    assert.ok(played.ok);

    const back = await Device.connect(url, tokens[1], resume);
    try {
      assert.equal(back.ready.resumed, 'replay');
      assert.ok(back.ready.seq > resume.lastSeq, 'session:ready names the newest message, which the device missed');
      assert.deepEqual(back.ready.rooms, [roomId]);
      await back.waitFor((m) => m.event === 'room:state' && m.payload.version === played.version, 'the missed move');
      // Exactly the missed ones: contiguous from lastSeq + 1 up to session:ready's seq at least, no duplicate.
      const seqs = numbered(back.received);
      assert.deepEqual(seqs, seqs.map((_, i) => resume.lastSeq + 1 + i));
      assert.ok(seqs.at(-1)! >= back.ready.seq);
      await north.waitFor((m) => m.event === 'room:player' && m.payload.change === 'back', 'south back');
      assert.notEqual(back.ready.resumeToken, resume.token, 'the token rotates on every resume');
      // Play goes on from the resumed connection.
      const next = await move(back, roomId, 4);
      assert.ok(next.ok, JSON.stringify(next));
    } finally {
      back.close();
      north.close();
    }
  });
});

test('an action sent just before a drop and retried after it is applied once, and answered with its first result', async () => {
  await withServer({ resume: { graceMs: 10_000 } }, async ({ url }) => {
    const { roomId, devices, tokens } = await seatTwo(url);
    const [north, south] = devices;
    const id = actionId();
    const version = north.latestState(roomId)!.version as number;
    const body = { actionId: id, roomId, version, move: 'drop', payload: { column: 2 } };
    north.socket.emit('room:move', body, () => undefined); // the answer may be lost with the connection
    const applied = await south.waitFor((m) => m.event === 'room:state' && (m.payload.version as number) > version, 'the move applied');
    const resume = resumeOf(north);
    north.drop();

    const back = await Device.connect(url, tokens[0], resume);
    try {
      const retried = await back.request<{ version: number }>('room:move', body);
      assert.ok(retried.ok, JSON.stringify(retried));
      assert.equal(retried.version, applied.payload.version, 'the first result, not a second application');
      // The remembered answer keeps only the version; the room sends the current state beside it.
      const current = await back.waitFor((m) => m.event === 'room:state' && (m.payload.version as number) >= retried.version, 'the current state');
      assert.equal((current.payload.view as { moveCount: number }).moveCount, 1);
      // Again on the same connection: still the same answer, and the room never moved on.
      const again = await back.request<{ version: number }>('room:move', body);
      assert.ok(again.ok);
      assert.equal(again.version, retried.version);
      await south.waitFor((m) => m.event === 'room:player' && m.payload.change === 'back', 'north back');
      const southTurn = await south.request<{ state: { view: { moveCount: number } } }>('room:move', {
        actionId: actionId(),
        roomId,
        version: south.latestState(roomId)!.version,
        move: 'drop',
        payload: { column: 5 },
      });
      assert.ok(southTurn.ok, `it is South’s turn: North’s move counted once (${JSON.stringify(southTurn)})`);
      assert.equal(southTurn.state.view.moveCount, 2, 'two moves on the board, not three');
    } finally {
      back.close();
      south.close();
    }
  });
});

test('resume tokens: reused, forged or another player’s are refused with session/resume-refused', async () => {
  await withServer({ resume: { graceMs: 10_000 } }, async ({ url }) => {
    const { devices, tokens } = await seatTwo(url);
    const [north, south] = devices;
    const used = resumeOf(north);
    north.drop();
    const back = await Device.connect(url, tokens[0], used);
    const refusal = async (token: string, resume: { token: string; lastSeq: number }) => {
      const error = await Device.connect(url, token, resume).then(
        (device) => {
          device.close();
          return undefined;
        },
        (caught: unknown) => caught,
      );
      assert.ok(error instanceof RefusedHandshake, 'the handshake was refused');
      return error.body?.code;
    };
    try {
      assert.equal(await refusal(tokens[0], used), 'session/resume-refused', 'a token already used (rotated out)');
      const [version, player, nonce, mac] = back.ready.resumeToken.split('.');
      const forgedMac = `${version}.${player}.${nonce}.${mac!.slice(0, -2)}${mac!.endsWith('AA') ? 'BB' : 'AA'}`;
      assert.equal(await refusal(tokens[0], { token: forgedMac, lastSeq: 0 }), 'session/resume-refused', 'a tampered signature');
      assert.equal(await refusal(tokens[0], { token: `${version}.${player}.${'x'.repeat(nonce!.length)}.${mac}`, lastSeq: 0 }), 'session/resume-refused', 'a made-up nonce');
      assert.equal(await refusal(tokens[1], resumeOf(back)), 'session/resume-refused', 'North’s token presented by South');
      assert.equal(await refusal(tokens[0], { token: back.ready.resumeToken, lastSeq: back.lastSeq + 1000 }), 'session/resume-refused', 'a sequence number never sent');
      // None of that disturbed the real connection.
      assert.ok(back.socket.connected);
      assert.ok(south.socket.connected);
    } finally {
      back.close();
      south.close();
    }
  });
});

test('a device that missed more than the buffer holds gets a snapshot instead of a replay', async () => {
  await withServer({ resume: { graceMs: 10_000, bufferMessages: 2 } }, async ({ url }) => {
    const { roomId, devices, tokens } = await seatTwo(url, 'arena');
    const [mover, watcher] = devices;
    watcher.acknowledge();
    const resume = resumeOf(watcher);
    watcher.drop();
    // The mover walks to and fro (away from the nearer edge first): the watcher misses a delta every step, far more than 2.
    const view = mover.latestState(roomId)!.view as { width: number; positions: Record<string, { x: number }> };
    const first = view.positions[mover.ready.playerId]!.x < view.width / 2 ? 1 : -1;
    for (let i = 0; i < 5; i++) {
      const reply = await mover.request('room:move', { actionId: actionId(), roomId, version: 0, move: 'input', payload: { dx: i % 2 === 0 ? first : -first, dy: 0 } });
      assert.ok(reply.ok, JSON.stringify(reply));
      await mover.waitFor((m) => m.event === 'room:delta' && numbered([m])[0]! > resume.lastSeq + 3 + i, 'ticks went by');
    }
    const back = await Device.connect(url, tokens[1], resume);
    try {
      assert.equal(back.ready.resumed, 'snapshot');
      const state = await back.waitFor((m) => m.event === 'room:state' && m.payload.roomId === roomId, 'the full state');
      assert.ok(state.seq! > back.ready.seq, 'the snapshot is numbered after session:ready');
    } finally {
      back.close();
      mover.close();
    }
  });
});

test('after the grace period the player leaves: the room says so, and the old token no longer resumes', async () => {
  await withServer({ resume: { graceMs: 300 } }, async ({ url }) => {
    const { devices, tokens } = await seatTwo(url);
    const [north, south] = devices;
    const resume = resumeOf(south);
    south.drop();
    await north.waitFor((m) => m.event === 'room:player' && m.payload.change === 'away', 'away');
    await north.waitFor((m) => m.event === 'room:player' && m.payload.change === 'left', 'left after the grace period');
    const over = await north.waitFor((m) => m.event === 'room:over', 'the game ended');
    assert.equal((over.payload.outcome as { reason: string }).reason, 'opponent-left');
    await assert.rejects(Device.connect(url, tokens[1], resume), (error: unknown) => error instanceof RefusedHandshake && error.body?.code === 'session/resume-refused');
    const fresh = await Device.connect(url, tokens[1]);
    assert.equal(fresh.ready.resumed, 'fresh');
    assert.deepEqual(fresh.ready.rooms, []);
    fresh.close();
    north.close();
  });
});

test('acknowledgements: malformed ones are refused and change nothing; a client saying goodbye leaves at once', async () => {
  await withServer({ resume: { graceMs: 10_000 } }, async ({ url }) => {
    const { devices } = await seatTwo(url);
    const [north, south] = devices;
    for (const bad of [{ seq: -1 }, { seq: 'x' }, { seq: 1, more: true }, 'nope']) {
      north.socket.emit('session:ack', bad);
      const error = await north.waitFor((m) => m.event === 'session:error' && m.payload.event === 'session:ack' && m.seq === undefined, 'refusal');
      assert.equal(error.payload.code, 'protocol/bad-message');
      north.received.splice(north.received.indexOf(error), 1);
    }
    north.socket.emit('session:ack', { seq: 10_000_000 }); // beyond what was sent: ignored
    north.acknowledge();
    south.close(); // a goodbye, not a drop: no grace period
    await north.waitFor((m) => m.event === 'room:player' && m.payload.change === 'left', 'left at once');
    assert.ok(!north.received.some((m) => m.event === 'room:player' && m.payload.change === 'away'));
    north.close();
  });
});

test('a request carrying `seen` acknowledges what the device received, as session:ack does', async () => {
  await withServer({ resume: { graceMs: 10_000 } }, async ({ url }) => {
    const { roomId, devices, tokens } = await seatTwo(url);
    const [north, south] = devices;
    assert.ok((await move(north, roomId, 3)).ok);
    const pushed = await south.waitFor((m) => m.event === 'room:state' && m.payload.roomId === roomId && (m.payload.view as { moveCount: number }).moveCount === 1, "North's move");
    const version = pushed.payload.version as number;

    for (const bad of [-1, 1.5, 'x']) {
      const refused = await south.request('room:move', { actionId: actionId(), seen: bad, roomId, version, move: 'drop', payload: { column: 3 } });
      assert.ok(!refused.ok && refused.error.code === 'protocol/bad-message', `seen ${JSON.stringify(bad)}: ${JSON.stringify(refused)}`);
    }
    const reply = await south.request('room:move', { actionId: actionId(), seen: pushed.seq, roomId, version, move: 'drop', payload: { column: 3 } });
    assert.ok(reply.ok, JSON.stringify(reply));

    // The session forgot what `seen` acknowledged: a device claiming it missed that push cannot have it replayed.
    south.drop();
    const back = await Device.connect(url, tokens[1], { token: south.ready.resumeToken, lastSeq: pushed.seq! - 1 });
    try {
      assert.equal(back.ready.resumed, 'snapshot', 'nothing left to replay from before `seen`');
      // A `seen` beyond what was sent counts as the newest: no error, and later pushes still arrive.
      assert.ok((await back.request('room:leave', { actionId: actionId(), seen: 10_000_000, roomId })).ok);
      await north.waitFor((m) => m.event === 'room:player' && m.payload.change === 'left', 'South left');
    } finally {
      back.close();
      north.close();
    }
  });
});

test('a connection that goes silent (half-open) is noticed by heartbeats; the player is away, then resumes', async () => {
  await withServer({ resume: { graceMs: 10_000 }, heartbeat: { pingIntervalMs: 200, pingTimeoutMs: 200 } }, async ({ url }) => {
    const proxy = await startSilentProxy(url);
    try {
      const logins = await Promise.all([guestLogin(url, 'Tunnel'), guestLogin(url, 'Open')]);
      const tunnel = await Device.connect(proxy.url, logins[0].token);
      const open = await Device.connect(url, logins[1].token);
      for (const device of [tunnel, open]) assert.ok((await device.request('match:find', { actionId: actionId(), game: 'connect-four' })).ok);
      await open.waitFor((m) => m.event === 'room:state' && m.payload.status === 'playing', 'playing');
      await tunnel.waitFor((m) => m.event === 'room:state' && m.payload.status === 'playing', 'playing');
      const resume = resumeOf(tunnel);
      const clientNoticed = new Promise<string>((resolve) => tunnel.socket.once('disconnect', resolve));
      proxy.goSilent();
      // Nothing was closed: the server finds out because pongs stop coming, the client because pings do.
      await open.waitFor((m) => m.event === 'room:player' && m.payload.change === 'away', 'the server noticed the silent connection');
      assert.equal(await clientNoticed, 'ping timeout');
      const back = await Device.connect(url, logins[0].token, resume);
      assert.equal(back.ready.resumed, 'replay');
      await open.waitFor((m) => m.event === 'room:player' && m.payload.change === 'back', 'back');
      back.close();
      open.close();
    } finally {
      await proxy.close();
    }
  });
});

test('the server cuts the connection: the SDK resumes by itself and the game goes on with nothing missed', async () => {
  await withServer({ resume: { graceMs: 10_000 } }, async (server) => {
    const sdk = { reconnect: { initialDelayMs: 20, maxDelayMs: 200 }, io: { transports: ['websocket'] } };
    const logins = await Promise.all([guestLogin(server.url, 'Cut'), guestLogin(server.url, 'Other')]);
    const [cut, other] = await Promise.all(logins.map((login) => PlayhouseClient.connect({ url: server.url, token: login.token, ...sdk })));
    try {
      const seat = await cut!.findMatch('connect-four');
      await other!.findMatch('connect-four');
      const playing = await stateWhere(cut!, seat.roomId, (s) => s.status === 'playing');
      const first = (playing.view as { currentPlayer: string }).currentPlayer === cut!.playerId ? cut! : other!;
      const states: number[] = [];
      cut!.on('state', (state) => states.push(state.version));
      const events: string[] = [];
      const resumed = new Promise<string | undefined>((resolve) =>
        cut!.on('connection', (event) => {
          events.push(event.state);
          if (event.state === 'connected') resolve(event.resumed);
        }),
      );
      // The server side of the connection goes away (as when a load balancer or the OS drops it).
      server.server.gateway.io.sockets.sockets.forEach((socket) => {
        if (socket.data.playerId === cut!.playerId) socket.conn.close();
      });
      await other!.waitFor('player', (change) => change.change === 'away');
      const moved = await first.move(seat.roomId, 'drop', { column: 1 });
      assert.equal(await resumed, 'replay');
      assert.deepEqual(events, ['reconnecting', 'connected']);
      const seen = await stateWhere(cut!, seat.roomId, (s) => s.version >= moved.version);
      assert.equal(seen.version, moved.version, 'the move made while the connection was down reached the cut player');
      assert.deepEqual(states, [...new Set(states)], 'no state delivered twice');
    } finally {
      cut!.close();
      other!.close();
    }
  });
});
