import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isInvalid, type GameContext, type PlayerId } from '../../games/api';
import game, { type ConnectFourState, type ConnectFourTunables, type ConnectFourView } from '../../games/connect-four/rules';
import { deepFreeze, seededRandom } from '../support/rules';
import tunablesFile from '../../games/connect-four/tunables.json';

const ALICE = 'alice';
const BOB = 'bob';
const defaults = game.tunables.parse(tunablesFile);

function context(tunables: ConnectFourTunables = defaults, players: PlayerId[] = [ALICE, BOB], gameNumber = 1): GameContext<ConnectFourTunables> {
  return { players, gameNumber, tunables, random: seededRandom(42) };
}

function drop(state: ConnectFourState, playerId: PlayerId, column: number, ctx = context()) {
  return game.moves.drop.apply(state, { column }, { ...ctx, playerId });
}

/** Plays columns in order, each by whoever's turn it is; fails the test on any refusal. */
function play(columns: readonly number[], ctx = context(), start = game.setup(ctx)): ConnectFourState {
  let state = start;
  for (const column of columns) {
    const active = game.activePlayers!(state);
    assert.ok(Array.isArray(active) && active.length === 1, `someone must be able to move before column ${column}`);
    const next = drop(state, active[0]!, column, ctx);
    if (isInvalid(next)) assert.fail(`drop in column ${column} refused: ${next.reason}`);
    state = next;
  }
  return state;
}

function cells(...pairs: [number, number][]) {
  return pairs.map(([column, row]) => ({ column, row }));
}

// ---- setup and view ----

test('tunables.json parses and setup builds an empty board', () => {
  assert.deepEqual(defaults, { columns: 7, rows: 6, connect: 4 });
  const players = [ALICE, BOB];
  const state = game.setup(context(defaults, players));
  assert.equal(state.board.length, 7);
  assert.ok(state.board.every((column) => column.length === 0));
  assert.deepEqual(state.players, [ALICE, BOB]);
  assert.notEqual(state.players, players, 'players are copied, not shared with the context');
  assert.equal(state.turn, 0);
  assert.equal(state.moveCount, 0);
  assert.equal(state.lastMove, null);
  assert.equal(state.winner, null);
  assert.equal(state.winningLine, null);
  assert.equal(state.draw, false);
  assert.deepEqual(game.activePlayers!(state), [ALICE]);
  assert.equal(game.isOver(state, context()), null);
});

test('the first player alternates: seat 0 opens the first game of a room, seat 1 the second, seat 0 the third', () => {
  const opener = (gameNumber: number) => game.view(game.setup(context(defaults, [ALICE, BOB], gameNumber)), ALICE) as ConnectFourView;
  assert.deepEqual([1, 2, 3, 4].map((n) => opener(n).currentPlayer), [ALICE, BOB, ALICE, BOB]);
  assert.deepEqual([1, 2, 3].map((n) => opener(n).turn), [0, 1, 0]);
  // In the second game seat 1 plays first and its discs are still marked 1.
  const second = context(defaults, [ALICE, BOB], 2);
  const state = play([3, 3], second);
  assert.deepEqual(state.board[3], [1, 0]);
  assert.deepEqual(game.activePlayers!(state), [BOB]);
  assert.equal(state.lastMove?.player, ALICE);
});

test('view is a rows×columns grid with row 0 at the bottom, plain JSON', () => {
  const state = play([3, 3, 0]); // alice 3, bob 3 (on top), alice 0
  const view = game.view(state, BOB);
  const empty = [null, null, null, null, null, null, null];
  assert.deepEqual(view, {
    columns: 7,
    rows: 6,
    board: [[0, null, null, 0, null, null, null], [null, null, null, 1, null, null, null], empty, empty, empty, empty],
    players: [ALICE, BOB],
    turn: 1,
    currentPlayer: BOB,
    lastMove: { player: ALICE, column: 0, row: 0 },
    winner: null,
    winningLine: null,
    draw: false,
    moveCount: 3,
  });
  assert.deepEqual(JSON.parse(JSON.stringify(view)), view);
  assert.deepEqual(game.view(state, ALICE), view, 'everything is public: both players see the same');
});

test('a drop lands on top of its column and passes the turn', () => {
  const state = play([2, 2]);
  assert.deepEqual(state.board[2], [0, 1]);
  assert.deepEqual(state.lastMove, { player: BOB, column: 2, row: 1 });
  assert.equal(state.turn, 0);
  assert.equal(state.moveCount, 2);
  assert.deepEqual(game.activePlayers!(state), [ALICE]);
});

// ---- wins, one per direction ----

