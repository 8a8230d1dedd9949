/**
 * Where a server's main thread spends a move, by layer, from `perf script`
 * output of a `perf record -g` of that thread (the server runs with
 * `--perf-basic-prof`, so JIT frames are named `JS:*name file:line:col`).
 *
 * Each sample belongs to the nearest JavaScript frame on its stack, leaf
 * first: native code (JSON.stringify, a hash-map lookup, a write barrier,
 * SQLite inside better-sqlite3) is charged to the JavaScript that called it. The file of that frame picks the
 * layer (a frame with no file defers to its caller). A sample with no
 * JavaScript frame is garbage collection when its stack says so, and otherwise
 * the transport (libuv and the kernel reading and writing sockets). Inlined
 * functions are charged to the function they were inlined into, so layers are
 * exact only at this coarse grain.
 *
 * Why not V8's own CPU profile: it samples wall time, so the time the thread
 * is preempted is charged to whatever it was running (benchmarks/README.md).
 */

export type Layer = 'transport' | 'shared logic' | 'playhouse' | 'gc';

/** What a layer holds, for the report. */
export const LAYER_MEANING: Readonly<Record<Layer, string>> = {
  transport: 'Socket.IO, engine.io, ws, Node streams and the kernel; JSON in and out (our packet encoder included)',
  'shared logic': 'what the ceiling does too: the room state and its rules, the wire checks and schemas, the event handlers',
  playhouse: 'what only Playhouse does: actors, sessions and resume, persistence and its stores, metrics',
  gc: 'garbage collection on the main thread (helper threads are not in the recording)',
};

const TRANSPORT_FILE = /\/node_modules\/(?:socket\.io|socket\.io-parser|socket\.io-adapter|engine\.io|engine\.io-parser|ws|debug)\/|^node:|json-packet-encoder/;
const SHARED_FILE = /actors\/room\/room-state\.ts|\/games\/|\/node_modules\/zod\/|\/protocol\/|benchmarks\/ceiling\/|infra\/gateway\/socket-gateway\.ts/;
const GC_FRAME = /Scaveng|MarkCompact|Marking|Sweep|Heap::|GarbageCollect|Evacuat/;
/** How deep in a stack with no JavaScript frame to look for a GC frame. */
const GC_SEARCH_DEPTH = 12;

/** The layer of one sample, from its frames' symbols, leaf first. */
export function layerOf(stack: readonly string[]): Layer {
  for (const symbol of stack) {
    if (!symbol.startsWith('JS:')) continue;
    const file = symbol.slice(symbol.indexOf(' ') + 1);
    if (TRANSPORT_FILE.test(file)) return 'transport';
    if (SHARED_FILE.test(file)) return 'shared logic';
    // A frame with no file (a stub, an eval'd wrapper) says nothing: its caller decides.
    if (!file.includes('/')) continue;
    return 'playhouse';
  }
  return stack.slice(0, GC_SEARCH_DEPTH).some((symbol) => GC_FRAME.test(symbol)) ? 'gc' : 'transport';
}

/**
 * Counts `perf script` output by layer, line by line (a 20 s recording prints a few hundred megabytes):
 * one sample per block separated by a blank line, a header line then one frame per indented line
 * (`\t    7f3a… symbol+0x12 (dso)`), leaf first.
 */
export class LayerCounter {
  private readonly counts = new Map<Layer, number>();
  private stack: string[] = [];
  private samples = 0;

  line(line: string): void {
    if (line.trim() === '') return this.endSample();
    if (line[0] !== ' ' && line[0] !== '\t') return this.endSample(); // a sample's header
    const frame = line.trim();
    const space = frame.indexOf(' ');
    if (space < 0) return;
    // Drop the address in front and the "(dso)" behind; keep the symbol with its offset.
    this.stack.push(frame.slice(space + 1).replace(/ \([^()]*\)$/, ''));
  }

  /** Per-move time of each layer: every sample stands for 1/`hz` s of the thread's CPU over `moves` moves. */
  report(hz: number, moves: number): LayerReport {
    this.endSample();
    const usPerSample = 1e6 / hz / moves;
    const layers = (Object.keys(LAYER_MEANING) as Layer[])
      .map((layer) => {
        const samples = this.counts.get(layer) ?? 0;
        return { layer, samples, usPerMove: samples * usPerSample, share: this.samples > 0 ? samples / this.samples : 0 };
      })
      .sort((a, b) => b.samples - a.samples);
    return { samples: this.samples, usPerMove: this.samples * usPerSample, layers };
  }

  private endSample(): void {
    if (this.stack.length === 0) return;
    const layer = layerOf(this.stack);
    this.counts.set(layer, (this.counts.get(layer) ?? 0) + 1);
    this.samples++;
    this.stack = [];
  }
}

export interface LayerReport {
  readonly samples: number;
  /** Main-thread CPU per move, all layers. */
  readonly usPerMove: number;
  readonly layers: ReadonlyArray<{ readonly layer: Layer; readonly samples: number; readonly usPerMove: number; readonly share: number }>;
}
