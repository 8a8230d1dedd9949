/**
 * Plain HTTP endpoints beside Socket.IO: health probes, metrics, guest login
 * (rate-limited per client address), and the demo page (unless turned off). Socket.IO answers its own path (/socket.io/) on the same
 * server.
 *
 * Two probes, because they answer different questions: /livez "is this
 * process's event loop answering?" (200 for as long as it runs, even while it
 * drains or cannot reach Redis: an orchestrator restarts a process whose
 * liveness fails, and a restart fixes neither), and /readyz "should clients
 * be sent here now?" (503 with the reasons while draining, or while the
 * actors cannot serve: no backplane, no worker). /healthz is /readyz under its
 * older name, for load balancers configured with it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readiness } from '../../actors/system';
import { errorBody } from '../../protocol/errors';
import type { GuestLoginResponse } from '../../protocol/messages';
import { checkGuestLogin } from '../../protocol/wire-checks';
import type { PlayerTokens } from '../auth/player-tokens';
import type { SignInLimiter } from '../auth/sign-in-limiter';
import type { PlayhouseMetrics } from '../metrics';
import { adminRoute, type AdminDependencies } from './admin-routes';
import type { ClientAddressOf } from './client-address';
import type { DemoAssets } from './demo-assets';

export interface RouteDependencies {
  readonly gatewayId: string;
  readonly tokens: PlayerTokens;
  readonly metrics: PlayhouseMetrics;
  readonly demo: DemoAssets;
  /** How often one client address may sign in, and who the client is (behind trusted proxies: from X-Forwarded-For). */
  readonly signIn: SignInLimiter;
  readonly clientAddress: ClientAddressOf;
  /** False once shutdown began: /readyz then answers 503 so load balancers stop sending clients. */
  isAccepting(): boolean;
  /** Whether the actors behind this gateway can serve players now (see ActorSystemHandle.readiness). */
  readiness(): Readiness;
  /** The designer and operator endpoints under /admin/. */
  readonly admin?: AdminDependencies;
  /** The designer's playground under /playground (infra/gateway/playground/); absent where it is off. */
  readonly playground?: (request: IncomingMessage, response: ServerResponse, url: URL) => Promise<boolean>;
}

const LOGIN_BODY_LIMIT = 1024;

export function createRoutes(deps: RouteDependencies): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    // Socket.IO handles its own path; everything else is ours.
    if (request.url?.startsWith('/socket.io/')) return;
    route(deps, request, response).catch((error: unknown) => {
      if (!response.headersSent) sendJson(response, 500, { error: errorBody('server/internal', String(error)) });
    });
  };
}

async function route(deps: RouteDependencies, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const method = request.method ?? 'GET';

  if (url.pathname === '/livez' && method === 'GET') {
    return sendJson(response, 200, { status: 'alive', gateway: deps.gatewayId, uptimeSeconds: Math.round(process.uptime()) });
  }
  if ((url.pathname === '/readyz' || url.pathname === '/healthz') && method === 'GET') {
    const readiness = gatewayReadiness(deps);
    return sendJson(response, readiness.status === 'ok' ? 200 : 503, { ...readiness, gateway: deps.gatewayId, uptimeSeconds: Math.round(process.uptime()) });
  }
  if (url.pathname === '/metrics' && method === 'GET') {
    const body = await deps.metrics.registry.metrics();
    response.writeHead(200, { 'content-type': deps.metrics.registry.contentType });
    response.end(body);
    return;
  }
  if (deps.admin && (await adminRoute(deps.admin, request, response, url))) return;
  if (deps.playground && (await deps.playground(request, response, url))) return;
  if (url.pathname === '/v1/auth/guest') {
    if (method === 'OPTIONS') return sendCors(response);
    if (method !== 'POST') return sendJson(response, 405, { error: errorBody('auth/bad-request', 'use POST') });
    if (await signInRefused(deps, request, response)) return;
    return guestLogin(deps, request, response);
  }
  if (method === 'GET') {
    const asset = deps.demo.get(url.pathname);
    if (asset) {
      response.writeHead(200, { 'content-type': asset.contentType, 'cache-control': 'no-cache' });
      response.end(asset.body);
      return;
    }
  }
  sendJson(response, 404, { error: errorBody('http/not-found', `${method} ${url.pathname} is not served here`) });
}

/** What /readyz answers: draining comes first (it is the gateway's own decision), then what the actors report. */
function gatewayReadiness(deps: RouteDependencies): { status: 'ok' | 'draining' | 'not-ready'; reasons: readonly string[] } {
  if (!deps.isAccepting()) return { status: 'draining', reasons: ['the gateway is shutting down and takes no new clients'] };
  const { ready, reasons } = deps.readiness();
  return ready ? { status: 'ok', reasons: [] } : { status: 'not-ready', reasons };
}

/**
 * Counts a sign-in attempt from the request's client; past the limit answers 429 with Retry-After and
 * `auth/rate-limited` (with `retryAfterMs`) and returns true. Every sign-in route calls this first.
 */
async function signInRefused(deps: RouteDependencies, request: IncomingMessage, response: ServerResponse): Promise<boolean> {
  const verdict = await deps.signIn.admit(deps.clientAddress(request));
  if (verdict.admitted) return false;
  const { retryAfterMs } = verdict;
  sendJson(response, 429, { error: errorBody('auth/rate-limited', undefined, { retryAfterMs }) }, { 'retry-after': String(Math.ceil(retryAfterMs / 1000)) });
  return true;
}

async function guestLogin(deps: RouteDependencies, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > LOGIN_BODY_LIMIT) return sendJson(response, 413, { error: errorBody('protocol/payload-too-large', `login body over ${LOGIN_BODY_LIMIT} bytes`) });
    chunks.push(chunk);
  }
  const login = checkGuestLogin(Buffer.concat(chunks).toString('utf8'));
  if (!login.ok) return sendJson(response, 400, { error: login.error });
  const issued = await deps.tokens.issueGuest(login.value.name);
  const reply: GuestLoginResponse = { playerId: issued.playerId, name: issued.name, token: issued.token, expiresAt: issued.expiresAt };
  sendJson(response, 200, reply);
}

function sendJson(response: ServerResponse, status: number, body: object, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', 'access-control-allow-origin': '*', ...headers });
  response.end(JSON.stringify(body));
}

function sendCors(response: ServerResponse): void {
  response.writeHead(204, {
    'access-control-allow-origin': '*',
    'access-control-allow-methods': 'POST, OPTIONS',
    'access-control-allow-headers': 'content-type',
    'access-control-max-age': '86400',
  });
  response.end();
}
