/** The result of one invocation: JSON in the shape BENCHMARKS.md gives, and a readable table. */
import type { ScenarioOptions } from './scenario';
import type { TargetResult } from './run-target';

export interface BenchmarkReport {
  readonly scenario: string;
  readonly clients: number;
  readonly duration_s: number;
  readonly think_ms: number;
  readonly network: { readonly latency_ms: number; readonly drop_rate: number };
  readonly results: { readonly playhouse?: TargetResult; readonly ceiling?: TargetResult };
  /** playhouse ÷ ceiling. */
  readonly ratio: { readonly moves_per_s: number; readonly cpu_us_per_move: number; readonly rtt_p99: number } | null;
  readonly loadgen: { readonly cpu_pct: number; readonly workers: number };
  readonly machine: { readonly cpus: number; readonly node: string };
  readonly started_at: string;
}

export function buildReport(
  scenario: string,
  options: ScenarioOptions,
  network: { latencyMs: number; dropRate: number },
  results: { playhouse?: TargetResult; ceiling?: TargetResult },
  workers: number,
  cpus: number,
  startedAt: Date,
): BenchmarkReport {
  const { playhouse, ceiling } = results;
  const divide = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 100) / 100 : 0);
  return {
    scenario,
    clients: options.clients,
    duration_s: options.durationS,
    think_ms: options.thinkMs,
    network: { latency_ms: network.latencyMs, drop_rate: network.dropRate },
    results,
    ratio:
      playhouse && ceiling
        ? {
            moves_per_s: divide(playhouse.moves_per_s, ceiling.moves_per_s),
            cpu_us_per_move: divide(playhouse.cpu_us_per_move, ceiling.cpu_us_per_move),
            rtt_p99: divide(playhouse.rtt_ms.p99, ceiling.rtt_ms.p99),
          }
        : null,
    loadgen: { cpu_pct: Math.max(playhouse?.loadgen_cpu_pct ?? 0, ceiling?.loadgen_cpu_pct ?? 0), workers },
    machine: { cpus, node: process.version },
    started_at: startedAt.toISOString(),
  };
}

/** A table a person can read, one column per target plus the ratio. */
export function formatTable(report: BenchmarkReport): string {
  const { playhouse, ceiling } = report.results;
  const rows: Array<[string, (r: TargetResult) => string | number, number | undefined]> = [
    ['legal moves/s', (r) => r.moves_per_s, report.ratio?.moves_per_s],
    ['server CPU µs/move', (r) => r.cpu_us_per_move, report.ratio?.cpu_us_per_move],
    ['move RTT p50 ms', (r) => r.rtt_ms.p50, undefined],
    ['move RTT p95 ms', (r) => r.rtt_ms.p95, undefined],
    ['move RTT p99 ms', (r) => r.rtt_ms.p99, report.ratio?.rtt_p99],
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
  const extraKeys = [...new Set([...Object.keys(playhouse?.extra ?? {}), ...Object.keys(ceiling?.extra ?? {})])].sort();
  for (const key of extraKeys) rows.push([key, (r) => r.extra[key] ?? '-', undefined]);

  const header = ['', 'playhouse', 'ceiling', 'ratio'];
  const body = rows.map(([label, get, ratio]) => [label, playhouse ? String(get(playhouse)) : '-', ceiling ? String(get(ceiling)) : '-', ratio === undefined ? '' : `${ratio}×`]);
  const widths = header.map((_, column) => Math.max(...[header, ...body].map((row) => row[column]!.length)));
  const line = (row: string[]) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ');
  const title = `${report.scenario}: ${report.clients} clients, ${report.duration_s} s` + (report.scenario === 'duel' ? `, think ${report.think_ms} ms` : '') +
    (report.network.latency_ms || report.network.drop_rate ? `, +${report.network.latency_ms} ms latency, drop rate ${report.network.drop_rate}/s` : '');
  return [title, line(header), ...body.map(line)].join('\n');
}
