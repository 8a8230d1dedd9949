/** The mailbox every actor uses: one message at a time, in order, bounded, with a stated overflow policy. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Mailbox, MailboxFullError } from '../../actors/kit/mailbox';

test('a message never runs inside its sender\'s call stack', async () => {
  const mailbox = new Mailbox(10);
  let ran = false;
  const done = mailbox.post(() => (ran = true));
  assert.equal(ran, false, 'post returned before the handler ran');
  await done;
  assert.equal(ran, true);
});

test('messages run one at a time, in arrival order, even when handlers are async', async () => {
  const mailbox = new Mailbox(100);
  const log: string[] = [];
  let running = 0;
  const jobs = Array.from({ length: 20 }, (_, i) =>
    mailbox.post(async () => {
      running++;
      assert.equal(running, 1, 'two handlers overlapped');
      log.push(`start ${i}`);
      await new Promise<void>((resolve) => setImmediate(resolve));
      log.push(`end ${i}`);
      running--;
      return i * 2;
    }),
  );
  assert.deepEqual(await Promise.all(jobs), Array.from({ length: 20 }, (_, i) => i * 2));
  assert.deepEqual(log, Array.from({ length: 20 }, (_, i) => [`start ${i}`, `end ${i}`]).flat());
});

test('past its capacity the newest message is refused; accepted ones all complete', async () => {
  const depth: number[] = [];
  let total = 0;
  const mailbox = new Mailbox(3, (delta) => depth.push((total += delta)));
  let release!: () => void;
  let started!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const running = new Promise<void>((resolve) => (started = resolve));
  const first = mailbox.post(() => {
    started();
    return gate;
  });
  await running; // the first message is being processed, so it no longer counts as waiting
  const waiting = [mailbox.post(() => 'a'), mailbox.post(() => 'b'), mailbox.post(() => 'c')];
  await assert.rejects(mailbox.post(() => 'overflow'), MailboxFullError);
  assert.equal(mailbox.depth, 4);
  release();
  await first;
  assert.deepEqual(await Promise.all(waiting), ['a', 'b', 'c']);
  assert.equal(mailbox.depth, 0);
  assert.equal(total, 0, 'the depth reported for metrics returns to zero');
  assert.equal(Math.max(...depth), 4);
});

test('a failing message rejects its own sender only; the next one still runs', async () => {
  const mailbox = new Mailbox(10);
  const failed = mailbox.post(() => {
    throw new Error('boom');
  });
  const next = mailbox.post(() => 'still alive');
  await assert.rejects(failed, /boom/);
  assert.equal(await next, 'still alive');
});

test('capacity must be a positive integer', () => {
  assert.throws(() => new Mailbox(0), RangeError);
  assert.throws(() => new Mailbox(1.5), RangeError);
});
