/**
 * The deployment files say what the code does (Docker cannot run here, so
 * they are read, not run): compose.yaml parses and each Playhouse service's
 * environment loads as a configuration; one gateway watches games/; the
 * worker writes match results to MariaDB; the gateways trust nginx's address
 * and no other; Prometheus scrapes every gateway and the worker process's
 * metrics port; the demo page is off in the image; the image runs the build
 * with plain node; .dockerignore keeps local data, secrets and dependencies
 * out of the build context.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { loadConfig, resolvedStores, type PlayhouseConfig } from '../../infra/config';
import { assertRunsBuild } from '../support/built-command';

const ROOT = path.resolve(__dirname, '../..');
const DOCKER = path.join(ROOT, 'infra/docker');

interface ComposeService {
  readonly image?: string;
  readonly build?: unknown;
  readonly command?: readonly string[];
  readonly profiles?: readonly string[];
  readonly environment?: Record<string, string>;
  readonly networks?: readonly string[] | Record<string, { ipv4_address?: string } | null>;
  readonly volumes?: readonly string[];
  readonly depends_on?: Record<string, { condition: string }>;
}
interface Compose {
  readonly name?: string;
  readonly services: Record<string, ComposeService>;
}

const compose = parse(readFileSync(path.join(DOCKER, 'compose.yaml'), 'utf8'), { merge: true }) as Compose;
const dockerfile = readFileSync(path.join(DOCKER, 'Dockerfile'), 'utf8');
/** The image's own ENV lines (NODE_ENV=production, ...), which every container starts from. */
const imageEnv: Record<string, string> = Object.fromEntries([...dockerfile.matchAll(/^\s*(?:ENV\s+)?([A-Z_]+)=(\S+?)\s*\\?$/gm)].map((m) => [m[1]!, m[2]!]));

/** What Compose does with `${VAR:?message}` and `${VAR:-default}`, given the variables an operator exports. */
function interpolate(value: string, exported: Record<string, string>): string {
  return value.replace(/\$\{([A-Z_]+)(?::([?-])([^}]*))?\}/g, (_, name: string, kind: string | undefined, rest: string) => {
    if (exported[name] !== undefined) return exported[name]!;
    if (kind === '-') return rest;
    throw new Error(`compose would refuse to start: ${name} is not set (${rest})`);
  });
}

const EXPORTED = { PLAYHOUSE_TOKEN_SECRET: 's'.repeat(48), MARIADB_PASSWORD: 'secret-password' };

/** The configuration a service's container would load (image ENV, then the service's environment). */
function configOf(service: string, exported: Record<string, string> = EXPORTED): PlayhouseConfig {
  const environment = compose.services[service]?.environment;
  assert.ok(environment, `${service} has an environment`);
  const env = { ...imageEnv, ...Object.fromEntries(Object.entries(environment).map(([key, value]) => [key, interpolate(String(value), exported)])) };
  return loadConfig({}, env);
}

const playhouseServices = () => Object.entries(compose.services).filter(([, service]) => service.image === 'playhouse:local' && service.command === undefined).map(([name]) => name);
const gateways = () => playhouseServices().filter((name) => configOf(name).role === 'gateway');

test('compose.yaml names its project (Compose v2), and has the services the documents describe', () => {
  assert.equal(compose.name, 'playhouse');
  assert.deepEqual(Object.keys(compose.services).sort(), ['gateway-1', 'gateway-2', 'mariadb', 'migrate', 'nginx', 'prometheus', 'redis', 'worker']);
  assert.deepEqual(playhouseServices().sort(), ['gateway-1', 'gateway-2', 'worker']);
  assert.throws(() => configOf('worker', {}), /PLAYHOUSE_TOKEN_SECRET is not set/, 'no default secret');
});

test('every Playhouse service\'s environment loads as a configuration, in the role it is named for', () => {
  assert.deepEqual(gateways().sort(), ['gateway-1', 'gateway-2']);
  assert.equal(configOf('worker').role, 'worker');
  for (const name of playhouseServices()) assert.equal(configOf(name).auth.secret, EXPORTED.PLAYHOUSE_TOKEN_SECRET, `${name}: the shared secret`);
});

test('exactly one gateway watches games/ (gateway-1)', () => {
  const watching = gateways().filter((name) => configOf(name).games.watch);
  assert.deepEqual(watching, ['gateway-1']);
});

