/**
 * Signals mean what operators expect. SIGTERM to one forked worker's own
 * process drains that worker (its game and its players' sessions are handed
 * over: the devices resume elsewhere and play the same game on, every move
 * kept; it leaves the cluster at once) and its supervisor puts a new
 * worker in the slot; the local cluster launcher restarts a gateway or a
 * worker process killed with SIGKILL, and SIGTERM to the launcher stops
 * everything it started.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { after, test } from 'node:test';
import type { NodeInfo } from '../../actors/cluster/backplane';
import { RESTORED_VERSION_JUMP } from '../../actors/room/room-state';
import { guestLogin, PlayhouseClient } from '@playhouse/client';
import { clusterMembers, type ClusterProcess, createTestCluster, startScript, stopProcess, type TestCluster } from '../support/cluster';
import { startDuel, viewOf } from '../support/playhouse';
import { eventually, forgetRedisKeys, needRedis, REDIS_URL } from '../support/services';

let cluster: TestCluster | undefined;
after(() => cluster?.stop());


const members = (name: string): NodeInfo[] => clusterMembers(name);

/** Whether `pid` is a running process (a zombie waiting for its parent to reap it has ended). */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** A `player` for startDuel that hands out already connected clients, in order. */
function inOrder(clients: readonly PlayhouseClient[]): () => Promise<PlayhouseClient> {
  let next = 0;
  return async () => clients[next++]!;
}

test('SIGTERM to one forked worker drains it: its game and sessions are handed over, its players resume and play on, and its slot gets a new worker', async (t) => {
  if (!(await needRedis(t))) return;
  // Heartbeats expire slowly here: a worker that is gone within seconds said so itself.
  cluster = createTestCluster({ deadAfterMs: 15_000, drainTimeoutMs: 8000 });
  const supervisor = await cluster.startWorkers(1, 'forked', { LOG_LEVEL: 'info' });
  const slot = supervisor.ready.workers!;
  const gateway = await cluster.startGateway();
  const logins = await Promise.all([guestLogin(gateway.url, 'First'), guestLogin(gateway.url, 'Second')]);
  const clients = await Promise.all(
    logins.map((login) => PlayhouseClient.connect({ url: gateway.url, token: login.token, reconnect: { initialDelayMs: 50, maxDelayMs: 500 }, io: { transports: ['websocket'] } })),
  );
  t.after(() => clients.forEach((client) => client.close()));
  // Both sessions and the room are on the only worker there was; a second worker process is there to take them.
  const duel = await startDuel({ player: inOrder(clients) });
  const staying = await cluster.startWorkers(1, 'forked');
  await eventually(() => members(cluster!.name).some((member) => member.slot === staying.ready.workers), 'the second worker in the cluster');
  const victim = members(cluster.name).find((member) => member.slot === slot);
  assert.ok(victim, `the slot ${slot} is a live member`);
  assert.notEqual(victim.pid, supervisor.child.pid, 'a forked worker has a process of its own');

  await duel.drop(0);
  await duel.drop(1);
  const resumed = duel.players.map((client) => client.waitFor('connection', (event) => event.state === 'connected', 20_000));
  process.kill(victim.pid, 'SIGTERM');
  for (const event of await Promise.all(resumed)) assert.equal(event.resumed, 'snapshot', 'each device resumed its session, taken up on another worker');

  // The same game plays on, handed over with every move (a crash would be no different with durability
  // `moves`, but here nothing had to wait for a dead timeout).
  for (const column of [0, 1, 0, 1]) await duel.drop(column);
  const final = await duel.drop(0);
  assert.equal(final.status, 'over', 'the handed-over game was played to its end');
  assert.deepEqual(final.outcome?.winners, [duel.players[0].playerId]);
  assert.equal(viewOf(final).moveCount, 7, 'every acknowledged move is on the board');
  assert.ok(final.version < RESTORED_VERSION_JUMP, 'the room was taken up exactly, with no version jump');

  // It left the cluster itself: its heartbeat is gone before its slot has a new worker (that one would announce it gone too).
  await eventually(() => {
    const now = members(cluster!.name);
    assert.ok(!now.some((member) => member.slot === slot && member.id !== victim.id), 'the slot was filled again before the drained worker left');
    return now.every((member) => member.id !== victim.id) ? true : undefined;
  }, 'the drained worker left the cluster');
  await eventually(() => !isRunning(victim.pid), 'the drained worker process ended');
  const replacement = await eventually(() => members(cluster!.name).find((member) => member.slot === slot && member.id !== victim.id), 'a new worker in the slot', 30_000);
  assert.notEqual(replacement.pid, victim.pid);
  assert.equal(supervisor.child.exitCode, null, 'the worker process itself runs on');
  assert.match(supervisor.output(), /worker process signalled: draining this worker/);
  assert.match(supervisor.output(), /worker handed its rooms and sessions over/);
});

/** The fields of a `KEY=value KEY=value` line. */
function fieldsOf(text: string): Record<string, string> {
  return Object.fromEntries(text.trim().split(' ').map((field) => field.split('=', 2) as [string, string]));
}

/** The launcher's roles from its summary (`  gateway-1  pid=123 role=gateway url=...`). */
function rolesOf(output: string): Map<string, Record<string, string>> {
  return new Map([...output.matchAll(/^ {2}(\S+) +(pid=\d+ .*)$/gm)].map((match) => [match[1]!, fieldsOf(match[2]!)]));
}

