/**
 * The gateway's packet encoder writes, byte for byte, what socket.io-parser's
 * own encoder writes for JSON data, so every Socket.IO client reads it; and a
 * room state sent twice in a turn (the opponent's push, the mover's
 * acknowledgement) is serialised once. The gateway tests run it end to end
 * with real clients; here, the edge cases of JSON itself.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Decoder, Encoder, PacketType, type Packet } from 'socket.io-parser';
import { JsonPacketEncoder } from '../../infra/gateway/json-packet-encoder';

const state = {
  roomId: 'connect-four.1',
  game: 'connect-four',
  version: 7,
  status: 'playing',
  players: [{ playerId: 'g-1', name: 'Ada "the first"', seat: 0 }],
  view: { board: [[0, null], [1, null]], turn: 1, lastMove: null, note: 'é ✓ \u2028 \u0000' },
  outcome: null,
};

const packets: Packet[] = [
  { type: PacketType.EVENT, nsp: '/', data: ['room:state', state, 12] },
  { type: PacketType.ACK, nsp: '/', id: 5, data: [{ ok: true, version: 7, state }] },
  { type: PacketType.ACK, nsp: '/', id: 6, data: [{ ok: false, error: { code: 'move/illegal', message: 'column full', reason: 'column-full' } }] },
  { type: PacketType.ACK, nsp: '/', id: 7, data: [{ ok: true, skipped: undefined, fn: () => 1, state, version: 8 }] },
  { type: PacketType.EVENT, nsp: '/', data: ['session:ready', { playerId: 'g-1', rooms: [], at: new Date(0) }] },
  { type: PacketType.EVENT, nsp: '/', data: ['odd', undefined, null, 1.5, 'text', [undefined, () => 1], { toJSON: () => 'custom' }] },
  { type: PacketType.EVENT, nsp: '/admin', id: 9, data: ['in-a-namespace', { state: { nested: true } }] },
  { type: PacketType.EVENT, nsp: '/', data: ['state-not-plain', { ok: true, state: new Date(1) }] },
  { type: PacketType.CONNECT, nsp: '/', data: { sid: 'abc' } },
  { type: PacketType.CONNECT_ERROR, nsp: '/', data: { message: 'refused', data: { code: 'auth/invalid-token' } } },
  { type: PacketType.DISCONNECT, nsp: '/' },
];

test('writes what socket.io-parser writes, for every kind of packet and JSON value', () => {
  const ours = new JsonPacketEncoder();
  const theirs = new Encoder();
  for (const packet of packets) {
    assert.deepEqual(ours.encode(packet), theirs.encode(packet), `packet ${JSON.stringify(packet.data) ?? packet.type}`);
  }
});

test('what it writes decodes to the packet that was sent', () => {
  const encoded = new JsonPacketEncoder().encode(packets[1]!);
  const decoder = new Decoder();
  let decoded: Packet | undefined;
  decoder.on('decoded', (packet: Packet) => (decoded = packet));
  decoder.add(encoded[0]!);
  assert.deepEqual(decoded, { type: PacketType.ACK, nsp: '/', id: 5, data: [{ ok: true, version: 7, state }] });
});

test('a state pushed to one player and acknowledged to the other is serialised once', () => {
  let reads = 0;
  // A proxy counts how often JSON.stringify lists the state's fields.
  const counted = new Proxy(state, {
    ownKeys(target) {
      reads++;
      return Reflect.ownKeys(target);
    },
  });
  const encoder = new JsonPacketEncoder();
  const push = encoder.encode({ type: PacketType.EVENT, nsp: '/', data: ['room:state', counted, 3] });
  const ack = encoder.encode({ type: PacketType.ACK, nsp: '/', id: 1, data: [{ ok: true, version: 7, state: counted }] });
  assert.equal(reads, 1, 'the second packet reused the first one\'s text');
  assert.deepEqual([push, ack], [[`2["room:state",${JSON.stringify(state)},3]`], [`31[{"ok":true,"version":7,"state":${JSON.stringify(state)}}]`]]);

  // Another object in between: the state is serialised again (one remembered object, never a stale text).
  encoder.encode({ type: PacketType.EVENT, nsp: '/', data: ['room:player', { playerId: 'g-2', change: 'away' }, 4] });
  encoder.encode({ type: PacketType.EVENT, nsp: '/', data: ['room:state', counted, 5] });
  assert.equal(reads, 2);
});
