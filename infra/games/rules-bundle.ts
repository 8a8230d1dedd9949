/**
 * Compiles a game folder's rules module into one CommonJS bundle with esbuild.
 *
 * The bundle holds the game's own files and games/api.ts (pure, so a copy per
 * version is harmless); packages stay outside it, so every version shares the
 * process's one zod. Compile errors come back as a GameLoadError naming the
 * file and line esbuild points at. Nothing is written to disk.
 *
 * Synchronous (buildSync): the catalogue loads its games while it is
 * constructed, and a reload blocks the event loop for one build of one game
 * (about 6 ms for connect-four, 20 ms for the first build of the process),
 * which happens only when a designer saves.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { buildSync, type Message } from 'esbuild';
import { contentHash } from './content-hash';
import { gameLoadError, type GameLoadError } from './game-load-error';
import { repoPath } from './repo-path';

/** One compiled version of a game's rules, not yet evaluated. */
export interface RulesBundle {
  /** Absolute path of the game folder. */
  readonly folder: string;
  /** Absolute path of the rules module (rules.ts, or rules.js). */
  readonly entry: string;
  /** The rules module relative to the repository root, e.g. games/arena/rules.ts. */
  readonly file: string;
  /** Content hash of code and source map: the same sources give the same version on every node. */
  readonly version: string;
  readonly code: string;
  /** esbuild's source map of `code` (sources relative to `folder`). */
  readonly sourceMap: string;
}

export interface CompileOptions {
  /** The repository root: files are reported relative to it. */
  readonly root: string;
  /** Named in errors. */
  readonly game: string;
}

export type CompiledRules = { readonly ok: true; readonly bundle: RulesBundle } | { readonly ok: false; readonly error: GameLoadError };

const RULES_FILES = ['rules.ts', 'rules.js'] as const;

export function compileRules(folder: string, options: CompileOptions): CompiledRules {
  const directory = path.resolve(folder);
  const entry = RULES_FILES.map((name) => path.join(directory, name)).find((file) => existsSync(file));
  if (entry === undefined) {
    return { ok: false, error: gameLoadError(options.game, 'compile', repoPath(options.root, path.join(directory, 'rules.ts')), 'the game folder has no rules.ts') };
  }
  const file = repoPath(options.root, entry);
  try {
    const result = buildSync({
      entryPoints: [entry],
      absWorkingDir: options.root,
      // never written (write: false); it names the outputs and makes the map's sources relative to the folder
      outfile: path.join(directory, 'rules.bundle.js'),
      write: false,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      // zod and any other package: one shared copy, loaded through the require the bundle is given
      packages: 'external',
      // the map stays beside the code, not inside it; positions are all it needs (the sources are on disk)
      sourcemap: 'external',
      sourcesContent: false,
      legalComments: 'none',
      logLevel: 'silent',
    });
    const code = result.outputFiles.find((output) => output.path.endsWith('.js'))?.text;
    const sourceMap = result.outputFiles.find((output) => output.path.endsWith('.map'))?.text;
    if (code === undefined || sourceMap === undefined) throw new Error('esbuild returned no bundle');
    // the map is part of the version: a change that only moves lines (a comment) must re-map errors
    return { ok: true, bundle: { folder: directory, entry, file, version: contentHash(code, sourceMap), code, sourceMap } };
  } catch (failure) {
    return { ok: false, error: compileError(failure, options, file) };
  }
}

/** esbuild's first structured error, located; anything else (esbuild itself failing) against the rules file. */
function compileError(failure: unknown, options: CompileOptions, file: string): GameLoadError {
  const messages = (failure as { errors?: unknown }).errors;
  const first = Array.isArray(messages) ? (messages[0] as Message | undefined) : undefined;
  if (!first) return gameLoadError(options.game, 'compile', file, failure instanceof Error ? failure.message : String(failure));
  const more = (messages as Message[]).length - 1;
  const message = `${first.text}${more > 0 ? ` (and ${more} more error${more > 1 ? 's' : ''})` : ''}`;
  const location = first.location;
  if (!location) return gameLoadError(options.game, 'compile', file, message);
  return gameLoadError(options.game, 'compile', repoPath(options.root, path.resolve(options.root, location.file)), message, {
    line: location.line,
    // esbuild counts columns from 0
    column: location.column + 1,
  });
}