test('the worker writes match results to MariaDB, whose schema the migrate service brings up first', () => {
  const worker = configOf('worker');
  assert.equal(resolvedStores(worker).records, 'mariadb');
  assert.match(worker.persistence.mariadbUrl, /^mysql:\/\/playhouse:secret-password@mariadb:3306\/playhouse$/);
  assert.equal(worker.persistence.migrateOnBoot, false);
  assert.equal(compose.services.worker?.depends_on?.migrate?.condition, 'service_completed_successfully');
  assertRunsBuild(compose.services.migrate?.command ?? [], 'the migrate service');
  assert.equal(compose.services.migrate?.command?.includes('dist/scripts/migrate.js'), true);
});

test('the image builds in a stage of its own and runs the build with plain node', () => {
  const stages = [...dockerfile.matchAll(/^FROM (\S+)(?: AS (\S+))?$/gm)].map((match) => ({ image: match[1], name: match[2] }));
  assert.equal(stages.length, 2, 'a build stage and a runtime stage');
  assert.equal(stages[0]!.name, 'build');
  assert.equal(stages[0]!.image, stages[1]!.image, 'both stages on the same Node');
  const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  assert.match(dockerfile.slice(0, dockerfile.lastIndexOf('\nFROM ')), /^RUN npm run build$/m);
  assert.match(runtime, /^RUN npm ci --omit=dev\b/m, 'the runtime has production dependencies only (no tsx, no TypeScript)');
  assert.match(runtime, /^COPY --from=build \/app\/dist \.\/dist$/m);
  assert.match(runtime, /^COPY games \.\/games$/m, 'the games ship as source: the server compiles them at run time');
  assert.doesNotMatch(runtime, /^COPY (actors|scripts) /m, 'the server ships compiled only');
  assertRunsBuild(JSON.parse(/^CMD (\[.*\])$/m.exec(runtime)![1]!) as string[], "the image's CMD");
});

test('the gateways believe X-Forwarded-For from nginx\'s address only', () => {
  const networks = compose.services.nginx?.networks;
  assert.ok(networks && !Array.isArray(networks));
  const nginxAddress = (networks as Record<string, { ipv4_address?: string }>).internal?.ipv4_address;
  assert.ok(nginxAddress, 'nginx has a fixed address on the internal network');
  for (const name of gateways()) assert.deepEqual(configOf(name).http.trustedProxies, [nginxAddress], name);
});

test('the demo page is off in the image unless PLAYHOUSE_DEMO_PAGE turns it on', () => {
  assert.equal(imageEnv.NODE_ENV, 'production');
  for (const name of gateways()) {
    assert.equal(configOf(name).http.demoPage, false, name);
    assert.equal(configOf(name, { ...EXPORTED, PLAYHOUSE_DEMO_PAGE: 'true' }).http.demoPage, true, name);
  }
});

test('Prometheus scrapes every gateway and the worker process\'s metrics port', () => {
  const prometheus = compose.services.prometheus;
  assert.ok(prometheus?.profiles?.includes('monitoring'));
  assert.ok(prometheus.volumes?.includes('./prometheus.yml:/etc/prometheus/prometheus.yml:ro'));
  const scrape = parse(readFileSync(path.join(DOCKER, 'prometheus.yml'), 'utf8')) as { scrape_configs: Array<{ static_configs: Array<{ targets: string[] }> }> };
  const targets = scrape.scrape_configs.flatMap((job) => job.static_configs.flatMap((group) => group.targets)).sort();
  const expected = [...gateways().map((name) => `${name}:${configOf(name).port}`), `worker:${configOf('worker').cluster.metricsPort}`].sort();
  assert.deepEqual(targets, expected);
});

test('.dockerignore keeps data, secrets and dependencies out of the build context, and nothing the image copies', () => {
  const patterns = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  // dist/ too: the image builds its own.
  for (const kept of ['.git', 'node_modules', 'dist', 'data', '**/.env', '**/*.sqlite', '**/*.pem', '**/*.key']) assert.ok(patterns.includes(kept), `${kept} is ignored`);
  // What the stages copy from the build context (not `COPY --from=build`, which copies from the build stage).
  const copied = [...new Set([...dockerfile.matchAll(/^COPY\s+(?!--from)(.+?)\s+\S+$/gm)].flatMap((m) => m[1]!.split(/\s+/)))];
  assert.deepEqual(copied.sort(), [
    'actors',
    'games',
    'infra',
    'infra/gateway/demo',
    'infra/gateway/playground',
    'package-lock.json',
    'package.json',
    'packages/client',
    'packages/client/package.json',
    'packages/client/src',
    'protocol',
    'scripts',
    'tsconfig.build.json',
    'tsconfig.json',
  ]);
  for (const source of copied) {
    for (const pattern of patterns) assert.equal(path.matchesGlob(source, pattern), false, `${source} is sent to the builder (matched ${pattern})`);
  }
});