/** A gateway's /readyz answer when it is ready (it sees a live worker), else undefined. */
async function ready(gatewayUrl: string): Promise<{ gateway: string } | undefined> {
  const response = await fetch(new URL('/readyz', gatewayUrl));
  return response.ok ? ((await response.json()) as { gateway: string }) : undefined;
}

/** The fields of the launcher's next `PLAYHOUSE_RESTARTED name=<name>` line. */
function restarted(launcher: ClusterProcess, name: string, timeoutMs = 30_000): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} not restarted within ${timeoutMs} ms:\n${launcher.output()}`)), timeoutMs);
    // A second reader of the launcher's stdout (the first is startScript's); never closed, since closing would pause the stream.
    createInterface({ input: launcher.child.stdout! }).on('line', (line) => {
      if (!line.startsWith(`PLAYHOUSE_RESTARTED name=${name} `)) return;
      clearTimeout(timer);
      resolve(fieldsOf(line.slice('PLAYHOUSE_RESTARTED '.length)));
    });
  });
}

test('the cluster launcher restarts a gateway and the worker process killed with SIGKILL, and SIGTERM to it stops everything', async (t) => {
  if (!(await needRedis(t))) return;
  const name = `test-${process.pid}-${randomBytes(3).toString('hex')}`;
  t.after(() => forgetRedisKeys(`${name}:`));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    REDIS_URL,
    HOST: '127.0.0.1',
    // An inherited PORT must not move a restarted gateway: the launcher's --port wins.
    PORT: '0',
    PLAYHOUSE_CLUSTER: name,
    // A busy machine stalls a process now and then: nothing here waits for a heartbeat to expire.
    PLAYHOUSE_HEARTBEAT_MS: '500',
    PLAYHOUSE_DEAD_AFTER_MS: '5000',
    PLAYHOUSE_DRAIN_TIMEOUT_MS: '2000',
    PLAYHOUSE_METRICS_PORT: '0',
    PLAYHOUSE_RECORD_STORE: 'memory',
    PLAYHOUSE_GAMES_WATCH: 'false',
    LOG_LEVEL: 'warn',
  };
  const launcher = await startScript('cluster', 'scripts/cluster.ts', ['--gateways', '2', '--workers', '1', '--port', '0'], env);
  t.after(() => stopProcess(launcher));
  const roles = rolesOf(launcher.output());
  const gateway = roles.get('gateway-1');
  const workerProcess = roles.get('workers');
  assert.ok(gateway && workerProcess && roles.has('gateway-2'), `the launcher names its roles:\n${launcher.output()}`);
  // Every process the launcher started, directly or through the worker process: none may outlive it.
  const started = new Set([launcher.child.pid!, ...[...roles.values()].map((role) => Number(role.pid))]);
  // Should the launcher fail to stop them, the test does, rather than leave them running.
  t.after(() => [...started].filter(isRunning).forEach((pid) => process.kill(pid, 'SIGKILL')));
  const workerMembers = () => members(name).filter((member) => member.role === 'worker');
  for (const member of await eventually(() => (workerMembers().length > 0 ? workerMembers() : undefined), 'the forked worker in the cluster')) started.add(member.pid);

  const gatewayBack = restarted(launcher, 'gateway-1');
  process.kill(Number(gateway.pid), 'SIGKILL');
  const newGateway = await gatewayBack;
  assert.notEqual(newGateway.pid, gateway.pid);
  assert.equal(newGateway.url, gateway.url, 'the gateway is back on its port');
  const health = await eventually(() => ready(newGateway.url!), 'the restarted gateway ready');
  assert.equal(health.gateway, `${name}-gw1`, 'the gateway is back under its id');
  started.add(Number(newGateway.pid));

  const workersBack = restarted(launcher, 'workers');
  process.kill(Number(workerProcess.pid), 'SIGKILL');
  const newWorkerProcess = await workersBack;
  assert.notEqual(newWorkerProcess.pid, workerProcess.pid);
  started.add(Number(newWorkerProcess.pid));
  // The new process's worker joins; the killed process's forked worker leaves.
  const placedByNew = new RegExp(`-${newWorkerProcess.pid}-w\\d+$`);
  const fresh = await eventually(() => {
    const now = workerMembers();
    return now.length > 0 && now.every((member) => placedByNew.test(member.slot)) ? now : undefined;
  }, 'only the restarted worker process’s workers in the cluster');
  for (const member of fresh) started.add(member.pid);
  // The gateway knows the new worker too (it learns members at its heartbeat).
  await eventually(() => ready(newGateway.url!), 'the gateway ready with the new worker');
  assert.match(launcher.output(), /\[gateway-1\] exited \(SIGKILL\).*restarting it/);
  assert.match(launcher.output(), /\[workers\] exited \(SIGKILL\).*restarting it/);

  // The restarted cluster serves a game through the restarted gateway.
  const clients = await Promise.all(
    ['First', 'Second'].map(async (player) => {
      const login = await guestLogin(newGateway.url!, player);
      return PlayhouseClient.connect({ url: newGateway.url!, token: login.token, io: { transports: ['websocket'] } });
    }),
  );
  t.after(() => clients.forEach((client) => client.close()));
  const duel = await startDuel({ player: inOrder(clients) });
  assert.equal((await duel.drop(3)).status, 'playing');
  clients.forEach((client) => client.close());

  launcher.kill('SIGTERM');
  assert.equal(await launcher.exited, 0, 'the launcher stops cleanly');
  for (const pid of started) await eventually(() => !isRunning(pid), `process ${pid} ended`, 5000);
});
