/**
 * The load tester: `npm run bench -- <scenario> [options]`.
 *
 * Runs the scenario against Playhouse and, in the same invocation, against the
 * ceiling (a bare Socket.IO server with the same game logic), one after the
 * other so they never share the machine, and reports both with the ratios. A
 * scenario with no ceiling (persist) runs its baseline instead: the same
 * target and load with something taken away (in-memory stores).
 */
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { buildReport, formatTable, type BaselineInput } from './harness/report';
import { runTarget, type TargetResult } from './harness/run-target';
import type { Scenario, ScenarioOptions } from './harness/scenario';
import { isCluster, type TargetName } from './harness/server-process';
import { scenario as arena } from './scenarios/arena';
import { CHAOS_USAGE, runChaos } from './scenarios/chaos';
import { scenario as duel } from './scenarios/duel';
import { scenario as idle } from './scenarios/idle';
import { DEFAULT_SNAPSHOT_INTERVAL_MS, scenario as persist } from './scenarios/persist';
import { scenario as storm } from './scenarios/storm';

const SCENARIOS: Readonly<Record<string, Scenario>> = { duel, arena, idle, storm, persist };

const USAGE = `usage: npm run bench -- <scenario> [options]

scenarios: ${Object.keys(SCENARIOS).join(', ')}, chaos

options:
  --clients N       connected clients (default per scenario; --quick: 200)
  --duration S      measured seconds (default 20; --quick: 3)
  --think MS        duel, storm, persist: mean think time before a move, uniform 0..2×MS (default 100, persist 50; 0 = saturate)
  --quick           a run of seconds, for CI smoke tests
  --target T        playhouse, cluster, cluster-snapshot, ceiling, both (= playhouse,ceiling) or a comma list (default both; persist: playhouse)
                    (cluster: durability moves, the default; cluster-snapshot: durability snapshot)
  --cluster-workers N    cluster target: forked workers (default 2)
  --cluster-gateways N   cluster target: gateways (default 1; the load is spread over them)
  --workers N       load-generator worker threads (default: one per 500 clients, 1..4)
  --latency MS      added round-trip latency per client (bad mobile network)
  --drop-rate R     probability per client per second that its connection drops
  --warmup S        seconds of play before measuring (default 3; --quick: 1)
  --out FILE        write the JSON result there
  --profile DIR     write a V8 CPU profile of each server there (summarise: npm run bench:profile -- FILE)
  --perf DIR        record each server's main thread with Linux perf over the measured window
                    (where a move's time goes, by layer: npm run bench:layers -- DIR/*.perf.data)

persist (Redis at REDIS_URL, MariaDB at MARIADB_URL; the server's PLAYHOUSE_WRITE_* variables pass through):
  --snapshot-interval MS   rooms snapshot this often while their match changes (default ${DEFAULT_SNAPSHOT_INTERVAL_MS})
  --baseline B             memory: run the same load again with in-memory stores and compare (default); none: skip

${CHAOS_USAGE}`;

