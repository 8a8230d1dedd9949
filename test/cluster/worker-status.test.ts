/**
 * A worker process's own port: /livez, /readyz, and its workers' merged
 * metrics, per worker and true across a worker that stops answering and one
 * that is killed and respawned (a chaos test once saw the summed store_up at
 * 1 of 2 for minutes after a respawn, and counters fall back when a worker
 * died).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, test } from 'node:test';
import type { NodeInfo } from '../../actors/cluster/backplane';
import { createTestCluster, type TestCluster } from '../support/cluster';
import { startDuel } from '../support/playhouse';
import { eventually, needRedis, REDIS_URL } from '../support/services';

let cluster: TestCluster | undefined;
let stoppedPid: number | undefined;
after(async () => {
  if (stoppedPid !== undefined) process.kill(stoppedPid, 'SIGCONT');
  await cluster?.stop();
});

function redis(...args: string[]): string {
  return execFileSync('redis-cli', ['-u', REDIS_URL, ...args]).toString().trim();
}

/** The live members of the cluster, from their heartbeat keys (`<cluster>:alive:<nodeId>`, NodeInfo JSON). */
function members(name: string): NodeInfo[] {
  const keys = redis('--scan', '--pattern', `${name}:alive:*`).split('\n').filter(Boolean);
  return keys.map((key) => redis('get', key)).filter(Boolean).map((json) => JSON.parse(json) as NodeInfo);
}

/** One sample of a scrape: metric name, its labels, its value, and its family's type. */
interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  readonly cumulative: boolean;
}

function parseExposition(text: string): Sample[] {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1]!, type[2]!);
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(match, `an exposition line: ${line}`);
    const [, name, labelText = '', value] = match as unknown as [string, string, string | undefined, string];
    const labels = Object.fromEntries([...labelText.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map(([, label, text]) => [label!, text!]));
    const family = types.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
    const kind = types.get(family);
    samples.push({ name, labels, value: Number(value), cumulative: kind === 'counter' || kind === 'histogram' });
  }
  return samples;
}

