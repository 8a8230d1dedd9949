/**
 * A TCP relay in front of a gateway whose connections can be made to go
 * silent: bytes stop flowing both ways, yet neither end hears a FIN or RST —
 * a phone whose network vanished, a half-open connection. Connections opened
 * after the silence began pass normally, so a client that notices (its
 * heartbeat times out) comes back through the same relay.
 */
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';

export interface SilentProxy {
  readonly url: string;
  /** Makes every open connection silent; returns how many went silent. */
  silence(): number;
  /** Ends the silent connections (the network returns, and each end finds its socket dead). */
  release(): void;
  close(): Promise<void>;
}

export async function startSilentProxy(target: URL): Promise<SilentProxy> {
  const open = new Set<{ client: Socket; upstream: Socket; silent: boolean }>();
  const server = createServer((client) => {
    const upstream = connect({ host: target.hostname, port: Number(target.port) });
    const pair = { client, upstream, silent: false };
    open.add(pair);
    // Data is forwarded only while the pair is not silent; once silent it is swallowed.
    client.on('data', (chunk: Buffer) => pair.silent || upstream.write(chunk));
    upstream.on('data', (chunk: Buffer) => pair.silent || client.write(chunk));
    const end = () => {
      open.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) {
      socket.on('error', end);
      socket.on('close', () => (pair.silent ? undefined : end()));
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port for the silent proxy');
  return {
    url: `http://127.0.0.1:${address.port}`,
    silence: () => {
      for (const pair of open) pair.silent = true;
      return open.size;
    },
    release: () => {
      for (const pair of [...open]) {
        if (!pair.silent) continue;
        open.delete(pair);
        pair.client.destroy();
        pair.upstream.destroy();
      }
    },
    close: async () => {
      for (const pair of open) {
        pair.client.destroy();
        pair.upstream.destroy();
      }
      open.clear();
      server.close();
      await once(server, 'close');
    },
  };
}