async function main(): Promise<void> {
  // chaos is not a measured window against the ceiling but a fault schedule with a verdict: its own runner and options.
  if (process.argv[2] === 'chaos') {
    process.exitCode = await runChaos(process.argv.slice(3));
    return;
  }
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      clients: { type: 'string' },
      duration: { type: 'string' },
      think: { type: 'string' },
      quick: { type: 'boolean', default: false },
      target: { type: 'string' },
      'cluster-workers': { type: 'string', default: '2' },
      'cluster-gateways': { type: 'string', default: '1' },
      workers: { type: 'string' },
      latency: { type: 'string', default: '0' },
      'drop-rate': { type: 'string', default: '0' },
      warmup: { type: 'string' },
      out: { type: 'string' },
      profile: { type: 'string' },
      perf: { type: 'string' },
      'snapshot-interval': { type: 'string' },
      baseline: { type: 'string', default: 'memory' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const scenario = SCENARIOS[positionals[0] ?? ''];
  if (values.help || !scenario) {
    process.stderr.write(USAGE);
    process.exitCode = values.help ? 0 : 2;
    return;
  }
  const number = (name: string, raw: string | undefined, fallback: number, min = 0): number => {
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min) throw new Error(`--${name} must be a number ≥ ${min}, got '${raw}'`);
    return value;
  };
  const quick = values.quick === true;
  const options: ScenarioOptions = {
    clients: Math.round(number('clients', values.clients, quick ? scenario.quickClients : scenario.defaults.clients, 1)),
    durationS: number('duration', values.duration, quick ? 3 : scenario.defaults.durationS, 1),
    thinkMs: number('think', values.think, scenario.defaults.thinkMs),
    quick,
  };
  const network = { latencyMs: number('latency', values.latency, 0), dropRate: number('drop-rate', values['drop-rate'], 0) };
  const workers = Math.round(number('workers', values.workers, Math.min(4, Math.max(1, Math.ceil(options.clients / 500))), 1));
  const warmupS = number('warmup', values.warmup, quick ? 1 : 3);
  const targets = parseTargets(values.target ?? (scenario.baseline ? 'playhouse' : 'both'));
  if (scenario.baseline && targets.includes('ceiling')) throw new Error(`${scenario.name} has no ceiling: ${scenario.baseline.noCeilingBecause}`);
  if (scenario.name === 'persist' && (network.latencyMs > 0 || network.dropRate > 0)) throw new Error('persist measures the persistence actor on loopback: run duel or storm for --latency and --drop-rate');
  if (values.baseline !== 'memory' && values.baseline !== 'none') throw new Error(`--baseline takes memory or none, got '${values.baseline}'`);
  const runBaseline = scenario.baseline !== undefined && values.baseline === 'memory';
  const scenarioSettings: Record<string, number> =
    values['snapshot-interval'] === undefined ? {} : { snapshotIntervalMs: Math.round(number('snapshot-interval', values['snapshot-interval'], DEFAULT_SNAPSHOT_INTERVAL_MS)) };
  const cluster = { workers: Math.round(number('cluster-workers', values['cluster-workers'], 2, 1)), gateways: Math.round(number('cluster-gateways', values['cluster-gateways'], 1, 1)) };
  // Idle measures the heap of the one process holding the clients; a cluster spreads them over several.
  if (scenario.name === 'idle' && targets.some(isCluster)) throw new Error('the idle scenario measures one process: run it against playhouse and ceiling');
  if (values.perf && targets.some(isCluster)) throw new Error('--perf records one process\'s main thread: run it against playhouse and ceiling');

  const interactive = process.stderr.isTTY;
  let lastPrinted = 0;
  const progress = (line: string) => {
    if (interactive) process.stderr.write(`\r\x1b[2K${line}`);
    else if (Date.now() - lastPrinted > 5000 || line.includes(' done ')) {
      lastPrinted = Date.now();
      process.stderr.write(`${line}\n`);
    }
  };

  // Saturation: a client plays as fast as it can, past Playhouse's per-session rate limit (20/s).
  // The ceiling has no limit, so for a fair comparison Playhouse's is lifted, and the report says so.
  const saturating = scenario.name === 'duel' && options.thinkMs === 0;
  const playhouseEnv: NodeJS.ProcessEnv | undefined = saturating ? { PLAYHOUSE_REQUESTS_PER_SECOND: '100000', PLAYHOUSE_REQUEST_BURST: '100000' } : undefined;
  if (playhouseEnv) process.stderr.write('saturation run: Playhouse runs with its per-session rate limit lifted (PLAYHOUSE_REQUESTS_PER_SECOND=100000)\n');

  const startedAt = new Date();
  const results: Partial<Record<TargetName, TargetResult>> = {};
  const baselineResults: Partial<Record<TargetName, TargetResult>> = {};
  for (const target of targets) {
    const settings = {
      scenario,
      options,
      network,
      workers,
      warmupS,
      cluster,
      progress,
      scenarioSettings,
      ...(values.profile ? { profileDir: values.profile } : {}),
      ...(values.perf ? { perfDir: values.perf } : {}),
      ...(playhouseEnv ? { playhouseEnv } : {}),
    };
    results[target] = await runTarget(target, settings);
    if (interactive) process.stderr.write('\n');
    if (runBaseline) {
      baselineResults[target] = await runTarget(target, { ...settings, variant: 'baseline' });
      if (interactive) process.stderr.write('\n');
    }
  }
  const baseline: BaselineInput | undefined = scenario.baseline ? { ...scenario.baseline, results: baselineResults } : undefined;
  const report = { ...buildReport(scenario.name, options, network, results, workers, availableParallelism(), startedAt, baseline), ...(playhouseEnv ? { playhouse_env: playhouseEnv } : {}) };
  process.stdout.write(`\n${formatTable(report)}\n`);
  if (values.out) {
    writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`\nJSON written to ${values.out}\n`);
  }
}

const TARGETS: readonly TargetName[] = ['playhouse', 'cluster', 'cluster-snapshot', 'ceiling'];

/** `both` (one process and the ceiling) or a comma list; run in the order playhouse, cluster, ceiling. */
function parseTargets(raw: string | undefined): TargetName[] {
  const asked = (raw === 'both' || raw === undefined ? 'playhouse,ceiling' : raw).split(',').map((t) => t.trim());
  const unknown = asked.filter((t) => !TARGETS.includes(t as TargetName));
  if (unknown.length > 0 || asked.length === 0) throw new Error(`--target takes ${TARGETS.join(', ')}, both, or a comma list of them; got '${raw}'`);
  return TARGETS.filter((t) => asked.includes(t));
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    process.stderr.write(`\nbench failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
