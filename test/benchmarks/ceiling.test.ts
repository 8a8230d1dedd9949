/**
 * The benchmark ceiling (benchmarks/ceiling/server.ts), started as a real
 * child process and driven through the SDK like the load tester drives it. It
 * must play the same game as Playhouse: the same duel script is run against
 * both and must give the same refusals, reasons and state versions.
 * Everything waits on events, never on sleeps.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { guestLogin, PlayhouseClient, PlayhouseError, type RoomOverMessage, type RoomStateMessage } from '@playhouse/client';
import { startTestServer } from '../support/playhouse';

const ROOT = path.resolve(__dirname, '..', '..');

interface BoardView {
  readonly currentPlayer: string | null;
}
interface Position {
  readonly x: number;
  readonly y: number;
}
interface ArenaView {
  readonly width: number;
  readonly positions: Record<string, Position>;
}

let child: ChildProcessByStdio<null, Readable, Readable> | undefined;
let ceilingUrl = '';
const clients: PlayhouseClient[] = [];

before(async () => {
  const spawned = spawn(process.execPath, ['--import', 'tsx', 'benchmarks/ceiling/server.ts', '--port', '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  child = spawned;
  ceilingUrl = await new Promise<string>((resolve, reject) => {
    let output = '';
    spawned.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    spawned.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /http:\/\/[^\s/]+:\d+/.exec(output);
      if (match) resolve(match[0]);
    });
    spawned.once('exit', (code) => reject(new Error(`the ceiling exited with ${code} before listening:\n${output}`)));
  });
});

after(async () => {
  for (const client of clients) client.close();
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
});

async function player(url: string, name: string): Promise<PlayhouseClient> {
  const login = await guestLogin(url, name);
  const client = await PlayhouseClient.connect({ url, token: login.token, io: { transports: ['websocket'] } });
  clients.push(client);
  return client;
}

/** `ok@version`, or the refusal's `code:reason`: what the script compares between servers. */
async function result(attempt: Promise<object>): Promise<string> {
  try {
    const reply = (await attempt) as { version?: number };
    return reply.version === undefined ? 'ok' : `ok@${reply.version}`;
  } catch (error) {
    if (!(error instanceof PlayhouseError)) throw error;
    return error.reason ? `${error.code}:${error.reason}` : error.code;
  }
}

/** The current state of `roomId` if it satisfies `predicate`, else the next one that does. */
async function stateWhere(client: PlayhouseClient, roomId: string, predicate: (state: RoomStateMessage) => boolean): Promise<RoomStateMessage> {
  const current = client.state(roomId);
  if (current && predicate(current)) return current;
  return client.waitFor('state', (state) => state.roomId === roomId && predicate(state));
}

/** Waits until it is `client`'s turn (as it sees the room), then drops a disc. */
async function drop(client: PlayhouseClient, roomId: string, column: number): Promise<string> {
  await stateWhere(client, roomId, (state) => state.status === 'playing' && (state.view as BoardView).currentPlayer === client.playerId);
  return result(client.move(roomId, 'drop', { column }));
}

/**
 * One scripted duel: every class of refusal, a win, a rematch, a leave. Player
 * ids differ between servers, so outcomes name the players 'a' and 'b'.
 */
