/**
 * The playground page's files: a static page, its stylesheet, and one script
 * bundled from TypeScript (esbuild), so the page runs the same SDK as real
 * clients, with no build step to forget.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { browserScript, type Asset } from '../browser-bundle';

/** By URL path; the page itself is `/playground/`. */
export function buildPlaygroundAssets(): ReadonlyMap<string, Asset> {
  const file = (name: string) => readFileSync(path.join(__dirname, name), 'utf8');
  return new Map<string, Asset>([
    ['/playground/', { contentType: 'text/html; charset=utf-8', body: file('index.html') }],
    ['/playground/playground.css', { contentType: 'text/css; charset=utf-8', body: file('playground.css') }],
    ['/playground/playground.js', browserScript(path.join(__dirname, 'playground-app.ts'))],
  ]);
}
