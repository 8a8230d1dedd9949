/** A player leaving mid-game ends it for the other player with a clear event. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { guestLogin, PlayhouseClient, PlayhouseError } from '@playhouse/client';
import { startDuel, startTestServer, stateWhere, useTestServer } from '../support/playhouse';

const testServer = useTestServer();

for (const how of ['leaves the room', 'disconnects'] as const) {
  test(`a player who ${how} mid-game forfeits; the opponent is told and wins`, async () => {
    const duel = await startDuel(testServer());
    await duel.drop(3);
    const [leaver, stayer] = duel.players;
    const over = stayer.waitFor('over', (message) => message.roomId === duel.roomId);
    const left = stayer.waitFor('player', (message) => message.change === 'left');
    if (how === 'leaves the room') await leaver.leave(duel.roomId);
    else leaver.close();

    const message = await over;
    assert.deepEqual(message.outcome, { winners: [stayer.playerId], draw: false, reason: 'opponent-left' });
    assert.equal(message.leaver, leaver.playerId);
    assert.equal((await left).playerId, leaver.playerId);
    const state = await stateWhere(stayer, duel.roomId, (s) => s.status === 'over');
    assert.deepEqual(state.players.map((seat) => seat.playerId), [stayer.playerId]);
    // The game really is over for the one who stayed.
    await assert.rejects(stayer.move(duel.roomId, 'drop', { column: 0 }), (error: unknown) => error instanceof PlayhouseError && error.code === 'move/game-over');
  });
}

test('after leaving, a player can find a new match; a second leave is refused', async () => {
  const duel = await startDuel(testServer());
  const [leaver] = duel.players;
  await leaver.leave(duel.roomId);
  await assert.rejects(leaver.leave(duel.roomId), (error: unknown) => error instanceof PlayhouseError && error.code === 'room/not-member');
  const next = await leaver.findMatch('connect-four');
  assert.notEqual(next.roomId, duel.roomId);
  // While seated, asking for another match is refused rather than silently abandoning the room.
  await assert.rejects(leaver.findMatch('connect-four'), (error: unknown) => error instanceof PlayhouseError && error.code === 'match/already-in-room');
  await assert.rejects(duel.players[1].findMatch('chess'), (error: unknown) => error instanceof PlayhouseError && error.code === 'match/already-in-room');
});

test('asking for a game that is not installed is refused with match/unknown-game', async () => {
  const player = await testServer().player();
  await assert.rejects(player.findMatch('chess'), (error: unknown) => error instanceof PlayhouseError && error.code === 'match/unknown-game');
});

test('a second device of the same player replaces the first, gets the room back with its full state, and plays on', async () => {
  // A server of its own: a half-filled room left by another test must not seat these players apart.
  const server = await startTestServer();
  const login = await guestLogin(server.url, 'Twice');
  const connect = () => PlayhouseClient.connect({ url: server.url, token: login.token, io: { transports: ['websocket'] } });
  const phone = await connect();
  const opponent = await server.player('Opponent');
  const { roomId } = await phone.findMatch('connect-four');
  await opponent.findMatch('connect-four');
  await stateWhere(phone, roomId, (s) => s.status === 'playing');

  const replaced = phone.waitFor('closed');
  // The Socket.IO "kotlin style" handshake: protocol as a decimal string.
  const tablet = await PlayhouseClient.connect({ url: server.url, token: login.token, io: { transports: ['websocket'], auth: { token: login.token, protocol: '1' } } });
  try {
    assert.equal((await replaced).code, 'session/replaced');
    assert.equal(tablet.playerId, phone.playerId);
    assert.deepEqual(tablet.session.rooms, [roomId]);
    const state = await stateWhere(tablet, roomId, (s) => s.status === 'playing');
    assert.equal(state.players.length, 2);
    // The tablet can play: whoever is to move drops a disc and both sides see it.
    const mover = (state.view as { currentPlayer: string }).currentPlayer === tablet.playerId ? tablet : opponent;
    const accepted = await mover.move(roomId, 'drop', { column: 2 }, state.version);
    await stateWhere(tablet, roomId, (s) => s.version >= accepted.version);
    await stateWhere(opponent, roomId, (s) => s.version >= accepted.version);
  } finally {
    tablet.close();
    phone.close();
    await server.stop();
  }
});
