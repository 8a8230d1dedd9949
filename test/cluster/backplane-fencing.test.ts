/**
 * The Redis backplane's membership scripts against the real Redis: epochs only
 * grow, a heartbeat and a declaration of death are exclusive (a node is either
 * alive after all or fenced), a fenced incarnation can neither heartbeat nor
 * claim, and a new incarnation of the same id is a member again.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import type { NodeInfo } from '../../actors/cluster/backplane';
import { RedisBackplane } from '../../infra/cluster/redis-backplane';
import { redisCli } from '../support/cluster';
import { eventually, forgetRedisKeys, needRedis, REDIS_URL } from '../support/services';
import { QUIET_LOG } from '../support/quiet-log';

const name = `test-fence-${process.pid}-${randomBytes(3).toString('hex')}`;
const opened: RedisBackplane[] = [];
after(async () => {
  await Promise.all(opened.map((backplane) => backplane.close()));
  await forgetRedisKeys(`${name}:`);
});

async function backplane(): Promise<RedisBackplane> {
  const connected = await RedisBackplane.connect({ url: REDIS_URL, name, log: QUIET_LOG });
  opened.push(connected);
  return connected;
}

const redis = (...args: string[]): string => redisCli(REDIS_URL, ...args);

function info(id: string, epoch: number): NodeInfo {
  return { id, role: 'worker', slot: id.split('.')[0]!, host: 'test', pid: process.pid, sessions: 0, rooms: 0, connections: 0, draining: false, epoch };
}

test('epochs only grow, even when Redis forgot the last one (restarted empty)', async (t) => {
  if (!(await needRedis(t))) return;
  const bus = await backplane();
  const first = await bus.newEpoch();
  const second = await bus.newEpoch();
  assert.ok(second > first, `${second} > ${first}`);
  redis('del', `${name}:epoch`);
  const afterRestart = await bus.newEpoch();
  assert.ok(afterRestart > second, `${afterRestart} > ${second}`);
  assert.ok(Number.isSafeInteger(afterRestart));
});

test('a heartbeat says when the backplane had lost the node; a live node cannot be declared gone', async (t) => {
  if (!(await needRedis(t))) return;
  const bus = await backplane();
  const node = info(`w1.${randomBytes(3).toString('hex')}`, await bus.newEpoch());
  assert.equal(await bus.heartbeat(node, 5000), 'rejoined', 'the first heartbeat finds nothing');
  assert.equal(await bus.heartbeat(node, 5000), 'alive');
  assert.equal(await bus.declareGone(node.id, node.epoch), false, 'alive after all: not declared');
  assert.equal(await bus.heartbeat(node, 5000), 'alive', 'and not fenced');
  redis('del', `${name}:alive:${node.id}`);
  assert.equal(await bus.heartbeat(node, 5000), 'rejoined', 'Redis lost the node (restarted empty)');
});

test('a node declared gone is fenced: its heartbeat says so, its claims are refused, its directory entries are forgotten', async (t) => {
  if (!(await needRedis(t))) return;
  const [bus, observer] = [await backplane(), await backplane()];
  const zombie = info(`w2.${randomBytes(3).toString('hex')}`, await bus.newEpoch());
  await bus.heartbeat(zombie, 300);
  assert.equal(await bus.claim('room:r1', zombie.id), zombie.id);
  // The zombie stalls: its heartbeat expires, and an observer declares it gone.
  await eventually(async () => ((await observer.members()).some((member) => member.id === zombie.id) ? undefined : true), 'the heartbeat expired');
  assert.equal(await observer.declareGone(zombie.id, zombie.epoch), true);
  assert.equal(await observer.declareGone(zombie.id, zombie.epoch), true, 'saying it twice is harmless');
  assert.equal(await bus.owner('room:r1'), undefined, 'its directory entry is gone');
  assert.deepEqual(await observer.ownedBy(zombie.id), ['room:r1'], 'what it held is still readable');
  // It wakes.
  assert.equal(await bus.heartbeat(zombie, 5000), 'fenced');
  assert.equal((await observer.members()).some((member) => member.id === zombie.id), false, 'a fenced heartbeat does not make it a member');
  assert.equal(await bus.claim('room:r2', zombie.id), '', 'a fenced node claims nothing');
  assert.equal(await bus.owner('room:r2'), undefined);
  // Meanwhile a live node took its room; the zombie cannot take it back.
  const survivor = info(`w3.${randomBytes(3).toString('hex')}`, await observer.newEpoch());
  await observer.heartbeat(survivor, 5000);
  assert.equal(await observer.claim('room:r1', survivor.id), survivor.id);
  assert.equal(await bus.claim('room:r1', zombie.id), survivor.id);
  // A new incarnation under the same id (a gateway keeps its id) is a member again.
  const reborn = { ...zombie, epoch: await bus.newEpoch() };
  assert.equal(await bus.heartbeat(reborn, 5000), 'rejoined');
  assert.ok((await observer.members()).some((member) => member.id === zombie.id && member.epoch === reborn.epoch));
});

test('a heartbeat that lands first keeps the node alive: the declaration finds it and changes nothing', async (t) => {
  if (!(await needRedis(t))) return;
  const [bus, observer] = [await backplane(), await backplane()];
  const node = info(`w4.${randomBytes(3).toString('hex')}`, await bus.newEpoch());
  await bus.heartbeat(node, 300);
  await bus.claim('room:r4', node.id);
  await eventually(async () => ((await observer.members()).some((member) => member.id === node.id) ? undefined : true), 'the heartbeat expired');
  // The node's heartbeat arrives just before the observer's declaration.
  assert.equal(await bus.heartbeat(node, 5000), 'rejoined');
  assert.equal(await observer.declareGone(node.id, node.epoch), false);
  assert.equal(await bus.owner('room:r4'), node.id, 'its directory entry stays');
  assert.equal(await bus.heartbeat(node, 5000), 'alive');
});

test('a node that announces itself down is gone at once, and every node hears which incarnation', async (t) => {
  if (!(await needRedis(t))) return;
  const [bus, observer] = [await backplane(), await backplane()];
  const heard: Array<[string, number]> = [];
  observer.onDown((node, epoch) => heard.push([node, epoch]));
  const node = info(`w5.${randomBytes(3).toString('hex')}`, await bus.newEpoch());
  await bus.heartbeat(node, 5000);
  await bus.claim('room:r5', node.id);
  await bus.announceDown(node.id, node.epoch);
  await eventually(() => (heard.length > 0 ? true : undefined), 'the down message');
  assert.deepEqual(heard, [[node.id, node.epoch]]);
  assert.equal((await observer.members()).some((member) => member.id === node.id), false);
  assert.equal(await bus.owner('room:r5'), undefined);
  assert.equal(await bus.heartbeat(node, 5000), 'fenced', 'that incarnation cannot come back');
});
