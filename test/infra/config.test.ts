/** One typed configuration: defaults, overrides, environment, and clear errors at boot. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { actorSettings } from '../../infra/cluster/worker-supervisor';
import { ConfigError, loadConfig } from '../../infra/config';

test('defaults need no environment at all', () => {
  const config = loadConfig({}, {});
  assert.equal(config.port, 8080);
  assert.equal(config.role, 'single', 'one process, no services, unless told otherwise');
  assert.ok(config.auth.secret.length >= 32, 'a random secret is generated when none is configured');
});

test('environment variables override the file-less defaults and programmatic overrides', () => {
  const config = loadConfig(
    { port: 9000, limits: { requestsPerSecond: 5 } },
    { PORT: '7000', PLAYHOUSE_WORKER_MODE: 'threaded', PLAYHOUSE_REMOTE_HOSTS: '10.0.0.5:6161, 10.0.0.6:6161', PLAYHOUSE_TOKEN_SECRET: 's'.repeat(40), LOG_LEVEL: 'warn' },
  );
  assert.equal(config.port, 7000);
  assert.equal(config.limits.requestsPerSecond, 5);
  assert.equal(config.limits.requestBurst, 40, 'unset fields keep their defaults');
  assert.equal(config.cluster.workerMode, 'threaded');
  assert.deepEqual(config.cluster.remoteHosts, ['10.0.0.5:6161', '10.0.0.6:6161']);
  assert.equal(config.auth.secret, 's'.repeat(40));
  assert.equal(config.log.level, 'warn');
});

test('command-line flags win over the environment, and keep what they do not name', () => {
  const config = loadConfig({ host: '127.0.0.1' }, { PORT: '0', PLAYHOUSE_WORKERS: '3', PLAYHOUSE_WORKER_MODE: 'threaded' }, { port: 8123, cluster: { workerMode: 'forked' } });
  assert.equal(config.port, 8123, 'a launcher passing --port means that port, whatever PORT it inherited');
  assert.equal(config.cluster.workerMode, 'forked');
  assert.equal(config.cluster.workers, 3, 'the environment still sets what no flag names');
  assert.equal(config.host, '127.0.0.1');
  assert.throws(() => loadConfig({}, {}, { port: -1 }), ConfigError, 'flags are checked like everything else');
});

test('invalid values are refused at boot, each named by the variable or flag the operator set, on one line', () => {
  assert.throws(
    () =>
      loadConfig({}, { PORT: 'eighty', PLAYHOUSE_WORKER_MODE: 'cloud', REDIS_URL: 'localhost:6379', PLAYHOUSE_TOKEN_SECRET: 'short', PLAYHOUSE_METRICS_PORT: '70000', PLAYHOUSE_MARIADB_URL: 'mysq://app:hunter2@db/game' }),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.doesNotMatch(error.message, /\n/, 'one line');
      const text = error.problems.join('\n');
      assert.match(text, /PORT=eighty: not a number/);
      assert.match(text, /PLAYHOUSE_WORKER_MODE=cloud: must be one of in-memory, forked, threaded, remote/);
      assert.match(text, /REDIS_URL=localhost:6379: must be a redis:\/\/ or rediss:\/\/ URL/);
      assert.match(text, /PLAYHOUSE_METRICS_PORT=70000: must be at most 65535/);
      assert.match(text, /(^|\n)PLAYHOUSE_TOKEN_SECRET: must be at least 32 characters/, 'a secret is named, not shown');
      assert.match(text, /PLAYHOUSE_MARIADB_URL=mysq:\/\/app:\*\*\*@db\/game: must be a mysql:\/\/ URL/, 'a password in a URL is not shown');
      assert.doesNotMatch(text, /short|hunter2|cluster\.|auth\.|persistence\./, 'no secret, no internal config path');
      return true;
    },
  );
  assert.throws(() => loadConfig({}, { PORT: '1' }, { port: 70000, cluster: { workerMode: 'cloud' as never } }), /--port 70000: must be at most 65535; --worker-mode cloud: must be one of/);
  assert.throws(() => loadConfig({}, { PLAYHOUSE_ROLE: 'worker', PLAYHOUSE_RECORD_STORE: 'sqlite' }), /PLAYHOUSE_RECORD_STORE=sqlite: sqlite holds one process's data/);
  assert.throws(() => loadConfig({}, { LOG_FORMAT: 'xml' }), /LOG_FORMAT=xml: must be one of json, pretty/);
  assert.throws(() => loadConfig({ port: 70000 }, {}), ConfigError);
  assert.throws(() => loadConfig({ limits: { requestBurst: 0 } }, {}), ConfigError);
  assert.throws(() => loadConfig({ unknownKey: 1 } as never, {}), ConfigError);
});

test('rooms write snapshots on a cluster\'s workers and not in one process, unless told', () => {
  const snapshots = (env: NodeJS.ProcessEnv) => actorSettings(loadConfig({}, env)).room.snapshots;
  assert.equal(snapshots({}), false, 'one process: nothing could restore a room from a snapshot');
  assert.equal(snapshots({ PLAYHOUSE_ROLE: 'worker' }), true, 'a cluster worker: a room whose worker dies is restored from it');
  assert.equal(snapshots({ PLAYHOUSE_ROOM_SNAPSHOTS: 'true' }), true);
  assert.equal(snapshots({ PLAYHOUSE_ROLE: 'worker', PLAYHOUSE_ROOM_SNAPSHOTS: 'false' }), false);
  assert.throws(() => loadConfig({}, { PLAYHOUSE_ROOM_SNAPSHOTS: 'sometimes' }), ConfigError);
});
