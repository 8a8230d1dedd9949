/**
 * The playground page's files: a static page, its stylesheet, and one script
 * bundled from TypeScript (esbuild), so the page runs the same SDK as real
 * clients, with no build step to forget.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildSync } from 'esbuild';

export interface PlaygroundAsset {
  readonly contentType: string;
  readonly body: string;
}

/** By URL path; the page itself is `/playground/`. */
export function buildPlaygroundAssets(): ReadonlyMap<string, PlaygroundAsset> {
  const bundle = buildSync({
    entryPoints: [path.join(__dirname, 'playground-app.ts')],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    write: false,
    sourcemap: 'inline',
  });
  const file = (name: string) => readFileSync(path.join(__dirname, name), 'utf8');
  return new Map<string, PlaygroundAsset>([
    ['/playground/', { contentType: 'text/html; charset=utf-8', body: file('index.html') }],
    ['/playground/playground.css', { contentType: 'text/css; charset=utf-8', body: file('playground.css') }],
    ['/playground/playground.js', { contentType: 'text/javascript; charset=utf-8', body: bundle.outputFiles[0]!.text }],
  ]);
}
