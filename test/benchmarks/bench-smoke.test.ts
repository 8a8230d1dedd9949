/**
 * The load tester's quick mode, run once in CI as a smoke test: real server
 * processes, real clients in worker threads. It checks that nothing was lost
 * or left unanswered and that every illegal move was refused — never timings,
 * which belong to the benchmarks, not to tests.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { needMariadb, needRedis } from '../support/services';

const ROOT = path.resolve(__dirname, '..', '..');

interface TargetResult {
  moves_per_s: number;
  cpu_us_per_move: number;
  illegal_sent: number;
  illegal_rejected: number;
  unanswered: number;
  errors: Record<string, number>;
  clients_connected: number;
  clients_playing: number;
  extra: Record<string, number>;
  extra_total: Record<string, number>;
}
interface Report {
  scenario: string;
  clients: number;
  results: Record<string, TargetResult>;
}

async function bench(scenario: string, extraArgs: string[] = []): Promise<Report> {
  const out = path.join(mkdtempSync(path.join(tmpdir(), 'bench-')), `${scenario}.json`);
  const child = spawn(process.execPath, ['--import', 'tsx', 'benchmarks/cli.ts', scenario, '--quick', '--duration', '2', '--out', out, ...extraArgs], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.equal(code, 0, `bench ${scenario} failed:\n${output}`);
  return JSON.parse(readFileSync(out, 'utf8')) as Report;
}

function assertClean(name: string, result: TargetResult | undefined, clients: number): TargetResult {
  assert.ok(result, `${name}: no result`);
  assert.equal(result.unanswered, 0, `${name}: unanswered requests`);
  assert.deepEqual(result.errors, {}, `${name}: unexpected errors`);
  assert.equal(result.illegal_rejected, result.illegal_sent, `${name}: every illegal move must be refused`);
  assert.equal(result.clients_connected, clients, `${name}: every client connected`);
  return result;
}

test('duel, quick: every move answered, every illegal move refused, on Playhouse and the ceiling', async () => {
  const report = await bench('duel');
  assert.equal(report.scenario, 'duel');
  for (const target of ['playhouse', 'ceiling']) {
    const result = assertClean(target, report.results[target], report.clients);
    assert.ok(result.moves_per_s > 0, `${target}: moves were played`);
    assert.ok(result.illegal_sent > 0, `${target}: illegal moves were sent`);
    assert.equal(result.clients_playing, report.clients, `${target}: every client was seated and playing`);
  }
});

test('duel on a bad network (added latency, dropped connections): drops happen, players come back, nothing unaccounted', async () => {
  const report = await bench('duel', ['--target', 'playhouse', '--latency', '60', '--drop-rate', '0.2']);
  const result = report.results.playhouse;
  assert.ok(result, 'no result');
  assert.deepEqual(result.errors, {}, 'refusals a drop causes are counted apart (after_drop:*), anything else is an error');
  assert.equal(result.unanswered, 0, 'with drops, lost requests are counted as lost_to_drop');
  const total = result.extra_total;
  assert.ok((total.drops ?? 0) > 0, 'connections were dropped');
  assert.equal((total.reconnects ?? 0) + (total.reconnects_skipped_at_stop ?? 0), total.drops, 'every dropped player came back (unless the run ended first)');
  assert.ok(result.moves_per_s > 0);
});

test('duel on a local cluster (2 gateways, 2 forked workers, Redis), quick: nothing lost, nothing left running', async (t) => {
  if (!(await needRedis(t))) return;
  const report = await bench('duel', ['--target', 'cluster', '--cluster-gateways', '2', '--cluster-workers', '2', '--workers', '2']);
  const result = assertClean('cluster', report.results.cluster, report.clients);
  assert.ok(result.moves_per_s > 0, 'moves were played');
  assert.equal(result.clients_playing, report.clients, 'every client was seated and playing');
  assert.ok((result.extra.redis_cpu_pct ?? -1) >= 0, 'Redis CPU is reported apart');
  assert.deepEqual(benchClusterProcesses(), [], 'the launcher, its gateways and workers all exited');
});

test('persist, quick: Redis and MariaDB stores; every game the clients saw end has its match result, nothing unanswered, nothing left behind', async (t) => {
  if (!(await needRedis(t)) || !(await needMariadb(t))) return;
  const report = await bench('persist', ['--baseline', 'none']);
  assert.equal(report.scenario, 'persist');
  const result = assertClean('playhouse', report.results.playhouse, report.clients);
  const extra = result.extra;
  assert.ok(result.moves_per_s > 0, 'moves were played');
  assert.ok((extra.games_seen_ended ?? 0) > 0, 'games ended');
  assert.equal(extra.results_missing, 0, 'every game a client saw end has its row in match_results');
  assert.ok((extra.durable_per_s_critical ?? 0) > 0 && (extra.durable_per_s_low ?? 0) > 0, 'match results and snapshots became durable in the window');
  assert.ok((extra.store_writes_per_s_redis ?? 0) > 0 && (extra.store_writes_per_s_mariadb ?? 0) > 0, 'both stores were written');
  assert.equal(extra.redis_keys_left, 0, "the run's Redis keys were deleted");
  assert.equal(extra.result_rows_left, 0, "the run's match_results rows were deleted");
  assert.deepEqual(benchClusterProcesses(), [], 'the server exited');
});

/** Pids of processes started for a bench cluster or a persist run (their environment names it bench-…). */
function benchClusterProcesses(): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0').some((v) => v.startsWith('PLAYHOUSE_CLUSTER=bench-'))) found.push(Number(entry));
    } catch {
      // not ours to read, or gone
    }
  }
  return found;
}

