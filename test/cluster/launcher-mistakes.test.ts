/**
 * `npm run cluster` as a newcomer meets it: without a Redis it says so, and
 * how to start one, in one line; Ctrl-C stops it quietly (no stack traces, no
 * warnings) and leaves nothing in Redis that would stay there forever. Real
 * launcher processes (scripts/cluster.ts), a real Redis, Ctrl-C as a terminal
 * sends it: SIGINT to the launcher's whole process group.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { test, type TestContext } from 'node:test';
import { guestLogin, PlayhouseClient } from '@playhouse/client';
import { guard, unguard } from '../support/exit-guard';
import { freePort } from '../support/free-port';
import { startDuel } from '../support/playhouse';
import { refusalLine, runToExit, STACK_LINE } from '../support/run-to-exit';
import { forgetRedisKeys, needRedis, REDIS_URL } from '../support/services';
import { redisCli } from '../support/cluster';

const ROOT = path.resolve(__dirname, '..', '..');

/** The environment a newcomer's shell would pass: nothing of the test runner's logging settings. */
function launcherEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { LOG_LEVEL: _level, LOG_FORMAT: _format, PORT: _port, ...env } = process.env;
  return { ...env, HOST: '127.0.0.1', PLAYHOUSE_METRICS_PORT: '0', PLAYHOUSE_RECORD_STORE: 'memory', PLAYHOUSE_GAMES_WATCH: 'true', ...extra };
}

test('npm run cluster without a reachable Redis says so, and how to start one, in one line', async () => {
  const port = await freePort();
  const ended = await runToExit('scripts/cluster.ts', ['--port', '0'], launcherEnv({ REDIS_URL: `redis://127.0.0.1:${port}` }), 20_000);
  const line = refusalLine(ended);
  assert.match(line, new RegExp(`Redis is not reachable at redis://127\\.0\\.0\\.1:${port}`));
  assert.match(line, /REDIS_URL/);
  assert.match(line, /redis-server/, 'how to start one');
  assert.doesNotMatch(ended.stdout, /\[workers\]|\[gateway/, 'no role was started');
});

test('npm run cluster names a bad environment variable, and an unknown flag, in one line', async () => {
  assert.match(refusalLine(await runToExit('scripts/cluster.ts', [], launcherEnv({ REDIS_URL: 'localhost:6379' }), 20_000)), /REDIS_URL=localhost:6379: must be a redis:\/\/ or rediss:\/\/ URL/);
  assert.match(refusalLine(await runToExit('scripts/cluster.ts', ['--gatways', '2'], launcherEnv({}), 20_000)), /--gatways.*npm run cluster takes --gateways, --workers/);
});

interface Launcher {
  /** The cluster's name, as the launcher printed it. */
  readonly name: string;
  readonly gatewayUrl: string;
  /** Everything it printed so far, stdout and stderr. */
  output(): string;
  /** Ctrl-C as a terminal sends it; resolves once the launcher ended, with how, and what it printed from then on. */
  ctrlC(): Promise<{ code: number | null; signal: NodeJS.Signals | null; printed: string }>;
}

/** Starts scripts/cluster.ts in a process group of its own, as a terminal's foreground job, and waits until it is ready. */
async function startLauncher(t: TestContext, env: NodeJS.ProcessEnv): Promise<Launcher> {
  const launcher = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'cluster.ts'), '--gateways', '1', '--workers', '1', '--port', '0'], {
    cwd: ROOT,
    env: launcherEnv({ REDIS_URL, PLAYHOUSE_DRAIN_TIMEOUT_MS: '2000', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  // Should the test fail half-way, nothing it started outlives it (the launcher's roles stop with it).
  const stop = () => {
    try {
      process.kill(-launcher.pid!, 'SIGTERM');
    } catch {
      // already gone
    }
  };
  guard(stop);
  t.after(() => {
    stop();
    unguard(stop);
  });
  let output = '';
  launcher.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  // 'close': the launcher ended and everything it printed has been read.
  const closed = once(launcher, 'close') as Promise<[number | null, NodeJS.Signals | null]>;
  const ready = await new Promise<{ name: string; gatewayUrl: string }>((resolve, reject) => {
    let name = '';
    let gatewayUrl = '';
    createInterface({ input: launcher.stdout }).on('line', (line) => {
      output += `${line}\n`;
      name ||= /^Playhouse cluster '([^']+)' is running/.exec(line)?.[1] ?? '';
      gatewayUrl ||= /^ {2}gateway-1 +pid=\d+ .*url=(\S+)/.exec(line)?.[1] ?? '';
      if (line === 'PLAYHOUSE_READY role=cluster') resolve({ name, gatewayUrl });
    });
    void closed.then(([code, signal]) => reject(new Error(`the launcher exited (${signal ?? code}) before it was ready:\n${output}`)));
  });
  t.after(() => forgetRedisKeys(`${ready.name}:`));
  return {
    ...ready,
    output: () => output,
    async ctrlC() {
      const from = output.length;
      process.kill(-launcher.pid!, 'SIGINT');
      const [code, signal] = await closed;
      return { code, signal, printed: output.slice(from) };
    },
  };
}

