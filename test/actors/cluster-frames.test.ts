/**
 * Batches between processes: an object several frames carry is written once
 * and comes back as one object in every frame that had it; everything else
 * round-trips as plain JSON.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeBatch, encodeBatch, type OutgoingFrame } from '../../actors/cluster/frames';

test('a view pushed to several players crosses once per batch and is restored in every frame', () => {
  const view = { board: [[0, 1, null]], currentPlayer: 'p1', filler: 'x'.repeat(500) };
  const frames: OutgoingFrame[] = ['p1', 'p2', 'p3'].map((player) => ({ k: 'tell', to: `session:${player}`, m: { type: 'push', event: 'room:state', payload: view } }));
  const text = encodeBatch('w1', frames);
  assert.equal(text.split('x'.repeat(500)).length - 1, 1, 'the shared view is written once');
  const batch = decodeBatch(text);
  assert.equal(batch.from, 'w1');
  const payloads = batch.frames.map((frame) => (frame.k === 'tell' ? (frame.m as { payload: unknown }).payload : undefined));
  for (const payload of payloads) assert.deepEqual(payload, view);
  assert.ok(payloads.every((payload) => payload === payloads[0]), 'one object again on the receiving side');
  assert.deepEqual(
    batch.frames.map((frame) => (frame.k === 'tell' ? { to: frame.to, type: (frame.m as { type: string }).type } : undefined)),
    ['p1', 'p2', 'p3'].map((player) => ({ to: `session:${player}`, type: 'push' })),
  );
});

test('frames that share nothing are plain JSON, and replies and spawns pass through unchanged', () => {
  const frames: OutgoingFrame[] = [
    { k: 'ask', id: 7, to: 'room:r1', m: { type: 'move', payload: { column: 3 } } },
    { k: 'tell', to: 'room:r1', m: { type: 'move', payload: { column: 3 } } },
    { k: 'reply', id: 3, v: { ok: true } },
    { k: 'reply', id: 4, miss: true },
    { k: 'spawn', id: 5, req: { kind: 'room', address: 'room:r2', params: { seed: 1 } } },
  ];
  const text = encodeBatch('gw', frames);
  assert.deepEqual(JSON.parse(text), { from: 'gw', frames });
  assert.deepEqual(decodeBatch(text), { from: 'gw', frames });
});