test('storm, quick: 30 % of the clients drop and resume; every move applied once, nothing lost or unanswered', async () => {
  const report = await bench('storm', ['--target', 'playhouse']);
  const result = report.results.playhouse;
  assert.ok(result, 'no result');
  assert.deepEqual(result.errors, {}, 'no move applied other than once, no request dropped by the SDK, nothing unexpected');
  assert.equal(result.unanswered, 0);
  assert.equal(result.illegal_rejected, result.illegal_sent);
  const total = result.extra_total;
  assert.ok((total.drops ?? 0) > 0, 'connections were dropped');
  assert.ok((total.resumed_replay ?? 0) > 0, 'players resumed with a replay');
  assert.ok(result.moves_per_s > 0);
});

test('arena, quick: inputs answered, illegal inputs refused, ticks observed', async () => {
  const report = await bench('arena', ['--target', 'playhouse']);
  const result = assertClean('playhouse', report.results.playhouse, report.clients);
  assert.ok(result.moves_per_s > 0);
  assert.ok((result.extra.tick_rate_hz ?? 0) > 0, 'deltas arrived');
});

test('idle, quick: clients stay connected and the memory per client is reported', async () => {
  const report = await bench('idle', ['--target', 'playhouse']);
  const result = assertClean('playhouse', report.results.playhouse, report.clients);
  assert.equal(result.extra.disconnects ?? 0, 0);
  // The heap is the measure: RSS after a forced GC can even shrink as clients are added (pages returned to the OS).
  assert.ok((result.extra.heap_kb_per_added_client ?? 0) > 0, `heap per added client: ${result.extra.heap_kb_per_added_client}`);
});

test('duel, quick, with --perf: each server\'s window is recorded, and bench:layers finds Playhouse\'s own layer only in Playhouse', async (t) => {
  const perf = spawnSync('perf', ['--version']);
  if (perf.error) return t.skip(`Linux's perf is not installed (${perf.error.message}): apt-get install linux-perf`);
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-perf-'));
  await bench('duel', ['--perf', dir]);
  const layers = spawnSync(process.execPath, ['--import', 'tsx', 'benchmarks/perf-layers.ts', path.join(dir, 'playhouse.perf.data'), path.join(dir, 'ceiling.perf.data')], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  assert.equal(layers.status, 0, layers.stderr);
  // "playhouse.perf.data: N samples, …" then one line per layer: "   12.3 µs  10.0 %  playhouse …"
  const sections = layers.stdout.split(/\n(?=\S+\.perf\.data:)/).filter((section) => section.trim() !== '');
  const shareOf = (section: string, layer: string) => Number(new RegExp(`µs\\s+([\\d.]+) %\\s+${layer}\\b`).exec(section)?.[1]);
  const [playhouse, ceiling] = ['playhouse', 'ceiling'].map((name) => sections.find((section) => section.trim().startsWith(`${name}.perf.data`)));
  assert.ok(playhouse && ceiling, layers.stdout);
  for (const section of [playhouse, ceiling]) assert.ok(Number(/: (\d+) samples/.exec(section)?.[1]) > 100, `too few samples:\n${section}`);
  assert.ok(shareOf(playhouse, 'transport') > 0 && shareOf(ceiling, 'transport') > 0, layers.stdout);
  assert.ok(shareOf(playhouse, 'playhouse') > 1, `Playhouse's own layer (actors, sessions, SQLite) must show in its recording:\n${playhouse}`);
  assert.ok(shareOf(ceiling, 'playhouse') < 1, `the ceiling runs none of Playhouse's own code:\n${ceiling}`);
});
