/**
 * The playground page's files: a static page, its stylesheet, and one script
 * bundled from TypeScript (esbuild), so the page runs the same SDK as real
 * clients, with no build step to forget.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { installationPath } from '../../installation';
import { browserScript, type Asset } from '../browser-bundle';

/** The page's sources, also when the server runs the build: its script is bundled from them. */
const PLAYGROUND_DIR = installationPath('infra', 'gateway', 'playground');

/** By URL path; the page itself is `/playground/`. */
export function buildPlaygroundAssets(): ReadonlyMap<string, Asset> {
  const file = (name: string) => readFileSync(path.join(PLAYGROUND_DIR, name), 'utf8');
  return new Map<string, Asset>([
    ['/playground/', { contentType: 'text/html; charset=utf-8', body: file('index.html') }],
    ['/playground/playground.css', { contentType: 'text/css; charset=utf-8', body: file('playground.css') }],
    ['/playground/playground.js', browserScript(path.join(PLAYGROUND_DIR, 'playground-app.ts'))],
  ]);
}
