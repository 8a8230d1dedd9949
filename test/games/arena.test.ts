import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isInvalid, type GameContext, type PlayerId } from '../../games/api';
import game, { type ArenaDelta, type ArenaState, type ArenaTunables, type Position } from '../../games/arena/rules';
import { deepFreeze, seededRandom } from '../support/rules';
import tunablesFile from '../../games/arena/tunables.json';

const defaults = game.tunables.parse(tunablesFile);

function context(
  options: { players?: PlayerId[]; tunables?: Partial<ArenaTunables>; seed?: number; random?: () => number } = {},
): GameContext<ArenaTunables> {
  return {
    players: options.players ?? ['p1', 'p2', 'p3'],
    gameNumber: 1,
    tunables: game.tunables.parse({ ...defaults, ...options.tunables }),
    random: options.random ?? seededRandom(options.seed ?? 7),
  };
}

/** A state with players at known cells, so moves can be checked against exact coordinates. */
function arena(positions: Record<PlayerId, Position>, size = { width: 100, height: 100 }): ArenaState {
  return { ...size, positions, pending: {}, tickCount: 0 };
}

function input(state: ArenaState, playerId: PlayerId, dx: number, dy: number, ctx = context()) {
  return game.moves.input.apply(state, { dx, dy }, { ...ctx, playerId });
}

function accepted(result: ReturnType<typeof input>): ArenaState {
  if (isInvalid(result)) assert.fail(`input refused: ${result.reason}`);
  return result;
}

function assertRefused(result: ReturnType<typeof input>, reason: string) {
  assert.ok(isInvalid(result), `expected invalid('${reason}')`);
  assert.equal(result.reason, reason);
}

const tick = (state: ArenaState, ctx = context()) => game.tick!(state, 50, ctx);

// ---- setup and determinism ----

test('tunables.json parses to the defaults', () => {
  assert.deepEqual(defaults, { width: 100, height: 100, speed: 1 });
  assert.deepEqual(game.tunables.parse({}), { width: 100, height: 100, speed: 1 });
});

test('setup places every player on a distinct cell inside the grid', () => {
  const players = Array.from({ length: 16 }, (_, i) => `p${i}`);
  const state = game.setup(context({ players }));
  assert.deepEqual(Object.keys(state.positions), players);
  const cells = new Set<string>();
  for (const { x, y } of Object.values(state.positions)) {
    assert.ok(Number.isInteger(x) && x >= 0 && x < 100, `x=${x}`);
    assert.ok(Number.isInteger(y) && y >= 0 && y < 100, `y=${y}`);
    cells.add(`${x},${y}`);
  }
  assert.equal(cells.size, 16);
  assert.deepEqual(state.pending, {});
  assert.equal(state.tickCount, 0);
  assert.equal(state.width, 100);
  assert.equal(state.height, 100);
});

test('same seed gives the same setup, another seed another one', () => {
  const a = game.setup(context({ seed: 1 }));
  const b = game.setup(context({ seed: 1 }));
  const c = game.setup(context({ seed: 2 }));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.positions, c.positions);
});

test('placement draws once per player and maps the draw to a cell', () => {
  let calls = 0;
  const zero = () => {
    calls += 1;
    return 0;
  };
  const state = game.setup(context({ players: ['a', 'b', 'c'], random: zero }));
  assert.equal(calls, 3);
  // a draw of 0 always takes the first free cell in row-major order
  assert.deepEqual(state.positions, { a: { x: 0, y: 0 }, b: { x: 1, y: 0 }, c: { x: 2, y: 0 } });
});

test('a joining player lands on the only free cell', () => {
  const width = 10;
  const height = 10;
  const positions: Record<PlayerId, Position> = {};
  for (let i = 0; i < width * height; i++) if (i !== 57) positions[`p${i}`] = { x: i % width, y: Math.floor(i / width) };
  const full = deepFreeze(arena(positions, { width, height }));
  for (const draw of [0, 0.5, 0.999999]) {
    const next = game.playerJoined!(full, 'late', context({ random: () => draw }));
    assert.deepEqual(next.positions['late'], { x: 7, y: 5 });
  }
});

// ---- inputs and ticks ----

test('a legal input is recorded and moves the player on the next tick', () => {
  const state = deepFreeze(arena({ a: { x: 10, y: 20 }, b: { x: 50, y: 50 } }));
  const pending = accepted(input(state, 'a', 1, -1));
  assert.deepEqual(pending.pending, { a: { dx: 1, dy: -1 } });
  assert.deepEqual(pending.positions['a'], { x: 10, y: 20 }, 'nothing moves before the tick');

  const after = tick(pending);
  assert.deepEqual(after.positions, { a: { x: 11, y: 19 }, b: { x: 50, y: 50 } });
  assert.deepEqual(after.pending, {});
  assert.equal(after.tickCount, 1);
  assert.deepEqual(tick(after).positions, after.positions, 'an input moves once, not every tick');
});

