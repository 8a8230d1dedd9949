/**
 * `npm run games -- new <name>`, run as a real command in a temporary games
 * directory (never in games/): the scaffolded game loads in the catalogue with
 * no warning, its generated rules test passes, and a taken or malformed name
 * is refused in one line without touching anything.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { HotGameCatalog } from '../../infra/game-catalog';
import { QUIET_LOG } from '../support/quiet-log';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..');
let base = '';
let games = '';
let tests = '';
const repositoryGames = () => readdirSync(path.join(ROOT, 'games')).sort();
const gamesBefore = repositoryGames();

before(() => {
  base = mkdtempSync(path.join(tmpdir(), 'playhouse-scaffold-'));
  games = path.join(base, 'games');
  tests = path.join(base, 'test', 'games');
  mkdirSync(games);
  cpSync(path.join(ROOT, 'games', 'api.ts'), path.join(games, 'api.ts'));
  // the generated test loads the rules from here, and they import zod through ../api
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(base, 'node_modules'), 'dir');
});

after(() => rmSync(base, { recursive: true, force: true }));

interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a node command from the repository (as npm run would), resolving with its exit code and output. */
async function node(args: readonly string[]): Promise<Outcome> {
  try {
    // without the parent's NODE_TEST_CONTEXT: a nested `--test` run would report to this runner instead of printing
    const { NODE_TEST_CONTEXT: _parent, ...env } = process.env;
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, env: { ...env, LOG_LEVEL: 'silent' } });
    return { code: 0, stdout, stderr };
  } catch (failure) {
    const { code, stdout, stderr } = failure as { code: number; stdout: string; stderr: string };
    return { code, stdout, stderr };
  }
}

const scaffold = (name: string) => node(['scripts/games.ts', 'new', name, '--games', games, '--tests', tests]);

test('new <name> writes rules, tunables and a rules test; the game loads with no warning and its test passes', async () => {
  const made = await scaffold('take-away');
  assert.equal(made.code, 0, made.stderr);
  const rules = path.join(games, 'take-away', 'rules.ts');
  const testFile = path.join(tests, 'take-away.test.ts');
  for (const file of [rules, path.join(games, 'take-away', 'tunables.json'), testFile]) assert.ok(existsSync(file), `${file} was written`);
  assert.match(made.stdout, /created .*take-away[/\\]rules\.ts/);
  assert.match(readFileSync(rules, 'utf8'), /name: 'take-away'/);

  const catalog = new HotGameCatalog(games, QUIET_LOG);
  assert.deepEqual(catalog.names(), ['take-away']);
  const status = catalog.status()[0]!;
  assert.equal(status.error, null);
  assert.deepEqual(status.warnings, []);
  const loaded = catalog.get('take-away')!;
  assert.deepEqual(Object.keys(loaded.rules.moves), ['add']);
  assert.deepEqual(loaded.tunables, { target: 21, maxStep: 3 });

  const generated = await node(['--test', '--test-reporter=tap', testFile]);
  assert.equal(generated.code, 0, generated.stdout + generated.stderr);
  assert.match(generated.stdout, /^# pass 5$/m);
  assert.match(generated.stdout, /^# fail 0$/m);
});

test('a name already taken is refused and nothing is overwritten', async () => {
  const first = await scaffold('taken');
  assert.equal(first.code, 0, first.stderr);
  const rules = path.join(games, 'taken', 'rules.ts');
  const edited = `${readFileSync(rules, 'utf8')}// the designer's edit\n`;
  writeFileSync(rules, edited);

  const again = await scaffold('taken');
  assert.equal(again.code, 1);
  assert.match(again.stderr, /taken already exists; choose another name or remove it/);
  assert.equal(readFileSync(rules, 'utf8'), edited);
});

test('a malformed name is refused in one line, and nothing is created', async () => {
  for (const name of ['Bad_Name', '../escape', '1up']) {
    const refused = await scaffold(name);
    assert.equal(refused.code, 1, name);
    assert.match(refused.stderr, /is not a game name: use lower-case letters, digits and dashes/, name);
    assert.equal(refused.stderr.trim().split('\n').length, 1, 'one line, no stack');
  }
  assert.deepEqual(readdirSync(games).sort(), ['api.ts', 'take-away', 'taken']);
  assert.ok(!existsSync(path.join(base, 'escape')));
});

test('the repository games/ was left as it was', () => {
  assert.deepEqual(repositoryGames(), gamesBefore);
});
