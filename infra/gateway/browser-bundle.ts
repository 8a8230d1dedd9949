/**
 * A page's script, bundled from TypeScript at boot (esbuild) for browsers:
 * the demo and the playground run the same SDK as real clients, with no
 * build step to forget.
 */
import { buildSync } from 'esbuild';

/** A file a page needs, as served. */
export interface Asset {
  readonly contentType: string;
  readonly body: string;
}

/** The script bundled from `entryPoint` (one file, an IIFE, with its source map inline), as served. */
export function browserScript(entryPoint: string): Asset {
  const bundle = buildSync({
    entryPoints: [entryPoint],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    write: false,
    minify: false,
    sourcemap: 'inline',
  });
  return { contentType: 'text/javascript; charset=utf-8', body: bundle.outputFiles[0]!.text };
}