test('a newer input replaces the earlier one; (0, 0) stands still', () => {
  const state = arena({ a: { x: 10, y: 10 } });
  const twice = accepted(input(accepted(input(state, 'a', 1, 1)), 'a', -1, 0));
  assert.deepEqual(twice.pending, { a: { dx: -1, dy: 0 } });
  assert.deepEqual(tick(twice).positions['a'], { x: 9, y: 10 });

  const still = accepted(input(state, 'a', 0, 0));
  assert.deepEqual(still.pending, { a: { dx: 0, dy: 0 } });
  assert.deepEqual(tick(still).positions['a'], { x: 10, y: 10 });
});

test('too-fast', () => {
  const state = deepFreeze(arena({ a: { x: 50, y: 50 } }));
  assertRefused(input(state, 'a', 2, 0), 'too-fast');
  assertRefused(input(state, 'a', 0, -2), 'too-fast');
  assertRefused(input(state, 'a', -5, 5), 'too-fast');
});

test('leaves-grid on every edge, scaled by speed', () => {
  const state = deepFreeze(
    arena({ low: { x: 0, y: 0 }, high: { x: 99, y: 99 }, near: { x: 97, y: 2 }, inside: { x: 96, y: 3 } }),
  );
  assertRefused(input(state, 'low', -1, 0), 'leaves-grid');
  assertRefused(input(state, 'low', 0, -1), 'leaves-grid');
  assertRefused(input(state, 'high', 1, 0), 'leaves-grid');
  assertRefused(input(state, 'high', 0, 1), 'leaves-grid');
  accepted(input(state, 'low', 1, 1));
  accepted(input(state, 'high', -1, -1));

  const fast = context({ tunables: { speed: 3 } });
  assertRefused(input(state, 'near', 1, 0, fast), 'leaves-grid'); // 97 + 3 = 100
  assertRefused(input(state, 'near', 0, -1, fast), 'leaves-grid'); // 2 - 3 = -1
  accepted(input(state, 'near', -1, 0, fast));
  accepted(input(state, 'inside', 1, -1, fast)); // lands exactly on (99, 0)
});

test('not-in-arena, including ids that exist on Object.prototype', () => {
  const state = deepFreeze(arena({ a: { x: 5, y: 5 } }));
  assertRefused(input(state, 'ghost', 1, 0), 'not-in-arena');
  assertRefused(input(state, 'constructor', 1, 0), 'not-in-arena');
  assertRefused(input(state, 'toString', 0, 0), 'not-in-arena');
});

test('a speed change applies from the next tick, clamped to the grid', () => {
  const state = arena({ a: { x: 10, y: 10 }, edge: { x: 98, y: 0 } });
  const withInputs = accepted(input(accepted(input(state, 'a', 1, 1)), 'edge', 1, 0));
  const after = tick(withInputs, context({ tunables: { speed: 3 } }));
  assert.deepEqual(after.positions['a'], { x: 13, y: 13 });
  assert.deepEqual(after.positions['edge'], { x: 99, y: 0 }, 'validated at speed 1, clamped at speed 3');
  const slow = tick(accepted(input(after, 'a', -1, 0)), context({ tunables: { speed: 1 } }));
  assert.deepEqual(slow.positions['a'], { x: 12, y: 13 });
});

// ---- join and leave ----

test('join adds a player; leave removes their position and pending input', () => {
  const ctx = context({ players: ['a'], seed: 3 });
  const start = game.setup(ctx);
  const joined = game.playerJoined!(deepFreeze(start), 'b', ctx);
  assert.deepEqual(Object.keys(joined.positions), ['a', 'b']);
  assert.notDeepEqual(joined.positions['b'], joined.positions['a']);
  assert.equal(game.playerJoined!(joined, 'b', ctx), joined, 'joining twice changes nothing');

  const moving = deepFreeze(accepted(input(accepted(input(joined, 'a', 0, 1)), 'b', 1, 0)));
  const left = game.playerLeft!(moving, 'b', ctx);
  assert.deepEqual(Object.keys(left.positions), ['a']);
  assert.deepEqual(left.pending, { a: { dx: 0, dy: 1 } });
  assert.deepEqual(Object.keys(moving.positions), ['a', 'b'], 'the input state is unchanged');
  assertRefused(input(left, 'b', 0, 0), 'not-in-arena');
  assert.deepEqual(game.playerLeft!(left, 'b', ctx), left, 'leaving twice is harmless');
});

