/**
 * Designer and operator endpoints, on the gateway's port under /admin/:
 *
 * - `GET /admin/games`: every game's version serving, its tunables version,
 *   the last load error (file, line, message) and how many rooms of this
 *   process run each version;
 * - `GET /admin/games/events`: the same changes as they happen, as
 *   Server-Sent Events (`npm run games -- watch` and the demo's designer
 *   panel read it).
 *
 * With `PLAYHOUSE_ADMIN_TOKEN` set, a request must carry
 * `Authorization: Bearer <token>` (or `?token=` for EventSource, which cannot
 * set headers). Without it, only a client on this machine talking to the
 * gateway directly is served: a request that came through a proxy (it carries
 * X-Forwarded-For, Forwarded or X-Real-IP) is refused even from loopback,
 * because a load balancer on this machine is loopback to us while its client
 * is anyone on the internet.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorBody } from '../../protocol/errors';
import type { CatalogEvent, GameStatus } from '../game-catalog';
import { cameThroughProxy, isLoopbackPeer } from './client-address';
import { openEventStream } from './event-stream';

export interface GameAdmin {
  status(): GameStatus[];
  onChange(listener: (event: CatalogEvent) => void): () => void;
}

export interface AdminDependencies {
  readonly games: GameAdmin;
  /** Rooms of this process by game and version (from the metrics). */
  roomsByVersion(): Promise<ReadonlyArray<{ readonly game: string; readonly version: string; readonly rooms: number }>>;
  readonly adminToken: string | undefined;
}

/** Answers /admin/ requests; returns false for any other path. */
export async function adminRoute(deps: AdminDependencies, request: IncomingMessage, response: ServerResponse, url: URL): Promise<boolean> {
  if (!url.pathname.startsWith('/admin/')) return false;
  if (!allowed(deps, request, url)) {
    sendJson(response, 403, { error: errorBody('http/forbidden', deps.adminToken ? 'admin endpoints need the admin token' : 'admin endpoints answer only to a direct client on this machine, not through a proxy (set PLAYHOUSE_ADMIN_TOKEN to open them)') });
    return true;
  }
  if (request.method !== 'GET') {
    sendJson(response, 404, { error: errorBody('http/not-found', `${request.method} ${url.pathname} is not served here`) });
    return true;
  }
  if (url.pathname === '/admin/games') {
    const rooms = await deps.roomsByVersion();
    const games = deps.games.status().map((status) => ({
      ...status,
      rooms: Object.fromEntries(rooms.filter((entry) => entry.game === status.game && entry.rooms > 0).map((entry) => [entry.version, entry.rooms])),
    }));
    sendJson(response, 200, { games });
    return true;
  }
  if (url.pathname === '/admin/games/events') {
    streamEvents(deps, request, response);
    return true;
  }
  sendJson(response, 404, { error: errorBody('http/not-found', `${url.pathname} is not served here`) });
  return true;
}

function streamEvents(deps: AdminDependencies, request: IncomingMessage, response: ServerResponse): void {
  openEventStream(request, response, (send) => {
    // First what serves now, then every change.
    send({ games: deps.games.status() }, 'status');
    return deps.games.onChange((event) => send(event, event.type));
  });
}

function allowed(deps: AdminDependencies, request: IncomingMessage, url: URL): boolean {
  if (!deps.adminToken) return isLoopbackPeer(request) && !cameThroughProxy(request);
  const header = request.headers.authorization;
  const given = header?.startsWith('Bearer ') ? header.slice('Bearer '.length) : (url.searchParams.get('token') ?? '');
  const a = Buffer.from(given);
  const b = Buffer.from(deps.adminToken);
  return a.length === b.length && timingSafeEqual(a, b);
}

function sendJson(response: ServerResponse, status: number, body: object): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}
