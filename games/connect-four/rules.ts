/**
 * Connect Four: two players drop discs into columns; the first to line up
 * `connect` discs horizontally, vertically or diagonally wins.
 *
 * Pure rules: no I/O, no clock, no randomness. The room checks turn order via
 * `activePlayers`, rejects bad payloads via the schema, and ends the game when
 * `isOver` says so (or when a player leaves: there is no `playerLeft` hook, so
 * the leaver forfeits).
 */
import { defineGame, invalid, z, type Outcome, type PlayerId } from '../api';

/** Seat index. Seat 0 moves first in a room's first game, seat 1 in its second, and so on in turn. */
export type Seat = 0 | 1;

/** Who opens a game: the first player has the edge in Connect Four, so it alternates between rematches. */
export function openingSeat(gameNumber: number): Seat {
  return gameNumber % 2 === 0 ? 1 : 0;
}

export interface Cell {
  readonly column: number;
  readonly row: number;
}

export interface ConnectFourState {
  /** Copied from the tunables at setup, so a running game keeps its own board size if the tunables change. */
  readonly columns: number;
  readonly rows: number;
  readonly connect: number;
  /** board[column] = seats of the discs in that column, bottom first. */
  readonly board: readonly (readonly Seat[])[];
  /** Seated players, in seat order. */
  readonly players: readonly PlayerId[];
  /** Seat whose turn it is. */
  readonly turn: Seat;
  readonly moveCount: number;
  readonly lastMove: { readonly player: PlayerId; readonly column: number; readonly row: number } | null;
  readonly winner: PlayerId | null;
  /** Every cell of the winning run (it can be longer than `connect`), bottom-left first. */
  readonly winningLine: readonly Cell[] | null;
  readonly draw: boolean;
}

/** What a client renders. The whole state is public, so every player gets the same view. */
export interface ConnectFourView {
  readonly columns: number;
  readonly rows: number;
  /** grid[row][column], row 0 = bottom; null = empty. */
  readonly board: readonly (readonly (Seat | null)[])[];
  readonly players: readonly PlayerId[];
  readonly turn: Seat;
  /** Whose move it is, or null once the game is over. */
  readonly currentPlayer: PlayerId | null;
  readonly lastMove: ConnectFourState['lastMove'];
  readonly winner: PlayerId | null;
  readonly winningLine: readonly Cell[] | null;
  readonly draw: boolean;
  readonly moveCount: number;
}

const tunables = z
  .object({
    columns: z.number().int().min(4).max(12),
    rows: z.number().int().min(4).max(12),
    connect: z.number().int().min(3).max(6),
  })
  // strict: a misspelt key in tunables.json is an error, not a silently ignored value
  .strict()
  .refine((t) => t.connect <= Math.min(t.columns, t.rows), {
    message: 'connect must be at most min(columns, rows), or nobody could ever win',
    path: ['connect'],
  });

export type ConnectFourTunables = z.infer<typeof tunables>;

/** The four line directions; each is scanned both ways from the last disc. */
const DIRECTIONS: readonly (readonly [number, number])[] = [
  [1, 0], // horizontal
  [0, 1], // vertical
  [1, 1], // diagonal /
  [1, -1], // diagonal \
];

function isFinished(state: ConnectFourState): boolean {
  return state.winner !== null || state.draw;
}

function seatAt(board: ConnectFourState['board'], column: number, row: number): Seat | undefined {
  return board[column]?.[row];
}

/**
 * The longest run of `seat` through (column, row) that reaches `connect`, or null.
 * Only lines through the last disc can be new, so this is all the win check needs.
 */
function winningLineThrough(
  board: ConnectFourState['board'],
  column: number,
  row: number,
  seat: Seat,
  connect: number,
): Cell[] | null {
  for (const [dc, dr] of DIRECTIONS) {
    // walk back to the start of the run, then forward to collect it in order
    let c = column;
    let r = row;
    while (seatAt(board, c - dc, r - dr) === seat) {
      c -= dc;
      r -= dr;
    }
    const line: Cell[] = [];
    while (seatAt(board, c, r) === seat) {
      line.push({ column: c, row: r });
      c += dc;
      r += dr;
    }
    if (line.length >= connect) return line;
  }
  return null;
}

export default defineGame({
  name: 'connect-four',
  minPlayers: 2,
  maxPlayers: 2,
  tunables,

  setup(ctx): ConnectFourState {
    const { columns, rows, connect } = ctx.tunables;
    return {
      columns,
      rows,
      connect,
      board: Array.from({ length: columns }, () => []),
      players: [...ctx.players],
      turn: openingSeat(ctx.gameNumber),
      moveCount: 0,
      lastMove: null,
      winner: null,
      winningLine: null,
      draw: false,
    };
  },

  moves: {
    drop: {
      // strict: unknown keys are refused by the schema before apply runs
      payload: z.object({ column: z.number().int() }).strict(),
      apply(state, { column }, ctx) {
        if (isFinished(state)) return invalid('game-over', 'the game is over');
        // The room also checks activePlayers; checking here keeps the rules correct on their own.
        if (state.players[state.turn] !== ctx.playerId) return invalid('not-your-turn', 'it is not your turn');
        if (column < 0 || column >= state.columns) {
          return invalid('out-of-range', `column must be between 0 and ${state.columns - 1}`);
        }
        const stack = state.board[column]!;
        if (stack.length >= state.rows) return invalid('column-full', `column ${column} is full`);

        // Copy only the column that changes; the other columns are shared (they are never mutated).
        const row = stack.length;
        const board = state.board.map((s, c) => (c === column ? [...s, state.turn] : s));
        const moveCount = state.moveCount + 1;
        const winningLine = winningLineThrough(board, column, row, state.turn, state.connect);
        const next: ConnectFourState = {
          ...state,
          board,
          turn: state.turn === 0 ? 1 : 0,
          moveCount,
          lastMove: { player: ctx.playerId, column, row },
          winner: winningLine ? ctx.playerId : null,
          winningLine,
          // a last disc that completes a line is a win, not a draw
          draw: winningLine === null && moveCount === state.columns * state.rows,
        };
        return next;
      },
    },
  },

  activePlayers(state) {
    return isFinished(state) ? [] : [state.players[state.turn]!];
  },

  isOver(state): Outcome | null {
    if (state.winner !== null) return { winners: [state.winner], draw: false, reason: 'connect-line' };
    if (state.draw) return { winners: [], draw: true, reason: 'board-full' };
    return null;
  },

  // Nothing is hidden in Connect Four: one view serves both players.
  publicView: true,

  view(state): ConnectFourView {
    // Plain loops: the view is built after every move, so it is on the server's hot path.
    const board: (Seat | null)[][] = [];
    for (let row = 0; row < state.rows; row++) {
      const cells: (Seat | null)[] = new Array<Seat | null>(state.columns);
      for (let column = 0; column < state.columns; column++) cells[column] = state.board[column]![row] ?? null;
      board.push(cells);
    }
    return {
      columns: state.columns,
      rows: state.rows,
      board,
      players: state.players,
      turn: state.turn,
      currentPlayer: isFinished(state) ? null : state.players[state.turn] ?? null,
      lastMove: state.lastMove,
      winner: state.winner,
      winningLine: state.winningLine,
      draw: state.draw,
      moveCount: state.moveCount,
    };
  },
});
