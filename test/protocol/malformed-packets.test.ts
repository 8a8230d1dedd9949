/**
 * What PROTOCOL.md ("Malformed and binary packets") says the server does with
 * packets it cannot read, and with binary ones, over a real socket:
 * - a frame that is not a Socket.IO packet closes the connection at once,
 *   without an answer or `session:closed`, and counts as a drop (the seat is held);
 * - a binary event is decoded and refused by the schema like any bad request,
 *   and the connection stays open.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { guestLogin } from '@playhouse/client';
import { Device } from '../support/raw-device';
import { useTestServer } from '../support/playhouse';

const testServer = useTestServer();

async function device(name: string): Promise<Device> {
  const { url } = testServer();
  const login = await guestLogin(url, name);
  return Device.connect(url, login.token);
}

/** Resolves with the reason Socket.IO gives when the connection ends by itself. */
function closed(target: Device): Promise<string> {
  return new Promise((resolve) => target.socket.once('disconnect', (reason) => resolve(reason)));
}

/** Sends one Engine.IO message frame as is (Socket.IO's own encoder would only write valid packets). */
function sendFrame(target: Device, frame: string | Uint8Array): void {
  (target.socket.io.engine as unknown as { write(data: string | Uint8Array): void }).write(frame);
}

for (const [what, frame] of [
  ['text that is not JSON', '2garbage'],
  ['an event whose data is not an array', '2{"game":"connect-four"}'],
  ['an unknown Socket.IO packet type', '9["match:find"]'],
  ['a bare binary frame, with no binary packet announcing it', new Uint8Array([1, 2, 3])],
] as const) {
  test(`${what}: the connection is closed at once, unanswered, and the seat is held as after a drop`, async () => {
    const [sender, opponent] = [await device('Sender'), await device('Opponent')];
    try {
      const found = await sender.request<{ roomId: string }>('match:find', { actionId: 'm-1', game: 'connect-four' });
      assert.ok(found.ok);
      assert.ok((await opponent.request('match:find', { actionId: 'm-1', game: 'connect-four' })).ok);
      const ended = closed(sender);
      sendFrame(sender, frame);
      // The client's side of the story: the server hung up (not "io client disconnect", which is a goodbye).
      assert.equal(await ended, 'transport close');
      assert.equal(sender.received.some((m) => m.event === 'session:closed'), false, 'no session:closed before the close');
      const away = await opponent.waitFor((m) => m.event === 'room:player' && m.payload.change === 'away', 'the sender away');
      assert.equal(away.payload.playerId, sender.ready.playerId);
      assert.equal(opponent.received.some((m) => m.event === 'room:player' && m.payload.change === 'left'), false, 'a drop, not a leave');
    } finally {
      sender.close();
      opponent.close();
    }
  });
}

test('a binary event is decoded and refused like any malformed request; the connection stays open', async () => {
  const player = await device('Binary');
  try {
    // socket.io-client sends a Buffer as a binary attachment (a `451-…` packet and a binary frame).
    const whole = await player.request('match:find', Buffer.from('{"actionId":"b-1","game":"connect-four"}'));
    assert.equal(whole.ok, false);
    assert.equal(!whole.ok && whole.error.code, 'protocol/bad-message');
    const field = await player.request('match:find', { actionId: 'b-2', game: Buffer.from('connect-four') });
    assert.equal(!field.ok && field.error.code, 'protocol/bad-message');
    assert.match(!field.ok ? field.error.message : '', /game: .*expected string/);
    // Still connected, and nothing was changed: the same player finds a match with JSON.
    const found = await player.request('match:find', { actionId: 'b-3', game: 'connect-four' });
    assert.equal(found.ok, true);
  } finally {
    player.close();
  }
});
