/**
 * /admin/ without an admin token answers only a client on the gateway's own
 * machine that talks to it directly. Real nginx (our template) in front of a
 * real gateway: nginx refuses /admin/ to everyone outside its internal
 * network, and what it lets through the gateway still refuses, because the
 * request came through a proxy (nginx is loopback to the gateway while its
 * client is anyone).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { errorCodeOf, httpRequest, type HttpRequestOptions } from '../support/http-request';
import { haveNginx, NGINX, startNginx, type RunningNginx } from '../support/nginx';
import { useTestServer } from '../support/playhouse';

const testServer = useTestServer();
const skipNginx = !haveNginx() && process.env.CI !== 'true' ? `${NGINX} is missing (apt-get install nginx-light)` : false;

const get = (url: string, path: string, options: Omit<HttpRequestOptions, 'method' | 'body'> = {}) => httpRequest(url, path, options);
const errorCode = errorCodeOf;

test('straight from this machine, without a token, /admin/games and its event stream answer', async () => {
  const games = await get(testServer().url, '/admin/games');
  assert.equal(games.status, 200, games.body);
  const events = await get(testServer().url, '/admin/games/events');
  assert.equal(events.status, 200);
  assert.match(events.body, /^event: status\n/);
});

test('a request carrying a forwarding header is refused without a token, even from loopback', async () => {
  for (const header of ['x-forwarded-for', 'forwarded', 'x-real-ip']) {
    for (const path of ['/admin/games', '/admin/games/events']) {
      const reply = await get(testServer().url, path, { headers: { [header]: header === 'forwarded' ? 'for=127.0.0.1' : '127.0.0.1' } });
      assert.equal(reply.status, 403, `${header} on ${path}`);
      assert.equal(errorCode(reply), 'http/forbidden');
    }
  }
});

test('a peer other than 127.0.0.1 / ::1 is refused without a token', async () => {
  const reply = await get(testServer().url, '/admin/games', { from: '127.0.0.2' });
  assert.equal(reply.status, 403);
  assert.equal(errorCode(reply), 'http/forbidden');
});

describe('behind the shipped nginx', { skip: skipNginx, timeout: 30_000 }, () => {
  let publicNginx: RunningNginx | undefined;
  let internalNginx: RunningNginx | undefined;
  before(async () => {
    const gateway = new URL(testServer().url).host;
    // 127.0.0.1 is outside this one's internal network: its clients are the public.
    publicNginx = await startNginx({ gateways: [gateway], internalNetwork: '127.0.0.2/32' });
    // Here 127.0.0.1 is inside: nginx lets /admin/ through, and the gateway decides.
    internalNginx = await startNginx({ gateways: [gateway] });
  });
  after(async () => {
    await publicNginx?.stop();
    await internalNginx?.stop();
  });

  test('nginx refuses /admin/ and /metrics to the public, path tricks included', async () => {
    assert.ok(publicNginx);
    for (const path of ['/admin/games', '/admin/games/events', '/admin/games?x=1', '//admin/games', '/%61dmin/games', '/x/../admin/games', '/metrics']) {
      const reply = await get(publicNginx.url, path);
      assert.equal(reply.status, 403, `${path}: ${reply.body.slice(0, 200)}`);
      assert.doesNotMatch(reply.body, /games|version/, `${path} shows nothing of the gateway`);
    }
    assert.equal((await get(publicNginx.url, '/livez')).status, 200, 'nginx passes ordinary paths to the gateway');
  });

  test('what nginx lets through the gateway refuses without a token: it came through a proxy', async () => {
    assert.ok(internalNginx);
    for (const path of ['/admin/games', '/admin/games/events']) {
      const reply = await get(internalNginx.url, path);
      assert.equal(reply.status, 403, `${path}: ${reply.body.slice(0, 200)}`);
      assert.equal(errorCode(reply), 'http/forbidden');
    }
  });
});
