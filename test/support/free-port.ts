/** A port on 127.0.0.1 that was free a moment ago: bind port 0, read it, close. For servers a test starts (or a port nothing answers on). */
import { once } from 'node:events';
import { createServer } from 'node:net';

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no port from the probe server');
  return address.port;
}
