/**
 * The gateway's probes on their own: /livez answers while the process runs,
 * whatever the actors or the drain say; /readyz (and /healthz, its older
 * name) answers 503 with the reasons while the actors cannot serve or the
 * gateway drains.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import type { Readiness } from '../../actors/system';
import { PlayerTokens } from '../../infra/auth/player-tokens';
import { SignInLimiter } from '../../infra/auth/sign-in-limiter';
import { clientAddressResolver } from '../../infra/gateway/client-address';
import { createRoutes } from '../../infra/gateway/http-routes';
import { PlayhouseMetrics } from '../../infra/metrics';

interface ProbeAnswer {
  readonly status: number;
  readonly body: { status: string; reasons?: string[]; gateway: string };
}

let server: Server | undefined;
let base = '';
let accepting = true;
let readiness: Readiness = { ready: true, reasons: [] };

before(async () => {
  const routes = createRoutes({
    gatewayId: 'gw-probe-test',
    tokens: new PlayerTokens('x'.repeat(32), 60),
    metrics: new PlayhouseMetrics(),
    demo: { get: () => undefined },
    signIn: SignInLimiter.inMemory({ attempts: 10, windowSeconds: 60 }),
    clientAddress: clientAddressResolver([]),
    isAccepting: () => accepting,
    readiness: () => readiness,
  });
  server = createServer(routes).listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => server?.close());

async function probe(path: string): Promise<ProbeAnswer> {
  const response = await fetch(`${base}${path}`);
  return { status: response.status, body: (await response.json()) as ProbeAnswer['body'] };
}

function setState(state: { accepting: boolean; readiness: Readiness }): void {
  accepting = state.accepting;
  readiness = state.readiness;
}

test('ready and accepting: /livez, /readyz and /healthz all answer 200', async () => {
  setState({ accepting: true, readiness: { ready: true, reasons: [] } });
  assert.equal((await probe('/livez')).status, 200);
  for (const path of ['/readyz', '/healthz']) {
    const answer = await probe(path);
    assert.equal(answer.status, 200, path);
    assert.equal(answer.body.status, 'ok');
    assert.equal(answer.body.gateway, 'gw-probe-test');
  }
});

test('actors that cannot serve: /readyz and /healthz answer 503 with their reasons, /livez still 200', async () => {
  const reasons = ['the cluster backplane (Redis) is unreachable', 'no worker is alive and taking players'];
  setState({ accepting: true, readiness: { ready: false, reasons } });
  for (const path of ['/readyz', '/healthz']) {
    const answer = await probe(path);
    assert.equal(answer.status, 503, path);
    assert.equal(answer.body.status, 'not-ready');
    assert.deepEqual(answer.body.reasons, reasons);
  }
  const live = await probe('/livez');
  assert.equal(live.status, 200, 'liveness does not depend on Redis or workers: a restart would fix neither');
  assert.equal(live.body.status, 'alive');
});

test('draining: /readyz and /healthz answer 503 draining even with ready actors, /livez still 200', async () => {
  setState({ accepting: false, readiness: { ready: true, reasons: [] } });
  for (const path of ['/readyz', '/healthz']) {
    const answer = await probe(path);
    assert.equal(answer.status, 503, path);
    assert.equal(answer.body.status, 'draining');
    assert.match(answer.body.reasons?.[0] ?? '', /shutting down/);
  }
  assert.equal((await probe('/livez')).status, 200, 'a draining gateway is alive: killing it would cut its clients short');
});
