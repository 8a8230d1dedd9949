/**
 * The Grafana dashboard in infra/grafana/ only queries metrics this server
 * really exposes, and is shaped so Grafana's "Import dashboard" accepts it.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadConfig } from '../../infra/config';
import { startPlayhouse, type RunningPlayhouse } from '../../infra/playhouse-server';

interface Target {
  refId?: string;
  expr?: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type?: string; uid?: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: Target[];
  panels?: Panel[];
}
interface Variable {
  type: string;
  name: string;
  query: unknown;
  definition?: string;
  datasource?: { type?: string; uid?: string };
}
interface Dashboard {
  schemaVersion: number;
  title: string;
  uid: string;
  __inputs: Array<{ name: string; type: string; pluginId: string }>;
  templating: { list: Variable[] };
  panels: Panel[];
}

const DASHBOARD_PATH = join(__dirname, '..', '..', 'infra', 'grafana', 'playhouse-dashboard.json');
const dashboard = JSON.parse(readFileSync(DASHBOARD_PATH, 'utf8')) as Dashboard;
const METRIC = /\b(?:playhouse|nodejs|process)_[a-z0-9_]+/g;

/** Every panel, including those nested in collapsed rows. */
function allPanels(panels: readonly Panel[] = dashboard.panels): Panel[] {
  return panels.flatMap((panel) => [panel, ...allPanels(panel.panels ?? [])]);
}
const queryPanels = () => allPanels().filter((panel) => panel.type !== 'row');

/** Metric names a scrape exposes, with the series names of histograms and summaries. */
function exposedNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const line of exposition.split('\n')) {
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (\w+)/.exec(line);
    if (type) {
      const [, name, kind] = type as unknown as [string, string, string];
      names.add(name);
      if (kind === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
      if (kind === 'summary') for (const suffix of ['_sum', '_count']) names.add(name + suffix);
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/.exec(line);
    if (sample) names.add(sample[1]!);
  }
  return names;
}

let server: RunningPlayhouse | undefined;
let exposed = new Set<string>();

before(async () => {
  server = await startPlayhouse(loadConfig({ port: 0, host: '127.0.0.1', persistence: { snapshots: 'memory', records: 'memory' } }, {}));
  const response = await fetch(`${server.url}/metrics`);
  assert.equal(response.status, 200);
  exposed = exposedNames(await response.text());
});

after(() => server?.stop());

test('the scrape exposes the domain and runtime metrics the dashboard is built on', () => {
  for (const name of ['playhouse_connected_clients', 'playhouse_request_duration_seconds_bucket', 'nodejs_eventloop_lag_p99_seconds', 'process_cpu_seconds_total', 'nodejs_gc_duration_seconds_sum']) {
    assert.ok(exposed.has(name), `${name} is on /metrics`);
  }
});

test('every PromQL expression references only metrics the server exposes', () => {
  const checked: string[] = [];
  for (const panel of queryPanels()) {
    assert.ok(panel.targets?.length, `panel ${panel.id} "${panel.title}" has queries`);
    for (const target of panel.targets) {
      const expr = target.expr ?? '';
      assert.ok(expr.trim(), `panel ${panel.id} "${panel.title}" target ${target.refId} has an expr`);
      const names = expr.match(METRIC) ?? [];
      assert.ok(names.length > 0, `panel ${panel.id} "${panel.title}" target ${target.refId} queries a Playhouse or runtime metric: ${expr}`);
      for (const name of names) {
        assert.ok(exposed.has(name), `panel ${panel.id} "${panel.title}" queries ${name}, which /metrics does not expose`);
        checked.push(name);
      }
    }
  }
  for (const variable of dashboard.templating.list.filter((v) => v.type === 'query')) {
    const query = typeof variable.query === 'string' ? variable.query : ((variable.query as { query?: string }).query ?? '');
    for (const name of `${query} ${variable.definition ?? ''}`.match(METRIC) ?? []) {
      assert.ok(exposed.has(name), `variable $${variable.name} queries ${name}, which /metrics does not expose`);
    }
  }
  assert.ok(checked.length > 20, `the dashboard's queries were found (${checked.length} metric references)`);
});

test('panel ids are unique and every panel queries through the datasource variable', () => {
  const ids = allPanels().map((panel) => panel.id);
  assert.ok(ids.every((id) => Number.isInteger(id)), 'every panel has an integer id');
  assert.deepEqual(ids.filter((id, index) => ids.indexOf(id) !== index), [], 'duplicate panel ids');
  for (const panel of queryPanels()) {
    assert.deepEqual(panel.datasource, { type: 'prometheus', uid: '${datasource}' }, `panel ${panel.id} "${panel.title}" has the datasource`);
    for (const target of panel.targets ?? []) {
      assert.deepEqual(target.datasource, { type: 'prometheus', uid: '${datasource}' }, `panel ${panel.id} target ${target.refId} has the datasource`);
    }
  }
});

test('panels sit on the 24-column grid without overlapping', () => {
  const placed = dashboard.panels;
  for (const panel of placed) {
    const { x, y, w, h } = panel.gridPos;
    assert.ok(x >= 0 && w > 0 && h > 0 && x + w <= 24 && y >= 0, `panel ${panel.id} "${panel.title}" fits the grid`);
  }
  for (const [i, a] of placed.entries()) {
    for (const b of placed.slice(i + 1)) {
      const overlap = a.gridPos.x < b.gridPos.x + b.gridPos.w && b.gridPos.x < a.gridPos.x + a.gridPos.w && a.gridPos.y < b.gridPos.y + b.gridPos.h && b.gridPos.y < a.gridPos.y + a.gridPos.h;
      assert.ok(!overlap, `panels ${a.id} "${a.title}" and ${b.id} "${b.title}" overlap`);
    }
  }
});

test('the dashboard imports into any Prometheus and filters by job and instance', () => {
  assert.equal(dashboard.schemaVersion, 39);
  assert.ok(dashboard.uid && dashboard.title);
  assert.deepEqual(
    dashboard.__inputs.map((input) => [input.name, input.type, input.pluginId]),
    [['DS_PROMETHEUS', 'datasource', 'prometheus']],
  );
  const variables = new Map(dashboard.templating.list.map((v) => [v.name, v]));
  const datasource = variables.get('datasource');
  assert.equal(datasource?.type, 'datasource');
  assert.equal(datasource?.query, 'prometheus');
  for (const name of ['job', 'instance']) {
    const variable = variables.get(name);
    assert.equal(variable?.type, 'query', `$${name} is a query variable`);
    assert.match(variable?.definition ?? '', new RegExp(`^label_values\\(.*, ${name}\\)$`));
    assert.deepEqual(variable?.datasource, { type: 'prometheus', uid: '${datasource}' });
  }
  const text = JSON.stringify(dashboard.panels);
  for (const used of new Set(text.match(/\$(?!__)[a-z_]+/g) ?? [])) {
    assert.ok(variables.has(used.slice(1)), `${used} is a declared template variable`);
  }
  const rows = dashboard.panels.filter((panel) => panel.type === 'row').map((panel) => panel.title);
  assert.deepEqual(rows, ['Overview', 'Moves', 'Latency', 'Actors', 'Gateway', 'Persistence', 'Node runtime']);
});
