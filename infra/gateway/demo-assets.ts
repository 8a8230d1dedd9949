/**
 * The demo client: a static page plus one script bundled from TypeScript at
 * boot (esbuild), so the page always runs the same SDK as the tests and
 * benchmarks, with no build step to forget.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { installationPath } from '../installation';
import { browserScript, type Asset } from './browser-bundle';

export interface DemoAssets {
  get(pathname: string): Asset | undefined;
}

/** What a gateway serves with the demo page turned off: nothing. */
export const NO_DEMO: DemoAssets = { get: () => undefined };

/** The page's sources, also when the server runs the build: its script is bundled from them. */
const DEMO_DIR = installationPath('infra', 'gateway', 'demo');

let cached: Map<string, Asset> | undefined;

/** Builds the demo once per process; later servers in the same process reuse it. */
export function loadDemoAssets(): DemoAssets {
  cached ??= build();
  const assets = cached;
  return { get: (pathname) => assets.get(pathname === '/' ? '/index.html' : pathname) };
}

function build(): Map<string, Asset> {
  const favicon: Asset = { contentType: 'image/svg+xml', body: readFileSync(path.join(DEMO_DIR, 'favicon.svg'), 'utf8') };
  return new Map<string, Asset>([
    ['/index.html', { contentType: 'text/html; charset=utf-8', body: readFileSync(path.join(DEMO_DIR, 'index.html'), 'utf8') }],
    ['/demo.css', { contentType: 'text/css; charset=utf-8', body: readFileSync(path.join(DEMO_DIR, 'demo.css'), 'utf8') }],
    ['/demo.js', browserScript(path.join(DEMO_DIR, 'demo-app.ts'))],
    ['/favicon.svg', favicon],
    // Where browsers look when a page names no icon (e.g. the JSON answers of /admin/): the same picture.
    ['/favicon.ico', favicon],
  ]);
}