const keyOf = (sample: Sample) => `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;

test("the worker process's port: alive, ready, and merged metrics per worker that stay true across a stalled and a respawned worker", async (t) => {
  if (!(await needRedis(t))) return;
  cluster = createTestCluster({ heartbeatMs: 200, deadAfterMs: 1200 });
  const workers = await cluster.startWorkers(2, 'forked', { PLAYHOUSE_SNAPSHOT_INTERVAL_MS: '200' });
  const metricsUrl = workers.ready.metrics!;
  const port = new URL(metricsUrl).origin;
  const scrape = async () => {
    const response = await fetch(metricsUrl, { signal: AbortSignal.timeout(10_000) });
    assert.equal(response.status, 200);
    return parseExposition(await response.text());
  };
  const valueOf = (samples: readonly Sample[], name: string, labels: Record<string, string>) =>
    samples.find((sample) => sample.name === name && Object.entries(labels).every(([label, value]) => sample.labels[label] === value))?.value;
  const readyz = async () => {
    const response = await fetch(`${port}/readyz`, { signal: AbortSignal.timeout(10_000) });
    return { status: response.status, body: (await response.json()) as { status: string; reasons: string[] } };
  };

  assert.equal((await fetch(`${port}/livez`)).status, 200);
  await eventually(async () => (await readyz()).status === 200, 'the worker process is ready once its workers answer');

  // A game on the cluster: its room counts moves on one worker and snapshots them to Redis.
  const gateway = await cluster.startGateway();
  const duel = await startDuel({ player: (name) => cluster!.player(gateway, name) });
  for (const column of [0, 1, 0]) await duel.drop(column);
  const roomNode = redis('get', `${cluster.name}:dir:room:${duel.roomId}`);
  const victim = members(cluster.name).find((member) => member.id === roomNode);
  assert.ok(victim, `the room's worker ${roomNode} is a live member`);
  const slot = victim.slot;
  const moves = { game: 'connect-four', worker: slot };
  const before = await eventually(async () => {
    const samples = await scrape();
    const storeUp = samples.find((sample) => sample.name === 'playhouse_persistence_store_up' && sample.labels.worker === slot);
    const flushed = samples.some((sample) => sample.name === 'playhouse_persistence_flush_seconds_count' && sample.labels.worker === slot && sample.value > 0);
    return (valueOf(samples, 'playhouse_moves_applied_total', moves) ?? 0) >= 3 && storeUp?.value === 1 && flushed ? samples : undefined;
  }, "the room's worker counted its moves and wrote its snapshot");
  const slots = new Set(before.filter((sample) => sample.name === 'playhouse_worker_up').map((sample) => sample.labels.worker));
  assert.equal(slots.size, 2, 'one playhouse_worker_up per worker');
  assert.ok(
    before.every((sample) => sample.name === 'playhouse_worker_up' || slots.has(sample.labels.worker)),
    'every merged series names its worker',
  );
  assert.ok(
    before.filter((sample) => sample.name === 'playhouse_persistence_store_up').every((sample) => sample.value === 0 || sample.value === 1),
    'store_up is per worker, never a sum across workers',
  );

  /** Every counter and histogram series of the slot that `earlier` had is at least as high now. */
  const notBackwards = (earlier: readonly Sample[], now: readonly Sample[], when: string) => {
    const current = new Map(now.map((sample) => [keyOf(sample), sample.value]));
    const checked = earlier.filter((sample) => sample.cumulative && sample.labels.worker === slot);
    assert.ok(checked.length > 20, `the slot's counters were found (${checked.length})`);
    for (const sample of checked) {
      const value = current.get(keyOf(sample));
      assert.ok(value !== undefined && value >= sample.value, `${when}: ${sample.name}${JSON.stringify(sample.labels)} went from ${sample.value} to ${value}`);
    }
  };

  // The worker stops answering (SIGSTOP): not ready, shown as down, its counts kept.
  stoppedPid = victim.pid;
  process.kill(victim.pid, 'SIGSTOP');
  const stalled = await readyz();
  assert.equal(stalled.status, 503);
  assert.ok(stalled.body.reasons.some((reason) => reason.includes(slot)), `the reasons name ${slot}: ${stalled.body.reasons.join('; ')}`);
  const silent = await scrape();
  assert.equal(valueOf(silent, 'playhouse_worker_up', { worker: slot }), 0);
  assert.equal(valueOf(silent, 'playhouse_sessions', { worker: slot }), undefined, "a silent worker's gauges are not reported");
  notBackwards(before, silent, 'while the worker was silent');
  assert.equal((await fetch(`${port}/livez`)).status, 200, 'the worker process itself is alive');
  process.kill(victim.pid, 'SIGCONT');
  stoppedPid = undefined;
  const resumed = await eventually(async () => {
    const samples = await scrape();
    return valueOf(samples, 'playhouse_worker_up', { worker: slot }) === 1 ? samples : undefined;
  }, 'the worker answers again');
  notBackwards(before, resumed, 'once the same process answered again');
  assert.equal(
    valueOf(resumed, 'playhouse_moves_applied_total', moves),
    valueOf(before, 'playhouse_moves_applied_total', moves),
    'the same process answering again (even as a new cluster node, if it was fenced) is not counted twice',
  );

  // kill -9: comedy respawns the worker in a new process under the same slot.
  const beforeKill = await scrape();
  process.kill(victim.pid, 'SIGKILL');
  const successor = await eventually(
    () => members(cluster!.name).find((member) => member.slot === slot && member.pid !== victim.pid),
    'the worker is respawned in a new process',
    20_000,
  );
  const afterRespawn = await eventually(async () => {
    const samples = await scrape();
    return valueOf(samples, 'playhouse_worker_up', { worker: slot }) === 1 ? samples : undefined;
  }, 'the respawned worker answers the scrape');
  notBackwards(beforeKill, afterRespawn, 'after the respawn');
  assert.ok((valueOf(afterRespawn, 'playhouse_moves_applied_total', moves) ?? 0) >= 3, "the killed incarnation's moves still count");

  // Gauges are the new incarnation's own: sessions per worker match what each worker reports to the cluster.
  await eventually(async () => {
    const samples = await scrape();
    const live = members(cluster!.name).filter((member) => member.role === 'worker');
    return live.length === 2 && live.every((member) => valueOf(samples, 'playhouse_sessions', { worker: member.slot }) === member.sessions) ? true : undefined;
  }, `each worker's merged playhouse_sessions equals its own count (new incarnation ${successor.id})`);
  await eventually(async () => (await readyz()).status === 200, 'the worker process is ready again');

  // SIGTERM: the process drains its workers; not ready, still alive. Workers hand their rooms and sessions
  // over within milliseconds, so one worker is held stopped (SIGSTOP) to keep the drain open while it is looked at.
  await startDuel({ player: (name) => cluster!.player(gateway, name) });
  const held = members(cluster.name).find((member) => member.role === 'worker');
  assert.ok(held, 'a live worker to hold');
  stoppedPid = held.pid;
  process.kill(held.pid, 'SIGSTOP');
  workers.kill('SIGTERM');
  const draining = await eventually(async () => {
    const answer = await readyz();
    return answer.status === 503 && answer.body.status === 'draining' ? answer : undefined;
  }, 'the draining worker process is not ready');
  assert.match(draining.body.reasons.join(';'), /shutting down/);
  assert.equal((await fetch(`${port}/livez`)).status, 200, 'a draining worker process is alive');
  process.kill(held.pid, 'SIGCONT');
  stoppedPid = undefined;
  await workers.exited;
});
