/**
 * One loaded version of a game: compiled, evaluated, checked, with its
 * tunables. This is the whole pipeline a changed rules.ts goes through before
 * anything may publish it; the first step that fails returns its located
 * GameLoadError, and the caller keeps serving the version it had. A version
 * that loads carries warnings for uses of non-deterministic host APIs.
 *
 * A GameVersion holds no global registration: once nothing references it
 * (no room pinned to it, no catalogue entry), it is garbage-collected with
 * its module, its schemas and its source map.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { AnyGameRules } from '../../games/api';
import { BundleLocator } from './bundle-locator';
import { gameLoadError, type GameLoadError, type SourceLocation } from './game-load-error';
import { repoPath } from './repo-path';
import { findNondeterminism, type GameLoadWarning } from './determinism-check';
import { compileRules, type RulesBundle } from './rules-bundle';
import { trialRun } from './rules-check';
import { bundleScriptName, evaluateRules, FUNCTION_BODY_LINE_OFFSET } from './rules-module';
import { checkRulesShape } from './rules-shape';
import { checkTunables } from './tunables-check';

// what a caller of loadGameVersion handles, from one import
export type { GameLoadError, GameLoadPhase, SourceLocation } from './game-load-error';
export { describeGameLoadError } from './game-load-error';
export { describeGameLoadWarning, type GameLoadWarning } from './determinism-check';
export { checkTunables, type TunablesCheck } from './tunables-check';

export interface GameVersion {
  /** The rules' `name`. */
  readonly game: string;
  /** Content hash of the compiled rules: equal on every node that compiled the same sources. */
  readonly version: string;
  readonly rules: AnyGameRules;
  /** Parsed by the game's schema. */
  readonly tunables: unknown;
  readonly tunablesVersion: string;
  /** Epoch ms. */
  readonly loadedAt: number;
  /** The rules module, relative to the folder holding games/, e.g. games/arena/rules.ts. */
  readonly source: string;
  /** Uses of the host's clock, randomness or timers in the rules: they load, but replays may differ. */
  readonly warnings: readonly GameLoadWarning[];
  /** Where `thrown` (from a call into these rules) was thrown in the game's sources, or null. */
  locate(thrown: unknown): SourceLocation | null;
  /** A stack with this version's bundle positions replaced by source positions, for logs. */
  mapStack(stack: string): string;
}

export type GameVersionResult = { readonly ok: true; readonly version: GameVersion } | { readonly ok: false; readonly error: GameLoadError };

export interface GameVersionOptions {
  /**
   * Files are reported relative to this folder. Defaults to the folder that holds games/ (two levels
   * above the game's folder), so errors name games/<game>/rules.ts wherever the games directory is.
   */
  readonly root?: string;
  /** The name this folder's game is published under: a version with another name is refused. */
  readonly expectedName?: string;
  /** The clock for `loadedAt`. */
  readonly now?: () => number;
}

/** Compiles, evaluates and checks the game in `folder` with the tunables.json beside it. */
export function loadGameVersion(folder: string, options: GameVersionOptions = {}): GameVersionResult {
  const compiled = compileRules(folder, { root: rootOf(folder, options), game: gameLabel(folder, options) });
  if (!compiled.ok) return compiled;
  return instantiateGameVersion(compiled.bundle, readTunables(compiled.bundle.folder), options);
}

/**
 * The steps after compiling, for a caller that compiled first to compare `bundle.version` with the
 * version it serves (an unchanged bundle need not be evaluated again).
 * @param tunablesText the text of tunables.json (`{}` if the game has none)
 */
export function instantiateGameVersion(bundle: RulesBundle, tunablesText: string, options: GameVersionOptions = {}): GameVersionResult {
  const root = rootOf(bundle.folder, options);
  const label = gameLabel(bundle.folder, options);
  const locator = new BundleLocator(bundleScriptName(bundle), bundle.sourceMap, bundle.folder, root, bundle.folder, FUNCTION_BODY_LINE_OFFSET);

  const evaluated = evaluateRules(bundle, locator, label);
  if (!evaluated.ok) return evaluated;

  const shape = checkRulesShape(evaluated.exports, options.expectedName);
  if (!shape.ok) {
    const at = definitionLine(bundle.entry);
    return { ok: false, error: gameLoadError(label, 'check', bundle.file, shape.problems.join('; '), at === null ? null : { line: at, column: 1 }) };
  }
  const { rules } = shape;

  const tunables = checkTunables(rules, tunablesText, repoPath(root, path.join(bundle.folder, 'tunables.json')));
  if (!tunables.ok) return tunables;

  const failed = trialRun({ rules, tunables: tunables.tunables, locator, file: bundle.file, definitionLine: definitionLine(bundle.entry) });
  if (failed) return { ok: false, error: failed };

  return {
    ok: true,
    version: {
      game: rules.name,
      version: bundle.version,
      rules,
      tunables: tunables.tunables,
      tunablesVersion: tunables.tunablesVersion,
      loadedAt: (options.now ?? Date.now)(),
      source: bundle.file,
      warnings: findNondeterminism(bundle.code, locator, bundle.file),
      locate: (thrown) => locator.locate(thrown),
      mapStack: (stack) => locator.mapStack(stack),
    },
  };
}

/** The text of the folder's tunables.json; a game without one gets `{}` (its schema's defaults). */
export function readTunables(folder: string): string {
  try {
    return readFileSync(path.join(folder, 'tunables.json'), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '{}';
    throw error;
  }
}

function rootOf(folder: string, options: GameVersionOptions): string {
  return options.root ?? path.resolve(folder, '..', '..');
}

/** How errors name a game whose rules have not told us their name yet. */
function gameLabel(folder: string, options: GameVersionOptions): string {
  return options.expectedName ?? path.basename(path.resolve(folder));
}

/** The line of `export default` in the rules module: where a problem with no throw site points. */
function definitionLine(entry: string): number | null {
  let source: string;
  try {
    source = readFileSync(entry, 'utf8');
  } catch {
    return null; // deleted since it was compiled: the next reload will say so
  }
  const match = /^[ \t]*export\s+default\b/m.exec(source);
  return match ? source.slice(0, match.index).split('\n').length : null;
}
