/**
 * Production runs the build: `npm run build` compiles the server into dist/,
 * and plain node runs it, with no TypeScript loader in any process — the
 * single server, `npm run cluster`'s launcher, gateway and worker process,
 * the workers comedy forks, and a remote `worker-node` and the workers it
 * starts — and the image's runtime stage, which has no TypeScript tooling
 * installed at all. Each plays a game, so the compiled actor modules, the
 * games (still TypeScript, compiled at run time) and the demo page's run-time
 * bundle are all found from dist/.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { guestLogin, PlayhouseClient } from '@playhouse/client';
import { assertRunsBuild } from '../support/built-command';
import { createTestCluster, startCommand, startScript, stopProcess, type ClusterProcess, type TestCluster } from '../support/cluster';
import { startDuel } from '../support/playhouse';
import { needRedis } from '../support/services';
import { singleServerEnv } from '../support/single-server-env';

const ROOT = path.resolve(__dirname, '..', '..');
const scratch = mkdtempSync(path.join(tmpdir(), 'playhouse-build-'));
const clients: PlayhouseClient[] = [];
const processes: ClusterProcess[] = [];
const clusters: TestCluster[] = [];

before(async () => {
  await promisify(execFile)('npm', ['run', 'build', '--silent'], { cwd: ROOT, timeout: 180_000 });
});

after(async () => {
  for (const client of clients) client.close();
  await Promise.all([...clusters.map((cluster) => cluster.stop()), ...processes.map((process) => stopProcess(process))]);
  rmSync(scratch, { recursive: true, force: true });
});

/** The environment of a built process: no NODE_OPTIONS, so nothing (a loader) reaches node but its command line. */
function withoutLoader(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { NODE_OPTIONS: _ignored, ...rest } = env;
  return rest;
}

interface ProcessView {
  readonly pid: number;
  readonly argv: readonly string[];
  readonly nodeOptions: string;
}

/** `pid` and every process below it, with its command line and NODE_OPTIONS (Linux /proc). */
function processTree(pid: number): ProcessView[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // `pid (comm) state ppid ...`: comm may hold spaces, so read after its closing parenthesis.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // The process ended while we looked.
    }
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) for (const [child, parent] of parents) if (parent === tree[i]) tree.push(child);
  return tree.map((member) => {
    const environ = readFileSync(`/proc/${member}/environ`, 'utf8').split('\0');
    return {
      pid: member,
      argv: readFileSync(`/proc/${member}/cmdline`, 'utf8').split('\0').filter(Boolean),
      nodeOptions: environ.find((line) => line.startsWith('NODE_OPTIONS='))?.slice('NODE_OPTIONS='.length) ?? '',
    };
  });
}

/** Every process of `pid`'s tree runs compiled JavaScript with plain node; answers the tree. */
function assertNoTypeScriptLoader(pid: number): ProcessView[] {
  const tree = processTree(pid);
  for (const member of tree) {
    const words = [...member.argv, member.nodeOptions];
    assert.ok(!words.some((word) => /tsx|\.ts$/.test(word)), `process ${member.pid} runs TypeScript: ${words.join(' ')}`);
  }
  return tree;
}

/** The processes of `tree` that comedy forked for one actor (forked workers, remote workers). */
const comedyWorkers = (tree: readonly ProcessView[]) => tree.filter((member) => member.argv.some((word) => word.endsWith('comedy/lib/forked-actor-worker.js')));

async function player(url: string, name: string): Promise<PlayhouseClient> {
  const login = await guestLogin(url, name);
  const client = await PlayhouseClient.connect({ url, token: login.token, io: { transports: ['websocket'] } });
  clients.push(client);
  return client;
}

/** A Connect Four game played to its end through the gateway at `url`. */
async function playOneGame(url: string): Promise<void> {
  const duel = await startDuel({ player: (name) => player(url, name ?? 'Player') });
  for (const column of [0, 1, 0, 1, 0, 1]) await duel.drop(column);
  const final = await duel.drop(0);
  assert.equal(final.status, 'over');
  assert.deepEqual(final.outcome?.winners, [duel.players[0].playerId]);
}

