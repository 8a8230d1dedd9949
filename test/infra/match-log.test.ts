/**
 * An operator reading `npm start`'s log sees each match begin and end, at
 * info: the room, the game, who plays, and at the end the result. A real
 * server process (its JSON log lines on a pipe), real players over sockets.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { guestLogin, PlayhouseClient } from '@playhouse/client';
import { startScript, stopProcess } from '../support/cluster';
import { startDuel } from '../support/playhouse';
import { eventually } from '../support/services';
import { singleServerEnv } from '../support/single-server-env';

interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly roomId?: string;
  readonly game?: string;
  readonly players?: ReadonlyArray<{ playerId: string; name: string }>;
  readonly winners?: readonly string[];
  readonly draw?: boolean;
  readonly reason?: string;
}

const INFO = 30;

function logLines(output: string): LogLine[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);
}

test('a match starting and ending is logged at info, with its room, game, players and result', async (t) => {
  const server = await startScript('single', 'scripts/start.ts', [], singleServerEnv({ LOG_FORMAT: 'json' }));
  t.after(() => stopProcess(server));
  const clients: PlayhouseClient[] = [];
  t.after(() => clients.forEach((client) => client.close()));
  const duel = await startDuel({
    async player(name) {
      const login = await guestLogin(server.url, name);
      const client = await PlayhouseClient.connect({ url: server.url, token: login.token, io: { transports: ['websocket'] } });
      clients.push(client);
      return client;
    },
  });
  const ids = duel.players.map((client) => client.playerId);

  const started = await eventually(() => logLines(server.output()).find((line) => line.msg === 'match started' && line.roomId === duel.roomId), 'the match start in the log');
  assert.equal(started.level, INFO);
  assert.equal(started.game, 'connect-four');
  assert.deepEqual(started.players?.map((player) => player.playerId), ids, 'the players, in seat order');

  // Seat 0 fills column 0 four times and wins.
  for (const column of [0, 1, 0, 1, 0, 1, 0]) await duel.drop(column);
  const ended = await eventually(() => logLines(server.output()).find((line) => line.msg === 'match ended' && line.roomId === duel.roomId), 'the match end in the log');
  assert.equal(ended.level, INFO);
  assert.equal(ended.game, 'connect-four');
  assert.deepEqual(ended.players?.map((player) => player.playerId), ids);
  assert.deepEqual(ended.winners, [ids[0]]);
  assert.equal(ended.draw, false);
  assert.equal(ended.reason, 'connect-line');
});
