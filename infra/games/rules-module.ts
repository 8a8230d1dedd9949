/**
 * Evaluates a compiled rules bundle as a CommonJS module, outside Node's
 * require cache, so that a version nothing references any more (no room,
 * no catalogue entry) is garbage-collected with everything it created.
 *
 * `vm.compileFunction` (what Node's own CommonJS loader uses), not
 * `vm.runInThisContext`: on Node 20.20 every script run through `vm.Script`
 * stays in the heap for good (~6 KB per 5 KB script measured, its source and
 * more), which hundreds of reloads would turn into a leak.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { compileFunction } from 'node:vm';
import type { BundleLocator } from './bundle-locator';
import { gameLoadError, thrownMessage, type GameLoadError } from './game-load-error';
import type { RulesBundle } from './rules-bundle';

/**
 * The packages a rules bundle may load: games import only ../api, which brings zod. Resolved from here,
 * so every version gets the server's own zod; anything else (node:fs, a database client) is refused at
 * load, which keeps a hot-edited game as pure as the dependency lint keeps a committed one.
 */
const SHARED_PACKAGES = ['zod'] as const;
const hostRequire = createRequire(__filename);

export type EvaluatedRules = { readonly ok: true; readonly exports: Record<string, unknown> } | { readonly ok: false; readonly error: GameLoadError };

/** The file name the bundle is evaluated under: what its stack frames show, unique per version. */
export function bundleScriptName(bundle: RulesBundle): string {
  return path.join(bundle.folder, `rules.bundle-${bundle.version}.js`);
}

/** Runs the bundle's top level; a throw there is a 'load' error at the throw site in the sources. */
export function evaluateRules(bundle: RulesBundle, locator: BundleLocator, game: string): EvaluatedRules {
  const module = { exports: {} as Record<string, unknown> };
  try {
    const body = compileFunction(bundle.code, ['exports', 'require', 'module', '__filename', '__dirname'], {
      filename: locator.scriptName,
    });
    body.call(module.exports, module.exports, sharedRequire, module, bundle.entry, bundle.folder);
  } catch (thrown) {
    const at = locator.locate(thrown);
    // a SyntaxError from compileFunction has no frame in the bundle: esbuild's output is valid, so this is rare
    return { ok: false, error: gameLoadError(game, 'load', at?.file ?? bundle.file, thrownMessage(thrown), at) };
  }
  return { ok: true, exports: module.exports };
}

function sharedRequire(id: string): unknown {
  if (SHARED_PACKAGES.some((name) => id === name || id.startsWith(`${name}/`))) return hostRequire(id);
  throw new Error(`rules may import only ../api (which brings ${SHARED_PACKAGES.join(', ')}); '${id}' is not available to a game`);
}
