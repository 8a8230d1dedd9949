/** Arena: real-time inputs are checked against the limits; legal ones move the player at the next tick. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PlayhouseError, type PlayhouseClient } from '@playhouse/client';
import type { ArenaDelta, ArenaView, Position } from '../../games/arena/rules';
import { stateWhere, useTestServer } from '../support/playhouse';

const testServer = useTestServer();

async function enterArena(client: PlayhouseClient): Promise<{ roomId: string; view: ArenaView }> {
  const { roomId } = await client.findMatch('arena');
  const state = await stateWhere(client, roomId, (s) => s.status === 'playing' && client.playerId in (s.view as ArenaView).positions);
  return { roomId, view: state.view as ArenaView };
}

test('a legal input moves the player at the next tick, and others in the arena see it', async () => {
  const alice = await testServer().player('Alice');
  const bob = await testServer().player('Bob');
  const { roomId } = await enterArena(alice);
  const bobs = await enterArena(bob);
  assert.equal(bobs.roomId, roomId, 'both land in the same arena');
  const start = bobs.view.positions[alice.playerId]!;
  const dx = start.x < bobs.view.width - 1 ? 1 : -1;

  const seenByBob = bob.waitFor('delta', (delta) => delta.roomId === roomId && alice.playerId in (delta.delta as ArenaDelta).moved);
  const seenByAlice = alice.waitFor('delta', (delta) => delta.roomId === roomId && alice.playerId in (delta.delta as ArenaDelta).moved);
  await alice.move(roomId, 'input', { dx, dy: 0 });
  const moved = (await seenByBob).delta as ArenaDelta;
  assert.deepEqual(moved.moved[alice.playerId], { x: start.x + dx, y: start.y });
  assert.deepEqual(((await seenByAlice).delta as ArenaDelta).moved[alice.playerId], { x: start.x + dx, y: start.y });
});

test('inputs outside the limits are refused and move nobody', async () => {
  const carol = await testServer().player('Carol');
  const { roomId, view } = await enterArena(carol);
  const at = view.positions[carol.playerId]!;
  const refusal = async (payload: unknown): Promise<PlayhouseError> =>
    carol.move(roomId, 'input', payload).then(
      () => assert.fail(`accepted ${JSON.stringify(payload)}`),
      (error: unknown) => error as PlayhouseError,
    );

  for (const payload of [{ dx: 2, dy: 0 }, { dx: 0, dy: -5 }, { dx: 100, dy: 100 }]) {
    const error = await refusal(payload);
    assert.equal(error.code, 'move/illegal');
    assert.equal(error.reason, 'too-fast');
  }
  for (const payload of [{ dx: 0.5, dy: 0 }, { dx: '1', dy: 0 }, { dx: 1 }, { dx: 1, dy: 0, teleport: true }]) {
    assert.equal((await refusal(payload)).code, 'move/bad-payload', JSON.stringify(payload));
  }
  // Walk with legal inputs to the nearest edge (at most 49 steps), then one more step leaves the grid.
  const distances = [
    { dx: -1, dy: 0, steps: at.x },
    { dx: 1, dy: 0, steps: view.width - 1 - at.x },
    { dx: 0, dy: -1, steps: at.y },
    { dx: 0, dy: 1, steps: view.height - 1 - at.y },
  ].sort((a, b) => a.steps - b.steps);
  const toEdge = distances[0]!;
  let position = at;
  for (let step = 0; step < toEdge.steps; step++) position = await stepAndWait(carol, roomId, toEdge.dx, toEdge.dy, position);
  const outward = await refusal({ dx: toEdge.dx, dy: toEdge.dy });
  assert.equal(outward.code, 'move/illegal');
  assert.equal(outward.reason, 'leaves-grid');
  // None of the refused inputs moved Carol: one legal step inwards lands exactly one cell from the edge.
  const inwards = await stepAndWait(carol, roomId, -toEdge.dx, -toEdge.dy, position);
  assert.deepEqual(inwards, { x: position.x - toEdge.dx, y: position.y - toEdge.dy });
});

/** Sends one legal input and resolves with the position the next tick reports. */
async function stepAndWait(client: PlayhouseClient, roomId: string, dx: number, dy: number, from: Position): Promise<Position> {
  const target = { x: from.x + dx, y: from.y + dy };
  const arrived = client.waitFor('delta', (d) => {
    const moved = (d.delta as ArenaDelta).moved[client.playerId];
    return d.roomId === roomId && moved !== undefined;
  });
  await client.move(roomId, 'input', { dx, dy });
  const moved = ((await arrived).delta as ArenaDelta).moved[client.playerId]!;
  assert.deepEqual(moved, target);
  return moved;
}
