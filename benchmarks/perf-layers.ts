/**
 * `npm run bench:layers -- DIR/playhouse.perf.data [DIR/ceiling.perf.data …]`:
 * a server's main-thread CPU per move, by layer (transport, logic the ceiling
 * shares, what only Playhouse does, GC), from a recording made by
 * `npm run bench -- duel --perf DIR`. See benchmarks/harness/stack-layers.ts
 * for how samples are charged, and harness/perf-map.ts for how JavaScript
 * is named.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { LAYER_MEANING, LayerCounter, type LayerReport } from './harness/stack-layers';
import { cleanPerfMap } from './harness/perf-map';
import { readPerfWindow } from './harness/perf-record';

async function layersOf(perfData: string): Promise<LayerReport> {
  const window = readPerfWindow(perfData);
  cleanPerfMap(window.pid, window.mapBytes);
  const perf = spawn('perf', ['script', '-i', perfData], { stdio: ['ignore', 'pipe', 'ignore'] });
  const exited = once(perf, 'exit') as Promise<[number | null]>;
  const counter = new LayerCounter();
  for await (const line of createInterface({ input: perf.stdout })) counter.line(line);
  const [code] = await exited;
  if (code !== 0) throw new Error(`perf script -i ${perfData} exited with ${code}`);
  return counter.report(window.hz, window.legalMoves);
}

async function main(): Promise<void> {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    process.stderr.write('usage: npm run bench:layers -- DIR/playhouse.perf.data [DIR/ceiling.perf.data …]\n');
    process.exitCode = 2;
    return;
  }
  for (const file of files) {
    const report = await layersOf(file);
    process.stdout.write(`\n${path.basename(file)}: ${report.samples} samples, main thread ${report.usPerMove.toFixed(1)} µs per move\n`);
    for (const { layer, usPerMove, share } of report.layers) {
      process.stdout.write(`${usPerMove.toFixed(1).padStart(8)} µs ${(share * 100).toFixed(1).padStart(5)} %  ${layer.padEnd(12)} ${LAYER_MEANING[layer]}\n`);
    }
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
