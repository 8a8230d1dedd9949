/**
 * What the playground shows of an installed game: its seats, its moves with
 * the JSON Schema of each payload and an example payload to start from, the
 * version serving, and the last load error and warnings (file and line).
 */
import { z } from 'zod';
import type { LoadedGame } from '../../../actors/ports';
import type { GameStatus } from '../../game-catalog';

export interface MoveSummary {
  readonly name: string;
  /** The payload's JSON Schema, or null where zod cannot express it (a transform, a refinement...). */
  readonly schema: unknown;
  /** A payload of the right shape, to edit. */
  readonly example: unknown;
}

export interface GameSummary {
  readonly name: string;
  /** null while no version loads (the game has only ever failed). */
  readonly version: string | null;
  readonly tunablesVersion: string | null;
  readonly minPlayers: number;
  readonly maxPlayers: number;
  readonly realtime: boolean;
  /** Players the room waits for before the game starts (turn-based games start full). */
  readonly startsWith: number;
  readonly moves: readonly MoveSummary[];
  readonly tunables: unknown;
  readonly error: GameStatus['error'];
  readonly warnings: GameStatus['warnings'];
}

export function summariseGame(status: GameStatus, loaded: LoadedGame | undefined): GameSummary {
  const rules = loaded?.rules;
  const realtime = rules?.realtime !== undefined;
  return {
    name: status.game,
    version: status.version,
    tunablesVersion: status.tunablesVersion,
    minPlayers: rules?.minPlayers ?? 0,
    maxPlayers: rules?.maxPlayers ?? 0,
    realtime,
    startsWith: rules ? (realtime ? rules.minPlayers : rules.maxPlayers) : 0,
    moves: rules ? Object.entries(rules.moves).map(([name, move]) => describeMove(name, move.payload)) : [],
    tunables: loaded?.tunables ?? null,
    error: status.error,
    warnings: status.warnings,
  };
}

function describeMove(name: string, payload: z.ZodType): MoveSummary {
  let schema: unknown = null;
  try {
    schema = z.toJSONSchema(payload, { unrepresentable: 'any' });
  } catch {
    // a schema JSON Schema cannot express: the designer types the payload without an example
  }
  return { name, schema, example: schema === null ? {} : exampleOf(schema) };
}

/** A value of the schema's shape: 0 (within its bounds), '', false, [], the first option. */
function exampleOf(schema: unknown): unknown {
  if (typeof schema !== 'object' || schema === null) return null;
  const node = schema as Record<string, unknown>;
  if ('const' in node) return node.const;
  if (Array.isArray(node.enum) && node.enum.length > 0) return node.enum[0];
  if ('default' in node) return node.default;
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
    const options = node[key];
    if (Array.isArray(options) && options.length > 0) return exampleOf(options[0]);
  }
  switch (node.type) {
    case 'object': {
      const properties = (node.properties ?? {}) as Record<string, unknown>;
      return Object.fromEntries(Object.entries(properties).map(([key, value]) => [key, exampleOf(value)]));
    }
    case 'array':
      return [];
    case 'integer':
    case 'number': {
      const minimum = typeof node.minimum === 'number' ? node.minimum : -Infinity;
      const maximum = typeof node.maximum === 'number' ? node.maximum : Infinity;
      return Math.min(Math.max(0, minimum), maximum);
    }
    case 'string':
      return '';
    case 'boolean':
      return false;
    default:
      return null;
  }
}
