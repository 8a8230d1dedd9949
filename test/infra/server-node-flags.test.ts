/**
 * The Node flags a Playhouse server runs with are written in one list
 * (scripts/server-node-flags.ts); the commands that start a server with
 * node itself — `npm start` (from source), `npm run start:prod` and
 * `npm run worker-node` (the build), the Dockerfile — must say the same, and
 * node must accept them.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { SERVER_NODE_FLAGS } from '../../scripts/server-node-flags';

const ROOT = path.resolve(__dirname, '../..');

test('npm start, npm run start:prod and npm run worker-node run node with the server flags', () => {
  const scripts = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  for (const name of ['start', 'start:prod', 'worker-node']) {
    const words = scripts[name]!.split(/\s+/);
    assert.equal(words[0], 'node', `${name} runs node itself (flags cannot reach it through tsx's own CLI)`);
    for (const flag of SERVER_NODE_FLAGS) assert.ok(words.includes(flag), `package.json "${name}" lacks ${flag}: ${scripts[name]}`);
  }
});

test("the Dockerfile's command runs node with the server flags", () => {
  const dockerfile = readFileSync(path.join(ROOT, 'infra/docker/Dockerfile'), 'utf8');
  const cmd = dockerfile.split('\n').filter((line) => line.startsWith('CMD ')).at(-1);
  assert.ok(cmd, 'the Dockerfile has a CMD');
  const argv = JSON.parse(cmd.slice('CMD '.length)) as string[];
  assert.equal(argv[0], 'node');
  for (const flag of SERVER_NODE_FLAGS) assert.ok(argv.includes(flag), `the Dockerfile's CMD lacks ${flag}: ${cmd}`);
});

test('node starts with the flags', () => {
  // An unknown or mistyped flag makes node exit at once with "bad option": a server would never start.
  const execArgv = JSON.parse(execFileSync(process.execPath, [...SERVER_NODE_FLAGS, '-p', 'JSON.stringify(process.execArgv)'], { encoding: 'utf8' })) as string[];
  assert.deepEqual(execArgv.slice(0, SERVER_NODE_FLAGS.length), [...SERVER_NODE_FLAGS]);
});