function assertWon(state: ConnectFourState, winner: PlayerId, line: { column: number; row: number }[]) {
  assert.equal(state.winner, winner);
  assert.deepEqual(state.winningLine, line);
  assert.equal(state.draw, false);
  assert.deepEqual(game.isOver(state, context()), { winners: [winner], draw: false, reason: 'connect-line' });
  assert.deepEqual(game.activePlayers!(state), []);
  assert.equal((game.view(state, winner) as { currentPlayer: unknown }).currentPlayer, null);
}

test('horizontal win', () => {
  const state = play([0, 0, 1, 1, 2, 2, 3]);
  assertWon(state, ALICE, cells([0, 0], [1, 0], [2, 0], [3, 0]));
});

test('vertical win', () => {
  const state = play([0, 1, 0, 1, 0, 1, 0]);
  assertWon(state, ALICE, cells([0, 0], [0, 1], [0, 2], [0, 3]));
});

test('diagonal win going up-right', () => {
  const state = play([0, 1, 1, 2, 2, 3, 2, 3, 3, 6, 3]);
  assertWon(state, ALICE, cells([0, 0], [1, 1], [2, 2], [3, 3]));
});

test('diagonal win going down-right', () => {
  const state = play([6, 5, 5, 4, 4, 3, 4, 3, 3, 0, 3]);
  assertWon(state, ALICE, cells([3, 3], [4, 2], [5, 1], [6, 0]));
});

test('the second player can win too', () => {
  const state = play([6, 0, 6, 1, 5, 2, 6, 3]);
  assertWon(state, BOB, cells([0, 0], [1, 0], [2, 0], [3, 0]));
});

test('filling a gap reports the whole run, longer than connect', () => {
  const state = play([0, 0, 1, 1, 3, 3, 4, 6, 2]);
  assertWon(state, ALICE, cells([0, 0], [1, 0], [2, 0], [3, 0], [4, 0]));
});

test('connect and board size come from the tunables', () => {
  const tunables = game.tunables.parse({ columns: 5, rows: 4, connect: 3 });
  const ctx = context(tunables);
  const state = play([0, 0, 1, 1, 2], ctx);
  assertWon(state, ALICE, cells([0, 0], [1, 0], [2, 0]));
  const view = game.view(state, ALICE) as { board: unknown[][] };
  assert.equal(view.board.length, 4);
  assert.equal(view.board[0]!.length, 5);
});

// ---- draw ----

/**
 * A drop order that fills the board into `owner(column, row)` with seats alternating
 * from seat 0, found by depth-first search (the pattern decides who owns each cell;
 * the order only has to respect gravity and turns).
 */
function orderFor(columns: number, rows: number, owner: (c: number, r: number) => 0 | 1): number[] {
  const heights = new Array<number>(columns).fill(0);
  const order: number[] = [];
  const search = (seat: 0 | 1): boolean => {
    if (order.length === columns * rows) return true;
    for (let c = 0; c < columns; c++) {
      const r = heights[c]!;
      if (r < rows && owner(c, r) === seat) {
        heights[c] = r + 1;
        order.push(c);
        if (search(seat === 0 ? 1 : 0)) return true;
        order.pop();
        heights[c] = r;
      }
    }
    return false;
  };
  assert.ok(search(0), 'the pattern must be playable');
  return order;
}

test('a full board with no line is a draw', () => {
  // Columns alternate owners, and each column switches owner halfway up: no four in any direction.
  const owner = (c: number, r: number) => ((Math.floor(r / 3) + c) % 2) as 0 | 1;
  const order = orderFor(7, 6, owner);
  assert.equal(order.length, 42);

  const beforeLast = play(order.slice(0, -1));
  assert.equal(beforeLast.draw, false);
  assert.equal(game.isOver(beforeLast, context()), null);

  const state = play(order);
  assert.equal(state.moveCount, 42);
  assert.equal(state.draw, true);
  assert.equal(state.winner, null);
  assert.equal(state.winningLine, null);
  assert.deepEqual(game.isOver(state, context()), { winners: [], draw: true, reason: 'board-full' });
  assert.deepEqual(game.activePlayers!(state), []);
  const view = game.view(state, ALICE) as { board: (0 | 1 | null)[][]; currentPlayer: unknown };
  assert.equal(view.currentPlayer, null);
  assert.deepEqual(view.board[5], [1, 0, 1, 0, 1, 0, 1]);
  assert.deepEqual(view.board[0], [0, 1, 0, 1, 0, 1, 0]);
});

// ---- refusals ----

function assertRefused(result: ReturnType<typeof drop>, reason: string) {
  assert.ok(isInvalid(result), `expected invalid('${reason}')`);
  assert.equal(result.reason, reason);
  assert.equal(typeof result.message, 'string');
}

test('out-of-range on both sides', () => {
  const state = deepFreeze(game.setup(context()));
  assertRefused(drop(state, ALICE, -1), 'out-of-range');
  assertRefused(drop(state, ALICE, 7), 'out-of-range');
  assertRefused(drop(state, ALICE, 1000), 'out-of-range');
  assert.ok(!isInvalid(drop(state, ALICE, 0)));
  assert.ok(!isInvalid(drop(state, ALICE, 6)));
});