/** Stopped cleanly and quietly: exit code 0, no stack trace, no warning or error. */
function assertQuiet(ended: Awaited<ReturnType<Launcher['ctrlC']>>, launcher: Launcher): void {
  assert.equal(ended.signal, null, `the launcher exits by itself:\n${launcher.output()}`);
  assert.equal(ended.code, 0, `the launcher exits cleanly:\n${launcher.output()}`);
  assert.doesNotMatch(ended.printed, STACK_LINE, `no stack trace after Ctrl-C:\n${ended.printed}`);
  assert.doesNotMatch(ended.printed, /"level":(4|5|6)0|warn|Warning|error/i, `no warnings or errors after Ctrl-C:\n${ended.printed}`);
  assert.doesNotMatch(launcher.output(), /Logger configuration/, "comedy's banner is not printed, by the roles or their forked workers");
}

const keysOf = (name: string): string[] => redisCli(REDIS_URL, '--scan', '--pattern', `${name}:*`).split('\n').filter(Boolean);

test('Ctrl-C on npm run cluster during a game is quiet, and the throwaway cluster leaves nothing in Redis', async (t) => {
  if (!(await needRedis(t))) return;
  const launcher = await startLauncher(t, {});
  assert.match(launcher.name, /^local-/, 'a name made up for this run');
  const clients: PlayhouseClient[] = [];
  t.after(() => clients.forEach((client) => client.close()));
  const duel = await startDuel({
    async player(playerName) {
      const login = await guestLogin(launcher.gatewayUrl, playerName);
      const client = await PlayhouseClient.connect({ url: launcher.gatewayUrl, token: login.token, reconnect: false, io: { transports: ['websocket'] } });
      clients.push(client);
      return client;
    },
  });
  await duel.drop(3);
  assert.ok(keysOf(launcher.name).length > 0, 'the cluster wrote to Redis');

  assertQuiet(await launcher.ctrlC(), launcher);
  assert.deepEqual(keysOf(launcher.name), [], 'nothing could reach its keys again: they are gone');
});

test('a named cluster stopped with Ctrl-C leaves no key without an expiry', async (t) => {
  if (!(await needRedis(t))) return;
  const name = `test-${process.pid}-${randomBytes(3).toString('hex')}`;
  const launcher = await startLauncher(t, { PLAYHOUSE_CLUSTER: name });
  assert.equal(launcher.name, name);
  assert.ok(keysOf(name).length > 0, 'the cluster wrote to Redis');

  assertQuiet(await launcher.ctrlC(), launcher);
  const keys = keysOf(name);
  assert.ok(keys.length > 0, 'a named cluster keeps what it must (fences, for a while)');
  const forever = keys.filter((key) => redisCli(REDIS_URL, 'pttl', key) === '-1');
  assert.deepEqual(forever, [], 'every key the cluster left expires');
});
