/**
 * The persistence actor's mailbox on its own: which writes merge, which wait
 * for which, and what the bound sheds.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { WriteReply, WriteRequest } from '../../actors/persistence/persistence-protocol';
import { WriteQueue, type Waiter } from '../../actors/persistence/write-queue';

const replies: WriteReply[] = [];
const waiter = (): Waiter => ({ since: 0, settle: (reply) => replies.push(reply) });
const snapshot = (key: string, turn: number): WriteRequest => ({ kind: 'snapshot', key, data: { turn }, basedOn: 0 });
const dataOf = (write: WriteRequest) => (write.kind === 'snapshot' ? write.data : undefined);

test('writes to one key reach the store in the order made: the next waits while one is in flight', () => {
  const queue = new WriteQueue(100);
  queue.add('low', snapshot('room/a', 1), waiter(), 0);
  const first = queue.take(['normal', 'low'], 10);
  assert.deepEqual(first.map((entry) => dataOf(entry.write)), [{ turn: 1 }]);
  queue.add('low', snapshot('room/a', 2), waiter(), 1);
  queue.add('low', snapshot('room/b', 1), waiter(), 1);
  assert.deepEqual(
    queue.take(['normal', 'low'], 10).map((entry) => entry.key),
    ['snapshot:room/b'],
    'room/a waits for its write in flight',
  );
  queue.settled(first);
  assert.deepEqual(queue.take(['normal', 'low'], 10).map((entry) => dataOf(entry.write)), [{ turn: 2 }]);
});

test('unsent writes to one key merge (the newest snapshot wins) and a more urgent one lifts the entry to its lane', () => {
  const queue = new WriteQueue(100);
  queue.add('low', snapshot('room/a', 1), waiter(), 0);
  queue.add('low', snapshot('room/a', 2), waiter(), 1);
  queue.add('normal', snapshot('room/a', 3), waiter(), 2);
  assert.equal(queue.size, 1);
  assert.equal(queue.count('low'), 0);
  const [entry] = queue.take(['normal'], 10);
  assert.deepEqual(dataOf(entry!.write), { turn: 3 });
  assert.equal(entry!.waiters.length, 3, 'every writer hears when it is durable');
});

test('a write sent once without an answer is never merged into; a retry keeps its place ahead of newer writes', () => {
  const queue = new WriteQueue(100);
  queue.add('low', snapshot('room/a', 1), waiter(), 0);
  const [sent] = queue.take(['low'], 10);
  sent!.attempts.push({ expectedVersion: 0, data: { turn: 1 } });
  queue.add('low', snapshot('room/a', 2), waiter(), 1);
  queue.requeue([sent!]);
  assert.equal(queue.size, 2);
  assert.deepEqual(queue.take(['low'], 10).map((entry) => dataOf(entry.write)), [{ turn: 1 }], 'the retry first, alone');
});

test('a critical write takes in the unsent writes queued before it for its key; critical writes are never merged into', () => {
  const queue = new WriteQueue(100);
  queue.add('low', snapshot('room/a', 1), waiter(), 0);
  queue.add('critical', snapshot('room/a', 2), waiter(), 1);
  queue.add('low', snapshot('room/a', 3), waiter(), 2);
  assert.equal(queue.size, 2);
  const [critical] = queue.take(['critical'], 10);
  assert.deepEqual(dataOf(critical!.write), { turn: 2 });
  assert.equal(critical!.waiters.length, 2);
  assert.deepEqual(queue.take(['low'], 10), [], 'the newer low write waits for the critical one in flight');
});

test('full: the oldest lowest-priority write is shed for a more urgent one; a low write is refused; critical writes never go', () => {
  const queue = new WriteQueue(3);
  queue.add('low', snapshot('room/a', 1), waiter(), 0);
  queue.add('normal', { kind: 'profile', playerId: 'p1', name: 'Ana', add: { played: 1 } }, waiter(), 1);
  queue.add('critical', snapshot('room/c', 1), waiter(), 2);
  const shedLow = queue.add('normal', { kind: 'profile', playerId: 'p2', name: 'Bo', add: { played: 1 } }, waiter(), 3);
  assert.ok(shedLow.accepted);
  assert.deepEqual(shedLow.shed.map((entry) => entry.key), ['snapshot:room/a']);
  assert.deepEqual(queue.add('low', snapshot('room/d', 1), waiter(), 4), { accepted: false });
  const shedNormal = queue.add('critical', snapshot('room/e', 1), waiter(), 5);
  assert.ok(shedNormal.accepted);
  assert.deepEqual(shedNormal.shed.map((entry) => entry.key), ['profile:p1']);
  queue.add('critical', snapshot('room/f', 1), waiter(), 6);
  assert.deepEqual(queue.add('critical', snapshot('room/g', 1), waiter(), 7), { accepted: false }, 'full of critical writes: refused, nothing dropped');
  assert.equal(queue.count('critical'), 3);
});
