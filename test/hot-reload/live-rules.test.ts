/**
 * Designers change the rules while games run, on a real server watching a
 * copy of games/ (chokidar), with real SDK clients:
 * - a running room keeps the rules it started with; a new room gets the new ones;
 * - a new version that declares migrate() takes a running room over at once;
 * - a syntax error, or rules that throw in setup, leave the old version serving
 *   and are reported with file and line (admin endpoint);
 * - arena's speed tunable changed during play moves players faster at the next tick;
 *   an invalid tunable is refused with a clear message.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { ArenaDelta, ArenaView } from '../../games/arena/rules';
import type { ConnectFourView } from '../../games/connect-four/rules';
import type { CatalogEvent, GameStatus } from '../../infra/game-catalog';
import { PlayhouseError } from '@playhouse/client';
import { startDuel, startTestServer, stateWhere, viewOf, type TestServer } from '../support/playhouse';

const ROOT = path.resolve(__dirname, '..', '..');
let directory = '';
let server: TestServer;

before(async () => {
  // A copy of games/ the test may edit; node_modules beside it so the rules resolve zod as in the repository.
  const base = mkdtempSync(path.join(tmpdir(), 'playhouse-games-'));
  directory = path.join(base, 'games');
  cpSync(path.join(ROOT, 'games'), directory, { recursive: true });
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(base, 'node_modules'), 'dir');
  server = await startTestServer({ games: { watch: true, directory } });
});

after(async () => {
  await server?.stop();
  rmSync(path.dirname(directory), { recursive: true, force: true });
});

const rulesFile = (game: string) => path.join(directory, game, 'rules.ts');

/** Edits a game's file and resolves with the catalogue's answer to it (a new version, or a failure). */
async function edit(file: string, change: (source: string) => string, game: string): Promise<CatalogEvent> {
  const catalog = server.server.context.games;
  const heard = new Promise<CatalogEvent>((resolve) => {
    const stop = catalog.onChange((event) => {
      if (event.game !== game) return;
      stop();
      resolve(event);
    });
  });
  writeFileSync(file, change(readFileSync(file, 'utf8')));
  return heard;
}

async function adminStatus(game: string): Promise<GameStatus & { rooms: Record<string, number> }> {
  const response = await fetch(`${server.url}/admin/games`);
  assert.equal(response.status, 200);
  const { games } = (await response.json()) as { games: Array<GameStatus & { rooms: Record<string, number> }> };
  const found = games.find((entry) => entry.game === game);
  assert.ok(found, `${game} is listed`);
  return found;
}

const CLOSE_COLUMN_SIX = (source: string) =>
  source.replace('      apply(state, { column }, ctx) {\n', "      apply(state, { column }, ctx) {\n        if (column === 6) return invalid('column-closed', 'column 6 is closed');\n");

test("connect-four's rules change during a game: the running room keeps its rules, a new room gets the new ones", async () => {
  const running = await startDuel(server);
  const before = (await adminStatus('connect-four')).version;
  const loaded = await edit(rulesFile('connect-four'), CLOSE_COLUMN_SIX, 'connect-four');
  assert.equal(loaded.type, 'loaded', JSON.stringify(loaded));
  assert.notEqual(loaded.type === 'loaded' && loaded.version, before);

  // The running game: column 6 still open (its pinned version).
  const state = await running.drop(6);
  assert.equal((state.view as ConnectFourView).lastMove?.column, 6);

  // A new game: column 6 is closed.
  const fresh = await startDuel(server);
  const mover = await fresh.current();
  await assert.rejects(mover.move(fresh.roomId, 'drop', { column: 6 }), (error: unknown) => {
    assert.ok(error instanceof PlayhouseError);
    assert.equal(error.code, 'move/illegal');
    assert.equal(error.reason, 'column-closed');
    return true;
  });
  const status = await adminStatus('connect-four');
  assert.equal(status.rooms[before!], 1, 'the running room is counted on the old version');
  assert.equal(status.rooms[status.version!], 1, 'the new room on the new one');
});

test('a new version declaring migrate() takes a running room over at the next message', async () => {
  const duel = await startDuel(server);
  await duel.drop(0);
  const event = await edit(
    rulesFile('connect-four'),
    (source) =>
      source
        .replace('  view(state): ConnectFourView {', '  migrate: (old: unknown) => ({ ...(old as ConnectFourState), edition: 2 }),\n\n  view(state): ConnectFourView {')
        .replace('      moveCount: state.moveCount,\n    };', '      moveCount: state.moveCount,\n      ...((state as { edition?: number }).edition ? { edition: 2 } : {}),\n    };'),
    'connect-four',
  );
  assert.equal(event.type, 'loaded', JSON.stringify(event));
  // The next move is handled after the room took the new version over: its state says so.
  const state = await duel.drop(1);
  assert.equal((state.view as { edition?: number }).edition, 2, 'the migrated state is shown with the new rules');
  assert.equal(viewOf(state).moveCount, 2, 'the game went on where it was');
});

