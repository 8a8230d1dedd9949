/**
 * A version that fails to compile, to load or its checks is refused with a
 * GameLoadError naming the phase, the file and the line a designer must open
 * (the previous version keeps serving: that is the catalogue's side).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { describeGameLoadError, loadGameVersion, type GameLoadError, type GameVersionResult } from '../../infra/games/game-version';
import { copyGame, FIXTURES, lineOf } from './game-folders';

function failed(result: GameVersionResult): GameLoadError {
  assert.ok(!result.ok, 'expected the version to be refused');
  return result.error;
}

test('a syntax error is a compile error at its file and line', (t) => {
  const game = copyGame(t, path.join(FIXTURES, 'counter'));
  const lines = game.read('rules.ts').split('\n');
  const line = lineOf(lines.join('\n'), 'return state.count >= ctx.tunables.limit');
  lines[line - 1] = '    return state.count >= ;';
  game.write('rules.ts', lines.join('\n'));

  const error = failed(loadGameVersion(game.folder));
  assert.deepEqual({ ...error, message: '' }, { game: 'counter', phase: 'compile', file: 'games/counter/rules.ts', line, column: 27, message: '' });
  assert.match(error.message, /Unexpected ";"/);
  assert.equal(describeGameLoadError(error), `games/counter/rules.ts:${line}:27: compile: ${error.message}`);
});

test('an import that does not resolve is a compile error at the import', (t) => {
  const game = copyGame(t, path.join(FIXTURES, 'counter'));
  game.write('helpers.ts', "export { nothing } from './missing';\n");
  game.write('rules.ts', game.read('rules.ts').replace("import { defineGame", "import './helpers';\nimport { defineGame"));

  const error = failed(loadGameVersion(game.folder));
  assert.equal(error.phase, 'compile');
  assert.equal(error.file, 'games/counter/helpers.ts');
  assert.equal(error.line, 1);
  assert.match(error.message, /Could not resolve "\.\/missing"/);
});

test('a folder with no rules module is a compile error', (t) => {
  const game = copyGame(t, path.join(FIXTURES, 'counter'));
  const error = failed(loadGameVersion(path.join(game.root, 'games', 'nothing-here')));
  assert.deepEqual({ phase: error.phase, file: error.file, game: error.game }, { phase: 'compile', file: 'games/nothing-here/rules.ts', game: 'nothing-here' });
});

test('a module that throws while it loads is a load error at the throw site', (t) => {
  const game = copyGame(t, path.join(FIXTURES, 'load-throws'));
  const error = failed(loadGameVersion(game.folder));
  assert.equal(error.phase, 'load');
  assert.equal(error.file, 'games/load-throws/rules.ts');
  assert.equal(error.line, lineOf(game.read('rules.ts'), '@throws-here'));
  assert.equal(error.message, 'the table needs at least 5 rows, got 3');
});

test('a game importing anything but ../api (node:fs here) is refused when it loads, at the import', (t) => {
  const game = copyGame(t, path.join(FIXTURES, 'impure-import'));
  const error = failed(loadGameVersion(game.folder));
  assert.equal(error.phase, 'load');
  assert.equal(error.file, 'games/impure-import/rules.ts');
  assert.equal(error.line, lineOf(game.read('rules.ts'), '@throws-here'));
  assert.match(error.message, /rules may import only \.\.\/api .*'node:fs' is not available/);
});

test('a setup that throws is a check error at the line that threw', (t) => {
  const game = copyGame(t, path.join(FIXTURES, 'setup-throws'));
  const error = failed(loadGameVersion(game.folder));
  assert.equal(error.phase, 'check');
  assert.equal(error.game, 'setup-throws');
  assert.equal(error.file, 'games/setup-throws/rules.ts');
  assert.equal(error.line, lineOf(game.read('rules.ts'), '@throws-here'));
  assert.equal(error.message, 'setup on 2 players threw: no seat for nobody');
});

test('a selfTest that throws is a check error at its line', (t) => {
  const game = copyGame(t, path.join(FIXTURES, 'self-test-fails'));
  const error = failed(loadGameVersion(game.folder));
  assert.equal(error.phase, 'check');
  assert.equal(error.line, lineOf(game.read('rules.ts'), '@throws-here'));
  assert.equal(error.message, 'selfTest failed: score(2) is 4, expected 6');

  // fixed: it passes, and the version loads
  game.write('rules.ts', game.read('rules.ts').replace('hits * 2', 'hits * 3'));
  assert.ok(loadGameVersion(game.folder).ok);
});

test('a view that throws for one player is a check error naming that player', (t) => {
  const game = copyGame(t, path.join(FIXTURES, 'counter'));
  game.write('rules.ts', game.read('rules.ts').replace('view(state) {', "view(state, playerId) {\n    if (playerId === 'p3') throw new Error('no view for p3');"));
  const error = failed(loadGameVersion(game.folder));
  assert.equal(error.message, "view(state, 'p3') threw: no view for p3");
  assert.equal(error.line, lineOf(game.read('rules.ts'), 'no view for p3'));
});

test('a module without a default export is a check error that says what to write', (t) => {
  const game = copyGame(t, path.join(FIXTURES, 'no-default'));
  const error = failed(loadGameVersion(game.folder));
  assert.equal(error.phase, 'check');
  assert.equal(error.file, 'games/no-default/rules.ts');
  assert.equal(error.line, null);
  assert.match(error.message, /has no default export: end it with `export default defineGame/);
});

test('a default export that is not a game lists every problem, at the export', (t) => {
  const game = copyGame(t, path.join(FIXTURES, 'bad-shape'));
  const error = failed(loadGameVersion(game.folder));
  assert.equal(error.phase, 'check');
  assert.equal(error.line, lineOf(game.read('rules.ts'), '@definition'));
  for (const expected of [
    'minPlayers (3) is more than maxPlayers (2)',
    'tunables must be a zod schema',
    'setup must be a function (it is "not a function")',
    'isOver must be a function (it is missing)',
    'moves.jump.apply must be a function (it is missing)',
  ]) {
    assert.ok(error.message.includes(expected), `"${error.message}" should say ${expected}`);
  }
});

test('a version whose name is not the one its folder serves is refused', (t) => {
  const game = copyGame(t, path.join(FIXTURES, 'counter'));
  game.write('rules.ts', game.read('rules.ts').replace("name: 'counter'", "name: 'counter-2'"));
  const error = failed(loadGameVersion(game.folder, { expectedName: 'counter' }));
  assert.equal(error.phase, 'check');
  assert.match(error.message, /name is 'counter-2' but this folder serves 'counter'/);
});

test('a state that is not plain JSON is a check error naming where', (t) => {
  const game = copyGame(t, path.join(FIXTURES, 'map-state'));
  const error = failed(loadGameVersion(game.folder));
  assert.equal(error.phase, 'check');
  assert.equal(error.line, lineOf(game.read('rules.ts'), '@definition'));
  assert.match(error.message, /^the state from setup\.scores is a Map: states and views must be plain JSON/);

  game.write('rules.ts', game.read('rules.ts').replace('new Map(ctx.players.map((id) => [id, 0]))', '{ p1: undefined }'));
  assert.match(failed(loadGameVersion(game.folder)).message, /^the state from setup\.scores\.p1 is undefined/);
});

test('a realtime game is ticked once, and a tick that throws is refused', (t) => {
  const game = copyGame(t, path.join(FIXTURES, 'counter'));
  game.write(
    'rules.ts',
    game.read('rules.ts').replace("  maxPlayers: 3,", "  maxPlayers: 3,\n  realtime: { tickHz: 10 },\n  tick(state, dtMs) {\n    if (dtMs === 100) throw new Error('tick at 100 ms');\n    return state;\n  },"),
  );
  const error = failed(loadGameVersion(game.folder));
  assert.equal(error.message, 'tick(state, 100, ctx) threw: tick at 100 ms');
  assert.equal(error.line, lineOf(game.read('rules.ts'), "throw new Error('tick at 100 ms')"));
});
