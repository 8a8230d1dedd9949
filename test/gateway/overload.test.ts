/**
 * A full mailbox refuses new messages at once with server/overloaded (and a
 * retry hint) instead of queueing without bound; a refused request changed
 * nothing, so retrying it later succeeds.
 *
 * The burst is sent over HTTP long-polling on purpose: the client then packs
 * every request emitted while a poll is in flight into one HTTP body, so they
 * reach the session's mailbox in one go however fast the actors are.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { guestLogin, PlayhouseClient, PlayhouseError, type MoveAccepted } from '@playhouse/client';
import { startTestServer, stateWhere, viewOf } from '../support/playhouse';

test('a session with a four-message mailbox refuses a burst of moves with server/overloaded; the retry succeeds', async () => {
  const server = await startTestServer({ actors: { mailboxCapacity: { session: 4 } } });
  const login = await guestLogin(server.url, 'Burst');
  const burster = await PlayhouseClient.connect({ url: server.url, token: login.token, io: { transports: ['polling'] } });
  try {
    const other = await server.player('Other');
    const seat = await burster.findMatch('connect-four');
    await other.findMatch('connect-four');
    const playing = await stateWhere(burster, seat.roomId, (state) => state.status === 'playing');
    const [mover, waiter] = viewOf(playing).currentPlayer === burster.playerId ? [burster, other] : [other, burster];
    if (mover !== burster) {
      await other.move(seat.roomId, 'drop', { column: 6 });
      await stateWhere(burster, seat.roomId, (state) => viewOf(state).currentPlayer === burster.playerId);
    }
    const version = burster.state(seat.roomId)!.version;
    const discsBefore = countDiscs(burster.state(seat.roomId)!.view);

    const results = await Promise.allSettled(Array.from({ length: 30 }, () => burster.move(seat.roomId, 'drop', { column: 0 }, version)));
    const accepted = results.filter((result): result is PromiseFulfilledResult<MoveAccepted> => result.status === 'fulfilled');
    const errors = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as PlayhouseError] : []));
    const overloaded = errors.filter((error) => error.code === 'server/overloaded');
    assert.equal(accepted.length, 1, 'exactly one of thirty identical moves was applied');
    assert.ok(overloaded.length >= 20, `a full mailbox refused the burst (${overloaded.length} overloaded)`);
    for (const error of overloaded) assert.ok((error.retryAfterMs ?? 0) > 0, 'overloaded comes with a retry hint');
    for (const error of errors) assert.match(error.code, /^(server\/overloaded|move\/)/, 'anything else is the game refusing a stale move');

    const after = await stateWhere(waiter, seat.roomId, (state) => state.version === accepted[0]!.value.version);
    assert.equal(countDiscs(after.view), discsBefore + 1, 'the refused requests changed nothing');
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, new RegExp(`^playhouse_mailbox_overflows_total\\{kind="session"\\} ${overloaded.length}$`, 'm'));

    // Refused requests left nothing half-done: the game goes on and the next move of the same player is applied.
    await waiter.move(seat.roomId, 'drop', { column: 6 });
    await stateWhere(burster, seat.roomId, (state) => viewOf(state).currentPlayer === burster.playerId);
    const retried = await burster.move(seat.roomId, 'drop', { column: 0 });
    assert.equal(retried.version, burster.state(seat.roomId)!.version);
  } finally {
    burster.close();
    await server.stop();
  }
});

function countDiscs(view: unknown): number {
  return (view as { board: ReadonlyArray<ReadonlyArray<unknown>> }).board.flat().filter((cell) => cell !== null).length;
}
