/**
 * `npm run bench:profile -- FILE.cpuprofile [--top N]`: where a server's CPU
 * time went, by function (self time) and by file, from a V8 CPU profile.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}
interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '30' } } });
const file = positionals[0];
if (!file) {
  process.stderr.write('usage: npm run bench:profile -- FILE.cpuprofile [--top N]\n');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const selfTime = new Map<number, number>();
profile.samples.forEach((id, i) => selfTime.set(id, (selfTime.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const total = [...selfTime.values()].reduce((a, b) => a + b, 0);

const byFunction = new Map<string, number>();
const byFile = new Map<string, number>();
for (const [id, micros] of selfTime) {
  const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
  const where = shorten(url);
  add(byFunction, `${functionName || '(anonymous)'}  ${where}:${lineNumber + 1}`, micros);
  add(byFile, where || '(native/idle)', micros);
}
const top = Number(values.top);
const print = (title: string, table: Map<string, number>) => {
  process.stdout.write(`\n${title}\n`);
  for (const [name, micros] of [...table].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(`${((micros / total) * 100).toFixed(1).padStart(5)}%  ${name}\n`);
  }
};
process.stdout.write(`${path.basename(file)}: ${(total / 1e6).toFixed(2)} s sampled\n`);
print('self time by function', byFunction);
print('self time by file', byFile);

function add(table: Map<string, number>, key: string, micros: number): void {
  table.set(key, (table.get(key) ?? 0) + micros);
}

function shorten(url: string): string {
  const withoutScheme = url.replace(/^file:\/\//, '');
  const modules = withoutScheme.lastIndexOf('node_modules/');
  if (modules >= 0) return withoutScheme.slice(modules + 'node_modules/'.length);
  const root = path.resolve(__dirname, '..') + '/';
  return withoutScheme.startsWith(root) ? withoutScheme.slice(root.length) : withoutScheme;
}
