/**
 * Placement is configuration: the same room actor, forked into a child process
 * or run in a worker thread, plays a whole game with no change to its code.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startDuel, startTestServer } from '../support/playhouse';

for (const mode of ['forked', 'threaded'] as const) {
  test(`a game plays through a ${mode} room actor`, async () => {
    const server = await startTestServer({ actors: { placement: { room: mode } } });
    try {
      const duel = await startDuel(server);
      const [first] = duel.players;
      for (const column of [0, 1, 0, 1, 0, 1]) await duel.drop(column);
      const final = await duel.drop(0);
      assert.equal(final.status, 'over');
      assert.deepEqual(final.outcome?.winners, [first.playerId]);
      // Refusals cross the process boundary as typed errors too.
      await assert.rejects(first.move(duel.roomId, 'drop', { column: 0 }), /move\/game-over/);
      assert.deepEqual((await server.server.actors.stats()).actors, { session: 2, room: 1, lobby: 1 });
    } finally {
      await server.stop();
    }
  });
}

test('the forked room really runs in another process', async () => {
  const server = await startTestServer({ actors: { placement: { room: 'forked' } } });
  try {
    const { execFileSync } = await import('node:child_process');
    const children = () => execFileSync('ps', ['-o', 'pid=', '--ppid', String(process.pid)]).toString().trim().split(/\s+/).filter(Boolean).length;
    const before = children();
    const duel = await startDuel(server);
    await duel.drop(3);
    assert.equal(children(), before + 1, 'one child process for the room');
  } finally {
    await server.stop();
  }
});
