/**
 * A full mailbox refuses new messages at once with server/overloaded (and a
 * retry hint) instead of queueing without bound; a refused request changed
 * nothing, so retrying it later succeeds.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PlayhouseError, type PlayhouseClient } from '../../protocol/client';
import type { MatchFound } from '../../protocol/messages';
import { startTestServer } from '../support/playhouse';

test('a lobby with a one-message mailbox refuses a burst of match requests with server/overloaded; retries succeed', async () => {
  const server = await startTestServer({ actors: { mailboxCapacity: { lobby: 1 } } });
  try {
    const players: PlayhouseClient[] = await Promise.all(Array.from({ length: 30 }, (_, i) => server.player(`P${i}`)));
    const first = await Promise.allSettled(players.map((player) => player.findMatch('connect-four')));
    const overloaded = first.flatMap((result, i) => (result.status === 'rejected' ? [{ player: players[i]!, error: result.reason as PlayhouseError }] : []));
    assert.ok(overloaded.length > 0, 'a burst of 30 requests overflowed a one-message mailbox');
    for (const { error } of overloaded) {
      assert.equal(error.code, 'server/overloaded');
      assert.ok((error.retryAfterMs ?? 0) > 0);
    }
    // Retry one at a time, as a client honouring retryAfterMs would: every refused player gets a seat.
    const retried: MatchFound[] = [];
    for (const { player } of overloaded) retried.push(await player.findMatch('connect-four'));
    const seated = [...first.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : [])), ...retried];
    assert.equal(seated.length, 30);
    // Two per room, nobody seated twice: the refusals left no half-done matchmaking behind.
    const perRoom = new Map<string, number>();
    for (const match of seated) perRoom.set(match.roomId, (perRoom.get(match.roomId) ?? 0) + 1);
    assert.deepEqual([...perRoom.values()].sort(), Array.from({ length: 15 }, () => 2));
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, new RegExp(`^playhouse_mailbox_overflows_total\\{kind="lobby"\\} ${overloaded.length}$`, 'm'));
  } finally {
    await server.stop();
  }
});
