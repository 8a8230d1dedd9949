/**
 * Presence in the room's match: a player whose connection dropped is marked
 * away and the others hear it; a game with `playerAway`/`playerBack` hooks
 * reacts (here: pauses its clock), which is a new state with a new version; a
 * game without them keeps its version, so moves in flight stay valid.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RoomState } from '../../actors/room/room-state';
import { SeededRandom } from '../../actors/room/seeded-random';
import type { AnyGameRules } from '../../games/api';
import { defineGame, z } from '../../games/api';
import connectFour from '../../games/connect-four/rules';
import connectFourTunables from '../../games/connect-four/tunables.json';
import type { RoomStateMessage } from '@playhouse/client';

interface ClockState {
  readonly paused: readonly string[];
}

/** A two-player game whose only interesting rule: the clock stops while somebody is away. */
const pausingGame = defineGame<ClockState, Record<string, never>, { wait: Record<string, never> }>({
  name: 'pausing',
  minPlayers: 2,
  maxPlayers: 2,
  tunables: z.object({}),
  setup: () => ({ paused: [] }),
  moves: { wait: { payload: z.object({}), apply: (state) => state } },
  isOver: () => null,
  view: (state) => ({ paused: state.paused }),
  playerAway: (state, playerId) => ({ paused: [...state.paused, playerId] }),
  playerBack: (state, playerId) => ({ paused: state.paused.filter((id) => id !== playerId) }),
});

function seatTwo(rules: AnyGameRules, tunables: unknown = {}): RoomState {
  const match = new RoomState('room-1', { name: rules.name, version: 'v1', rules, tunables, tunablesVersion: 't1' }, new SeededRandom(7));
  assert.ok(match.join('alice', 'Alice').ok);
  assert.ok(match.join('bob', 'Bob').ok);
  match.outbox.length = 0;
  return match;
}

test('a game with presence hooks reacts: away pauses, back resumes, each a new version the others see', () => {
  const match = seatTwo(pausingGame as unknown as AnyGameRules);
  const before = match.stateFor('bob').version;
  assert.ok(match.presence('alice', true).ok);
  assert.ok(match.isAway('alice'));
  const toBob = match.outbox.filter((out) => out.playerId === 'bob');
  assert.deepEqual(toBob.map((out) => out.event), ['room:player', 'room:state']);
  assert.deepEqual(toBob[0]!.payload, { roomId: 'room-1', playerId: 'alice', change: 'away' });
  const paused = toBob[1]!.payload as RoomStateMessage;
  assert.equal(paused.version, before + 1);
  assert.deepEqual(paused.view, { paused: ['alice'] });
  assert.equal(paused.players.find((seat) => seat.playerId === 'alice')?.away, true);
  assert.ok(!match.outbox.some((out) => out.playerId === 'alice' && out.event === 'room:player'), 'the player away is not told about themselves');

  match.outbox.length = 0;
  assert.ok(match.presence('alice', false).ok);
  const back = match.outbox.filter((out) => out.playerId === 'bob');
  assert.deepEqual(back[0]!.payload, { roomId: 'room-1', playerId: 'alice', change: 'back' });
  assert.deepEqual((back[1]!.payload as RoomStateMessage).view, { paused: [] });
  assert.equal((back[1]!.payload as RoomStateMessage).players.find((seat) => seat.playerId === 'alice')?.away, undefined);
  // Saying it twice changes nothing.
  match.outbox.length = 0;
  assert.ok(match.presence('alice', false).ok);
  assert.equal(match.outbox.length, 0);
});

test('a game without hooks keeps its version: only the others hear who is away', () => {
  const match = seatTwo(connectFour as unknown as AnyGameRules, connectFourTunables);
  const version = match.stateFor('alice').version;
  assert.ok(match.presence('bob', true).ok);
  assert.deepEqual(match.outbox.map((out) => [out.playerId, out.event]), [['alice', 'room:player']]);
  assert.equal(match.stateFor('alice').version, version, 'moves made against this version stay valid');
  assert.equal(match.stateFor('alice').players.find((seat) => seat.playerId === 'bob')?.away, true, 'the next state shows the seat held');
  assert.equal(match.presence('nobody', true).ok, false, 'only a seated player can be away');
});
