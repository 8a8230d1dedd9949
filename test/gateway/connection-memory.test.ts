/**
 * What a connected player costs the gateway in memory: the HTTP upgrade
 * request a connection came in with (headers, parser state) is let go once the
 * connection is open, though Socket.IO and engine.io would each keep it for the
 * connection's whole life. Measured per client by `npm run bench -- idle`.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, test } from 'node:test';
import { heapAfterGc } from '../support/heap';
import { startTestServer, type TestServer } from '../support/playhouse';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.stop());

test('an open connection no longer holds the HTTP request it was upgraded from', async () => {
  const requests: Array<WeakRef<IncomingMessage>> = [];
  server.server.gateway.io.engine.use((req: IncomingMessage, _res: ServerResponse, next: () => void) => {
    requests.push(new WeakRef(req));
    next();
  });
  const players = await Promise.all([server.player('Ada'), server.player('Grace'), server.player('Linus')]);
  assert.equal(requests.length, 3, 'every connection passed the engine middlewares');
  await heapAfterGc();
  const kept = requests.filter((request) => request.deref() !== undefined).length;
  assert.equal(kept, 0, `${kept} of 3 upgrade requests are still held by open connections`);
  // Still served: nothing the gateway needs went with the request.
  const found = await players[0]!.findMatch('connect-four');
  assert.equal(typeof found.roomId, 'string');
});