test('npm run build writes the server as JavaScript only, with games left as TypeScript in games/', () => {
  assert.ok(existsSync(path.join(ROOT, 'dist/scripts/start.js')));
  assert.ok(existsSync(path.join(ROOT, 'dist/actors/worker/worker-actor.js')));
  const typescript = readdirSync(path.join(ROOT, 'dist'), { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts'));
  assert.deepEqual(typescript, []);
  assert.ok(!existsSync(path.join(ROOT, 'dist/games/connect-four')), 'rules are not compiled into the build');
});

test("package.json's production scripts run the build with plain node", () => {
  const scripts = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  for (const name of ['start:prod', 'cluster', 'worker-node', 'migrate']) {
    const argv = scripts[name]!.split(/\s+/);
    assertRunsBuild(argv, `npm run ${name}`);
    assert.ok(existsSync(path.join(ROOT, argv.find((word) => word.startsWith('dist/'))!)), `npm run build makes what npm run ${name} runs`);
  }
});

test('the built single server runs with plain node: demo page, playground, SQLite, a game played', async () => {
  const env = withoutLoader(
    singleServerEnv({ PLAYHOUSE_SNAPSHOT_STORE: 'sqlite', PLAYHOUSE_RECORD_STORE: 'sqlite', PLAYHOUSE_SQLITE_FILE: path.join(scratch, 'single.sqlite'), LOG_LEVEL: 'warn' }),
  );
  const server = await startScript('single', 'scripts/start.ts', [], env, 'build');
  processes.push(server);
  // The page scripts are bundled at run time from their TypeScript sources, found from dist/.
  for (const page of ['/demo.js', '/playground/playground.js']) {
    const response = await fetch(new URL(page, server.url));
    assert.equal(response.status, 200, page);
    assert.match(await response.text(), /findMatch/, `${page} holds the client SDK`);
  }
  await playOneGame(server.url);
  assertNoTypeScriptLoader(server.child.pid!);
});

test('the built cluster launcher starts a gateway and a worker process whose forked workers load compiled actors', async (t) => {
  if (!(await needRedis(t))) return;
  const cluster = createTestCluster({}, 'build');
  const launcher = await startScript('cluster', 'scripts/cluster.ts', ['--gateways', '1', '--workers', '1', '--port', '0'], withoutLoader(cluster.env), 'build');
  processes.push(launcher);
  const gatewayUrl = /^ {2}gateway-1 +pid=\d+ .*url=(\S+)/m.exec(launcher.output())?.[1];
  assert.ok(gatewayUrl, `the launcher names its gateway:\n${launcher.output()}`);
  await playOneGame(gatewayUrl);
  const tree = assertNoTypeScriptLoader(launcher.child.pid!);
  // The launcher, its gateway and worker process, and the worker comedy forked.
  assert.equal(comedyWorkers(tree).length, 1, `one forked worker:\n${tree.map((member) => member.argv.join(' ')).join('\n')}`);
  assert.ok(tree.length >= 4);
});

test('a built worker process runs its workers in threads on the compiled actors', async (t) => {
  if (!(await needRedis(t))) return;
  const cluster = createTestCluster({}, 'build');
  clusters.push(cluster);
  cluster.env = withoutLoader(cluster.env);
  const workers = await cluster.startWorkers(1, 'threaded');
  const gateway = await cluster.startGateway();
  await playOneGame(gateway.url);
  for (const process of [gateway, workers]) assertNoTypeScriptLoader(process.child.pid!);
});

test('a built worker-node starts remote workers from the build', async (t) => {
  if (!(await needRedis(t))) return;
  const listener = await startScript('worker-node', 'scripts/worker-node.ts', ['--host', '127.0.0.1', '--port', '0'], withoutLoader(process.env), 'build');
  processes.push(listener);
  const cluster = createTestCluster({}, 'build');
  clusters.push(cluster);
  cluster.env = withoutLoader(cluster.env);
  await cluster.startWorkers(1, 'remote', { PLAYHOUSE_REMOTE_HOSTS: listener.ready.listen! });
  const gateway = await cluster.startGateway();
  await playOneGame(gateway.url);
  assert.equal(comedyWorkers(assertNoTypeScriptLoader(listener.child.pid!)).length, 1, 'the listener forked one remote worker');
  for (const process of [...cluster.gateways, ...cluster.workers]) assertNoTypeScriptLoader(process.child.pid!);
});

/**
 * The image's runtime stage, laid out by reading infra/docker/Dockerfile
 * (Docker does not run here): its COPY lines from this repository (dist/
 * from the build above), production dependencies only, so neither tsx nor
 * TypeScript is installed, then its ENV and CMD.
 */
test("the image's runtime stage, without dev dependencies, serves the demo page and a game", async () => {
  const dockerfile = readFileSync(path.join(ROOT, 'infra/docker/Dockerfile'), 'utf8');
  const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  const app = path.join(scratch, 'app');
  for (const [, from, destination] of runtime.matchAll(/^COPY (?:--from=build \/app\/)?(.+) (\S+)$/gm)) {
    for (const source of from!.split(' ')) cpSync(path.join(ROOT, source), path.join(app, destination!.endsWith('/') ? source : destination!), { recursive: true });
  }
  assert.match(runtime, /^RUN npm ci --omit=dev /m);
  await promisify(execFile)('npm', ['ci', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: app, timeout: 180_000 });
  assert.ok(!existsSync(path.join(app, 'node_modules/tsx')) && !existsSync(path.join(app, 'node_modules/typescript')), 'no TypeScript tooling in the image');

  const imageEnv = Object.fromEntries([...runtime.matchAll(/^\s*(?:ENV\s+)?([A-Z_]+)=(\S+?)\s*\\?$/gm)].map((match) => [match[1]!, match[2]!]));
  assert.equal(imageEnv.NODE_ENV, 'production');
  const command = JSON.parse(/^CMD (\[.*\])$/m.exec(runtime)![1]!) as string[];
  const env = { PATH: process.env.PATH, ...imageEnv, HOST: '127.0.0.1', PORT: '0', PLAYHOUSE_DEMO_PAGE: 'true', LOG_LEVEL: 'warn' };
  const server = await startCommand('image', command.slice(1), env, app);
  processes.push(server);
  const demo = await fetch(new URL('/demo.js', server.url));
  assert.equal(demo.status, 200);
  assert.match(await demo.text(), /findMatch/);
  await playOneGame(server.url);
  assertNoTypeScriptLoader(server.child.pid!);
});
