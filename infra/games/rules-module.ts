/**
 * Evaluates a compiled rules bundle as a CommonJS module, outside Node's
 * require cache, so that a version nothing references any more (no room,
 * no catalogue entry) is garbage-collected with everything it created.
 *
 * `new Function`, named by a `//# sourceURL=` comment so that stack frames
 * show the version's unique script name. Not `vm`: on Node 22 and 24 every
 * source compiled through `vm.compileFunction` or `vm.Script` stays in V8's
 * compilation cache until memory runs short (~6 KB per 5 KB bundle, measured
 * on 22.23 and 24.22), and on Node 20 `vm.Script` keeps it for good; hundreds
 * of reloads would turn either into a leak.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
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

/**
 * Lines V8 puts before the body of a `new Function` (`function anonymous(<parameters>\n) {\n`): a stack
 * frame at line L of the evaluated function is at line L - 2 of the bundle; columns are the bundle's.
 */
export const FUNCTION_BODY_LINE_OFFSET = 2;

/** The CommonJS wrapper's parameters, in the order evaluateRules passes them. */
type ModuleBody = (exports: Record<string, unknown>, require: (id: string) => unknown, module: { exports: Record<string, unknown> }, filename: string, dirname: string) => void;

/** The file name the bundle is evaluated under: what its stack frames show, unique per version. */
export function bundleScriptName(bundle: RulesBundle): string {
  return path.join(bundle.folder, `rules.bundle-${bundle.version}.js`);
}

/** Runs the bundle's top level; a throw there is a 'load' error at the throw site in the sources. */
export function evaluateRules(bundle: RulesBundle, locator: BundleLocator, game: string): EvaluatedRules {
  const module = { exports: {} as Record<string, unknown> };
  try {
    // a function body, not a script: the CommonJS wrapper without vm (see above); sourceURL names its frames
    const body = new Function('exports', 'require', 'module', '__filename', '__dirname', `${bundle.code}\n//# sourceURL=${locator.scriptName}`) as ModuleBody;
    body.call(module.exports, module.exports, sharedRequire, module, bundle.entry, bundle.folder);
  } catch (thrown) {
    const at = locator.locate(thrown);
    // a SyntaxError from new Function has no frame in the bundle: esbuild's output is valid, so this is rare
    return { ok: false, error: gameLoadError(game, 'load', at?.file ?? bundle.file, thrownMessage(thrown), at) };
  }
  return { ok: true, exports: module.exports };
}

function sharedRequire(id: string): unknown {
  if (SHARED_PACKAGES.some((name) => id === name || id.startsWith(`${name}/`))) return hostRequire(id);
  throw new Error(`rules may import only ../api (which brings ${SHARED_PACKAGES.join(', ')}); '${id}' is not available to a game`);
}
