/** The mailbox every actor uses: one message at a time, in order, bounded, with a stated overflow policy. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Mailbox, MailboxFullError, type MailboxOwner } from '../../actors/kit/mailbox';

type Work = () => unknown;
/** A mailbox whose messages are the work itself. */
const workMailbox = (capacity: number, owner: Partial<MailboxOwner<Work>> = {}) => new Mailbox<Work>(capacity, { handle: (work) => work(), ...owner });

test('a message never runs inside its sender\'s call stack', async () => {
  const mailbox = workMailbox(10);
  let ran = false;
  const done = mailbox.post(() => (ran = true));
  assert.equal(ran, false, 'post returned before the handler ran');
  await done;
  assert.equal(ran, true);
});

test('messages run one at a time, in arrival order, even when handlers are async', async () => {
  const mailbox = workMailbox(100);
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
  const mailbox = workMailbox(3, { depthChanged: (delta) => void depth.push((total += delta)) });
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
  const mailbox = workMailbox(10);
  const failed = mailbox.post(() => {
    throw new Error('boom');
  });
  const next = mailbox.post(() => 'still alive');
  await assert.rejects(failed, /boom/);
  assert.equal(await next, 'still alive');
});

test('capacity must be a positive integer', () => {
  assert.throws(() => workMailbox(0), RangeError);
  assert.throws(() => workMailbox(1.5), RangeError);
});

test('with a failed() answer, a failure or an overflow is answered with it instead of rejecting', async () => {
  const failures: string[] = [];
  const mailbox = workMailbox(1, { failed: (error) => (failures.push(String(error)), 'refused') });
  const failing = mailbox.post(() => {
    throw new Error('boom');
  });
  const overflow = mailbox.post(() => 'never runs');
  assert.equal(await overflow, 'refused');
  assert.equal(await failing, 'refused');
  assert.deepEqual(failures, ['MailboxFullError: mailbox full (1 waiting)', 'Error: boom']);
});

test('delivered messages (tells) share the order, the bound and the failure handling of posted ones', async () => {
  const log: string[] = [];
  const failures: unknown[] = [];
  const mailbox = workMailbox(2, { failed: (error) => void failures.push(error) });
  mailbox.deliver(() => log.push('tell 1'));
  const asked = mailbox.post(() => (log.push('ask'), 'answer'));
  mailbox.deliver(() => log.push('tell 2: refused, the mailbox is full'));
  mailbox.deliver(() => {
    throw new Error('never runs either');
  });
  assert.equal(await asked, 'answer');
  assert.deepEqual(log, ['tell 1', 'ask']);
  assert.equal(failures.length, 2);
  assert.ok(failures.every((error) => error instanceof MailboxFullError));
  mailbox.deliver(() => {
    throw new Error('a failing tell');
  });
  await new Promise((resolve) => mailbox.deliver(() => resolve(log.push('after the failure'))));
  assert.equal(String(failures[2]), 'Error: a failing tell');
  assert.deepEqual(log, ['tell 1', 'ask', 'after the failure']);
});

test('a handler that sends to another mailbox returns before that one runs; both finish in the same turn', async () => {
  const log: string[] = [];
  const second = workMailbox(10);
  const first = workMailbox(10);
  first.deliver(() => {
    second.deliver(() => log.push('second handles'));
    log.push('first returns');
  });
  // Many idle mailboxes woken together: all handled, each once, in the order they were woken.
  const many = Array.from({ length: 50 }, () => workMailbox(1));
  many.forEach((mailbox, i) => mailbox.deliver(() => log.push(`m${i}`)));
  await new Promise<void>((resolve) => setImmediate(resolve)); // the next turn: every microtask has run
  assert.deepEqual(log, ['first returns', ...many.map((_, i) => `m${i}`), 'second handles']);
});
