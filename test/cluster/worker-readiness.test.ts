/**
 * How a worker process judges its workers, on its own: ready when every
 * worker answers and none was fenced; a worker's metrics belong to its
 * process, whatever cluster node id it goes by.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { WorkerStats } from '../../actors/worker/worker-actor';
import { metricsIncarnationOf, workersReadiness, type WorkerAnswer } from '../../infra/cluster/worker-supervisor';

const stats = (nodeId: string, pid: number, extra: object = {}): WorkerAnswer =>
  ({ nodeId, pid, actors: { session: 0, room: 0, lobby: 0 }, queued: 0, ...extra }) as unknown as WorkerStats;

test('every worker answering and none fenced: ready', () => {
  assert.deepEqual(workersReadiness([stats('h-1-w1.aa', 11), stats('h-1-w2.bb', 12, { fenced: false })], 4000), { ready: true, reasons: [] });
});

test('a worker that did not answer: not ready, naming its slot', () => {
  const readiness = workersReadiness([stats('h-1-w1.aa', 11), { slot: 'h-1-w2', error: 'Error: no answer within 4000 ms' }], 4000);
  assert.equal(readiness.ready, false);
  assert.equal(readiness.reasons.length, 1);
  assert.match(readiness.reasons[0]!, /h-1-w2 did not answer within 4000 ms/);
});

test('a worker whose stats say fenced: true is not ready, naming it', () => {
  const readiness = workersReadiness([stats('h-1-w1.aa', 11, { fenced: true }), stats('h-1-w2.bb', 12)], 4000);
  assert.equal(readiness.ready, false);
  assert.match(readiness.reasons.join('\n'), /h-1-w1\.aa was fenced/);
});

test("a worker's metrics incarnation is its process: a new node id in the same process (rejoined after fencing) is the same registry", () => {
  assert.equal(metricsIncarnationOf(stats('h-1-w1.aa', 11)), metricsIncarnationOf(stats('h-1-w1.cc', 11)));
  assert.notEqual(metricsIncarnationOf(stats('h-1-w1.aa', 11)), metricsIncarnationOf(stats('h-1-w1.aa', 12)));
  assert.equal(metricsIncarnationOf({ nodeId: 'x' }), undefined, 'an answer without a pid names no incarnation');
});
