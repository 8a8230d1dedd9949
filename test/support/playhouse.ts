/**
 * Test support: a real Playhouse server on port 0 and real SDK clients over
 * real sockets. Everything is awaited on events, never on sleeps.
 */
import { after, before } from 'node:test';
import { loadConfig, type ConfigInput } from '../../infra/config';
import { startPlayhouse, type RunningPlayhouse } from '../../infra/playhouse-server';
import { guestLogin, PlayhouseClient, type RoomStateMessage } from '@playhouse/client';

export interface TestServer {
  readonly server: RunningPlayhouse;
  readonly url: string;
  /** Logs in a new guest and connects it over WebSocket. */
  player(name?: string): Promise<PlayhouseClient>;
  /** Closes every client this server handed out, then stops the server. */
  stop(): Promise<void>;
}

/** Starts a server on port 0 (call `stop()` when done). */
export async function startTestServer(overrides: ConfigInput = {}): Promise<TestServer> {
  // Tests keep their writes in memory unless they say otherwise (no file left behind).
  const persistence = { snapshots: 'memory', records: 'memory', ...overrides.persistence } as const;
  // Nor do they watch games/ unless they test hot reload.
  const games = { watch: false, ...overrides.games };
  // Tests log in many players from one address; the sign-in limit has tests of its own.
  const signIn = { attempts: 100_000, ...overrides.signIn };
  const server = await startPlayhouse(loadConfig({ port: 0, host: '127.0.0.1', ...overrides, persistence, games, signIn }, {}));
  const clients: PlayhouseClient[] = [];
  return {
    async stop() {
      for (const client of clients) client.close();
      await server.stop();
    },
    server,
    url: server.url,
    async player(name) {
      const login = await guestLogin(server.url, name);
      const client = await PlayhouseClient.connect({ url: server.url, token: login.token, io: { transports: ['websocket'] } });
      clients.push(client);
      return client;
    },
  };
}

/** One server shared by the tests of a file: started before the first, stopped after the last. */
export function useTestServer(overrides: ConfigInput = {}): () => TestServer {
  let shared: TestServer | undefined;
  before(async () => {
    shared = await startTestServer(overrides);
  });
  after(() => shared?.stop());
  return () => {
    if (!shared) throw new Error('the test server is not started yet');
    return shared;
  };
}

export interface ConnectFourView {
  readonly board: ReadonlyArray<ReadonlyArray<0 | 1 | null>>;
  readonly currentPlayer: string | null;
  readonly winner: string | null;
  readonly draw: boolean;
  readonly moveCount: number;
}

export function viewOf(state: RoomStateMessage): ConnectFourView {
  return state.view as ConnectFourView;
}

/** The next state of `roomId` (or the current one, if it already satisfies `predicate`). */
export function stateWhere(client: PlayhouseClient, roomId: string, predicate: (state: RoomStateMessage) => boolean): Promise<RoomStateMessage> {
  return client.waitForState(roomId, predicate);
}

export interface Duel {
  readonly roomId: string;
  /** Players in seat order: [seat 0, seat 1]. */
  readonly players: readonly [PlayhouseClient, PlayhouseClient];
  /** Whose turn it is now, as both clients agree. */
  current(): Promise<PlayhouseClient>;
  other(client: PlayhouseClient): PlayhouseClient;
  /** The player to move drops in `column`; resolves once both clients saw the resulting state. */
  drop(column: number): Promise<RoomStateMessage>;
}

/** Two new players matched into one Connect Four room, game started. */
export async function startDuel(test: Pick<TestServer, 'player'>): Promise<Duel> {
  const first = await test.player('First');
  const second = await test.player('Second');
  const a = await first.findMatch('connect-four');
  const b = await second.findMatch('connect-four');
  if (a.roomId !== b.roomId) throw new Error(`players were put in different rooms: ${a.roomId} / ${b.roomId}`);
  const roomId = a.roomId;
  const bySeat = (a.seat === 0 ? [first, second] : [second, first]) as [PlayhouseClient, PlayhouseClient];
  await Promise.all(bySeat.map((client) => stateWhere(client, roomId, (state) => state.status === 'playing')));
  const duel: Duel = {
    roomId,
    players: bySeat,
    async current() {
      const state = await stateWhere(first, roomId, (s) => s.status === 'playing');
      const mover = viewOf(state).currentPlayer;
      const client = bySeat.find((c) => c.playerId === mover);
      if (!client) throw new Error('nobody to move');
      return client;
    },
    other: (client) => (client === bySeat[0] ? bySeat[1] : bySeat[0]),
    async drop(column) {
      const mover = await duel.current();
      const accepted = await mover.move(roomId, 'drop', { column });
      const [state] = await Promise.all(bySeat.map((client) => stateWhere(client, roomId, (s) => s.version >= accepted.version)));
      return state!;
    },
  };
  return duel;
}