async function duelScript(url: string): Promise<string[]> {
  const log: string[] = [];
  const a = await player(url, 'a');
  const b = await player(url, 'b');
  const nameOf = (id: string): string => (id === a.playerId ? 'a' : id === b.playerId ? 'b' : id);
  const describeOver = (over: RoomOverMessage): string =>
    `over@${over.version} winners=${over.outcome.winners.map(nameOf).join(',')} reason=${over.outcome.reason}${over.leaver ? ` leaver=${nameOf(over.leaver)}` : ''}`;

  const found = [await a.findMatch('connect-four'), await b.findMatch('connect-four')];
  assert.equal(found[0]!.roomId, found[1]!.roomId, 'both players land in the same room');
  const roomId = found[0]!.roomId;
  log.push(`seats ${found.map((f) => f.seat).join(',')}`);
  const started = await Promise.all([a, b].map((c) => stateWhere(c, roomId, (s) => s.status === 'playing')));
  log.push(`playing@${started[0]!.version} game ${started[0]!.gameNumber}`);

  log.push(`a find again: ${await result(a.findMatch('connect-four'))}`);
  log.push(`b out of turn: ${await result(b.move(roomId, 'drop', { column: 3 }))}`);
  log.push(`a stale: ${await result(a.move(roomId, 'drop', { column: 3 }, started[0]!.version - 1))}`);
  log.push(`a column 7: ${await result(a.move(roomId, 'drop', { column: 7 }))}`);
  log.push(`a column -1: ${await result(a.move(roomId, 'drop', { column: -1 }))}`);
  log.push(`a unknown move: ${await result(a.move(roomId, 'jump', { column: 1 }))}`);
  log.push(`a bad payload: ${await result(a.move(roomId, 'drop', { column: 'x' }))}`);
  log.push(`a bad message: ${await result(a.move(roomId, 'drop', { column: 1 }, -1))}`);
  log.push(`a other room: ${await result(a.move('connect-four.nowhere', 'drop', { column: 1 }))}`);
  log.push(`a rematch too early: ${await result(a.rematch(roomId))}`);

  // Fill column 2 (alternating, so nobody wins), then it refuses a seventh disc.
  for (let disc = 0; disc < 6; disc++) log.push(`${disc % 2 ? 'b' : 'a'} 2: ${await drop(disc % 2 ? b : a, roomId, 2)}`);
  await stateWhere(a, roomId, (s) => (s.view as BoardView).currentPlayer === a.playerId);
  log.push(`a full column: ${await result(a.move(roomId, 'drop', { column: 2 }))}`);

  // a stacks column 0, b column 1: a wins with its fourth disc.
  for (const column of [0, 1, 0, 1, 0, 1]) log.push(`${column ? 'b' : 'a'} ${column}: ${await drop(column ? b : a, roomId, column)}`);
  const overs = [a, b].map((c) => c.waitFor('over', (o) => o.roomId === roomId));
  log.push(`a 0 wins: ${await drop(a, roomId, 0)}`);
  for (const over of await Promise.all(overs)) log.push(describeOver(over));
  log.push(`b after the end: ${await result(b.move(roomId, 'drop', { column: 5 }))}`);

  const secondGame = [a, b].map((c) => stateWhere(c, roomId, (s) => s.gameNumber === 2 && s.status === 'playing'));
  log.push(`a rematch: ${await result(a.rematch(roomId))}`);
  log.push(`b rematch: ${await result(b.rematch(roomId))}`);
  const game2 = await Promise.all(secondGame);
  log.push(`playing@${game2[0]!.version} game ${game2[0]!.gameNumber} first ${nameOf((game2[0]!.view as BoardView).currentPlayer ?? '')}`);

  const forfeit = b.waitFor('over', (o) => o.roomId === roomId);
  log.push(`a leaves: ${await result(a.leave(roomId))}`);
  log.push(describeOver(await forfeit));
  log.push(`a leaves again: ${await result(a.leave(roomId))}`);
  log.push(`b leaves: ${await result(b.leave(roomId))}`);
  log.push(`b unknown game: ${await result(b.findMatch('chess'))}`);
  a.close();
  b.close();
  return log;
}

test('a duel on the ceiling: win, every refusal, rematch and forfeit, exactly as on Playhouse', async () => {
  const ceiling = await duelScript(ceilingUrl);
  const expect = (line: string) => assert.ok(ceiling.includes(line), `expected '${line}' in:\n${ceiling.join('\n')}`);
  expect('b out of turn: move/not-your-turn');
  expect('a stale: move/stale-version');
  expect('a column 7: move/illegal:out-of-range');
  expect('a column -1: move/illegal:out-of-range');
  expect('a full column: move/illegal:column-full');
  expect('a bad message: protocol/bad-message');
  expect('a 0 wins: ok@15');
  expect('over@15 winners=a reason=connect-line');
  assert.equal(ceiling.filter((line) => line === 'over@15 winners=a reason=connect-line').length, 2, 'both players are told who won');
  expect('b after the end: move/game-over');
  expect('playing@16 game 2 first b'); // the first player alternates between games
  expect('over@17 winners=b reason=opponent-left leaver=a');

  const playhouse = await startTestServer();
  try {
    assert.deepEqual(ceiling, await duelScript(playhouse.url), 'the ceiling and Playhouse must answer the same script the same way');
  } finally {
    await playhouse.stop();
  }
});

