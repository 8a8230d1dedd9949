/**
 * The load tester: `npm run bench -- <scenario> [options]`.
 *
 * Runs the scenario against Playhouse and, in the same invocation, against the
 * ceiling (a bare Socket.IO server with the same game logic), one after the
 * other so they never share the machine, and reports both with the ratios.
 */
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { buildReport, formatTable } from './harness/report';
import { runTarget, type TargetResult } from './harness/run-target';
import type { Scenario, ScenarioOptions } from './harness/scenario';
import type { TargetName } from './harness/server-process';
import { scenario as arena } from './scenarios/arena';
import { scenario as duel } from './scenarios/duel';
import { scenario as idle } from './scenarios/idle';
import { scenario as storm } from './scenarios/storm';

const SCENARIOS: Readonly<Record<string, Scenario>> = { duel, arena, idle, storm };

const USAGE = `usage: npm run bench -- <scenario> [options]

scenarios: ${Object.keys(SCENARIOS).join(', ')}   (persist arrives with the persistence actor)

options:
  --clients N       connected clients (default per scenario; --quick: 200)
  --duration S      measured seconds (default 20; --quick: 3)
  --think MS        duel: mean think time before a move, uniform 0..2×MS (default 100; 0 = saturate)
  --quick           a run of seconds, for CI smoke tests
  --target T        playhouse, cluster, ceiling, both (= playhouse,ceiling) or a comma list (default both)
  --cluster-workers N    cluster target: forked workers (default 2)
  --cluster-gateways N   cluster target: gateways (default 1; the load is spread over them)
  --workers N       load-generator worker threads (default: one per 500 clients, 1..4)
  --latency MS      added round-trip latency per client (bad mobile network)
  --drop-rate R     probability per client per second that its connection drops
  --warmup S        seconds of play before measuring (default 3; --quick: 1)
  --out FILE        write the JSON result there
  --profile DIR     write a V8 CPU profile of each server there (summarise: npm run bench:profile -- FILE)
`;

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      clients: { type: 'string' },
      duration: { type: 'string' },
      think: { type: 'string' },
      quick: { type: 'boolean', default: false },
      target: { type: 'string', default: 'both' },
      'cluster-workers': { type: 'string', default: '2' },
      'cluster-gateways': { type: 'string', default: '1' },
      workers: { type: 'string' },
      latency: { type: 'string', default: '0' },
      'drop-rate': { type: 'string', default: '0' },
      warmup: { type: 'string' },
      out: { type: 'string' },
      profile: { type: 'string' },
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
  const targets = parseTargets(values.target);
  const cluster = { workers: Math.round(number('cluster-workers', values['cluster-workers'], 2, 1)), gateways: Math.round(number('cluster-gateways', values['cluster-gateways'], 1, 1)) };
  // Idle measures the heap of the one process holding the clients; a cluster spreads them over several.
  if (scenario.name === 'idle' && targets.includes('cluster')) throw new Error('the idle scenario measures one process: run it against playhouse and ceiling');

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
  for (const target of targets) {
    results[target] = await runTarget(target, {
      scenario,
      options,
      network,
      workers,
      warmupS,
      cluster,
      progress,
      ...(values.profile ? { profileDir: values.profile } : {}),
      ...(playhouseEnv ? { playhouseEnv } : {}),
    });
    if (interactive) process.stderr.write('\n');
  }
  const report = { ...buildReport(scenario.name, options, network, results, workers, availableParallelism(), startedAt), ...(playhouseEnv ? { playhouse_env: playhouseEnv } : {}) };
  process.stdout.write(`\n${formatTable(report)}\n`);
  if (values.out) {
    writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`\nJSON written to ${values.out}\n`);
  }
}

const TARGETS: readonly TargetName[] = ['playhouse', 'cluster', 'ceiling'];

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
