/**
 * The designer's playground under /playground: a page that seats several
 * test players in any installed game and sends any move as any of them.
 * The page plays through the public protocol (guest logins and the SDK over
 * Socket.IO, like any client), so what it shows is what real clients get;
 * these routes only add what a client cannot ask the protocol: the installed
 * games with their moves (`GET /playground/games`) and their reloads and load
 * errors as they happen (`GET /playground/events`, Server-Sent Events).
 *
 * A development tool: the gateway registers these routes only when the
 * playground is switched on (PLAYHOUSE_PLAYGROUND; off when NODE_ENV is
 * production), so a production server answers 404 under /playground.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LoadedGame } from '../../../actors/ports';
import type { CatalogEvent, GameStatus } from '../../game-catalog';
import { openEventStream } from '../event-stream';
import { summariseGame, type GameSummary } from './game-summary';
import type { Asset } from '../browser-bundle';
import { buildPlaygroundAssets } from './playground-assets';

/** The catalogue as the playground reads it. */
export interface PlaygroundGames {
  get(name: string): LoadedGame | undefined;
  status(): GameStatus[];
  onChange(listener: (event: CatalogEvent) => void): () => void;
}

/** Answers a request under /playground and returns true, or returns false for any other request. */
export type PlaygroundRoute = (request: IncomingMessage, response: ServerResponse, url: URL) => Promise<boolean>;

/** What the event stream sends on every change: the change, and every game as it is now. */
export interface PlaygroundUpdate {
  readonly change: CatalogEvent | null;
  readonly games: readonly GameSummary[];
}

export function playgroundRoutes(games: PlaygroundGames): PlaygroundRoute {
  // Bundled on first visit, not at boot: a server nobody opens the playground on never builds it.
  let assets: ReadonlyMap<string, Asset> | undefined;
  const summaries = () => games.status().map((status) => summariseGame(status, games.get(status.game)));

  return async (request, response, url) => {
    if (request.method !== 'GET' || (url.pathname !== '/playground' && !url.pathname.startsWith('/playground/'))) return false;
    if (url.pathname === '/playground/games') {
      response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache' });
      response.end(JSON.stringify({ games: summaries() }));
      return true;
    }
    if (url.pathname === '/playground/events') {
      streamUpdates(games, summaries, request, response);
      return true;
    }
    assets ??= buildPlaygroundAssets();
    const asset = assets.get(url.pathname === '/playground' ? '/playground/' : url.pathname);
    if (!asset) return false;
    response.writeHead(200, { 'content-type': asset.contentType, 'cache-control': 'no-cache' });
    response.end(asset.body);
    return true;
  };
}

function streamUpdates(games: PlaygroundGames, summaries: () => GameSummary[], request: IncomingMessage, response: ServerResponse): void {
  openEventStream(request, response, (send) => {
    const sendUpdate = (change: CatalogEvent | null) => {
      const update: PlaygroundUpdate = { change, games: summaries() };
      send(update);
    };
    sendUpdate(null);
    return games.onChange(sendUpdate);
  });
}