test('a dropped connection forfeits, as a leave does', async () => {
  const a = await player(ceilingUrl, 'a');
  const b = await player(ceilingUrl, 'b');
  const { roomId } = await a.findMatch('connect-four');
  await b.findMatch('connect-four');
  await stateWhere(b, roomId, (s) => s.status === 'playing');
  const over = b.waitFor('over', (o) => o.roomId === roomId);
  a.close();
  const message = await over;
  assert.deepEqual(message.outcome, { winners: [b.playerId], draw: false, reason: 'opponent-left' });
  assert.equal(message.leaver, a.playerId);
  assert.equal(await result(b.leave(roomId)), 'ok');
});

test('arena: an input moves the player at the next tick; a too-fast one is refused', async () => {
  const client = await player(ceilingUrl, 'runner');
  const { roomId } = await client.findMatch('arena');
  const state = await stateWhere(client, roomId, (s) => s.status === 'playing' && client.playerId in (s.view as ArenaView).positions);
  const view = state.view as ArenaView;
  const start = view.positions[client.playerId]!;
  const dx = start.x < view.width - 1 ? 1 : -1;

  assert.equal(await result(client.move(roomId, 'input', { dx: 2, dy: 0 })), 'move/illegal:too-fast');
  const moved = client.waitFor('delta', (d) => d.roomId === roomId && client.playerId in (d.delta as { moved: Record<string, Position> }).moved);
  const accepted = await client.move(roomId, 'input', { dx, dy: 0 });
  const delta = await moved;
  assert.deepEqual((delta.delta as { moved: Record<string, Position> }).moved[client.playerId], { x: start.x + dx, y: start.y });
  assert.ok(delta.version > accepted.version, 'the tick bumps the version past the input');
  assert.equal(await result(client.leave(roomId)), 'ok');
});

test('wire checks: a malformed request gets protocol/bad-message, a missing ack session:error', async () => {
  const client = await player(ceilingUrl, 'wire');
  const reply = (await client.socket.timeout(5000).emitWithAck('room:move', { roomId: 'x' } as never)) as { ok: boolean; error?: { code: string } };
  assert.equal(reply.ok, false);
  assert.equal(reply.error?.code, 'protocol/bad-message');
  assert.equal(await result(client.findMatch('not a game!')), 'protocol/bad-message');
  const error = client.waitFor('error');
  // Sent without an acknowledgement callback: nobody to answer, so the refusal comes as session:error.
  (client.socket.emit as (event: string, ...args: unknown[]) => unknown)('match:find', { actionId: '1', game: 'arena' });
  assert.equal((await error).code, 'protocol/ack-required');
});

test('handshake and HTTP: unknown tokens are refused, other paths are 404', async () => {
  await assert.rejects(PlayhouseClient.connect({ url: ceilingUrl, token: 'not-a-token', io: { transports: ['websocket'] } }), (error: unknown) => {
    assert.ok(error instanceof PlayhouseError);
    assert.equal(error.code, 'auth/invalid-token');
    return true;
  });
  const response = await fetch(new URL('/healthz', ceilingUrl));
  assert.equal(response.status, 404);
  assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'http/not-found');
});

test('SIGTERM closes the ceiling and it exits 0', async () => {
  const exited = new Promise<number | null>((resolve) => child!.once('exit', resolve));
  child!.kill('SIGTERM');
  assert.equal(await exited, 0);
});
