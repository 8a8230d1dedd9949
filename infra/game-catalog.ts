/**
 * Loads the games in games/: each folder with a rules module and a
 * tunables.json beside it. The tunables are validated against the schema the
 * game declares; a game that fails to load is reported and left out, so one
 * broken game never takes the others down.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { AnyGameRules } from '../games/api';
import type { GameCatalog, LoadedGame } from '../actors/ports';
import { describeIssues } from '../protocol/wire-checks';
import { processLogger } from './logger';

export const GAMES_DIR = path.resolve(__dirname, '..', 'games');

export interface GameLoadError {
  readonly game: string;
  readonly error: string;
}

export class StaticGameCatalog implements GameCatalog {
  readonly errors: GameLoadError[] = [];
  private readonly games = new Map<string, LoadedGame>();

  constructor(directory: string = GAMES_DIR) {
    for (const entry of readdirSync(directory, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const folder = path.join(directory, entry.name);
      if (!existsSync(path.join(folder, 'rules.ts')) && !existsSync(path.join(folder, 'rules.js'))) continue;
      try {
        const game = loadGame(folder);
        this.games.set(game.name, game);
      } catch (error) {
        this.errors.push({ game: entry.name, error: error instanceof Error ? error.message : String(error) });
        processLogger().error({ game: entry.name, err: String(error) }, 'game failed to load; left out');
      }
    }
  }

  get(name: string): LoadedGame | undefined {
    return this.games.get(name);
  }

  names(): readonly string[] {
    return [...this.games.keys()].sort();
  }
}

export function loadGame(folder: string): LoadedGame {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const exported = require(path.join(folder, 'rules')) as { default?: AnyGameRules };
  const rules = exported.default;
  if (!rules || typeof rules.setup !== 'function' || typeof rules.name !== 'string') {
    throw new Error(`${folder}/rules does not default-export a game (defineGame({...}))`);
  }
  const tunablesFile = path.join(folder, 'tunables.json');
  const raw: unknown = existsSync(tunablesFile) ? JSON.parse(readFileSync(tunablesFile, 'utf8')) : {};
  const parsed = rules.tunables.safeParse(raw);
  if (!parsed.success) {
    throw new Error(`${tunablesFile}: ${describeIssues(parsed.error, '(root)')}`);
  }
  return { name: rules.name, rules, tunables: parsed.data };
}

let processCatalog: StaticGameCatalog | undefined;

/** The games of this process (loaded on first use). */
export function processGames(): StaticGameCatalog {
  processCatalog ??= new StaticGameCatalog();
  return processCatalog;
}
