/** /admin/ answers only with the admin token when one is set; anything else is a typed refusal. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { useTestServer } from '../support/playhouse';

const TOKEN = 'designer-token-0123456789';
const testServer = useTestServer({ games: { adminToken: TOKEN } });

test('with an admin token set, /admin/games needs it: refused without or with a wrong one, served with it', async () => {
  const url = `${testServer().url}/admin/games`;
  const attempts: Array<Record<string, string>> = [{}, { authorization: 'Bearer wrong-token-0123456789' }, { authorization: TOKEN }];
  for (const headers of attempts) {
    const refused = await fetch(url, { headers });
    assert.equal(refused.status, 403);
    assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'http/forbidden');
  }
  const served = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(served.status, 200);
  const { games } = (await served.json()) as { games: Array<{ game: string; version: string | null; error: unknown }> };
  assert.deepEqual(games.map((game) => game.game).sort(), ['arena', 'connect-four']);
  assert.ok(games.every((game) => typeof game.version === 'string' && game.error === null));
  // EventSource cannot set headers: the token may come in the query instead.
  const events = await fetch(`${testServer().url}/admin/games/events?token=${TOKEN}`);
  assert.equal(events.status, 200);
  assert.match(events.headers.get('content-type') ?? '', /text\/event-stream/);
  await events.body?.cancel();
});

test('anything but GET, and unknown admin paths, are 404 with http/not-found', async () => {
  const headers = { authorization: `Bearer ${TOKEN}` };
  for (const [method, path] of [['POST', '/admin/games'], ['DELETE', '/admin/games'], ['GET', '/admin/nothing']] as const) {
    const response = await fetch(`${testServer().url}${path}`, { method, headers });
    assert.equal(response.status, 404, `${method} ${path}`);
    assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'http/not-found');
  }
});
