/**
 * The mistakes of a first hour with `npm start`, each made against the real
 * scripts/start.ts in a child process: the process says in one line on stderr
 * what happened and what to set, exits non-zero, and prints no stack trace.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { startScript, stopProcess } from '../support/cluster';
import { refusalLine, runToExit, type Ended } from '../support/run-to-exit';
import { singleServerEnv } from '../support/single-server-env';

const start = (args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Ended> => runToExit('scripts/start.ts', args, singleServerEnv(env));

test('an unknown flag is named, with the flags npm start takes', async () => {
  const line = refusalLine(await start(['--prot', '9000']));
  assert.match(line, /--prot/);
  assert.match(line, /npm start takes --role, --port, --host, --workers, --worker-mode/);
});

test('a bad environment variable is named as the operator set it, not as an internal config path', async () => {
  const line = refusalLine(await start([], { PORT: 'eighty', PLAYHOUSE_WORKER_MODE: 'cloud' }));
  assert.match(line, /PORT=eighty: not a number/);
  assert.match(line, /PLAYHOUSE_WORKER_MODE=cloud: must be one of in-memory, forked, threaded, remote/);
  assert.doesNotMatch(line, /cluster\.|(^|\W)port:/, 'no config path');
  assert.match(refusalLine(await start(['--port', 'abc'])), /--port abc: must be a number/);
});

test('a port in use is named, with the variable that moves the server', async (t) => {
  const squatter = createServer();
  squatter.listen(0, '127.0.0.1');
  await once(squatter, 'listening');
  t.after(() => squatter.close());
  const { port } = squatter.address() as AddressInfo;
  const ended = await start([], { PORT: String(port) });
  const line = refusalLine(ended);
  assert.match(line, new RegExp(`port ${port} is already in use`));
  assert.match(line, /PORT=<port>/);
  assert.doesNotMatch(ended.stdout, /Logger configuration/, "comedy's banner is not printed");
});

test('a second npm start on the same data says the SQLite file is in use, by which process, and what to set', async (t) => {
  const folder = mkdtempSync(path.join(tmpdir(), 'playhouse-second-start-'));
  t.after(() => rmSync(folder, { recursive: true, force: true }));
  const data = { PLAYHOUSE_SNAPSHOT_STORE: 'sqlite', PLAYHOUSE_RECORD_STORE: 'sqlite', PLAYHOUSE_SQLITE_FILE: path.join(folder, 'playhouse.sqlite') };
  const first = await startScript('single', 'scripts/start.ts', [], singleServerEnv(data));
  t.after(() => stopProcess(first));
  assert.doesNotMatch(first.output(), /Logger configuration/, "comedy's banner is not printed");

  const line = refusalLine(await start([], data));
  assert.match(line, new RegExp(`SQLite file .*playhouse\\.sqlite is in use by process ${first.child.pid}`));
  assert.match(line, /PLAYHOUSE_SQLITE_FILE=<path>/);
  assert.equal(first.child.exitCode, null, 'the first server runs on');
});
