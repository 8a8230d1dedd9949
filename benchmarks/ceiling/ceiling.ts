/**
 * The benchmark ceiling: a bare Socket.IO 4 server running the same game logic
 * as Playhouse — the room's own game-logic class (actors/room/room-state.ts, a plain
 * class with no actor machinery), so the logic is identical by construction —
 * with no actors, no persistence, no resume, no rate limits and no JWT.
 * It speaks the same wire protocol as far as the SDK uses it, so the load
 * tester drives both servers with the same clients and reports ratios.
 *
 * Playhouse's session, lobby and room actors collapse into three maps here:
 * token → player, game → rooms with a free seat (oldest first), room id → room.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type Socket } from 'socket.io';
import type { AnyGameRules } from '../../games/api';
import arena from '../../games/arena/rules';
import arenaTunables from '../../games/arena/tunables.json';
import connectFour from '../../games/connect-four/rules';
import connectFourTunables from '../../games/connect-four/tunables.json';
import { errorBody, refusal as refuse, type ErrorBody } from '../../protocol/errors';
import {
  PROTOCOL_VERSION,
  type ClientEventName,
  type ClientToServerEvents,
  type GuestLoginResponse,
  type MatchFound,
  type Reply,
  type ServerEventName,
  type ServerToClientEvents,
} from '../../protocol/messages';
import { checkGuestLogin, checkHandshake, checkRequest, describeIssues } from '../../protocol/wire-checks';
import { RoomState } from '../../actors/room/room-state';
import { SeededRandom } from '../../actors/room/seeded-random';

type CeilingRoom = RoomState;
type CeilingGame = ConstructorParameters<typeof RoomState>[1];

/** Playhouse's defaults (infra/config.ts), so both servers refuse the same messages and tokens live as long. */
const MAX_MESSAGE_BYTES = 4096;
const LOGIN_BODY_LIMIT = 1024;
const TOKEN_TTL_MS = 7 * 24 * 3600 * 1000;

interface Player {
  readonly playerId: string;
  readonly name: string;
  readonly expiresAt: number;
  /** The room the player is seated in (Playhouse's session keeps the same). */
  room: CeilingRoom | undefined;
}

interface SocketData {
  player: Player;
}

type PlayerSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
type RequestOf<E extends ClientEventName> = Parameters<ClientToServerEvents[E]>[0];
type Handler<E extends ClientEventName> = (player: Player, request: RequestOf<E>) => Reply;

export interface RunningCeiling {
  readonly url: string;
  close(): Promise<void>;
}

export interface CeilingOptions {
  readonly port?: number;
  readonly host?: string;
}

/** A game's rules with its tunables.json checked against the rules' own schema, as Playhouse's catalog loads it. */
function loadGame(rules: AnyGameRules, raw: unknown): CeilingGame {
  const parsed = rules.tunables.safeParse(raw);
  if (!parsed.success) throw new Error(`${rules.name} tunables: ${describeIssues(parsed.error, '(root)')}`);
  // One version for good: the ceiling has no hot reload.
  return { name: rules.name, version: 'ceiling', rules, tunables: parsed.data, tunablesVersion: 'ceiling' };
}

