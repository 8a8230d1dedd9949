/**
 * What the SDK promises a programmer about a room's states and its end, with
 * real clients on a real server (port 0):
 * - `waitForState(roomId, …)` sees a state that arrived before the call (a
 *   push can beat the reply that seated the player); `waitFor` hears only
 *   what comes next;
 * - each player gets a game's last state before its `over`, the mover too
 *   (whose last state rides on the answer to the winning move);
 * - every state carries a `view`: the game's view, or null while no game is set up.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PlayhouseClient } from '@playhouse/client';
import { useTestServer } from '../support/playhouse';

const server = useTestServer();

/** Two players seated in one Connect Four room; the second join starts the game. */
async function seatTwo(): Promise<{ roomId: string; players: [PlayhouseClient, PlayhouseClient] }> {
  const ada = await server().player('Ada');
  const bob = await server().player('Bob');
  const { roomId } = await ada.findMatch('connect-four');
  await bob.findMatch('connect-four');
  return { roomId, players: [ada, bob] };
}

test('waitForState resolves on a state that arrived before the call; waitFor waits for the next event', async () => {
  const { roomId, players } = await seatTwo();
  const [ada, bob] = players;
  // Bob's join started the game: Ada's state says so once it is here.
  const playing = await ada.waitForState(roomId, (state) => state.status === 'playing');
  assert.equal(ada.state(roomId), playing);
  // Asked again, it is the state already received, at once.
  assert.equal(await ada.waitForState(roomId, (state) => state.status === 'playing', 100), playing);
  // Bob's too, whether it came before or after his findMatch resolved.
  assert.equal((await bob.waitForState(roomId, (state) => state.status === 'playing')).version, playing.version);

  // waitFor hears what comes next: the state already received does not count.
  const nextPush = ada.waitFor('state', (state) => state.roomId === roomId && state.status === 'playing');
  const nextState = bob.waitForState(roomId, (state) => state.version > playing.version);
  const mover = (playing.view as { currentPlayer: string }).currentPlayer === ada.playerId ? ada : bob;
  await mover.move(roomId, 'drop', { column: 0 });
  assert.ok((await nextPush).version > playing.version, 'waitFor resolved on a new state, not the one already received');
  assert.ok((await nextState).version > playing.version);
  // A state that never comes: a typed timeout.
  await assert.rejects(ada.waitForState(roomId, (state) => state.status === 'over', 200), { code: 'client/timeout' });
});

test("every player gets a game's last state before its over event, the winning mover too", async () => {
  const { roomId, players } = await seatTwo();
  const events = new Map<PlayhouseClient, string[]>(players.map((client) => [client, []]));
  for (const client of players) {
    const log = events.get(client)!;
    client.on('state', (state) => {
      if (state.roomId !== roomId) return;
      log.push(`state ${state.version} ${state.status}`);
      if (state.view === undefined) log.push(`state ${state.version} without a view`);
    });
    client.on('over', (over) => over.roomId === roomId && log.push(`over ${over.version}`));
  }
  const playing = await players[0].waitForState(roomId, (state) => state.status === 'playing');
  const first = (playing.view as { currentPlayer: string }).currentPlayer === players[0].playerId ? players[0] : players[1];
  const second = first === players[0] ? players[1] : players[0];

  // A vertical four in column 0 for the first player.
  for (let turn = 0; turn < 3; turn++) {
    await first.move(roomId, 'drop', { column: 0 });
    await second.waitForState(roomId, (state) => (state.view as { currentPlayer: string }).currentPlayer === second.playerId);
    await second.move(roomId, 'drop', { column: 1 });
    await first.waitForState(roomId, (state) => (state.view as { currentPlayer: string }).currentPlayer === first.playerId);
  }
  const overSeen = Promise.all(players.map((client) => client.waitFor('over', (over) => over.roomId === roomId)));
  const winning = await first.move(roomId, 'drop', { column: 0 });
  const overs = await overSeen;

  for (const [client, log] of events) {
    const who = client === first ? 'the mover' : 'the other player';
    assert.equal(overs[players.indexOf(client)]!.version, winning.version);
    const overAt = log.indexOf(`over ${winning.version}`);
    assert.ok(overAt > 0, `${who} got the over event: ${log.join(', ')}`);
    assert.equal(log[overAt - 1], `state ${winning.version} over`, `${who} got the last state right before over: ${log.join(', ')}`);
    assert.equal(log.filter((entry) => entry.startsWith('over')).length, 1, `${who} got one over event`);
    assert.deepEqual(log.filter((entry) => entry.endsWith('without a view')), [], `every state ${who} got has a view`);
    assert.equal(client.state(roomId)?.status, 'over');
  }
});
