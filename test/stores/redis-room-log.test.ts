/**
 * Rooms' input logs on the real Redis: entries come back in order after a
 * snapshot's seq, an append sent again is applied once, a takeover fences the
 * older holder, trimming keeps the room's opening, removal forgets it all.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { RoomLogFencedError, RoomLogLostError, type RoomInput, type RoomLogEntry } from '../../actors/ports';
import { RedisRoomLog } from '../../infra/cluster/redis-room-log';
import { forgetRedisKeys, needRedis, REDIS_URL } from '../support/services';
import { execFileSync } from 'node:child_process';

const name = `test-roomlog-${process.pid}-${randomBytes(3).toString('hex')}`;
let log: RedisRoomLog | undefined;
after(async () => {
  await log?.close();
  await forgetRedisKeys(`${name}:`);
});

const entry = (seq: number, input: RoomInput): RoomLogEntry => ({ v: 1, seq, at: 1_700_000_000_000 + seq, input });
const move = (seq: number): RoomLogEntry => entry(seq, { type: 'move', playerId: 'p1', actionId: `a${seq}`, version: seq, move: 'drop', payload: { column: seq % 7 } });

test('a room log: appended in order, read after a seq, an append sent twice counts once, trimmed up to a snapshot but keeps its opening', async (t) => {
  if (!(await needRedis(t))) return;
  log = await RedisRoomLog.connect({ url: REDIS_URL, name });
  const opening = entry(0, { type: 'open', game: 'connect-four', seed: 42 });
  await log.append('r1', 1, -1, [opening, move(1)]);
  await log.append('r1', 1, -1, [move(2), move(3)]);
  await log.append('r1', 1, -1, [move(3)]); // its answer was lost and it is sent again
  const { generation, entries } = await log.takeOver('r1', 1);
  assert.equal(generation, 2, 'the takeover is the next generation');
  assert.deepEqual(entries, [move(2), move(3)], 'the entries after seq 1, once each, as they were written');
  assert.deepEqual((await log.takeOver('r1', -1)).entries, [opening, move(1), move(2), move(3)], 'from the start');
  await log.trim('r1', 2);
  assert.deepEqual((await log.takeOver('r1', -1)).entries, [move(3)]);
  assert.deepEqual(await log.opening('r1'), { type: 'open', game: 'connect-four', seed: 42 }, 'the opening outlives the trim');
  await log.remove('r1');
  assert.equal(await log.opening('r1'), undefined);
  assert.deepEqual((await log.takeOver('r1', -1)).entries, []);
});

test('a takeover fences the older holder: its appends are refused and add nothing', async (t) => {
  if (!(await needRedis(t))) return;
  log ??= await RedisRoomLog.connect({ url: REDIS_URL, name });
  await log.append('r2', 1, -1, [entry(0, { type: 'open', game: 'connect-four', seed: 7 }), move(1)]);
  const taken = await log.takeOver('r2', 1);
  assert.equal(taken.generation, 2);
  await assert.rejects(log.append('r2', 1, -1, [move(2)]), (error: unknown) => error instanceof RoomLogFencedError && error.generation === 1);
  await log.append('r2', taken.generation, -1, [move(2)]);
  assert.deepEqual((await log.takeOver('r2', 1)).entries, [move(2)], 'only the new holder’s move');
});

test('a log that lost its history (Redis restarted empty) refuses entries that do not follow the latest durable snapshot, and goes on after one', async (t) => {
  if (!(await needRedis(t))) return;
  log ??= await RedisRoomLog.connect({ url: REDIS_URL, name });
  await log.append('r3', 1, -1, [entry(0, { type: 'open', game: 'connect-four', seed: 9 }), move(1), move(2), move(3)]);
  execFileSync('redis-cli', ['-u', REDIS_URL, 'del', `${name}:roomlog:r3`, `${name}:roomlog:r3:meta`]);
  // The room's latest durable snapshot includes seq 2: entry 4 would leave a hole where 3 was.
  await assert.rejects(log.append('r3', 1, 2, [move(4)]), (error: unknown) => error instanceof RoomLogLostError);
  // A snapshot including seq 4 is durable now: the log goes on after it.
  await log.append('r3', 1, 4, [move(5)]);
  await log.append('r3', 1, 4, [move(6)]);
  assert.deepEqual((await log.takeOver('r3', 4)).entries, [move(5), move(6)]);
});
