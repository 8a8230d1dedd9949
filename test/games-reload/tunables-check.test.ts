/**
 * tunables.json is checked against the game's schema on every load and on
 * its own when only it changes; a refusal names the file and, for JSON
 * syntax or a known key, the line and column.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { loadGameVersion, type GameLoadError } from '../../infra/games/game-version';
import { parseJsonText } from '../../infra/games/json-text';
import { checkTunables, type TunablesCheck } from '../../infra/games/tunables-check';
import connectFour from '../../games/connect-four/rules';
import { copyGame, FIXTURES } from './game-folders';

const FILE = 'games/connect-four/tunables.json';

function refused(result: TunablesCheck): GameLoadError {
  assert.ok(!result.ok, 'expected the tunables to be refused');
  return result.error;
}

test('valid tunables come back parsed, with a version that ignores formatting', () => {
  const compact = checkTunables(connectFour, '{"columns":7,"rows":6,"connect":4}', FILE);
  const spaced = checkTunables(connectFour, '\ufeff{\n  "rows": 6,\n  "columns": 7,\n  "connect": 4\n}\n', FILE);
  assert.ok(compact.ok && spaced.ok);
  assert.deepEqual(compact.tunables, { columns: 7, rows: 6, connect: 4 });
  assert.equal(compact.tunablesVersion, spaced.tunablesVersion);
  const bigger = checkTunables(connectFour, '{"columns":8,"rows":6,"connect":4}', FILE);
  assert.ok(bigger.ok);
  assert.notEqual(bigger.tunablesVersion, compact.tunablesVersion);
});

test('a value the schema refuses is a tunables error at the line of its key', () => {
  const error = refused(checkTunables(connectFour, '{\n  "columns": 7,\n  "rows": 40,\n  "connect": 4\n}', FILE));
  assert.deepEqual({ ...error, message: '' }, { game: 'connect-four', phase: 'tunables', file: FILE, line: 3, column: 3, message: '' });
  assert.match(error.message, /^rows: .*12/);
});

test("the schema's own refinements and strictness are reported too", () => {
  const refined = refused(checkTunables(connectFour, '{ "columns": 4, "rows": 4, "connect": 5 }', FILE));
  assert.match(refined.message, /connect: connect must be at most min\(columns, rows\)/);

  const misspelt = refused(checkTunables(connectFour, '{ "columns": 7, "rows": 6, "connect": 4,\n "colour": "red" }', FILE));
  assert.match(misspelt.message, /colour/);
  assert.equal(misspelt.line, 2);
});

test('JSON syntax errors say where, with line and column', () => {
  const cases: [text: string, line: number, column: number, message: RegExp][] = [
    ['{\n  "columns": 7,\n  "rows": 6,\n}', 3, 12, /trailing comma before '}'/],
    ['{\n  "columns": 7\n  "rows": 6\n}', 3, 3, /expected ',' or '}' after a property value, found "\\""/],
    ['{ "columns": tru }', 1, 14, /expected a value/],
    ['{ "columns": 7, rows: 6 }', 1, 17, /expected a property name in double quotes/],
    ['', 1, 1, /expected a value, found end of file/],
    ['{ "name": "half\n" }', 1, 16, /line break or control character inside a string/],
    ['{ "a": 1 } x', 1, 12, /after the end of the JSON value/],
    ['[1, 2', 1, 6, /expected ',' or ']' after an array element, found end of file/],
  ];
  for (const [text, line, column, message] of cases) {
    const error = refused(checkTunables(connectFour, text, FILE));
    assert.equal(error.phase, 'tunables');
    assert.deepEqual([error.line, error.column], [line, column], `${JSON.stringify(text)}: ${error.message}`);
    assert.match(error.message, /^not valid JSON: /);
    assert.match(error.message, message);
  }
});

test('the JSON scanner agrees with JSON.parse on what is valid', () => {
  for (const text of ['{}', '[]', '0', '-1.5e+3', '"\\u00e9\\n"', '{"a":[1,{"b":null}],"c":true,"d":false}', ' \n\t[ ] ']) {
    const parsed = parseJsonText(text);
    assert.ok(parsed.ok, text);
    assert.deepEqual(parsed.value, JSON.parse(text));
  }
});

test('loading a game with bad tunables is refused in the tunables phase', (t) => {
  const game = copyGame(t, path.join(FIXTURES, 'counter'));
  game.write('tunables.json', '{ "start": -1, "limit": 10 }');
  const result = loadGameVersion(game.folder);
  assert.ok(!result.ok);
  assert.deepEqual(
    { phase: result.error.phase, file: result.error.file, line: result.error.line },
    { phase: 'tunables', file: 'games/counter/tunables.json', line: 1 },
  );
  assert.match(result.error.message, /^start: /);
});
