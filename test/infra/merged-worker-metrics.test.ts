/**
 * The merging of a worker process's metrics on its own, with made-up scrapes:
 * per-worker series, counters carried across a slot's incarnations, gauges
 * only from the incarnation answering now, silent workers visible.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { MergedWorkerMetrics, metricFamilies, type MetricFamily, type WorkerScrape } from '../../infra/cluster/merged-metrics';

/** The samples of a Prometheus text exposition: `name{a="1",b="2"}` → value (labels sorted, so order does not matter). */
function samples(text: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(match, `an exposition line: ${line}`);
    const [, name, labels = '', value] = match;
    const sorted = [...labels.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map(([, label, text]) => `${label}="${text}"`).sort();
    found.set(`${name}{${sorted.join(',')}}`, Number(value));
  }
  return found;
}

async function scrape(merger: MergedWorkerMetrics, scrapes: readonly WorkerScrape[]): Promise<Map<string, number>> {
  return samples(await merger.merge(scrapes).metrics());
}

const counter = (name: string, values: Array<[Record<string, string>, number]>): MetricFamily => ({
  name,
  help: name,
  type: 'counter',
  values: values.map(([labels, value]) => ({ labels, value })),
});
const gauge = (name: string, values: Array<[Record<string, string>, number]>): MetricFamily => ({ ...counter(name, values), type: 'gauge' });

const answered = (slot: string, incarnation: string, families: MetricFamily[]): WorkerScrape => ({ slot, answered: true, incarnation, families });
const moves = (value: number) => counter('playhouse_moves_applied_total', [[{ game: 'connect-four' }, value]]);
const MOVES_W1 = 'playhouse_moves_applied_total{game="connect-four",worker="w1"}';

test('every series names its worker, and a sum over workers is the sum of their counts', async () => {
  const merger = new MergedWorkerMetrics();
  const out = await scrape(merger, [
    answered('w1', '100', [moves(3), gauge('playhouse_persistence_store_up', [[{ store: 'redis' }, 1]])]),
    answered('w2', '200', [moves(4), gauge('playhouse_persistence_store_up', [[{ store: 'redis' }, 0]])]),
  ]);
  assert.equal(out.get(MOVES_W1), 3);
  assert.equal(out.get('playhouse_moves_applied_total{game="connect-four",worker="w2"}'), 4);
  assert.equal(out.get('playhouse_persistence_store_up{store="redis",worker="w1"}'), 1);
  assert.equal(out.get('playhouse_persistence_store_up{store="redis",worker="w2"}'), 0, 'a gauge is per worker, not summed');
  assert.equal(out.get('playhouse_worker_up{worker="w1"}'), 1);
  assert.equal(out.get('playhouse_worker_up{worker="w2"}'), 1);
});

test("a slot's counters carry across its incarnations and never go backwards", async () => {
  const merger = new MergedWorkerMetrics();
  const rejected = (value: number) => counter('playhouse_moves_rejected_total', [[{ game: 'connect-four', reason: 'move/not-your-turn' }, value]]);
  assert.equal((await scrape(merger, [answered('w1', '100', [moves(5), rejected(2)])])).get(MOVES_W1), 5);
  // The worker died and came back (a new process): it starts counting at zero.
  let out = await scrape(merger, [answered('w1', '101', [moves(2)])]);
  assert.equal(out.get(MOVES_W1), 7, 'the old incarnation’s 5 plus the new one’s 2');
  assert.equal(out.get('playhouse_moves_rejected_total{game="connect-four",reason="move/not-your-turn",worker="w1"}'), 2, 'a series only the old incarnation had is kept');
  out = await scrape(merger, [answered('w1', '101', [moves(4)])]);
  assert.equal(out.get(MOVES_W1), 9, 'the same incarnation counting on is not added twice');
  // A new incarnation that counted past the old one before the first scrape is still a new incarnation.
  out = await scrape(merger, [answered('w1', '102', [moves(30)])]);
  assert.equal(out.get(MOVES_W1), 39);
});

test('a counter that shrinks within one incarnation (a restart in the same process) is taken as a reset', async () => {
  const merger = new MergedWorkerMetrics();
  await scrape(merger, [answered('w1', '100', [moves(5)])]);
  assert.equal((await scrape(merger, [answered('w1', '100', [moves(1)])])).get(MOVES_W1), 6);
});

test('histogram buckets, sums and counts carry like counters', async () => {
  const merger = new MergedWorkerMetrics();
  const incarnation = async (observations: number[]): Promise<MetricFamily[]> => {
    const registry = new Registry();
    const histogram = new Histogram({ name: 'playhouse_request_duration_seconds', help: 'h', labelNames: ['event'], buckets: [0.01, 0.1], registers: [registry] });
    for (const seconds of observations) histogram.observe({ event: 'room:move' }, seconds);
    return metricFamilies(await registry.getMetricsAsJSON());
  };
  await scrape(merger, [answered('w1', '100', await incarnation([0.005, 0.05, 0.5]))]);
  const out = await scrape(merger, [answered('w1', '101', await incarnation([0.005]))]);
  const series = (suffix: string, labels: string) => out.get(`playhouse_request_duration_seconds_${suffix}{${labels}}`);
  assert.equal(series('bucket', 'event="room:move",le="0.01",worker="w1"'), 2);
  assert.equal(series('bucket', 'event="room:move",le="0.1",worker="w1"'), 3);
  assert.equal(series('bucket', 'event="room:move",le="+Inf",worker="w1"'), 4);
  assert.equal(series('count', 'event="room:move",worker="w1"'), 4);
  assert.ok(Math.abs((series('sum', 'event="room:move",worker="w1"') ?? 0) - 0.56) < 1e-9);
});

