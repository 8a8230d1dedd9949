/**
 * A room remembers the moves it applied by action id: a move sent again
 * through a session that no longer knows its id (a new session after the old
 * one died with its worker; here, one whose window of remembered actions has
 * moved on) gets its first result, not `move/stale-version` for a disc that
 * is on the board, and is not applied twice.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { guestLogin } from '@playhouse/client';
import { useTestServer } from '../support/playhouse';
import { Device } from '../support/raw-device';

// A session remembering only two action ids: a few refused requests push an applied move out of its window.
const testServer = useTestServer({ resume: { actionWindow: 2 } });

test('a move sent again after the session forgot its id gets its first answer from the room, and the board has it once', async (t) => {
  const url = testServer().url;
  const devices = await Promise.all(
    ['First', 'Second'].map(async (name) => {
      const device = await Device.connect(url, (await guestLogin(url, name)).token);
      t.after(() => device.close());
      return device;
    }),
  );
  let roomId = '';
  for (const [i, device] of devices.entries()) roomId = ((await device.request<{ roomId: string }>('match:find', { actionId: `find-${i}`, game: 'connect-four' })) as { roomId: string }).roomId;
  await Promise.all(devices.map((device) => device.waitFor((m) => m.event === 'room:state' && m.payload.status === 'playing', 'playing')));
  const state = devices[0]!.latestState(roomId)!;
  const mover = devices.find((device) => (state.view as { currentPlayer: string }).currentPlayer === device.ready.playerId)!;
  const drop = { roomId, version: state.version as number, move: 'drop', payload: { column: 3 } };

  const first = await mover.request<{ version: number }>('room:move', { actionId: 'the-move', ...drop });
  if (!first.ok) return assert.fail(JSON.stringify(first));
  const applied: number = first.version;
  // Out of turn now: two refusals the session remembers push 'the-move' out of its window.
  for (const id of ['again-1', 'again-2']) {
    const refused = await mover.request('room:move', { actionId: id, ...drop, version: applied });
    assert.equal(refused.ok ? 'ok' : refused.error.code, 'move/not-your-turn');
  }
  const again = await mover.request<{ version: number }>('room:move', { actionId: 'the-move', ...drop });
  assert.deepEqual(again.ok ? { ok: true, version: again.version } : again, { ok: true, version: applied }, 'the first answer');
  const synced = await mover.waitFor((m) => m.event === 'room:state' && m.payload.version === applied, 'the current state');
  assert.equal((synced.payload.view as { moveCount: number }).moveCount, 1, 'the disc is on the board once');
});
