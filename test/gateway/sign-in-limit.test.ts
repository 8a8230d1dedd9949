/**
 * Sign-in is limited per client address: real HTTP logins against a real
 * server (counting in memory), through real nginx (the address comes from
 * X-Forwarded-For only because nginx is a trusted proxy), and against two
 * gateways of a real cluster counting together on the real Redis.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { createClient } from 'redis';
import { createTestCluster, type TestCluster } from '../support/cluster';
import { errorCodeOf, httpRequest, type HttpReply } from '../support/http-request';
import { haveNginx, NGINX, startNginx, type RunningNginx } from '../support/nginx';
import { startTestServer, type TestServer } from '../support/playhouse';
import { needRedis, REDIS_URL } from '../support/services';

const ATTEMPTS = 4;
const WINDOW_SECONDS = 60;
const skipNginx = !haveNginx() && process.env.CI !== 'true' ? `${NGINX} is missing (apt-get install nginx-light)` : false;

const servers: TestServer[] = [];
let nginx: RunningNginx | undefined;
let cluster: TestCluster | undefined;
after(async () => {
  await nginx?.stop();
  for (const server of servers) await server.stop();
  await cluster?.stop();
});

async function server(trustedProxies?: string[]): Promise<TestServer> {
  const started = await startTestServer({ signIn: { attempts: ATTEMPTS, windowSeconds: WINDOW_SECONDS }, ...(trustedProxies ? { http: { trustedProxies } } : {}) });
  servers.push(started);
  return started;
}

function login(url: string, options: { from?: string; forwardedFor?: string } = {}): Promise<HttpReply> {
  return httpRequest(url, '/v1/auth/guest', {
    method: 'POST',
    from: options.from ?? '127.0.0.1',
    headers: { 'content-type': 'application/json', ...(options.forwardedFor ? { 'x-forwarded-for': options.forwardedFor } : {}) },
    body: JSON.stringify({ name: 'Ada' }),
  });
}

/** A refusal as the document promises it: 429, Retry-After in whole seconds, `auth/rate-limited` with `retryAfterMs`. */
function assertRefused(reply: HttpReply, what: string): void {
  assert.equal(reply.status, 429, `${what}: ${reply.body}`);
  assert.equal(errorCodeOf(reply), 'auth/rate-limited');
  const { retryAfterMs } = (JSON.parse(reply.body) as { error: { retryAfterMs: number } }).error;
  assert.ok(retryAfterMs > 0 && retryAfterMs <= WINDOW_SECONDS * 1000, `retryAfterMs ${retryAfterMs}`);
  assert.equal(reply.headers['retry-after'], String(Math.ceil(retryAfterMs / 1000)));
}

test('one address gets its attempts, then 429 with Retry-After and auth/rate-limited; another address is not affected', async () => {
  const { url } = await server();
  for (let i = 1; i <= ATTEMPTS; i++) assert.equal((await login(url)).status, 200, `attempt ${i}`);
  assertRefused(await login(url), 'one past the limit');
  assertRefused(await login(url), 'and again');
  assert.equal((await login(url, { from: '127.0.0.2' })).status, 200, 'another address has its own count');
});

test('X-Forwarded-For from an untrusted peer is ignored: a client cannot pick a fresh address per request', async () => {
  const { url } = await server([]);
  for (let i = 1; i <= ATTEMPTS; i++) assert.equal((await login(url, { forwardedFor: `203.0.113.${i}` })).status, 200);
  assertRefused(await login(url, { forwardedFor: '203.0.113.99' }), 'a new claimed address, same peer');
});

test('from a trusted proxy, each forwarded client address counts on its own', async () => {
  const { url } = await server(['127.0.0.1']);
  for (let i = 1; i <= ATTEMPTS; i++) assert.equal((await login(url, { forwardedFor: '203.0.113.7' })).status, 200);
  assertRefused(await login(url, { forwardedFor: '203.0.113.7' }), 'the forwarded client past its limit');
  assert.equal((await login(url, { forwardedFor: '203.0.113.8' })).status, 200, 'another client behind the same proxy');
  // 127.0.0.2 is no trusted proxy: what it claims is ignored and it counts as itself.
  for (let i = 1; i <= ATTEMPTS; i++) assert.equal((await login(url, { from: '127.0.0.2', forwardedFor: `198.51.100.${i}` })).status, 200);
  assertRefused(await login(url, { from: '127.0.0.2', forwardedFor: '198.51.100.99' }), 'untrusted peer');
});

test('the limit is configurable and refuses nonsense at boot', async () => {
  const { loadConfig, ConfigError } = await import('../../infra/config');
  const config = loadConfig({}, { PLAYHOUSE_SIGN_IN_ATTEMPTS: '7', PLAYHOUSE_SIGN_IN_WINDOW_SECONDS: '30', PLAYHOUSE_TRUSTED_PROXIES: '10.0.0.0/8, loopback' });
  assert.deepEqual(config.signIn, { attempts: 7, windowSeconds: 30 });
  assert.deepEqual(config.http.trustedProxies, ['10.0.0.0/8', 'loopback']);
  assert.deepEqual(loadConfig({}, {}).http.trustedProxies, ['loopback'], 'by default a proxy on this machine is believed');
  assert.throws(() => loadConfig({}, { PLAYHOUSE_SIGN_IN_ATTEMPTS: '0' }), ConfigError);
  assert.throws(() => loadConfig({}, { PLAYHOUSE_TRUSTED_PROXIES: 'everyone' }), /PLAYHOUSE_TRUSTED_PROXIES=everyone/, 'named as the operator set it');
});

describe('behind the shipped nginx', { skip: skipNginx, timeout: 30_000 }, () => {
  test('each client behind nginx has its own count, whatever X-Forwarded-For it sends', async () => {
    // The default trusts loopback: nginx on this machine.
    const gateway = await server();
    nginx = await startNginx({ gateways: [new URL(gateway.url).host] });
    for (let i = 1; i <= ATTEMPTS; i++) assert.equal((await login(nginx.url, { from: '127.0.0.2', forwardedFor: `203.0.113.${i}` })).status, 200);
    assertRefused(await login(nginx.url, { from: '127.0.0.2', forwardedFor: '203.0.113.99' }), 'nginx replaces the claimed address with the real one');
    assert.equal((await login(nginx.url, { from: '127.0.0.3' })).status, 200, 'another client of the same nginx');
  });
});

test('the gateways of a cluster count together on Redis, in keys that expire', async (t) => {
  if (!(await needRedis(t))) return;
  cluster = createTestCluster();
  const limits = { PLAYHOUSE_SIGN_IN_ATTEMPTS: String(ATTEMPTS), PLAYHOUSE_SIGN_IN_WINDOW_SECONDS: String(WINDOW_SECONDS) };
  const [first, second] = [await cluster.startGateway(limits), await cluster.startGateway(limits)];
  for (let i = 1; i <= ATTEMPTS; i++) assert.equal((await login((i % 2 === 0 ? first : second)!.url)).status, 200, `attempt ${i}`);
  assertRefused(await login(first!.url), 'the first gateway, after both served');
  assertRefused(await login(second!.url), 'the second gateway');

  const redis = createClient({ url: REDIS_URL });
  await redis.connect();
  try {
    const keys = await redis.keys(`${cluster.name}:sign-in:*`);
    assert.deepEqual(keys, [`${cluster.name}:sign-in:127.0.0.1`]);
    const ttl = await redis.pTTL(keys[0]!);
    assert.ok(ttl > 0 && ttl <= WINDOW_SECONDS * 1000, `the count expires with its window (pttl ${ttl})`);
  } finally {
    await redis.close();
  }
});
