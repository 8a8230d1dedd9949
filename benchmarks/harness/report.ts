/** The result of one invocation: JSON in the shape BENCHMARKS.md gives, and a readable table. */
import type { ScenarioOptions } from './scenario';
import type { TargetResult } from './run-target';
import type { TargetName } from './server-process';

/** Scenarios whose clients think before they move. */
const THINKING = ['duel', 'storm', 'persist'];

export interface Ratio {
  readonly moves_per_s: number;
  readonly cpu_us_per_move: number;
  readonly rtt_p99: number;
}

export interface BenchmarkReport {
  readonly scenario: string;
  readonly clients: number;
  readonly duration_s: number;
  readonly think_ms: number;
  readonly network: { readonly latency_ms: number; readonly drop_rate: number };
  readonly results: Readonly<Partial<Record<TargetName, TargetResult>>>;
  /** playhouse ÷ ceiling. */
  readonly ratio: Ratio | null;
  /** cluster ÷ playhouse in one process: what spreading over processes costs. */
  readonly cluster_ratio?: Ratio;
  /** Scenarios with no ceiling (persist): why, and the baseline they are compared with instead. */
  readonly ceiling_note?: string;
  readonly baseline?: BaselineReport;
  readonly loadgen: { readonly cpu_pct: number; readonly workers: number };
  readonly machine: { readonly cpus: number; readonly node: string };
  readonly started_at: string;
}

/** The same load against the same target with something taken away (persist: in-memory stores), and main ÷ baseline. */
export interface BaselineReport {
  readonly label: string;
  readonly results: Readonly<Partial<Record<TargetName, TargetResult>>>;
  readonly ratio: Readonly<Partial<Record<TargetName, Ratio>>>;
}

export interface BaselineInput {
  readonly label: string;
  readonly noCeilingBecause: string;
  /** Empty when the baseline was not run (--baseline none). */
  readonly results: Partial<Record<TargetName, TargetResult>>;
}

export function buildReport(
  scenario: string,
  options: ScenarioOptions,
  network: { latencyMs: number; dropRate: number },
  results: Partial<Record<TargetName, TargetResult>>,
  workers: number,
  cpus: number,
  startedAt: Date,
  baseline?: BaselineInput,
): BenchmarkReport {
  const { playhouse, cluster, ceiling } = results;
  const baselineRatio: Partial<Record<TargetName, Ratio>> = {};
  for (const [target, base] of Object.entries(baseline?.results ?? {}) as Array<[TargetName, TargetResult]>) {
    const main = results[target];
    if (main) baselineRatio[target] = ratioOf(main, base);
  }
  const everything = [...Object.values(results), ...Object.values(baseline?.results ?? {})];
  return {
    scenario,
    clients: options.clients,
    duration_s: options.durationS,
    think_ms: options.thinkMs,
    network: { latency_ms: network.latencyMs, drop_rate: network.dropRate },
    results,
    ratio: playhouse && ceiling ? ratioOf(playhouse, ceiling) : null,
    ...(cluster && playhouse ? { cluster_ratio: ratioOf(cluster, playhouse) } : {}),
    ...(baseline ? { ceiling_note: baseline.noCeilingBecause } : {}),
    ...(baseline && Object.keys(baseline.results).length > 0 ? { baseline: { label: baseline.label, results: baseline.results, ratio: baselineRatio } } : {}),
    loadgen: { cpu_pct: Math.max(...everything.map((r) => r.loadgen_cpu_pct)), workers },
    machine: { cpus, node: process.version },
    started_at: startedAt.toISOString(),
  };
}

function divide(a: number, b: number): number {
  return b > 0 ? Math.round((a / b) * 100) / 100 : 0;
}

function ratioOf(a: TargetResult, b: TargetResult): Ratio {
  return {
    moves_per_s: divide(a.moves_per_s, b.moves_per_s),
    cpu_us_per_move: divide(a.cpu_us_per_move, b.cpu_us_per_move),
    rtt_p99: divide(a.rtt_ms.p99, b.rtt_ms.p99),
  };
}

/** A table a person can read: one column per target run (baseline runs beside), then the ratios. */
export function formatTable(report: BenchmarkReport): string {
  const rows: Array<[string, (r: TargetResult) => string | number, keyof Ratio | undefined]> = [
    ['legal moves/s', (r) => r.moves_per_s, 'moves_per_s'],
    ['server CPU µs/move', (r) => r.cpu_us_per_move, 'cpu_us_per_move'],
    ['move RTT p50 ms', (r) => r.rtt_ms.p50, undefined],
    ['move RTT p95 ms', (r) => r.rtt_ms.p95, undefined],
    ['move RTT p99 ms', (r) => r.rtt_ms.p99, 'rtt_p99'],
    ['observe p50/p99 ms', (r) => (r.observe_ms ? `${r.observe_ms.p50} / ${r.observe_ms.p99}` : '-'), undefined],
    ['legal moves, whole run', (r) => r.legal_total, undefined],
    ['illegal sent/rejected', (r) => `${r.illegal_sent} / ${r.illegal_rejected}`, undefined],
    ['unanswered', (r) => r.unanswered, undefined],
    ['other errors', (r) => Object.values(r.errors).reduce((a, b) => a + b, 0), undefined],
    ['clients connected/playing', (r) => `${r.clients_connected} / ${r.clients_playing}`, undefined],
    ['server CPU %', (r) => r.server.cpu_pct, undefined],
    ['server RSS MB', (r) => r.server.rss_mb, undefined],
    ['load tester CPU %', (r) => r.loadgen_cpu_pct, undefined],
  ];
  const targets = (['playhouse', 'cluster', 'cluster-snapshot', 'ceiling'] as const).filter((t) => report.results[t]);
  const columns: Array<[string, TargetResult]> = targets.map((t) => [t, report.results[t]!]);
  const baseline = report.baseline;
  for (const t of targets) if (baseline?.results[t]) columns.push([`${t}, ${baseline.label}`, baseline.results[t]!]);
  const extraKeys = [...new Set(columns.flatMap(([, result]) => Object.keys(result.extra)))].sort();
  for (const key of extraKeys) rows.push([key, (r) => r.extra[key] ?? '-', undefined]);

  const ratios: Array<[string, Ratio]> = [];
  if (report.ratio) ratios.push(['playhouse/ceiling', report.ratio]);
  if (report.cluster_ratio) ratios.push(['cluster/playhouse', report.cluster_ratio]);
  for (const t of targets) if (baseline?.ratio[t]) ratios.push([`${t}/${baseline.label}`, baseline.ratio[t]!]);
  const header = ['', ...columns.map(([label]) => label), ...ratios.map(([label]) => label)];
  const body = rows.map(([label, get, ratio]) => [
    label,
    ...columns.map(([, result]) => String(get(result))),
    ...ratios.map(([, values]) => (ratio === undefined ? '' : `${values[ratio]}×`)),
  ]);
  const widths = header.map((_, column) => Math.max(...[header, ...body].map((row) => row[column]!.length)));
  const line = (row: string[]) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ');
  const title = `${report.scenario}: ${report.clients} clients, ${report.duration_s} s` + (THINKING.includes(report.scenario) ? `, think ${report.think_ms} ms` : '') +
    (report.network.latency_ms || report.network.drop_rate ? `, +${report.network.latency_ms} ms latency, drop rate ${report.network.drop_rate}/s` : '');
  return [title, line(header), ...body.map(line), ...(report.ceiling_note ? [`no ceiling: ${report.ceiling_note}`] : [])].join('\n');
}
