/**
 * Arena: an endless real-time room where players walk a grid.
 *
 * Inputs are validated when they arrive and only recorded; the room's tick
 * (20 Hz) moves everyone at once, so all players see the same step and the
 * broadcast is one delta per tick rather than one per input.
 */
import { defineGame, invalid, z, type PlayerId } from '../api';

export interface Position {
  readonly x: number;
  readonly y: number;
}

/** One input: each of dx, dy is -1, 0 or 1. */
export interface Step {
  readonly dx: number;
  readonly dy: number;
}

export interface ArenaState {
  /** Copied from the tunables at setup: a running arena keeps its grid if the tunables change. */
  readonly width: number;
  readonly height: number;
  readonly positions: Readonly<Record<PlayerId, Position>>;
  /** Latest accepted input per player since the last tick (a newer input replaces an older one). */
  readonly pending: Readonly<Record<PlayerId, Step>>;
  readonly tickCount: number;
}

export interface ArenaView {
  readonly width: number;
  readonly height: number;
  readonly positions: Readonly<Record<PlayerId, Position>>;
}

export interface ArenaDelta {
  /** Players whose position changed or who appeared. */
  readonly moved: Readonly<Record<PlayerId, Position>>;
  /** Players who are no longer in the arena. */
  readonly left: readonly PlayerId[];
}

const tunables = z
  .object({
    width: z.number().int().min(10).max(1000).default(100),
    height: z.number().int().min(10).max(1000).default(100),
    /** Cells moved per accepted input per tick. */
    speed: z.number().int().min(1).max(5).default(1),
  })
  // strict: a misspelt key in tunables.json is an error, not a silently ignored value
  .strict();

export type ArenaTunables = z.infer<typeof tunables>;

/**
 * Own-property lookup: player ids are keys of plain objects, and an id such as
 * 'constructor' must not find something on Object.prototype. For the same
 * reason records are built with spreads and Object.fromEntries, never `r[id] = v`
 * (which, for '__proto__', would set the prototype instead of adding a key).
 */
function lookup<V>(record: Readonly<Record<PlayerId, V>>, id: PlayerId): V | undefined {
  return Object.hasOwn(record, id) ? record[id] : undefined;
}

function without<V>(record: Readonly<Record<PlayerId, V>>, id: PlayerId): Record<PlayerId, V> {
  const { [id]: _removed, ...rest } = record;
  return rest;
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

/**
 * A uniformly random free cell, using exactly one ctx.random() call so that
 * replays see the same sequence. Picks the k-th free cell index without
 * scanning the grid (a 1000×1000 grid has a million cells).
 */
function randomFreeCell(
  positions: Readonly<Record<PlayerId, Position>>,
  width: number,
  height: number,
  random: () => number,
): Position {
  // several players may share a cell after moving, so count each cell once
  const occupied = [...new Set(Object.values(positions).map((p) => p.y * width + p.x))].sort((a, b) => a - b);
  const free = width * height - occupied.length;
  if (free <= 0) throw new Error(`arena: no free cell on a ${width}×${height} grid`);
  let index = Math.min(free - 1, Math.floor(random() * free));
  // shift past every occupied cell at or before the candidate (ascending order makes this exact)
  for (const cell of occupied) {
    if (cell <= index) index += 1;
  }
  return { x: index % width, y: Math.floor(index / width) };
}

function place(state: ArenaState, playerId: PlayerId, random: () => number): ArenaState {
  if (lookup(state.positions, playerId)) return state; // already here: joining twice changes nothing
  const position = randomFreeCell(state.positions, state.width, state.height, random);
  return { ...state, positions: { ...state.positions, [playerId]: position } };
}

export default defineGame({
  name: 'arena',
  minPlayers: 1,
  maxPlayers: 16,
  tunables,
  realtime: { tickHz: 20 },
  joinInProgress: true,

  setup(ctx): ArenaState {
    const empty: ArenaState = {
      width: ctx.tunables.width,
      height: ctx.tunables.height,
      positions: {},
      pending: {},
      tickCount: 0,
    };
    // seat order fixes the order of random draws, so the same seed gives the same layout
    return ctx.players.reduce((state, id) => place(state, id, ctx.random), empty);
  },

  moves: {
    input: {
      payload: z.object({ dx: z.number().int(), dy: z.number().int() }).strict(),
      apply(state, { dx, dy }, ctx) {
        if (Math.abs(dx) > 1 || Math.abs(dy) > 1) return invalid('too-fast', 'dx and dy must each be -1, 0 or 1');
        const position = lookup(state.positions, ctx.playerId);
        if (!position) return invalid('not-in-arena', 'you are not in this arena');
        const x = position.x + dx * ctx.tunables.speed;
        const y = position.y + dy * ctx.tunables.speed;
        if (x < 0 || x >= state.width || y < 0 || y >= state.height) {
          return invalid('leaves-grid', 'that move would leave the grid');
        }
        return { ...state, pending: { ...state.pending, [ctx.playerId]: { dx, dy } } };
      },
    },
  },

  // dtMs is unused: movement is per tick, not per millisecond, so a late tick does not make players jump.
  tick(state, _dtMs, ctx): ArenaState {
    // speed is read now, not when the input arrived, so a tunables change applies from the next tick;
    // clamping covers an input validated under a smaller speed.
    const { speed } = ctx.tunables;
    const positions = Object.fromEntries(
      Object.entries(state.positions).map(([id, p]) => {
        const step = lookup(state.pending, id);
        if (!step) return [id, p];
        const moved: Position = {
          x: clamp(p.x + step.dx * speed, 0, state.width - 1),
          y: clamp(p.y + step.dy * speed, 0, state.height - 1),
        };
        return [id, moved];
      }),
    );
    return { ...state, positions, pending: {}, tickCount: state.tickCount + 1 };
  },

  isOver() {
    return null; // endless: the room closes when the last player leaves
  },

  playerJoined(state, playerId, ctx) {
    return place(state, playerId, ctx.random);
  },

  playerLeft(state, playerId) {
    return { ...state, positions: without(state.positions, playerId), pending: without(state.pending, playerId) };
  },

  // Everyone sees the whole arena; a client knows its own id from session:ready.
  publicView: true,

  view(state): ArenaView {
    return { width: state.width, height: state.height, positions: state.positions };
  },

  // Everyone sees everything, so the delta does not depend on playerId.
  viewDelta(previous, next): ArenaDelta | undefined {
    // Object.fromEntries (not moved[id] = ...) so that an id like '__proto__' stays an ordinary key
    const moved = Object.fromEntries(
      Object.entries(next.positions).filter(([id, p]) => {
        const before = lookup(previous.positions, id);
        return !before || before.x !== p.x || before.y !== p.y;
      }),
    );
    const left = Object.keys(previous.positions).filter((id) => !Object.hasOwn(next.positions, id));
    if (left.length === 0 && Object.keys(moved).length === 0) return undefined;
    return { moved, left };
  },
});
