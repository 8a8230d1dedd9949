/**
 * Loading a game folder as a version: the real games load and pass their
 * checks, and the version id follows the content (an unchanged file is the
 * same version, so it is not published again; any change is a new one).
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { loadGameVersion, type GameVersion, type GameVersionResult } from '../../infra/games/game-version';
import { copyGame, FIXTURES, GAMES, lineOf } from './game-folders';

function loaded(result: GameVersionResult): GameVersion {
  assert.ok(result.ok, result.ok ? '' : `expected a version, got ${JSON.stringify(result.error)}`);
  return result.version;
}

test('the real games load and pass their checks, named relative to the folder holding games/', () => {
  const connectFour = loaded(loadGameVersion(path.join(GAMES, 'connect-four')));
  assert.equal(connectFour.game, 'connect-four');
  assert.equal(connectFour.source, 'games/connect-four/rules.ts');
  assert.deepEqual(connectFour.tunables, { columns: 7, rows: 6, connect: 4 });
  assert.match(connectFour.version, /^[0-9a-f]{12}$/);
  assert.match(connectFour.tunablesVersion, /^[0-9a-f]{12}$/);

  const arena = loaded(loadGameVersion(path.join(GAMES, 'arena')));
  assert.equal(arena.game, 'arena');
  assert.equal(arena.rules.realtime?.tickHz, 20);
  assert.deepEqual(arena.tunables, { width: 100, height: 100, speed: 1 });

  // the loaded rules are the game: a real move on a real state
  const ctx = { players: ['a', 'b'], gameNumber: 1, tunables: connectFour.tunables, random: () => 0.5 };
  const state = connectFour.rules.setup(ctx);
  const next = connectFour.rules.moves['drop']!.apply(state, { column: 3 }, { ...ctx, playerId: 'a' });
  assert.equal((next as { moveCount: number }).moveCount, 1);
});

test('each load is a fresh module: two loads of one version share no objects', () => {
  const first = loaded(loadGameVersion(path.join(GAMES, 'connect-four')));
  const second = loaded(loadGameVersion(path.join(GAMES, 'connect-four')));
  assert.equal(first.version, second.version);
  assert.notEqual(first.rules, second.rules);
});

test('an unchanged file saved again is the same version; a change to code, a comment or the tunables is new', (t) => {
  const game = copyGame(t, path.join(FIXTURES, 'counter'));
  const original = loaded(loadGameVersion(game.folder));
  assert.equal(original.source, 'games/counter/rules.ts');

  game.write('rules.ts', game.read('rules.ts')); // touched: same bytes
  game.write('tunables.json', '{\n  "limit": 10,\n  "start": 0\n}\n'); // reformatted and reordered: same tunables
  const saved = loaded(loadGameVersion(game.folder));
  assert.equal(saved.version, original.version);
  assert.equal(saved.tunablesVersion, original.tunablesVersion);

  game.write('rules.ts', game.read('rules.ts').replace("reason: 'limit-reached'", "reason: 'limit-hit'"));
  const edited = loaded(loadGameVersion(game.folder));
  assert.notEqual(edited.version, original.version);
  assert.equal(edited.tunablesVersion, original.tunablesVersion);

  // a comment moves the lines below it: errors must map to the new lines, so it is a new version
  game.write('rules.ts', `// a note from the designer\n${game.read('rules.ts')}`);
  assert.notEqual(loaded(loadGameVersion(game.folder)).version, edited.version);

  game.write('tunables.json', '{ "start": 2, "limit": 10 }');
  const retuned = loaded(loadGameVersion(game.folder));
  assert.notEqual(retuned.tunablesVersion, original.tunablesVersion);
  assert.deepEqual(retuned.tunables, { start: 2, limit: 10 });
});

test('a throw from a move at run time is located in the game sources', (t) => {
  const game = copyGame(t, path.join(FIXTURES, 'counter'));
  const version = loaded(loadGameVersion(game.folder));
  const ctx = { players: ['a'], gameNumber: 1, tunables: version.tunables, random: () => 0.5, playerId: 'a' };
  const state = version.rules.setup(ctx);
  let thrown: unknown;
  try {
    version.rules.moves['add']!.apply(state, { by: 13 }, ctx);
  } catch (error) {
    thrown = error;
  }
  assert.ok(thrown instanceof Error);
  const source = game.read('rules.ts');
  const line = lineOf(source, '@runtime-throw');
  const column = source.split('\n')[line - 1]!.indexOf('new Error') + 1; // V8 places an Error where it is constructed
  assert.deepEqual(version.locate(thrown), { file: 'games/counter/rules.ts', line, column });
  assert.match(version.mapStack(thrown.stack ?? '').split('\n')[1]!, new RegExp(`games/counter/rules\\.ts:${line}:${column}\\)$`));
  assert.equal(version.locate(new Error('thrown here, in the test')), null);
  assert.equal(version.locate('not an error'), null);
});

test('a game folder without tunables.json gets its schema\'s defaults', (t) => {
  const game = copyGame(t, path.join(GAMES, 'arena'));
  rmSync(path.join(game.folder, 'tunables.json'));
  assert.deepEqual(loaded(loadGameVersion(game.folder)).tunables, { width: 100, height: 100, speed: 1 });
});
