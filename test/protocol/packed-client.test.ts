/**
 * The client SDK as a studio gets it: `npm pack` of packages/client (its
 * prepack builds dist/), installed from the tarball into an empty project
 * outside the repository (socket.io-client comes from the npm registry or
 * npm's cache, nothing from the repository's node_modules). There the example
 * of the package's README is type-checked against the package's declarations
 * (.d.mts for the ES module, .d.ts for CommonJS), compiled by tsc both ways,
 * and each build plays a game of two clients against a real server on port 0;
 * and a browser bundle of the package is made with esbuild, as a studio's
 * bundler would.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { build } from 'esbuild';
import { startTestServer, type TestServer } from '../support/playhouse';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..');
const PACKAGE_DIR = path.join(ROOT, 'packages', 'client');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

/** The one ```ts block of the package's README: the two-player example. */
function readmeExample(): string {
  const readme = readFileSync(path.join(PACKAGE_DIR, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((match) => match[1]!);
  assert.equal(blocks.length, 1, 'the package README has one TypeScript example');
  return blocks[0]!;
}

/** Runs a command; a failure reports its output. */
async function sh(file: string, args: readonly string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<string> {
  try {
    const { stdout } = await run(file, args, { ...options, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    assert.fail(`${path.basename(file)} ${args.join(' ')} failed:\n${stdout}${stderr}`);
  }
}

let server: TestServer;
let studio = '';

before(async () => {
  server = await startTestServer();
  studio = mkdtempSync(path.join(tmpdir(), 'playhouse-studio-'));
});

after(async () => {
  await server?.stop();
  if (studio) rmSync(studio, { recursive: true, force: true });
});

test('the packed SDK installs into a project of its own, type-checks, and plays as an ES module, as CommonJS and in a browser bundle', { timeout: 300_000 }, async () => {
  // ---- pack, and install the tarball alone
  const tarballs = path.join(studio, 'tarballs');
  mkdirSync(tarballs);
  await sh(NPM, ['pack', '--workspace', '@playhouse/client', '--pack-destination', tarballs], { cwd: ROOT });
  const [tarball, ...others] = readdirSync(tarballs);
  assert.ok(tarball?.endsWith('.tgz') && others.length === 0, `one tarball expected, got ${readdirSync(tarballs).join(', ')}`);

  writeFileSync(path.join(studio, 'package.json'), JSON.stringify({ name: 'studio-game', version: '1.0.0', private: true }));
  await sh(NPM, ['install', '--no-audit', '--no-fund', '--prefer-offline', path.join(tarballs, tarball)], { cwd: studio });

  const installed = path.join(studio, 'node_modules', '@playhouse', 'client');
  const manifest = JSON.parse(readFileSync(path.join(installed, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  assert.deepEqual(Object.keys(manifest.dependencies ?? {}), ['socket.io-client'], 'the SDK depends on socket.io-client alone');
  assert.deepEqual(readdirSync(installed).sort(), ['README.md', 'dist', 'package.json'], 'the tarball holds the build, no sources');

  // ---- the README's example, type-checked against the installed declarations and compiled both ways
  const example = readmeExample();
  const source = path.join(studio, 'src');
  mkdirSync(source);
  writeFileSync(path.join(source, 'two-players.mts'), example);
  writeFileSync(path.join(source, 'two-players.cts'), example);
  writeFileSync(
    path.join(studio, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'nodenext',
        moduleResolution: 'nodenext',
        strict: true,
        lib: ['ES2022', 'DOM'],
        // The example reads process.env: Node's types, from the repository (the project itself installs nothing else).
        types: ['node'],
        typeRoots: [path.join(ROOT, 'node_modules', '@types')],
        rootDir: 'src',
        outDir: 'out',
      },
      include: ['src'],
    }),
  );
  await sh(process.execPath, [TSC, '-p', studio], { cwd: studio });
  assert.match(readFileSync(path.join(studio, 'out', 'two-players.cjs'), 'utf8'), /require\("@playhouse\/client"\)/);
  assert.match(readFileSync(path.join(studio, 'out', 'two-players.mjs'), 'utf8'), /from '@playhouse\/client'/);

  // ---- each build plays a game: two clients, one wins, one loses, and a move after the end is refused
  for (const build of ['two-players.mjs', 'two-players.cjs']) {
    const stdout = await sh(process.execPath, [path.join('out', build)], { cwd: studio, env: { ...process.env, PLAYHOUSE_URL: server.url } });
    const lines = stdout.trim().split('\n').sort();
    assert.equal(lines.length, 2, stdout);
    assert.deepEqual(
      lines.map((line) => line.replace(/^(Ada|Bob): /, '')).sort(),
      ['lost, then move/game-over', 'won, then move/game-over'],
      `${build}:\n${stdout}`,
    );
  }

  // ---- a browser bundle, as a studio's bundler makes it: the ES module build, no Node.js module needed
  writeFileSync(path.join(source, 'browser.mjs'), "import { PlayhouseClient } from '@playhouse/client';\nglobalThis.PlayhouseClient = PlayhouseClient;\n");
  const bundle = await build({
    absWorkingDir: studio,
    entryPoints: [path.join(source, 'browser.mjs')],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = Object.keys(bundle.metafile.inputs);
  assert.ok(inputs.includes('node_modules/@playhouse/client/dist/index.mjs'), inputs.join('\n'));
  assert.ok(inputs.some((input) => input.startsWith('node_modules/socket.io-client/')), inputs.join('\n'));
});
