/**
 * Every class of illegal move is refused with its own code and changes
 * nothing: the room's version and board stay as they were, and the game goes
 * on normally afterwards.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PlayhouseError, type PlayhouseClient } from '@playhouse/client';
import { startDuel, startTestServer, useTestServer, type Duel } from '../support/playhouse';

async function refusal(attempt: Promise<unknown>): Promise<PlayhouseError> {
  const error = await attempt.then(
    () => assert.fail('the move was accepted'),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof PlayhouseError, `expected a PlayhouseError, got ${String(error)}`);
  return error;
}

/** Asserts the refusal left the room exactly as it was, then proves the game still moves on. */
async function assertUnchanged(duel: Duel, before: { version: number; board: unknown }, observer: PlayhouseClient): Promise<void> {
  const state = observer.state(duel.roomId)!;
  assert.equal(state.version, before.version);
  assert.deepEqual((state.view as { board: unknown }).board, before.board);
}

function snapshot(duel: Duel): { version: number; board: unknown } {
  const state = duel.players[0].state(duel.roomId)!;
  return { version: state.version, board: structuredClone((state.view as { board: unknown }).board) };
}

const testServer = useTestServer();

test('a move out of turn is refused with move/not-your-turn', async () => {
  const server = testServer();
  const duel = await startDuel(server);
  const waiting = duel.other(await duel.current());
  const before = snapshot(duel);
  const error = await refusal(waiting.move(duel.roomId, 'drop', { column: 3 }));
  assert.equal(error.code, 'move/not-your-turn');
  await assertUnchanged(duel, before, waiting);
  const after = await duel.drop(3);
  assert.equal(after.version, before.version + 1, 'the next legal move is the only change');
});

test('a move into a full column is refused with move/illegal, reason column-full', async () => {
  const server = testServer();
  const duel = await startDuel(server);
  for (let disc = 0; disc < 6; disc++) await duel.drop(2);
  const mover = await duel.current();
  const before = snapshot(duel);
  const error = await refusal(mover.move(duel.roomId, 'drop', { column: 2 }));
  assert.equal(error.code, 'move/illegal');
  assert.equal(error.reason, 'column-full');
  await assertUnchanged(duel, before, mover);
});

test('a column out of range is refused with move/illegal, reason out-of-range, on both sides', async () => {
  const server = testServer();
  const duel = await startDuel(server);
  const mover = await duel.current();
  const before = snapshot(duel);
  for (const column of [7, -1, 1_000_000]) {
    const error = await refusal(mover.move(duel.roomId, 'drop', { column }));
    assert.equal(error.code, 'move/illegal');
    assert.equal(error.reason, 'out-of-range');
  }
  await assertUnchanged(duel, before, mover);
});

test('a move after the game is over is refused with move/game-over', async () => {
  const server = testServer();
  const duel = await startDuel(server);
  for (const column of [0, 1, 0, 1, 0, 1, 0]) await duel.drop(column);
  const before = snapshot(duel);
  for (const player of duel.players) {
    const error = await refusal(player.move(duel.roomId, 'drop', { column: 4 }));
    assert.equal(error.code, 'move/game-over');
  }
  await assertUnchanged(duel, before, duel.players[1]);
});

test('a move into a room the player is not seated in is refused with room/not-member', async () => {
  const server = testServer();
  const duel = await startDuel(server);
  const stranger = await server.player('Stranger');
  const before = snapshot(duel);
  const error = await refusal(stranger.move(duel.roomId, 'drop', { column: 3 }, before.version));
  assert.equal(error.code, 'room/not-member');
  // Seated elsewhere does not help either.
  const otherDuel = await startDuel(server);
  const error2 = await refusal(otherDuel.players[0].move(duel.roomId, 'drop', { column: 3 }, before.version));
  assert.equal(error2.code, 'room/not-member');
  await assertUnchanged(duel, before, duel.players[0]);
});

test('a move made against a stale state version is refused with move/stale-version', async () => {
  const server = testServer();
  const duel = await startDuel(server);
  const stale = snapshot(duel).version;
  await duel.drop(3);
  await duel.drop(4);
  const mover = await duel.current();
  const before = snapshot(duel);
  const error = await refusal(mover.move(duel.roomId, 'drop', { column: 5 }, stale));
  assert.equal(error.code, 'move/stale-version');
  const ahead = await refusal(mover.move(duel.roomId, 'drop', { column: 5 }, before.version + 5));
  assert.equal(ahead.code, 'move/stale-version');
  await assertUnchanged(duel, before, mover);
});

test('an unknown move name and a payload of the wrong shape are refused by the room', async () => {
  const server = testServer();
  const duel = await startDuel(server);
  const mover = await duel.current();
  const before = snapshot(duel);
  assert.equal((await refusal(mover.move(duel.roomId, 'teleport', { column: 1 }))).code, 'move/unknown-move');
  assert.equal((await refusal(mover.move(duel.roomId, 'constructor', {}))).code, 'move/unknown-move');
  assert.equal((await refusal(mover.move(duel.roomId, '__proto__', {}))).code, 'move/unknown-move');
  for (const payload of [{ column: 'three' }, { column: 1.5 }, {}, null, [3], { column: 3, extra: true }]) {
    assert.equal((await refusal(mover.move(duel.roomId, 'drop', payload))).code, 'move/bad-payload', JSON.stringify(payload));
  }
  await assertUnchanged(duel, before, mover);
});

test('a move before the second player arrives is refused with move/not-started', async () => {
  // A server of its own, so no half-filled room from another test can seat this player.
  const own = await startTestServer();
  try {
    const lonely = await own.player('Lonely');
    const match = await lonely.findMatch('connect-four');
    assert.equal(match.seat, 0);
    const error = await refusal(lonely.move(match.roomId, 'drop', { column: 0 }, 0));
    assert.equal(error.code, 'move/not-started');
  } finally {
    await own.stop();
  }
});
