/** /livez, /readyz, /healthz, /metrics with the domain metrics, and what a studio's dashboards read. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startDuel, useTestServer } from '../support/playhouse';

const testServer = useTestServer();

async function metricsText(): Promise<string> {
  const response = await fetch(`${testServer().url}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /text\/plain/);
  return response.text();
}

/** The sum of every sample of `name` whose labels start with `labels` (rooms also carry their rules version). */
function sampleSum(text: string, name: string, labels: string): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{${labels}`))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

function sample(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line ? Number(line.split(' ').pop()) : 0;
}

test('/healthz answers ok with the gateway id', async () => {
  const response = await fetch(`${testServer().url}/healthz`);
  assert.equal(response.status, 200);
  const body = (await response.json()) as { status: string; gateway: string };
  assert.equal(body.status, 'ok');
  assert.match(body.gateway, /^gw-/);
});

test('a single process is alive and ready: /livez and /readyz answer 200', async () => {
  for (const path of ['/livez', '/readyz']) {
    const response = await fetch(`${testServer().url}${path}`);
    assert.equal(response.status, 200, path);
    assert.match(((await response.json()) as { gateway: string }).gateway, /^gw-/);
  }
});

test('/metrics counts clients, sessions, rooms, moves, rejections by reason, latency and mailboxes', async () => {
  const before = await metricsText();
  const duel = await startDuel(testServer());
  await duel.drop(3);
  await duel.drop(3);
  const waiting = duel.other(await duel.current());
  await waiting.move(duel.roomId, 'drop', { column: 1 }).catch(() => undefined); // not your turn
  const mover = await duel.current();
  await mover.move(duel.roomId, 'drop', { column: 9 }).catch(() => undefined); // out of range

  const after = await metricsText();
  assert.equal(sample(after, 'playhouse_connected_clients') - sample(before, 'playhouse_connected_clients'), 2);
  assert.equal(sample(after, 'playhouse_sessions') - sample(before, 'playhouse_sessions'), 2);
  assert.equal(sampleSum(after, 'playhouse_rooms', 'game="connect-four"') - sampleSum(before, 'playhouse_rooms', 'game="connect-four"'), 1);
  assert.equal(sample(after, 'playhouse_moves_applied_total', 'game="connect-four"') - sample(before, 'playhouse_moves_applied_total', 'game="connect-four"'), 2);
  const rejected = (reason: string, text: string) => sample(text, 'playhouse_moves_rejected_total', `game="connect-four",reason="${reason}"`);
  assert.equal(rejected('move/not-your-turn', after) - rejected('move/not-your-turn', before), 1);
  assert.equal(rejected('move/illegal:out-of-range', after) - rejected('move/illegal:out-of-range', before), 1);
  const moveCount = (text: string) => sample(text, 'playhouse_request_duration_seconds_count', 'event="room:move"');
  assert.equal(moveCount(after) - moveCount(before), 4, 'every move request is timed');
  const requests = (outcome: string, text: string) => sample(text, 'playhouse_requests_total', `event="room:move",outcome="${outcome}"`);
  assert.equal(requests('ok', after) - requests('ok', before), 2, 'requests are counted by event and outcome');
  assert.equal(requests('move/not-your-turn', after) - requests('move/not-your-turn', before), 1);
  // Counted as plain numbers and handed over at each scrape: a second scrape must not add them again.
  assert.equal(requests('ok', await metricsText()), requests('ok', after));
  assert.match(after, /^playhouse_mailbox_depth\{kind="room"\} 0$/m);
  assert.match(after, /^nodejs_eventloop_lag_seconds /m);
});

test('the demo script carries the SDK but not the server\'s schema validator', async () => {
  const script = await (await fetch(`${testServer().url}/demo.js`)).text();
  assert.match(script, /packages\/client\/src\/client\.ts/, 'the SDK is bundled (its source map names it)');
  // The SDK owns the wire types; the server's schemas (zod) must not ride along to browsers.
  assert.doesNotMatch(script, /node_modules\/zod\//);
});

test('unknown paths are 404 and the demo page is served', async () => {
  assert.equal((await fetch(`${testServer().url}/admin`)).status, 404);
  const page = await fetch(`${testServer().url}/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /text\/html/);
});
