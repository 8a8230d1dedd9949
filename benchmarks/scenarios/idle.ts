/**
 * idle — connections that only keep alive (Socket.IO heartbeats). Measures
 * what each additional connected player costs the server in memory, session
 * actor included: 40 % of the clients connect first, the server is forced to
 * collect garbage and its RSS read; the other 60 % connect, GC and RSS again.
 * The difference over the added clients is the marginal cost per client.
 */
import { guestLogin, PlayhouseClient } from '@playhouse/client';
import type { DriverOptions, Scenario, ScenarioDriver } from '../harness/scenario';
import type { MemoryAfterGc, ServerProcess } from '../harness/server-process';
import { connectInBatches } from './shared';

const FIRST_SHARE = 0.4;
let before: MemoryAfterGc = { rss: 0, heapUsed: 0, external: 0 };
let clientsBefore = 0;

export const scenario: Scenario = {
  name: 'idle',
  description: 'connected clients that only keep alive: memory per client after a forced GC',
  defaults: { clients: 5000, durationS: 20, thinkMs: 0 },
  quickClients: 200,
  driverModule: __filename,
  awaitAllConnected: true,
  async measureServer(server: ServerProcess, phase, connected): Promise<Record<string, number>> {
    const memory = await server.collectGarbage();
    if (phase === 'before') {
      before = memory;
      clientsBefore = connected;
      return { clients_first_stage: connected, rss_first_stage_mb: mb(memory.rss) };
    }
    const added = connected - clientsBefore;
    const perClient = (bytes: number) => (added > 0 ? Math.round((bytes / added / 1024) * 10) / 10 : 0);
    return {
      clients_second_stage: connected,
      rss_after_gc_mb: mb(memory.rss),
      kb_per_added_client: perClient(memory.rss - before.rss),
      heap_kb_per_added_client: perClient(memory.heapUsed - before.heapUsed),
      external_kb_per_added_client: perClient(memory.external - before.external),
    };
  },
};

function mb(bytes: number): number {
  return Math.round((bytes / 2 ** 20) * 10) / 10;
}

export function createDriver(options: DriverOptions): ScenarioDriver {
  const clients: PlayhouseClient[] = [];
  const first = Math.floor(options.clients * FIRST_SHARE);
  const connect = async (index: number) => {
    const login = await guestLogin(options.url, `idle-${options.workerIndex}-${index}`);
    const client = await PlayhouseClient.connect({ url: options.url, token: login.token, io: { transports: ['websocket'] } });
    options.recorder.gauges.connected++;
    client.on('disconnected', () => {
      options.recorder.gauges.connected--;
      options.recorder.count('disconnects');
    });
    clients.push(client);
  };
  return {
    async start() {
      await connectInBatches(first, connect, options.recorder);
    },
    measuring() {
      // The second stage connects while the window runs; the 'after' reading sees them all.
      void connectInBatches(options.clients - first, (i) => connect(first + i), options.recorder);
    },
    async stop() {
      for (const client of clients) client.close();
    },
  };
}
