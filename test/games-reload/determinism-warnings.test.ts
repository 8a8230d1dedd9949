/**
 * The load check warns when rules use the host's clock, randomness or timers
 * (the rules API promises exact replays): each warning names the file and
 * line, in helper files too; the version still loads. The deterministic forms
 * (ctx.random(), a fixed date) and the shipped games are not reported.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { HotGameCatalog } from '../../infra/game-catalog';
import { describeGameLoadWarning, loadGameVersion, type GameVersion } from '../../infra/games/game-version';
import { copyGame, FIXTURES, GAMES, lineOf } from './game-folders';
import { QUIET_LOG } from '../support/quiet-log';

function loaded(folder: string): GameVersion {
  const result = loadGameVersion(folder);
  assert.ok(result.ok, result.ok ? '' : JSON.stringify(result.error));
  return result.version;
}

test('each use of the host clock, randomness or timers is a warning at its file and line; the game still loads', (t) => {
  const game = copyGame(t, path.join(FIXTURES, 'non-deterministic'));
  const version = loaded(game.folder);
  const rules = game.read('rules.ts');
  const helpers = game.read('helpers.ts');
  const at = (marker: string) => lineOf(rules, marker);

  assert.deepEqual(
    version.warnings.map(({ file, line, api }) => ({ file, line, api })),
    [
      { file: 'games/non-deterministic/helpers.ts', line: lineOf(helpers, '@helper-random'), api: 'Math.random' },
      { file: 'games/non-deterministic/rules.ts', line: at('@date-now'), api: 'Date.now' },
      { file: 'games/non-deterministic/rules.ts', line: at('@math-random'), api: 'Math.random' },
      { file: 'games/non-deterministic/rules.ts', line: at('@new-date'), api: 'new Date()' },
      { file: 'games/non-deterministic/rules.ts', line: at('@performance-now'), api: 'performance.now' },
      { file: 'games/non-deterministic/rules.ts', line: at('@random-uuid'), api: 'crypto.randomUUID' },
      { file: 'games/non-deterministic/rules.ts', line: at('@get-random-values'), api: 'crypto.getRandomValues' },
      { file: 'games/non-deterministic/rules.ts', line: at('@set-timeout'), api: 'setTimeout' },
    ],
  );

  const dateNow = version.warnings.find((warning) => warning.api === 'Date.now')!;
  assert.equal(dateNow.column, rules.split('\n')[at('@date-now') - 1]!.indexOf('Date.now') + 1, 'the column points at the call');
  assert.equal(describeGameLoadWarning(dateNow), `games/non-deterministic/rules.ts:${dateNow.line}:${dateNow.column}: warning: ${dateNow.message}`);
  assert.match(dateNow.message, /tick’s dtMs/);
  const random = version.warnings.find((warning) => warning.api === 'Math.random')!;
  assert.match(random.message, /ctx\.random\(\)/);
});

test('the shipped games use no non-deterministic API', () => {
  for (const name of ['connect-four', 'arena']) assert.deepEqual(loaded(path.join(GAMES, name)).warnings, [], name);
});

test("the catalogue reports the serving version's warnings in its status and its loaded event", (t) => {
  const game = copyGame(t, path.join(FIXTURES, 'non-deterministic'));
  const catalog = new HotGameCatalog(path.join(game.root, 'games'), QUIET_LOG);
  const status = catalog.status().find((entry) => entry.game === 'non-deterministic');
  assert.ok(status?.version, 'the game serves despite its warnings');
  assert.equal(status.warnings.length, 8);

  const events: string[] = [];
  catalog.onChange((event) => events.push(event.type === 'loaded' ? `${event.type}:${event.warnings.length}` : event.type));
  game.write('rules.ts', game.read('rules.ts').replace('setTimeout(() => undefined, 0); // @set-timeout', ''));
  catalog.reload(game.folder);
  assert.deepEqual(events, ['loaded:7']);
  assert.equal(catalog.status().find((entry) => entry.game === 'non-deterministic')?.warnings.length, 7);
});
