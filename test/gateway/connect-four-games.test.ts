/** Two real clients play whole Connect Four games through the server. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startDuel, stateWhere, useTestServer, viewOf } from '../support/playhouse';

const testServer = useTestServer();

/** A 42-move game that fills the 7×6 board without four in a row. */
const DRAWN_GAME = [2, 3, 1, 2, 2, 0, 4, 0, 0, 0, 6, 0, 3, 1, 6, 3, 6, 6, 5, 0, 2, 6, 1, 2, 3, 3, 2, 5, 5, 4, 6, 4, 4, 5, 4, 1, 4, 5, 1, 5, 1, 3];

test('two players play to a win; both see the outcome', async () => {
  const server = testServer();
  const duel = await startDuel(server);
  const [first, second] = duel.players;
  const overSeen = Promise.all(duel.players.map((client) => client.waitFor('over', (over) => over.roomId === duel.roomId)));
  const statesAfterStart: Array<{ status: string; version: number; winner: string | null }> = [];
  second.on('state', (state) => statesAfterStart.push({ status: state.status, version: state.version, winner: viewOf(state).winner }));

  // First player stacks column 0, second column 1: first wins vertically on its 4th disc.
  for (const column of [0, 1, 0, 1, 0, 1]) await duel.drop(column);
  const final = await duel.drop(0);

  assert.equal(final.status, 'over');
  assert.deepEqual(final.outcome, { winners: [first.playerId], draw: false, reason: 'connect-line' });
  assert.equal(viewOf(final).winner, first.playerId);
  const [overFirst, overSecond] = await overSeen;
  assert.deepEqual(overFirst.outcome.winners, [first.playerId]);
  assert.deepEqual(overSecond.outcome.winners, [first.playerId]);
  assert.equal(overSecond.version, final.version, 'room:over carries the version of the final state');
  // One push per move: the winning move's state is already the final one, never a 'playing' state with a winner.
  assert.equal(statesAfterStart.length, 7);
  assert.deepEqual(statesAfterStart.filter((state) => state.winner !== null), [{ status: 'over', version: final.version, winner: first.playerId }]);
  assert.deepEqual(statesAfterStart.map((state) => state.version), [...statesAfterStart.map((state) => state.version)].sort((a, b) => a - b));
  // Both devices hold the same board.
  assert.deepEqual(viewOf(second.state(duel.roomId)!).board, viewOf(first.state(duel.roomId)!).board);
  assert.deepEqual(
    viewOf(final).board.map((row) => row.slice(0, 2)),
    [[0, 1], [0, 1], [0, 1], [0, null], [null, null], [null, null]],
  );
});

test('two players play to a draw on a full board', async () => {
  const server = testServer();
  const duel = await startDuel(server);
  let state = await stateWhere(duel.players[0], duel.roomId, (s) => s.status === 'playing');
  for (const column of DRAWN_GAME) state = await duel.drop(column);
  assert.equal(state.status, 'over');
  assert.deepEqual(state.outcome, { winners: [], draw: true, reason: 'board-full' });
  assert.equal(viewOf(state).moveCount, 42);
  assert.ok(viewOf(state).board.every((row) => row.every((cell) => cell !== null)));
});

test('after a game both players can ask for a rematch and play the next game in the same room', async () => {
  const server = testServer();
  const duel = await startDuel(server);
  for (const column of [0, 1, 0, 1, 0, 1, 0]) await duel.drop(column);
  const [first, second] = duel.players;
  await first.rematch(duel.roomId);
  assert.equal(first.state(duel.roomId)!.status, 'over', 'one vote alone does not restart');
  const next = Promise.all(duel.players.map((client) => stateWhere(client, duel.roomId, (s) => s.gameNumber === 2 && s.status === 'playing')));
  await second.rematch(duel.roomId);
  const [restarted] = await next;
  assert.equal(viewOf(restarted!).moveCount, 0);
  assert.equal(viewOf(restarted!).currentPlayer, second.playerId, 'seat 1 opens the second game: the first player alternates');
  await duel.drop(3);
  assert.equal(viewOf(first.state(duel.roomId)!).moveCount, 1);
  assert.equal(viewOf(first.state(duel.roomId)!).board[0]![3], 1, "the opener's disc is its seat's, 1");
});
