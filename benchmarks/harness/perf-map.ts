/**
 * Node's `--perf-basic-prof` appends a line to /tmp/perf-PID.map for every
 * piece of code V8 compiles (`start size name`, hex). When V8 frees code,
 * its address range is reused by later code, and the file keeps both lines:
 * perf then names samples in the newer code after the older, dead function
 * (a ceiling profile had Connect Four's `apply` calling `tcp_sendmsg`).
 *
 * Before perf reads the map, `bench:layers` rewrites it so that each address
 * has one name: the newest that covered it when the measured window ended
 * (lines written after it are dropped). In the steady state of a window
 * little code is compiled, so this names nearly every sample right.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

export interface CodeRange {
  readonly start: number;
  readonly size: number;
  readonly name: string;
}

export function perfMapPath(pid: number): string {
  return `/tmp/perf-${pid}.map`;
}

/** The ranges of a map's text, in the order they were written. */
export function parsePerfMap(text: string): CodeRange[] {
  const ranges: CodeRange[] = [];
  for (const line of text.split('\n')) {
    const first = line.indexOf(' ');
    const second = line.indexOf(' ', first + 1);
    if (first < 0 || second < 0) continue;
    ranges.push({ start: parseInt(line.slice(0, first), 16), size: parseInt(line.slice(first + 1, second), 16), name: line.slice(second + 1) });
  }
  return ranges;
}

/** Each address named by the last range written over it: older ranges keep only what no newer one covers. */
export function latestWins(ranges: readonly CodeRange[]): CodeRange[] {
  /** Addresses already named by a newer range, as disjoint [start, end) pairs sorted by start. */
  const covered: Array<[number, number]> = [];
  const kept: CodeRange[] = [];
  for (let i = ranges.length - 1; i >= 0; i--) {
    const { start, size, name } = ranges[i]!;
    const end = start + size;
    let cursor = start;
    const at = firstEndingAfter(covered, start);
    // The parts of [start, end) between the covered intervals it meets.
    for (let j = at; j < covered.length && covered[j]![0] < end; j++) {
      const [coveredStart, coveredEnd] = covered[j]!;
      if (coveredStart > cursor) kept.push({ start: cursor, size: coveredStart - cursor, name });
      cursor = Math.max(cursor, coveredEnd);
    }
    if (cursor < end) kept.push({ start: cursor, size: end - cursor, name });
    // Merge [start, end) into the covered intervals it touches.
    let mergedStart = start;
    let mergedEnd = end;
    let last = at;
    while (last < covered.length && covered[last]![0] <= end) {
      mergedStart = Math.min(mergedStart, covered[last]![0]);
      mergedEnd = Math.max(mergedEnd, covered[last]![1]);
      last++;
    }
    covered.splice(at, last - at, [mergedStart, mergedEnd]);
  }
  return kept.sort((a, b) => a.start - b.start);
}

/** Index of the first interval whose end is at or after `address` (binary search). */
function firstEndingAfter(covered: ReadonlyArray<[number, number]>, address: number): number {
  let low = 0;
  let high = covered.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (covered[middle]![1] < address) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * Rewrites the map of process `pid` as it stood at `bytes` (its size when the window ended), newest names
 * winning; the original is kept beside it (`.orig`) and used again if the map is cleaned twice.
 */
export function cleanPerfMap(pid: number, bytes: number): void {
  const file = perfMapPath(pid);
  const original = `${file}.orig`;
  if (!existsSync(original)) {
    // V8 wrote it on the machine that recorded, in its /tmp: gone after a reboot, absent on another machine.
    if (!existsSync(file)) throw new Error(`${file} is gone: the JavaScript of process ${pid} cannot be named (read a recording on the machine that made it, before a reboot)`);
    renameSync(file, original);
  }
  const text = readFileSync(original).subarray(0, bytes).toString('utf8');
  const lines = latestWins(parsePerfMap(text)).map(({ start, size, name }) => `${start.toString(16)} ${size.toString(16)} ${name}`);
  writeFileSync(file, `${lines.join('\n')}\n`);
}