test("gauges come only from the incarnation answering now, never from a dead one's", async () => {
  const merger = new MergedWorkerMetrics();
  await scrape(merger, [answered('w1', '100', [gauge('playhouse_sessions', [[{}, 10]]), gauge('playhouse_persistence_store_up', [[{ store: 'redis' }, 1]])])]);
  const out = await scrape(merger, [answered('w1', '101', [gauge('playhouse_sessions', [[{}, 2]])])]);
  assert.equal(out.get('playhouse_sessions{worker="w1"}'), 2, 'the new incarnation’s sessions, not 12');
  assert.equal(out.has('playhouse_persistence_store_up{store="redis",worker="w1"}'), false, 'the new incarnation has not written yet: no store state to report');
});

test('a worker that does not answer is up 0, keeps its counter totals, and reports no gauges', async () => {
  const merger = new MergedWorkerMetrics();
  await scrape(merger, [answered('w1', '100', [moves(5), gauge('playhouse_sessions', [[{}, 3]])]), answered('w2', '200', [moves(1)])]);
  let out = await scrape(merger, [{ slot: 'w1', answered: false }, answered('w2', '200', [moves(2)])]);
  assert.equal(out.get('playhouse_worker_up{worker="w1"}'), 0);
  assert.equal(out.get('playhouse_worker_up{worker="w2"}'), 1);
  assert.equal(out.get(MOVES_W1), 5, 'the silent worker’s counts do not vanish from a sum');
  assert.equal(out.has('playhouse_sessions{worker="w1"}'), false);
  // It answers again, the same process: counting on from where it was.
  out = await scrape(merger, [answered('w1', '100', [moves(6)]), answered('w2', '200', [moves(2)])]);
  assert.equal(out.get(MOVES_W1), 6);
  assert.equal(out.get('playhouse_worker_up{worker="w1"}'), 1);
});

test('real prom-client snapshots merge into a valid exposition', async () => {
  const registry = new Registry();
  new Counter({ name: 'playhouse_mailbox_overflows_total', help: 'o', labelNames: ['kind'], registers: [registry] }).inc({ kind: 'room' });
  new Gauge({ name: 'playhouse_mailbox_depth', help: 'd', labelNames: ['kind'], registers: [registry] }).set({ kind: 'room' }, 4);
  const merger = new MergedWorkerMetrics();
  const text = await merger.merge([answered('w1', '1', metricFamilies(await registry.getMetricsAsJSON()))]).metrics();
  assert.match(text, /^# TYPE playhouse_mailbox_overflows_total counter$/m);
  assert.match(text, /^# TYPE playhouse_worker_up gauge$/m);
  assert.equal(samples(text).get('playhouse_mailbox_depth{kind="room",worker="w1"}'), 4);
});

test('a snapshot of the wrong shape (it crossed a process boundary) is read as far as it is valid', () => {
  assert.deepEqual(metricFamilies('nonsense'), []);
  const families = metricFamilies([null, { name: 'x' }, { name: 'ok_total', help: 'h', type: 'counter', values: [{ value: 'NaN', labels: {} }, { value: 2, labels: { a: 'b', bad: {} } }] }]);
  assert.deepEqual(families, [{ name: 'ok_total', help: 'h', type: 'counter', values: [{ value: 2, labels: { a: 'b' } }] }]);
});

test('scrapes that overlap share one ask of the workers, so no answer is merged after a newer one', async () => {
  const merger = new MergedWorkerMetrics();
  let asks = 0;
  let answer: (scrapes: WorkerScrape[]) => void = () => undefined;
  const slowWorkers = () => {
    asks++;
    return new Promise<WorkerScrape[]>((resolve) => (answer = resolve));
  };
  const first = merger.scrape(slowWorkers);
  const second = merger.scrape(slowWorkers);
  answer([answered('w1', '100', [moves(5)])]);
  const [a, b] = await Promise.all([first, second]);
  assert.equal(asks, 1, 'the second request waited for the scrape under way');
  assert.equal(samples(await a.metrics()).get(MOVES_W1), 5);
  assert.equal(samples(await b.metrics()).get(MOVES_W1), 5);
  // Once it is over, the next request asks again.
  const third = merger.scrape(async () => [answered('w1', '100', [moves(6)])]);
  assert.equal(samples(await (await third).metrics()).get(MOVES_W1), 6);
});
