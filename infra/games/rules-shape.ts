/**
 * Does a module's default export have the shape of the rules API? TypeScript
 * checks this when the server is built, but a hot-reloaded file is compiled
 * without type checking, so the loader checks the shape itself and names
 * every field that is wrong before anything calls into the game.
 */
import type { AnyGameRules } from '../../games/api';

/** The trial run seats maxPlayers sample players; past this a typo (10000 for 100) would stall the reload. */
export const MAX_PLAYERS_LIMIT = 1000;

/** Hooks a game may leave out; when present they must be functions. */
const OPTIONAL_FUNCTIONS = ['activePlayers', 'tick', 'viewDelta', 'playerJoined', 'playerLeft', 'playerAway', 'playerBack', 'selfTest', 'migrate'] as const;

export type RulesShape = { readonly ok: true; readonly rules: AnyGameRules } | { readonly ok: false; readonly problems: readonly string[] };

/**
 * @param expectedName the name this folder's game is published under: a rename is refused, because rooms
 *                     and players find a game by its name (a new name is a new game, not a new version)
 */
export function checkRulesShape(exported: Record<string, unknown>, expectedName?: string): RulesShape {
  const rules = exported['default'];
  if (typeof rules !== 'object' || rules === null) {
    return {
      ok: false,
      problems: [rules === undefined ? 'the module has no default export: end it with `export default defineGame({ ... })`' : `the default export is ${describe(rules)}, not a game: export default defineGame({ ... })`],
    };
  }
  const game = rules as Record<string, unknown>;
  const problems: string[] = [];

  if (typeof game['name'] !== 'string' || game['name'] === '') problems.push(`name must be a non-empty string (it is ${describe(game['name'])})`);
  else if (expectedName !== undefined && game['name'] !== expectedName) {
    problems.push(`name is '${game['name']}' but this folder serves '${expectedName}': renaming is not a reload (rooms find their game by name)`);
  }

  const { minPlayers, maxPlayers } = game;
  if (!isPlayerCount(minPlayers)) problems.push(`minPlayers must be an integer from 1 to ${MAX_PLAYERS_LIMIT} (it is ${describe(minPlayers)})`);
  if (!isPlayerCount(maxPlayers)) problems.push(`maxPlayers must be an integer from 1 to ${MAX_PLAYERS_LIMIT} (it is ${describe(maxPlayers)})`);
  if (isPlayerCount(minPlayers) && isPlayerCount(maxPlayers) && minPlayers > maxPlayers) problems.push(`minPlayers (${minPlayers}) is more than maxPlayers (${maxPlayers})`);

  if (!isSchema(game['tunables'])) problems.push('tunables must be a zod schema (z.object({ ... }))');
  for (const name of ['setup', 'isOver', 'view'] as const) {
    if (typeof game[name] !== 'function') problems.push(`${name} must be a function (it is ${describe(game[name])})`);
  }
  for (const name of OPTIONAL_FUNCTIONS) {
    if (game[name] !== undefined && typeof game[name] !== 'function') problems.push(`${name} must be a function when present (it is ${describe(game[name])})`);
  }
  for (const name of ['joinInProgress', 'publicView'] as const) {
    if (game[name] !== undefined && typeof game[name] !== 'boolean') problems.push(`${name} must be true or false when present (it is ${describe(game[name])})`);
  }
  problems.push(...movesProblems(game['moves']));
  problems.push(...realtimeProblems(game['realtime'], game['tick']));

  return problems.length > 0 ? { ok: false, problems } : { ok: true, rules: rules as AnyGameRules };
}

function movesProblems(moves: unknown): string[] {
  if (typeof moves !== 'object' || moves === null || Array.isArray(moves)) return [`moves must be an object of { payload, apply } (it is ${describe(moves)})`];
  const problems: string[] = [];
  for (const [name, move] of Object.entries(moves)) {
    if (typeof move !== 'object' || move === null) {
      problems.push(`moves.${name} must be { payload, apply } (it is ${describe(move)})`);
      continue;
    }
    const { payload, apply } = move as Record<string, unknown>;
    if (!isSchema(payload)) problems.push(`moves.${name}.payload must be a zod schema`);
    if (typeof apply !== 'function') problems.push(`moves.${name}.apply must be a function (it is ${describe(apply)})`);
  }
  return problems;
}

function realtimeProblems(realtime: unknown, tick: unknown): string[] {
  if (realtime === undefined) return tick === undefined ? [] : ['tick is never called without realtime: { tickHz }'];
  const tickHz = typeof realtime === 'object' && realtime !== null ? (realtime as { tickHz?: unknown }).tickHz : undefined;
  const problems: string[] = [];
  if (typeof tickHz !== 'number' || !Number.isFinite(tickHz) || tickHz <= 0 || tickHz > 1000) {
    problems.push(`realtime.tickHz must be a number of ticks per second above 0 and at most 1000 (it is ${describe(tickHz)})`);
  }
  if (typeof tick !== 'function') problems.push('a realtime game needs tick(state, dtMs, ctx)');
  return problems;
}

function isPlayerCount(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 1 && (value as number) <= MAX_PLAYERS_LIMIT;
}

/** Any zod schema (the shared zod or not): what the room calls on it is safeParse. */
function isSchema(value: unknown): boolean {
  return typeof value === 'object' && value !== null && typeof (value as { safeParse?: unknown }).safeParse === 'function';
}

function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'function') return 'a function';
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}
