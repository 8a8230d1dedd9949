/** Time limits on asks: one sweeping timer per process instead of one timer per ask, on the process's clock. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Deadlines } from '../../actors/kit/deadlines';
import { ManualClock } from '../support/manual-clock';

class Late extends Error {}

/** Deadlines on a clock the test moves by hand. */
function deadlines(): { clock: ManualClock; limits: Deadlines } {
  const clock = new ManualClock();
  return { clock, limits: new Deadlines(clock) };
}

test('an answer within the limit passes through, value or rejection, and the limit is forgotten', async () => {
  const { clock, limits } = deadlines();
  assert.equal(await limits.within(Promise.resolve('answer'), 1000, () => new Late()), 'answer');
  await assert.rejects(limits.within(Promise.reject(new Error('refused')), 1000, () => new Late()), /refused/);
  assert.equal(limits.pending, 0);
  assert.equal(clock.timers, 0, 'no sweeper left running');
});

test('no answer within the limit rejects with the given error, not before; a later answer changes nothing', async () => {
  const { clock, limits } = deadlines();
  let answer!: (value: string) => void;
  const slow = new Promise<string>((resolve) => (answer = resolve));
  const seen: { outcome?: 'answered' | Error } = {};
  const limited = limits.within(slow, 120, () => new Late('no answer within 120 ms')).then(
    () => (seen.outcome = 'answered'),
    (error: Error) => (seen.outcome = error),
  );
  assert.equal(limits.pending, 1);
  await clock.advance(100);
  const at100 = seen.outcome;
  assert.equal(at100, undefined, 'still waiting at 100 ms');
  await clock.advance(100);
  await limited;
  assert.ok(seen.outcome instanceof Late, 'rejected once the limit passed');
  answer('too late');
  await slow;
  assert.equal(limits.pending, 0);
  assert.equal(clock.timers, 0);
});

test('limits of different lengths each fire at their own time, in any order of asking', async () => {
  const { clock, limits } = deadlines();
  const never = new Promise<never>(() => undefined);
  const order: string[] = [];
  const long = limits.within(never, 300, () => new Late('long')).catch((error: Error) => order.push(error.message));
  const short = limits.within(never, 60, () => new Late('short')).catch((error: Error) => order.push(error.message));
  const answered = limits.within(Promise.resolve('fine'), 60, () => new Late('answered'));
  await clock.advance(150);
  assert.deepEqual(order, ['short']);
  await clock.advance(200);
  await Promise.all([long, short]);
  assert.equal(await answered, 'fine');
  assert.deepEqual(order, ['short', 'long']);
  assert.equal(limits.pending, 0);
});

test('limits answered out of order leave the others waiting, and those still fire oldest first', async () => {
  const { clock, limits } = deadlines();
  const answers: Array<(value: number) => void> = [];
  const order: number[] = [];
  const limited = [0, 1, 2, 3, 4].map((n) =>
    limits.within(new Promise<number>((resolve) => answers.push(resolve)), 80, () => new Late(String(n))).then(
      (value) => order.push(value),
      (error: Error) => order.push(-Number(error.message) - 10),
    ),
  );
  assert.equal(limits.pending, 5);
  // The middle, the oldest and the newest are answered: the list is cut at each kind of place.
  answers[2]!(2);
  answers[0]!(0);
  answers[4]!(4);
  await clock.advance(0);
  assert.equal(limits.pending, 2);
  await clock.advance(200);
  await Promise.all(limited);
  assert.deepEqual(order, [2, 0, 4, -11, -13]);
  assert.equal(limits.pending, 0);
});
