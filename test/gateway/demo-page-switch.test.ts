/**
 * The demo page is for trying Playhouse: on by default, off when
 * NODE_ENV=production, and PLAYHOUSE_DEMO_PAGE decides either way. Off, its
 * paths answer 404 like any path the gateway does not serve; the game's own
 * endpoints are unaffected.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { loadConfig } from '../../infra/config';
import { errorCodeOf, httpRequest } from '../support/http-request';
import { startTestServer, type TestServer } from '../support/playhouse';

const DEMO_PATHS = ['/', '/index.html', '/demo.js', '/demo.css'];
const servers: TestServer[] = [];
after(async () => {
  for (const server of servers) await server.stop();
});

test('the default follows NODE_ENV, and PLAYHOUSE_DEMO_PAGE overrides it', () => {
  assert.equal(loadConfig({}, {}).http.demoPage, true);
  assert.equal(loadConfig({}, { NODE_ENV: 'development' }).http.demoPage, true);
  assert.equal(loadConfig({}, { NODE_ENV: 'production' }).http.demoPage, false);
  assert.equal(loadConfig({}, { NODE_ENV: 'production', PLAYHOUSE_DEMO_PAGE: 'true' }).http.demoPage, true);
  assert.equal(loadConfig({}, { PLAYHOUSE_DEMO_PAGE: 'false' }).http.demoPage, false);
  assert.throws(() => loadConfig({}, { PLAYHOUSE_DEMO_PAGE: 'perhaps' }), /PLAYHOUSE_DEMO_PAGE=perhaps/);
});

test('turned off, every demo path answers 404 http/not-found, and players still sign in and play', async () => {
  const off = await startTestServer({ http: { demoPage: false } });
  servers.push(off);
  for (const path of DEMO_PATHS) {
    const reply = await httpRequest(off.url, path);
    assert.equal(reply.status, 404, path);
    assert.equal(errorCodeOf(reply), 'http/not-found', path);
  }
  const player = await off.player('Ada');
  assert.equal((await player.findMatch('connect-four')).roomId.startsWith('connect-four'), true);
});

test('turned on, the same paths serve the page', async () => {
  const on = await startTestServer({ http: { demoPage: true } });
  servers.push(on);
  for (const path of DEMO_PATHS) assert.equal((await httpRequest(on.url, path)).status, 200, path);
  assert.match((await httpRequest(on.url, '/')).body, /<html/i);
});
