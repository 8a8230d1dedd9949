/**
 * The rules API: everything a game module may import.
 *
 * A game is plain data plus pure functions. The room actor — not the rules —
 * does rejecting, logging, versioning, broadcasting and persistence. Rules get
 * no clock and no randomness except what the context hands in, so a game can be
 * replayed exactly and reloaded safely.
 */
import { z } from 'zod';
import type { Outcome } from '@playhouse/client/protocol';

/** Schemas for move payloads and tunables are written with zod. */
export { z };

export type PlayerId = string;

/** A move the rules refuse. `reason` is a short kebab-case code sent to the player. */
export interface Invalid {
  readonly invalid: true;
  readonly reason: string;
  readonly message: string;
}

export function invalid(reason: string, message?: string): Invalid {
  return { invalid: true, reason, message: message ?? reason.replace(/-/g, ' ') };
}

export function isInvalid(value: unknown): value is Invalid {
  return typeof value === 'object' && value !== null && (value as { invalid?: unknown }).invalid === true;
}

/** What the room hands to every rules function. */
export interface GameContext<T> {
  /** Seated players, in seat order. */
  readonly players: readonly PlayerId[];
  /** Games started in this room, the current one included: 1 for the first, 2 after a rematch… */
  readonly gameNumber: number;
  /** The game's tunables, already validated against its schema. */
  readonly tunables: T;
  /** Deterministic random number in [0, 1), seeded by the room and replayable. */
  random(): number;
}

export interface MoveContext<T> extends GameContext<T> {
  /** The player making the move. */
  readonly playerId: PlayerId;
}

export interface MoveDefinition<S, T, P> {
  /** Shape of the payload. A payload that does not parse is refused before `apply` runs. */
  readonly payload: z.ZodType<P>;
  /** Returns the next state, or `invalid(reason)`. Must not mutate `state`. */
  apply(state: S, payload: P, ctx: MoveContext<T>): S | Invalid;
}

/** How a game ended: what `isOver` returns, and what every player's device is told (the wire's own type). */
export type { Outcome } from '@playhouse/client/protocol';

export interface GameRules<S, T, M extends Record<string, unknown> = Record<string, unknown>> {
  /** Stable identifier clients use to ask for this game, e.g. 'connect-four'. */
  readonly name: string;
  readonly minPlayers: number;
  readonly maxPlayers: number;
  /** Schema of the tunables data file beside the rules (tunables.json). */
  readonly tunables: z.ZodType<T>;
  /** Real-time games tick at a fixed rate; moves are then applied state changes broadcast once per tick. */
  readonly realtime?: { readonly tickHz: number };
  /** Whether players may join after the game started (real-time arenas); turn-based games start full. */
  readonly joinInProgress?: boolean;
  /**
   * Every player sees the same thing: `view` and `viewDelta` ignore `playerId`.
   * The room then computes them once per change instead of once per player.
   */
  readonly publicView?: boolean;

  setup(ctx: GameContext<T>): S;
  /** One definition per move name; `M` maps each move name to its payload type. */
  readonly moves: { readonly [K in keyof M]: MoveDefinition<S, T, M[K]> };
  /** Players allowed to move now. Omitted or 'all' means anyone seated may move. */
  activePlayers?(state: S): readonly PlayerId[] | 'all';
  /** Advances a real-time game by `dtMs` milliseconds. */
  tick?(state: S, dtMs: number, ctx: GameContext<T>): S;
  /** The outcome once the game is over, otherwise null. */
  isOver(state: S, ctx: GameContext<T>): Outcome | null;
  /** What `playerId` may see of the state (strip secrets here). Plain JSON. */
  view(state: S, playerId: PlayerId): unknown;
  /** For real-time games: what changed for `playerId` between two states, or undefined if nothing did. */
  viewDelta?(previous: S, next: S, playerId: PlayerId): unknown;
  /** A player joins a running game (only with joinInProgress). */
  playerJoined?(state: S, playerId: PlayerId, ctx: GameContext<T>): S;
  /** A player leaves a running game. Without this hook the leaver forfeits and the game ends. */
  playerLeft?(state: S, playerId: PlayerId, ctx: GameContext<T>): S;
  /**
   * The player's connection dropped; their seat is held for the grace period. Games may react (pause a
   * turn timer, let the others wait); without this hook nothing changes but the seat's `away` flag.
   */
  playerAway?(state: S, playerId: PlayerId, ctx: GameContext<T>): S;
  /** The player came back within the grace period. */
  playerBack?(state: S, playerId: PlayerId, ctx: GameContext<T>): S;
  /**
   * The game's own check, run when a new version of the rules is loaded: throws an Error saying what
   * failed, and the new version is refused (the previous one keeps serving).
   */
  selfTest?(): void;
  /**
   * A running match's state from an older version of these rules (`fromVersion` is that version's id),
   * returned as the state for this version (plain JSON, like every state). Throw, or return
   * `invalid(...)`, to refuse the migration.
   */
  migrate?(oldState: unknown, fromVersion: string): unknown;
}

/** Identity function that lets TypeScript infer the state and tunables types of a game. */
export function defineGame<S, T, M extends Record<string, unknown>>(rules: GameRules<S, T, M>): GameRules<S, T, M> {
  return rules;
}

/** A game whose state and tunables types are erased, as the room actor holds it. */
export type AnyGameRules = GameRules<unknown, unknown>;
