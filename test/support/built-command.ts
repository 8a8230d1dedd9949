/**
 * Test support: checks that a production command (a Docker CMD, a compose or
 * Kubernetes command, an npm script) runs the build with plain node — a
 * `dist/scripts/<name>.js` whose source `scripts/<name>.ts` exists — and no
 * TypeScript loader.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

export function assertRunsBuild(argv: readonly string[], where: string): void {
  assert.equal(argv[0], 'node', `${where} runs node itself: ${argv.join(' ')}`);
  assert.ok(!argv.some((word) => /tsx|^--(import|require|loader|experimental-loader)\b/.test(word)), `${where} loads nothing into node: ${argv.join(' ')}`);
  const script = argv.find((word) => /^dist\/scripts\/[\w-]+\.js$/.test(word));
  assert.ok(script, `${where} runs a script of the build (dist/scripts/<name>.js): ${argv.join(' ')}`);
  const source = script.replace(/^dist\//, '').replace(/\.js$/, '.ts');
  assert.ok(existsSync(path.join(ROOT, source)), `${where}: the build makes ${script} from ${source}, which does not exist`);
}