test("a player id like '__proto__' is an ordinary key", () => {
  const ctx = context({ players: [] });
  const state = game.playerJoined!(game.setup(ctx), '__proto__', ctx);
  assert.ok(Object.hasOwn(state.positions, '__proto__'));
  const moved = tick(accepted(input(state, '__proto__', 0, 0)));
  assert.ok(Object.hasOwn(moved.positions, '__proto__'));
  const delta = game.viewDelta!(game.setup(ctx), state, 'x') as ArenaDelta;
  assert.ok(Object.hasOwn(delta.moved, '__proto__'));
  assert.ok(!Object.hasOwn(game.playerLeft!(state, '__proto__', ctx).positions, '__proto__'));
});

// ---- views ----

test('view shows the grid and every position, the same for every player', () => {
  const state = arena({ a: { x: 1, y: 2 }, b: { x: 3, y: 4 } });
  const view = game.view(state, 'b');
  assert.deepEqual(view, { width: 100, height: 100, positions: { a: { x: 1, y: 2 }, b: { x: 3, y: 4 } } });
  assert.equal(game.publicView, true);
  assert.deepEqual(JSON.parse(JSON.stringify(view)), view);
});

test('viewDelta reports only what changed, and undefined when nothing did', () => {
  const ctx = context();
  const state = arena({ a: { x: 1, y: 1 }, b: { x: 5, y: 5 }, c: { x: 9, y: 9 } });
  const moved = tick(accepted(input(accepted(input(state, 'a', 1, 0)), 'c', 0, 0)));
  assert.deepEqual(game.viewDelta!(state, moved, 'b'), { moved: { a: { x: 2, y: 1 } }, left: [] });

  assert.equal(game.viewDelta!(moved, tick(moved), 'b'), undefined, 'a tick with no input changes nothing visible');
  assert.equal(game.viewDelta!(state, accepted(input(state, 'a', 1, 0)), 'a'), undefined, 'pending inputs are not shown');

  const joined = game.playerJoined!(moved, 'd', context({ random: () => 0 }));
  assert.deepEqual(game.viewDelta!(moved, joined, 'a'), { moved: { d: { x: 0, y: 0 } }, left: [] });

  const left = game.playerLeft!(joined, 'b', ctx);
  assert.deepEqual(game.viewDelta!(joined, left, 'a'), { moved: {}, left: ['b'] });
});

// ---- purity and schemas ----

test('apply, tick, join and leave never mutate their input', () => {
  const ctx = context();
  const state = deepFreeze(accepted(input(arena({ a: { x: 1, y: 1 }, b: { x: 2, y: 2 } }), 'a', 1, 1)));
  const snapshot = structuredClone(state);
  accepted(input(state, 'b', -1, 0));
  assertRefused(input(state, 'b', 3, 0), 'too-fast');
  tick(state);
  game.playerJoined!(state, 'c', ctx);
  game.playerLeft!(state, 'a', ctx);
  assert.deepEqual(state, snapshot);
});

test('payload schema accepts integer dx, dy and rejects anything else', () => {
  const schema = game.moves.input.payload;
  assert.deepEqual(schema.parse({ dx: 1, dy: -1 }), { dx: 1, dy: -1 });
  assert.ok(schema.safeParse({ dx: 7, dy: 0 }).success, 'size is the rules’ job, so the reason is too-fast');
  for (const bad of [{ dx: 0.5, dy: 0 }, { dx: '1', dy: 0 }, { dx: 1 }, { dx: 1, dy: 0, teleport: true }, null, []]) {
    assert.equal(schema.safeParse(bad).success, false, `should reject ${JSON.stringify(bad)}`);
  }
});

test('tunables schema rejects out-of-range, non-integer and unknown values', () => {
  const schema = game.tunables;
  assert.ok(schema.safeParse({ width: 10, height: 1000, speed: 5 }).success);
  const bad = [
    { width: 9 },
    { width: 1001 },
    { height: 9 },
    { height: 10.5 },
    { speed: 0 },
    { speed: 6 },
    { speed: 1.5 },
    { speed: '2' },
    { widht: 50 },
  ];
  for (const value of bad) {
    assert.equal(schema.safeParse(value).success, false, `should reject ${JSON.stringify(value)}`);
  }
});

test('game declaration', () => {
  assert.equal(game.name, 'arena');
  assert.equal(game.minPlayers, 1);
  assert.equal(game.maxPlayers, 16);
  assert.deepEqual(game.realtime, { tickHz: 20 });
  assert.equal(game.joinInProgress, true);
  assert.equal(game.activePlayers, undefined, 'anyone seated may send input');
  assert.equal(game.isOver(game.setup(context()), context()), null);
  assert.deepEqual(Object.keys(game.moves), ['input']);
});
