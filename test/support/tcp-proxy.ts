/**
 * Test support: a TCP proxy in front of a server that can go silent — it
 * keeps every connection open but stops forwarding bytes either way, the way a
 * phone that lost its radio looks from the server (a half-open connection: no
 * FIN, no RST, just nothing).
 */
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';

export interface SilentProxy {
  /** `http://127.0.0.1:<port>`: connect clients here instead of the server. */
  readonly url: string;
  /** Stops forwarding on every connection, open or future; nothing is closed. */
  goSilent(): void;
  close(): Promise<void>;
}

export async function startSilentProxy(targetUrl: string): Promise<SilentProxy> {
  const target = new URL(targetUrl);
  const sockets = new Set<Socket>();
  let silent = false;
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    sockets.add(client);
    sockets.add(upstream);
    const forward = (from: Socket, to: Socket) =>
      from.on('data', (chunk) => {
        if (!silent) to.write(chunk);
      });
    forward(client, upstream);
    forward(upstream, client);
    // Closing is forwarded only while not silent: a silent link never says goodbye.
    client.on('close', () => (silent ? undefined : upstream.destroy()));
    upstream.on('close', () => (silent ? undefined : client.destroy()));
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    goSilent: () => {
      silent = true;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
