/** A session's numbered messages: kept until the device acknowledges them, and let go of then. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OutboundLog } from '../../actors/session/outbound-log';
import { heapAfterGc } from '../support/heap';

test('a device resuming gets what it has not acknowledged, in order; once too much is gone, a snapshot', () => {
  const log = new OutboundLog(4);
  for (let n = 1; n <= 3; n++) log.append('room:state', { n });
  log.acknowledge(1);
  assert.equal(log.size, 2);
  assert.deepEqual(log.since(1), {
    kind: 'replay',
    messages: [
      { seq: 2, event: 'room:state', payload: { n: 2 } },
      { seq: 3, event: 'room:state', payload: { n: 3 } },
    ],
  });
  assert.deepEqual(log.since(3), { kind: 'replay', messages: [] });
  assert.equal(log.since(4), undefined, 'a message never sent');
  for (let n = 4; n <= 9; n++) log.append('room:state', { n });
  assert.equal(log.size, 4, 'bounded by its capacity');
  assert.deepEqual(log.since(3), { kind: 'snapshot' }, 'messages 4 and 5 were dropped');
  const caught = log.since(5);
  assert.equal(caught?.kind, 'replay');
  assert.deepEqual(
    caught.messages.map((message) => message.seq),
    [6, 7, 8, 9],
  );
});

/** Appends `count` views; each one's WeakRef goes to `refs` while `keep(n)` says so. (A helper, not the async test: its frame would hold the last one.) */
function appendViews(log: OutboundLog, count: number, refs: WeakRef<object>[], keep = (_n: number) => true): void {
  for (let n = 0; n < count; n++) {
    const view = { board: new Array(42).fill(n) };
    if (keep(n)) refs.push(new WeakRef(view));
    log.append('room:state', { view });
  }
}

test('what is acknowledged or dropped is no longer held: a message carries a whole room view', async () => {
  const acknowledged: WeakRef<object>[] = [];
  const dropped: WeakRef<object>[] = [];
  // Fewer than the batch in which the array itself is cut, so only clearing each entry lets them go.
  const log = new OutboundLog(64);
  appendViews(log, 10, acknowledged);
  log.acknowledge(log.seq);
  const small = new OutboundLog(2);
  appendViews(small, 10, dropped, (n) => n < 8);
  await heapAfterGc();
  const reachable = (refs: WeakRef<object>[]) => refs.filter((ref) => ref.deref() !== undefined).length;
  assert.equal(reachable(acknowledged), 0, 'acknowledged views are still reachable');
  assert.equal(reachable(dropped), 0, 'dropped views are still reachable');
  assert.equal(small.size, 2);
  assert.equal(log.size, 0);
});
