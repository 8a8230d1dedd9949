/** Time limits on asks: one sweeping timer per process instead of one timer per ask. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pendingDeadlines, withDeadline } from '../../actors/kit/deadlines';

class Late extends Error {}

test('an answer within the limit passes through, value or rejection, and the limit is forgotten', async () => {
  assert.equal(await withDeadline(Promise.resolve('answer'), 1000, () => new Late()), 'answer');
  await assert.rejects(withDeadline(Promise.reject(new Error('refused')), 1000, () => new Late()), /refused/);
  assert.equal(pendingDeadlines(), 0);
});

test('no answer within the limit rejects with the given error; a later answer changes nothing', { timeout: 5000 }, async () => {
  let answer!: (value: string) => void;
  const slow = new Promise<string>((resolve) => (answer = resolve));
  const started = Date.now();
  const limited = withDeadline(slow, 120, () => new Late('no answer within 120 ms'));
  assert.equal(pendingDeadlines(), 1);
  await assert.rejects(limited, Late);
  const waited = Date.now() - started;
  assert.ok(waited >= 115, `rejected after ${waited} ms, before its limit`);
  answer('too late');
  await slow;
  assert.equal(pendingDeadlines(), 0);
});

test('limits of different lengths each fire at their own time, in any order of asking', { timeout: 5000 }, async () => {
  const never = new Promise<never>(() => undefined);
  const order: string[] = [];
  const long = withDeadline(never, 300, () => new Late('long')).catch((error: Error) => order.push(error.message));
  const short = withDeadline(never, 60, () => new Late('short')).catch((error: Error) => order.push(error.message));
  const answered = withDeadline(Promise.resolve('fine'), 60, () => new Late('answered'));
  await Promise.all([long, short]);
  assert.equal(await answered, 'fine');
  assert.deepEqual(order, ['short', 'long']);
  assert.equal(pendingDeadlines(), 0);
});

test('limits answered out of order leave the others waiting, and those still fire oldest first', { timeout: 5000 }, async () => {
  const answers: Array<(value: number) => void> = [];
  const order: number[] = [];
  const limited = [0, 1, 2, 3, 4].map((n) =>
    withDeadline(new Promise<number>((resolve) => answers.push(resolve)), 80, () => new Late(String(n))).then(
      (value) => order.push(value),
      (error: Error) => order.push(-Number(error.message) - 10),
    ),
  );
  assert.equal(pendingDeadlines(), 5);
  // The middle, the oldest and the newest are answered: the list is cut at each kind of place.
  answers[2]!(2);
  answers[0]!(0);
  answers[4]!(4);
  await Promise.resolve();
  await Promise.resolve();
  assert.equal(pendingDeadlines(), 2);
  await Promise.all(limited);
  assert.deepEqual(order, [2, 0, 4, -11, -13]);
  assert.equal(pendingDeadlines(), 0);
});
