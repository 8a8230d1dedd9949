/**
 * `npm run bench:layers` charges each perf sample to a layer by the nearest
 * JavaScript frame on its stack. These samples are written the way
 * `perf script` prints them (a header line, one indented frame per line, leaf
 * first, a blank line between samples), one for each rule.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LayerCounter, layerOf } from '../../benchmarks/harness/stack-layers';

const ROOT = '/srv/playhouse';

/** One sample as `perf script` prints it. */
function sample(...symbols: string[]): string {
  const frames = symbols.map((symbol, i) => `\t    7f00000${i.toString(16)} ${symbol} (/usr/bin/node)`);
  return [`node  4242 [001] 1234.5678:     500250 cpu-clock:pppH: `, ...frames].join('\n');
}

test('a native leaf belongs to the JavaScript that called it, and the file of that frame picks the layer', () => {
  assert.equal(layerOf(['Builtins_FindOrderedHashMapEntry', `JS:*answer ${ROOT}/actors/session/session-actor.ts:2:6901+0x62`]), 'playhouse');
  assert.equal(layerOf(['v8::internal::JsonStringifier::SerializeString', `JS:*encode ${ROOT}/infra/gateway/json-packet-encoder.ts:2:10+0x1`]), 'transport');
  assert.equal(layerOf([`JS:*packet ${ROOT}/node_modules/socket.io/dist/socket.js:347:11+0x5`]), 'transport');
  assert.equal(layerOf([`JS:*writeOrBuffer node:internal/streams/writable:548:23+0x9`]), 'transport');
  // SQLite is C inside better-sqlite3: its samples go to the store that called it, its log's write and sync too.
  assert.equal(layerOf(['sqlite3VdbeExec', 'Builtins_CallApiCallbackGeneric', `JS:*run ${ROOT}/infra/stores/sql/sqlite-statements.ts:2:1+0x1`]), 'playhouse');
  assert.equal(layerOf(['fdatasync', 'unixSync', 'sqlite3WalFrames', `JS:*transaction ${ROOT}/infra/stores/sql/sqlite-statements.ts:2:1+0x1`]), 'playhouse');
  assert.equal(layerOf([`JS:*move ${ROOT}/actors/room/room-state.ts:2:3677+0x11f5`]), 'shared logic');
  assert.equal(layerOf([`JS:*apply ${ROOT}/games/connect-four/rules.bundle-10e0d3d5de65.js:104:12+0x3`]), 'shared logic');
  assert.equal(layerOf([`JS:*parse ${ROOT}/node_modules/zod/v4/core/schemas.js:1:1+0x3`]), 'shared logic');
});

test('a frame with no file defers to its caller', () => {
  assert.equal(layerOf(['JS: :3:17+0x670', `JS:*handler ${ROOT}/benchmarks/ceiling/ceiling.ts:2:1+0x1`]), 'shared logic');
});

test('with no JavaScript frame, a sample is GC when its stack says so, and otherwise the transport', () => {
  assert.equal(layerOf(['v8::internal::Scavenger::ScavengeObject', 'v8::internal::Heap::Scavenge', 'uv_run']), 'gc');
  assert.equal(layerOf(['_raw_spin_unlock_irqrestore', 'tcp_sendmsg_locked', 'uv__io_poll', 'uv_run']), 'transport');
});

test('the counter reads perf script text line by line and turns samples into time per move', () => {
  const text = [
    sample('Builtins_LoadIC', `JS:*push ${ROOT}/actors/session/session-actor.ts:2:1+0x1`, `JS:*emit node:events:471:44+0x2`),
    sample(`JS:*send ${ROOT}/node_modules/ws/lib/sender.js:351:7+0x1`),
    sample(`JS:*send ${ROOT}/node_modules/ws/lib/sender.js:351:7+0x1`),
    sample('v8::internal::MarkCompactCollector::ProcessMarkingWorklist', 'v8::internal::Heap::CollectGarbage'),
  ].join('\n\n');
  const counter = new LayerCounter();
  // No blank line after the last sample: the report still counts it.
  for (const line of text.split('\n')) counter.line(line);
  // 4 samples at 1,000 Hz over 2 moves: 2 ms of the thread per move.
  const report = counter.report(1000, 2);
  assert.equal(report.samples, 4);
  assert.equal(report.usPerMove, 2000);
  const byLayer = Object.fromEntries(report.layers.map(({ layer, samples, usPerMove, share }) => [layer, { samples, usPerMove, share }]));
  assert.deepEqual(byLayer.transport, { samples: 2, usPerMove: 1000, share: 0.5 });
  assert.deepEqual(byLayer.playhouse, { samples: 1, usPerMove: 500, share: 0.25 });
  assert.deepEqual(byLayer.gc, { samples: 1, usPerMove: 500, share: 0.25 });
  assert.deepEqual(byLayer['shared logic'], { samples: 0, usPerMove: 0, share: 0 });
  assert.equal(report.layers[0]!.layer, 'transport', 'largest first');
});
