/**
 * The session remembers the answers to a player's last `actionWindow` actions.
 * A request refused with `rate/limited` was not run: it is not remembered, and
 * it must not push a remembered answer out of the window either.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { guestLogin } from '@playhouse/client';
import { Device } from '../support/raw-device';
import { startTestServer, type TestServer } from '../support/playhouse';

const WINDOW = 128;

let server: TestServer;
before(async () => {
  // A bucket of exactly one window's worth of requests that practically never refills, and no flood guard in
  // the way: the first WINDOW requests are served, every later one is rate limited.
  server = await startTestServer({
    limits: { requestBurst: WINDOW, requestsPerSecond: 0.001, floodEventsPerSecond: 1000 },
    resume: { actionWindow: WINDOW },
  });
});
after(() => server.stop());

test('rate-limited requests do not push remembered answers out of the action window', async () => {
  const device = await Device.connect(server.url, (await guestLogin(server.url, 'Ada')).token);
  try {
    const find = { actionId: 'find-1', game: 'connect-four' };
    const first = await device.request<{ roomId: string }>('match:find', find);
    assert.equal(first.ok, true);

    // The window fills up: the find is now the oldest of WINDOW remembered answers.
    const others = await Promise.all(
      Array.from({ length: WINDOW - 1 }, (_, i) => device.request('room:leave', { actionId: `other-${i}`, roomId: 'connect-four.1.abcd' })),
    );
    assert.ok(others.every((reply) => !reply.ok && reply.error.code === 'room/not-member'));

    // The bucket is empty: these are refused and not run.
    const limited = await Promise.all(
      Array.from({ length: 20 }, (_, i) => device.request('room:leave', { actionId: `limited-${i}`, roomId: 'connect-four.1.abcd' })),
    );
    assert.deepEqual(new Set(limited.map((reply) => !reply.ok && reply.error.code)), new Set(['rate/limited']));

    // The find is still remembered: re-sent, it gets its first answer and does not run again
    // (run again, it would be refused with match/already-in-room).
    assert.deepEqual(await device.request('match:find', find), first);
    // So is the newest served action; a rate-limited one re-sent is still not run (nor remembered).
    assert.equal((await device.request('room:leave', { actionId: `other-${WINDOW - 2}`, roomId: 'connect-four.1.abcd' })).ok, false);
    const retried = await device.request('room:leave', { actionId: 'limited-0', roomId: 'connect-four.1.abcd' });
    assert.equal(!retried.ok && retried.error.code, 'rate/limited');
  } finally {
    device.close();
  }
});
