/**
 * perf's map of a Node process names code ranges in the order V8 compiled
 * them; freed ranges are reused. `latestWins` must leave each address the
 * name of the last range written over it, and nothing overlapping.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { latestWins, parsePerfMap, type CodeRange } from '../../benchmarks/harness/perf-map';

const hex = (ranges: readonly CodeRange[]) => ranges.map(({ start, size, name }) => `${start.toString(16)} ${size.toString(16)} ${name}`);

test('a map line is start, size (hex) and a name that may hold spaces; a cut last line is left out', () => {
  const ranges = parsePerfMap('7f7113146900 9b8 JS:*onEofChunk node:internal/streams/readable:788:20\n1f9d 1bc JS:~apply /srv/a b.ts:2:2236\n7f71 1');
  assert.deepEqual(hex(ranges), ['7f7113146900 9b8 JS:*onEofChunk node:internal/streams/readable:788:20', '1f9d 1bc JS:~apply /srv/a b.ts:2:2236']);
});

test('newer ranges win over the older ranges they overlap, which keep only what is left', () => {
  const ranges = parsePerfMap(
    [
      '100 100 old', // [0x100, 0x200)
      '300 10 untouched',
      '150 30 middle', // [0x150, 0x180), inside old
      '1f0 20 straddles', // [0x1f0, 0x210), over old's end
      '300 10 same place', // the same range as untouched, later
    ].join('\n'),
  );
  assert.deepEqual(hex(latestWins(ranges)), ['100 50 old', '150 30 middle', '180 70 old', '1f0 20 straddles', '300 10 same place']);
  // A one-byte gap between two newer ranges still belongs to the older one.
  assert.deepEqual(hex(latestWins(parsePerfMap('100 10 old\n100 5 left\n106 a right'))), ['100 5 left', '105 1 old', '106 a right']);
});

test('every address keeps the name of the last range over it, over many random ranges', () => {
  let seed = 7;
  const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  const ranges: CodeRange[] = [];
  for (let i = 0; i < 400; i++) ranges.push({ start: random(2000), size: 1 + random(120), name: `f${i}` });
  const expected = new Map<number, string>();
  for (const { start, size, name } of ranges) for (let a = start; a < start + size; a++) expected.set(a, name);

  const kept = latestWins(ranges);
  const named = new Map<number, string>();
  for (const { start, size, name } of kept) {
    for (let a = start; a < start + size; a++) {
      assert.equal(named.has(a), false, `address ${a} named twice`);
      named.set(a, name);
    }
  }
  assert.deepEqual([...named.entries()].sort((a, b) => a[0] - b[0]), [...expected.entries()].sort((a, b) => a[0] - b[0]));
});