test('column-full', () => {
  const state = deepFreeze(play([4, 4, 4, 4, 4, 4])); // alternating, so no vertical four
  assert.equal(state.board[4]!.length, 6);
  assertRefused(drop(state, ALICE, 4), 'column-full');
  assert.ok(!isInvalid(drop(state, ALICE, 5)), 'other columns still take discs');
});

test('game-over after a win and after a draw', () => {
  const won = deepFreeze(play([0, 1, 0, 1, 0, 1, 0]));
  assertRefused(drop(won, BOB, 5), 'game-over');
  assertRefused(drop(won, ALICE, 5), 'game-over');
  const owner = (c: number, r: number) => ((Math.floor(r / 3) + c) % 2) as 0 | 1;
  const drawn = deepFreeze(play(orderFor(7, 6, owner)));
  assertRefused(drop(drawn, ALICE, 0), 'game-over');
});

test('not-your-turn, also for someone who is not seated', () => {
  const state = deepFreeze(game.setup(context()));
  assertRefused(drop(state, BOB, 3), 'not-your-turn');
  assertRefused(drop(state, 'mallory', 3), 'not-your-turn');
  const after = play([3], context(), state);
  assertRefused(drop(after, ALICE, 3), 'not-your-turn');
});

test('apply never mutates its input', () => {
  const state = deepFreeze(play([3, 3, 2, 4]));
  const snapshot = structuredClone(state);
  const next = drop(state, ALICE, 3);
  assert.ok(!isInvalid(next));
  assert.deepEqual(state, snapshot, 'the input is unchanged');
  assert.notEqual(next, state);
  assert.deepEqual(next.board[3], [0, 1, 0]);
  assert.deepEqual(state.board[3], [0, 1]);
  // A winning move and a refused move leave the input alone as well.
  const winning = deepFreeze(play([0, 1, 0, 1, 0, 1]));
  const winningSnapshot = structuredClone(winning);
  const won = drop(winning, ALICE, 0);
  assert.ok(!isInvalid(won) && won.winner === ALICE);
  assertRefused(drop(winning, ALICE, 9), 'out-of-range');
  assert.deepEqual(winning, winningSnapshot);
});

// ---- schemas ----

test('payload schema accepts an integer column and rejects anything else', () => {
  const schema = game.moves.drop.payload;
  assert.deepEqual(schema.parse({ column: 3 }), { column: 3 });
  assert.ok(schema.safeParse({ column: -1 }).success, 'range is the rules’ job, so the reason is out-of-range');
  for (const bad of [{ column: '3' }, { column: 1.5 }, { column: 3, extra: true }, {}, null, 3, [3], { column: NaN }]) {
    assert.equal(schema.safeParse(bad).success, false, `should reject ${JSON.stringify(bad)}`);
  }
});

test('tunables schema rejects impossible or mistyped values', () => {
  const schema = game.tunables;
  assert.ok(schema.safeParse({ columns: 4, rows: 4, connect: 4 }).success);
  assert.ok(schema.safeParse({ columns: 12, rows: 12, connect: 6 }).success);
  const bad = [
    { columns: 4, rows: 6, connect: 5 }, // connect > columns
    { columns: 7, rows: 4, connect: 5 }, // connect > rows
    { columns: 7.5, rows: 6, connect: 4 },
    { columns: 7, rows: 6, connect: 3.5 },
    { columns: 3, rows: 6, connect: 3 },
    { columns: 13, rows: 6, connect: 4 },
    { columns: 7, rows: 13, connect: 4 },
    { columns: 7, rows: 6, connect: 2 },
    { columns: 12, rows: 12, connect: 7 },
    { columns: '7', rows: 6, connect: 4 },
    { columns: 7, rows: 6 },
    { columns: 7, rows: 6, connect: 4, colums: 8 }, // typo'd key
  ];
  for (const value of bad) {
    assert.equal(schema.safeParse(value).success, false, `should reject ${JSON.stringify(value)}`);
  }
  const tooLong = schema.safeParse({ columns: 4, rows: 6, connect: 5 });
  assert.ok(!tooLong.success);
  assert.deepEqual(tooLong.error.issues[0]!.path, ['connect']);
});

test('game declaration', () => {
  assert.equal(game.name, 'connect-four');
  assert.equal(game.minPlayers, 2);
  assert.equal(game.maxPlayers, 2);
  assert.equal(game.realtime, undefined);
  assert.ok(!game.joinInProgress);
  assert.equal(game.playerLeft, undefined, 'a leaver forfeits: the room handles it');
  assert.deepEqual(Object.keys(game.moves), ['drop']);
});
