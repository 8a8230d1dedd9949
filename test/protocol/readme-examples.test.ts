/**
 * The README's SDK examples run as written. Each TypeScript block of README.md
 * that imports the SDK ('@playhouse/client') is saved as a file beside links
 * to the repository's folders (so its imports resolve as in the repository),
 * type-checked with the project's settings, and run with tsx in a child
 * process against a real server on port 0 (`PLAYHOUSE_URL`), as a reader
 * running `npx tsx example.ts` would.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { startTestServer, type TestServer } from '../support/playhouse';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..');
const SDK_IMPORT = /^import .* from '@playhouse\/client';$/m;

/** The ```ts blocks of the README that use the SDK, in order. */
function sdkExamples(): string[] {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  return [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((match) => match[1]!).filter((block) => SDK_IMPORT.test(block));
}

let server: TestServer;
let folder = '';

before(async () => {
  server = await startTestServer();
  // Imports such as './games/connect-four/rules' and '@playhouse/client' resolve through these links, as from the repository's folder.
  folder = mkdtempSync(path.join(tmpdir(), 'playhouse-readme-'));
  for (const entry of ['protocol', 'games', 'node_modules']) symlinkSync(path.join(ROOT, entry), path.join(folder, entry), 'dir');
});

after(async () => {
  await server?.stop();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

test('the README has SDK examples', () => {
  assert.ok(sdkExamples().length >= 1, "no ```ts block of README.md imports '@playhouse/client'");
});

test('every SDK example of the README type-checks and runs against a real server', { timeout: 180_000 }, async () => {
  const examples = sdkExamples();
  const files = examples.map((source, index) => {
    const file = path.join(folder, `example-${index + 1}.ts`);
    writeFileSync(file, source);
    return file;
  });

  // The project's compiler settings (strict), on the examples alone.
  writeFileSync(path.join(folder, 'tsconfig.json'), JSON.stringify({ extends: path.join(ROOT, 'tsconfig.json'), include: files.map((file) => path.basename(file)) }));
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  await run(process.execPath, [tsc, '--noEmit', '-p', folder], { cwd: folder }).catch((error: { stdout?: string }) => {
    assert.fail(`a README example does not type-check:\n${error.stdout ?? String(error)}`);
  });

  for (const [index, file] of files.entries()) {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', file], {
      cwd: folder,
      env: { ...process.env, PLAYHOUSE_URL: server.url },
      timeout: 60_000,
    }).catch((error: { code?: number; stdout?: string; stderr?: string }) => {
      assert.fail(`README example ${index + 1} failed (exit ${error.code}):\n${error.stdout ?? ''}${error.stderr ?? String(error)}`);
    });
    assert.equal(stderr, '', `README example ${index + 1} wrote to stderr`);
    if (index === 0) {
      // The two-player game: one wins, one loses, and a move after the end is refused.
      const lines = stdout.trim().split('\n');
      const outcomes = lines.filter((line) => / (won|lost)$/.test(line)).map((line) => line.replace(/^\w+: /, ''));
      assert.deepEqual(outcomes.sort(), ['lost', 'won'], stdout);
      assert.equal(lines.filter((line) => line.endsWith('refused, move/game-over')).length, 2, stdout);
    }
  }
});