test('a syntax error and rules that throw in setup leave the old version serving, reported with file and line', async () => {
  const serving = (await adminStatus('arena')).version;
  const broken = await edit(rulesFile('arena'), (source) => `${source}\nconst = ;\n`, 'arena');
  assert.equal(broken.type, 'failed');
  if (broken.type !== 'failed') return;
  assert.equal(broken.error.phase, 'compile');
  assert.match(broken.error.file, /arena[/\\]rules\.ts$/);
  assert.ok((broken.error.line ?? 0) > 100, `a line number (${broken.error.line})`);
  assert.equal(broken.serving, serving);

  const throwing = await edit(
    rulesFile('arena'),
    (source) => source.replace('\nconst = ;\n', '').replace(/setup\(ctx[^)]*\)[^{]*\{\n/, (head) => `${head}    throw new Error('designer mistake');\n`),
    'arena',
  );
  assert.equal(throwing.type, 'failed');
  if (throwing.type !== 'failed') return;
  assert.equal(throwing.error.phase, 'check');
  assert.match(throwing.error.message, /designer mistake/);
  assert.ok(throwing.error.line, 'the line of the throw');
  const status = await adminStatus('arena');
  assert.equal(status.version, serving, 'the old version still serves');
  assert.match(status.error?.message ?? '', /designer mistake/);
  // Players still get the old rules.
  const player = await server.player('Arena');
  const seat = await player.findMatch('arena');
  assert.ok(seat.roomId);
  // The designer undoes the mistake: the version that kept serving loads again, and the error is gone.
  const undone = await edit(rulesFile('arena'), () => readFileSync(path.join(ROOT, 'games', 'arena', 'rules.ts'), 'utf8'), 'arena');
  assert.deepEqual(undone, { type: 'recovered', game: 'arena', version: serving });
  assert.equal((await adminStatus('arena')).error, null);
});

test("arena's speed tunable changed during play moves the player faster from the next tick; an invalid value is refused", async () => {
  const player = await server.player('Runner');
  const { roomId } = await player.findMatch('arena');
  const entered = await stateWhere(player, roomId, (s) => s.status === 'playing' && player.playerId in (s.view as ArenaView).positions);
  const width = (entered.view as ArenaView).width;
  let at = (entered.view as ArenaView).positions[player.playerId]!;
  const step = async (): Promise<number> => {
    const dx = at.x < width / 2 ? 1 : -1;
    const seen = player.waitFor('delta', (delta) => delta.roomId === roomId && player.playerId in (delta.delta as ArenaDelta).moved);
    await player.move(roomId, 'input', { dx, dy: 0 });
    const next = (await seen).delta as ArenaDelta;
    const moved = next.moved[player.playerId]!;
    const distance = Math.abs(moved.x - at.x);
    at = moved;
    return distance;
  };
  assert.equal(await step(), 1, 'speed 1 at first');

  const tunables = path.join(directory, 'arena', 'tunables.json');
  const faster = await edit(tunables, (json) => JSON.stringify({ ...JSON.parse(json), speed: 3 }), 'arena');
  assert.equal(faster.type, 'loaded', JSON.stringify(faster));
  assert.equal(await step(), 3, 'the running room moves at the new speed');

  const invalid = await edit(tunables, (json) => JSON.stringify({ ...JSON.parse(json), speed: 99 }), 'arena');
  assert.equal(invalid.type, 'failed');
  if (invalid.type === 'failed') {
    assert.equal(invalid.error.phase, 'tunables');
    assert.match(invalid.error.file, /arena[/\\]tunables\.json$/);
    assert.match(invalid.error.message, /speed/);
  }
  assert.equal(await step(), 3, 'the refused value changed nothing');
});

test('npm run games -- watch prints each new version and each failure with its file and line', async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'games.ts'), 'watch', '--url', server.url], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  let output = '';
  const printed = (pattern: RegExp) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const match = pattern.exec(output);
        if (match) {
          child.stdout.off('data', onData);
          resolve(match[0]);
        }
      };
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        check();
      };
      child.stdout.on('data', onData);
      child.once('exit', (code) => reject(new Error(`watch exited (${code}) before printing ${pattern}: ${output}`)));
      check();
    });
  await printed(/connect-four: serving \w+/);
  const file = rulesFile('connect-four');
  const original = readFileSync(file, 'utf8');
  await edit(file, (source) => `${source}\nexport const oops = ;\n`, 'connect-four');
  const failure = await printed(/connect-four: games[/\\]connect-four[/\\]rules\.ts:\d+:\d+: compile failed: [^\n]+/);
  assert.match(failure, /keeps serving/);
  await edit(file, () => original.replace("'column 6 is closed'", "'column 6 is closed today'"), 'connect-four');
  await printed(/connect-four: version \w+ \(tunables \w+\) now serves, was \w+/);
});
