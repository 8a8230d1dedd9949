/**
 * The chaos scenario's quick mode, run in CI: a real cluster on a private
 * Redis and MariaDB under a duel load, faults injected into real processes,
 * and a verdict from the clients' own records and the stored results. It fails
 * on any acknowledged move lost, any move applied twice, any result missing or
 * contradicting what the players saw, and any client stuck after recovery.
 *
 * The faults are `--quick`'s: a worker killed, a worker stopped with
 * SIGTERM (it hands over), a worker stalled past the dead timeout, Redis
 * restarted empty, a gateway killed.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { needRedis } from '../support/services';

const ROOT = path.resolve(__dirname, '..', '..');

interface Verdict {
  readonly fault: string;
  readonly lost: number;
  readonly doubled: number;
  readonly results_missing: number;
  readonly results_contradicting: number;
  readonly stuck: number;
}

function installed(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
}

test('chaos, quick: workers killed, drained and stalled, Redis restarted empty, a gateway killed — nothing acknowledged lost or doubled, results as seen, nobody stuck', async (t) => {
  if (!(await needRedis(t))) return;
  const mariadbd = installed('mariadbd') || installed('/usr/sbin/mariadbd');
  if (!mariadbd || !installed('redis-server')) {
    if (process.env.CI === 'true') assert.fail('the chaos scenario needs redis-server and mariadbd');
    return t.skip('redis-server or mariadbd is not installed');
  }
  const out = path.join(mkdtempSync(path.join(tmpdir(), 'chaos-')), 'chaos.json');
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'benchmarks/cli.ts', 'chaos', '--quick', '--out', out],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
  for (const line of output.slice(output.lastIndexOf('chaos (')).split('\n')) t.diagnostic(line);
  assert.equal(code, 0, `the chaos run missed a target:\n${output.slice(-4000)}`);
  const report = JSON.parse(readFileSync(out, 'utf8')) as { passed: boolean; windows: Verdict[] };
  assert.equal(report.passed, true);
  assert.deepEqual(
    report.windows.map((w) => w.fault),
    ['quiet start', 'worker-kill', 'worker-term', 'worker-stop', 'redis-restart-empty 4s', 'gateway-kill'],
  );
  for (const w of report.windows) {
    assert.deepEqual([w.lost, w.doubled, w.results_missing, w.results_contradicting, w.stuck], [0, 0, 0, 0, 0], `${w.fault}: lost, doubled, results missing, contradicting, stuck`);
  }
});