export async function startCeiling(options: CeilingOptions = {}): Promise<RunningCeiling> {
  const games = new Map<string, CeilingGame>(
    [loadGame(connectFour, connectFourTunables), loadGame(arena, arenaTunables)].map((game) => [game.name, game]),
  );
  const installed = [...games.keys()].sort().join(', ');
  const tokens = new Map<string, Player>();
  const online = new Map<string, PlayerSocket>();
  /** Per game, rooms with a free seat in the order they became open: fill rooms before opening new ones. */
  const openRooms = new Map<string, Map<string, CeilingRoom>>([...games.keys()].map((name) => [name, new Map()]));
  const tickers = new Map<CeilingRoom, NodeJS.Timeout>();
  let roomsOpened = 0;

  const httpServer = createServer((request, response) => {
    if (request.url?.startsWith('/socket.io/')) return; // Socket.IO answers its own path
    route(request, response).catch((error: unknown) => {
      if (!response.headersSent) sendJson(response, 500, { error: errorBody('server/internal', String(error)) });
    });
  });

  async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (path !== '/v1/auth/guest' || request.method !== 'POST') {
      return sendJson(response, 404, { error: errorBody('http/not-found', `${request.method ?? 'GET'} ${path} is not served here`) });
    }
    let raw = '';
    for await (const chunk of request as AsyncIterable<Buffer>) {
      raw += chunk.toString('utf8');
      if (raw.length > LOGIN_BODY_LIMIT) return sendJson(response, 413, { error: errorBody('protocol/payload-too-large') });
    }
    const login = checkGuestLogin(raw);
    if (!login.ok) return sendJson(response, 400, { error: login.error });
    // An opaque random token mapped in memory: the ceiling measures the game path, not auth.
    const playerId = `g-${randomUUID()}`;
    const player: Player = { playerId, name: login.value.name ?? `Guest ${playerId.slice(2, 6)}`, expiresAt: Date.now() + TOKEN_TTL_MS, room: undefined };
    const token = randomUUID();
    tokens.set(token, player);
    const reply: GuestLoginResponse = { playerId, name: player.name, token, expiresAt: player.expiresAt };
    sendJson(response, 200, reply);
  }

  // Socket.IO's defaults otherwise: this is the bare baseline.
  const io = new Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>(httpServer, {
    cors: { origin: true },
    serveClient: false,
  });

  io.use((socket, next) => {
    const error = authenticate(socket);
    next(error ? Object.assign(new Error(error.message), { data: error }) : undefined);
  });

  /** The same checks, in the same order, as Playhouse's gateway handshake. */
  function authenticate(socket: PlayerSocket): ErrorBody | undefined {
    const handshake = checkHandshake(socket.handshake.auth);
    if (!handshake.ok) return handshake.error;
    const player = tokens.get(handshake.value.token);
    if (!player || player.expiresAt <= Date.now()) return errorBody('auth/invalid-token');
    socket.data.player = player;
    return undefined;
  }

  io.on('connection', (socket) => {
    const player = socket.data.player;
    // A second connection of the same player replaces the first, as in Playhouse; the player stays seated.
    const previous = online.get(player.playerId);
    online.set(player.playerId, socket);
    if (previous) {
      previous.emit('session:closed', errorBody('session/replaced'));
      previous.disconnect(true);
    }
    // No resume here (the ceiling is bare Socket.IO): no resume token, and pushes carry no sequence numbers.
    socket.emit('session:ready', { ok: true, playerId: player.playerId, name: player.name, protocol: PROTOCOL_VERSION, rooms: player.room ? [player.room.roomId] : [], resumeToken: '', resumed: 'fresh', seq: 0 });
    if (player.room) (socket.emit as (event: ServerEventName, payload: object) => boolean)('room:state', player.room.stateFor(player.playerId));

    on(socket, 'match:find', findMatch);
    on(socket, 'room:move', (player, { roomId, version, move, payload }) => inRoom(player, roomId, (room) => room.move(player.playerId, version, move, payload)));
    on(socket, 'room:rematch', (player, { roomId }) => inRoom(player, roomId, (room) => room.rematch(player.playerId)));
    on(socket, 'room:leave', (player, { roomId }) =>
      inRoom(player, roomId, (room) => {
        player.room = undefined;
        return room.leave(player.playerId);
      }),
    );
    // Unknown events have no listener: Socket.IO drops them.

    socket.on('disconnect', () => {
      if (online.get(player.playerId) !== socket) return; // replaced by a newer connection
      online.delete(player.playerId);
      // No resume: a dropped connection leaves its room at once (Playhouse's session does the same without a grace period).
      const room = player.room;
      if (!room) return;
      player.room = undefined;
      room.leave(player.playerId);
      settle(room);
    });
  });

  /** The gateway's wire checks (ack, size, schema), then the handler; the reply goes back through the ack. */
  function on<E extends ClientEventName>(socket: PlayerSocket, event: E, handler: Handler<E>): void {
    // The typed event map cannot express "any arguments"; the checks below are what make them safe.
    (socket.on as (event: string, listener: (...args: unknown[]) => void) => void)(event, (...args: unknown[]) => {
      const checked = checkRequest(event, args, MAX_MESSAGE_BYTES);
      if (!checked.ok) {
        if (checked.ack) checked.ack({ ok: false, error: checked.error });
        else socket.emit('session:error', { ...checked.error, event });
        return;
      }
      const answer = checked.ack;
      let reply: Reply;
      try {
        reply = handler(socket.data.player, checked.request as RequestOf<E>);
      } catch (error) {
        console.error(`ceiling: ${event} failed:`, error);
        reply = refuse('server/internal');
      }
      answer(reply);
    });
  }

  /** Playhouse's session check: requests name the room the player sits in, or are refused. */
  function inRoom<T extends object>(player: Player, roomId: string, act: (room: CeilingRoom) => Reply<T>): Reply<T> {
    const room = player.room;
    if (!room || room.roomId !== roomId) return refuse('room/not-member');
    const reply = act(room);
    settle(room);
    return reply;
  }

  /** Playhouse's session and lobby: seat the player in the oldest room with a free seat, or open one. */
  function findMatch(player: Player, { game }: RequestOf<'match:find'>): Reply<MatchFound> {
    if (player.room) return refuse('match/already-in-room', `already seated in ${player.room.roomId}`);
    const loaded = games.get(game);
    const open = openRooms.get(game);
    if (!loaded || !open) return refuse('match/unknown-game', `no game named '${game}'; installed: ${installed}`);
    let room: CeilingRoom | undefined;
    for (const candidate of open.values()) {
      if (candidate.isOpen) {
        room = candidate;
        break;
      }
      open.delete(candidate.roomId);
    }
    room ??= new RoomState(`${game}.${++roomsOpened}`, loaded, new SeededRandom(randomInt(2 ** 31)));
    const joined = room.join(player.playerId, player.name);
    if (joined.ok) player.room = room;
    settle(room);
    // The room's reply also says whether seats remain; clients get what Playhouse's lobby sends.
    return joined.ok ? { ok: true, roomId: joined.roomId, game: joined.game, seat: joined.seat } : joined;
  }

  /** After every room operation: send what it produced, then start/stop its ticker and keep the open list right. */
  function settle(room: CeilingRoom): void {
    for (const out of room.outbox) {
      const socket = online.get(out.playerId);
      // The outbox entries pair each event with its own payload type (built by the room); emit cannot see that.
      if (socket) (socket.emit as (event: ServerEventName, payload: object) => boolean)(out.event, out.payload);
    }
    room.outbox.length = 0;

    const ticking = tickers.get(room);
    if (room.isRealtime && room.isPlaying && !room.isEmpty) {
      if (!ticking) startTicker(room);
    } else if (ticking) {
      clearInterval(ticking);
      tickers.delete(room);
    }
    const open = openRooms.get(room.game.name)!;
    if (room.isOpen && !room.isEmpty) {
      if (!open.has(room.roomId)) open.set(room.roomId, room);
    } else {
      open.delete(room.roomId); // full, over, or empty (an empty room is gone: nothing else refers to it)
    }
  }

  function startTicker(room: CeilingRoom): void {
    let last = Date.now();
    const tickHz = room.game.rules.realtime?.tickHz ?? 20;
    const timer = setInterval(() => {
      const now = Date.now();
      room.tick(now - last);
      last = now;
      settle(room);
    }, 1000 / tickHz);
    tickers.set(room, timer);
  }

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = httpServer.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}`,
    close: async () => {
      for (const timer of tickers.values()) clearInterval(timer);
      tickers.clear();
      for (const socket of online.values()) socket.emit('session:closed', errorBody('server/shutting-down'));
      await new Promise<void>((resolve) => {
        void io.close(() => resolve());
        httpServer.closeAllConnections(); // keep-alive login connections would hold close() open
      });
    },
  };
}

function sendJson(response: ServerResponse, status: number, body: object): void {
  response.writeHead(status, { 'content-type': 'application/json', 'access-control-allow-origin': '*' });
  response.end(JSON.stringify(body));
}

/** UTF-8 bytes of the message as JSON (what Playhouse's limit is stated in). */
