/**
 * The load balancer in infra/nginx/: the rendered config passes `nginx -t`,
 * and real nginx (Debian's nginx-light, unprivileged paths in a temp dir) in
 * front of two tiny Node servers keeps one client's Socket.IO long-polling
 * session on one backend, passes WebSocket upgrades, replaces
 * X-Forwarded-For, keeps /metrics internal and takes a draining gateway out
 * of rotation. The backends are plain HTTP servers that behave like
 * engine.io where it matters (a poll with a sid the backend did not issue is
 * answered 400 "Session ID unknown"), not Playhouse.
 *
 * Several "clients" come from different loopback addresses (127.0.0.2,
 * 127.0.0.3, ...), which Linux routes to lo: that is how a phone's address
 * changing mid-session is exercised.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import WebSocket, { WebSocketServer } from 'ws';
import { renderNginxConfig } from '../../infra/nginx/render';
import { httpRequest, type HttpReply } from '../support/http-request';
import { NGINX, haveNginx, nginxArgs, renderIntoTempDir, startNginx, type RunningNginx } from '../support/nginx';

const ROOT = path.resolve(__dirname, '../..');
const inCI = process.env.CI === 'true';
const skipNginx = !haveNginx() && !inCI ? `${NGINX} is missing (apt-get install nginx-light); the nginx tests are skipped` : false;
if (skipNginx) console.log(`# ${skipNginx}`);

/** Called first in each nginx test: only reached without nginx when CI=true (otherwise the test is skipped). */
function requireNginx(): void {
  if (!haveNginx()) throw new Error(`CI=true but ${NGINX} is missing: install Debian's nginx-light package so the load balancer can be tested`);
}

// ------------------------------------------------------------------ renderer

test('the renderer fills every placeholder and refuses input that would break the config', () => {
  const config = renderNginxConfig({ listenPort: 8080, gateways: ['10.0.1.10:8080', 'gw-2:8080', '[fd00::2]:8080'], workDir: '/tmp/ph-nginx/' });
  assert.doesNotMatch(config, /\{\{/);
  assert.match(config, /^\s*listen 8080;$/m);
  assert.match(config, /^\s*server 10\.0\.1\.10:8080 max_fails=2 fail_timeout=10s;$/m);
  assert.match(config, /^\s*server \[fd00::2\]:8080 /m);
  assert.match(config, /^pid \/tmp\/ph-nginx\/nginx\.pid;$/m, 'trailing slash of workDir dropped');
  assert.match(config, /^\s*hash \$gateway_hash_key consistent;$/m);
  assert.match(config, /location = \/metrics \{\n\s*allow 127\.0\.0\.1;\n\s*allow ::1;\n\s*deny all;$/m, '/metrics: loopback only by default');
  assert.match(config, /location \^~ \/admin\/ \{\n\s*allow 127\.0\.0\.1;\n\s*allow ::1;\n\s*deny all;$/m, '/admin/: loopback only by default');
  assert.doesNotMatch(config, /ssl/, 'no TLS unless asked');
  assert.doesNotMatch(config, /\/(etc|var)\//, 'no path outside workDir');

  const bad: Array<[string, () => string]> = [
    ['gateway', () => renderNginxConfig({ listenPort: 80, gateways: ['10.0.0.1:80; include /etc/passwd'], workDir: '/tmp/x' })],
    ['gateway', () => renderNginxConfig({ listenPort: 80, gateways: ['10.0.0.1'], workDir: '/tmp/x' })],
    ['gateways', () => renderNginxConfig({ listenPort: 80, gateways: [], workDir: '/tmp/x' })],
    ['workDir', () => renderNginxConfig({ listenPort: 80, gateways: ['a:1'], workDir: 'relative/dir' })],
    ['workDir', () => renderNginxConfig({ listenPort: 80, gateways: ['a:1'], workDir: '/tmp/has space' })],
    ['listenPort', () => renderNginxConfig({ listenPort: 0, gateways: ['a:1'], workDir: '/tmp/x' })],
    ['internalNetwork', () => renderNginxConfig({ listenPort: 80, gateways: ['a:1'], workDir: '/tmp/x', internalNetwork: 'all' })],
    ['internalNetwork', () => renderNginxConfig({ listenPort: 80, gateways: ['a:1'], workDir: '/tmp/x', internalNetwork: [] })],
    ['tls.certificate', () => renderNginxConfig({ listenPort: 443, gateways: ['a:1'], workDir: '/tmp/x', tls: { certificate: 'cert.pem', certificateKey: '/k.pem' } })],
    ['tls.certificateKey', () => renderNginxConfig({ listenPort: 443, gateways: ['a:1'], workDir: '/tmp/x', tls: { certificate: '/c.pem', certificateKey: '/k.pem; x' } })],
  ];
  for (const [field, render] of bad) assert.throws(render, new RegExp(`cannot render the nginx config:[\\s\\S]*${field}`), field);
  assert.throws(() => renderNginxConfig({ listenPort: 80, gateways: ['a:1'], workDir: '/tmp/x' }, 'x {{NOPE}}'), /unknown placeholder \{\{NOPE\}\}/);
});

test('infra/docker/nginx.conf is the rendered template (regenerate it as DEPLOYMENT.md says)', () => {
  const expected = renderNginxConfig({
    listenPort: 8080,
    gateways: ['172.28.0.11:8080', '172.28.0.12:8080'],
    workDir: '/tmp',
    internalNetwork: '172.28.0.0/16',
    logToStdio: true,
  });
  assert.equal(readFileSync(path.join(ROOT, 'infra/docker/nginx.conf'), 'utf8'), expected);
});

test('nginx -t accepts the rendered config, run from a temp dir', { skip: skipNginx, timeout: 30_000 }, async () => {
  requireNginx();
  const workDir = renderIntoTempDir({ listenPort: 18080, listenAddress: '127.0.0.1', gateways: ['127.0.0.1:18081', '127.0.0.1:18082'], workerProcesses: 1 });
  try {
    const child = spawn(NGINX, nginxArgs(workDir, '-t'), { stdio: ['ignore', 'ignore', 'pipe'] });
    let output = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0, output);
    assert.match(output, /syntax is ok/);
    assert.match(output, /test is successful/);
    assert.ok(existsSync(path.join(workDir, 'proxy_temp')), 'temp paths live in the work dir');
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
});

test('with a certificate, nginx serves TLS on the listen port and passes the gateways\' answers', { skip: skipNginx, timeout: 30_000 }, async () => {
  requireNginx();
  const rendered = renderNginxConfig({ listenPort: 8443, gateways: ['10.0.1.10:8080'], workDir: '/tmp/x', tls: { certificate: '/etc/playhouse/tls/fullchain.pem', certificateKey: '/etc/playhouse/tls/privkey.pem' } });
  assert.match(rendered, /^\s*listen 8443 ssl;$/m);
  assert.match(rendered, /^\s*ssl_certificate\s+\/etc\/playhouse\/tls\/fullchain\.pem;$/m);
  assert.match(rendered, /^\s*ssl_protocols\s+TLSv1\.2 TLSv1\.3;$/m);

  // A self-signed certificate for 127.0.0.1, trusted by this client only.
  const certs = mkdtempSync(path.join(tmpdir(), 'playhouse-tls-'));
  const certificate = path.join(certs, 'cert.pem');
  const certificateKey = path.join(certs, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', certificateKey, '-out', certificate], { stdio: 'ignore' });
  const backend = new Backend('tls-backend');
  let nginx: RunningNginx | undefined;
  try {
    nginx = await startNginx({ gateways: [await backend.listen()], tls: { certificate, certificateKey } });
    assert.match(nginx.url, /^https:\/\//);
    const reply = await new Promise<{ status: number; body: string; protocol: string }>((resolve, reject) => {
      const outgoing = httpsGet(`${nginx!.url}/v1/who`, { ca: readFileSync(certificate), agent: false }, (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body, protocol: (response.socket as import('node:tls').TLSSocket).getProtocol?.() ?? '' }));
      });
      outgoing.on('error', reject);
    });
    assert.equal(reply.status, 200, reply.body);
    assert.equal((JSON.parse(reply.body) as { backend: string }).backend, 'tls-backend');
    assert.match(reply.protocol, /^TLSv1\.[23]$/);
    // Plain HTTP on the TLS port is refused by nginx, not passed on.
    const plain = await httpRequest(nginx.url.replace('https:', 'http:'), '/v1/who');
    assert.equal(plain.status, 400);
  } finally {
    await nginx?.stop();
    await backend.close();
    rmSync(certs, { recursive: true, force: true });
  }
});

// ------------------------------------------------------------- behind nginx

/** What a Socket.IO client does over HTTP: keeps cookies, repeats its query, polls with its sid. */
class PollingClient {
  private cookie: string | undefined;
  sid: string | undefined;
  readonly backends: string[] = [];

  constructor(
    private readonly url: string,
    private readonly query = '',
  ) {}

  get cookieHeader(): string | undefined {
    return this.cookie;
  }

  async poll(from: string, method: 'GET' | 'POST' = 'GET'): Promise<HttpReply> {
    const sid = this.sid === undefined ? '' : `&sid=${this.sid}`;
    const reply = await httpRequest(this.url, `/socket.io/?EIO=4&transport=polling&t=${Date.now().toString(36)}${this.query}${sid}`, {
      from,
      method,
      headers: { ...(this.cookie ? { cookie: this.cookie } : {}), ...(method === 'POST' ? { 'content-type': 'text/plain;charset=UTF-8' } : {}) },
      ...(method === 'POST' ? { body: '42["ping"]' } : {}),
    });
    const setCookie = reply.headers['set-cookie']?.[0];
    if (setCookie) this.cookie = setCookie.split(';')[0];
    this.backends.push(String(reply.headers['x-backend']));
    if (this.sid === undefined && reply.status === 200) this.sid = (JSON.parse(reply.body.slice(1)) as { sid: string }).sid;
    return reply;
  }
}

/** A backend that answers with its name and behaves like engine.io about sids. */
class Backend {
  readonly server: Server;
  readonly sessions = new Set<string>();
  draining = false;
  healthProbes = 0;
  private issued = 0;
  private readonly sockets = new WebSocketServer({ noServer: true });

  constructor(readonly name: string) {
    this.server = createServer((req, res) => this.answer(req.url ?? '/', req.method ?? 'GET', req.headers, res));
    this.server.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://backend');
      const sid = url.searchParams.get('sid');
      if (url.pathname !== '/socket.io/' || (sid !== null && !this.sessions.has(sid))) {
        socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
        return;
      }
      this.sockets.handleUpgrade(req, socket, head, (ws) => {
        ws.on('message', (data) => ws.send(`${this.name}:${String(data)}`));
      });
    });
  }

  async listen(): Promise<string> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    const address = this.server.address();
    assert.ok(address && typeof address === 'object');
    return `127.0.0.1:${address.port}`;
  }

  async close(): Promise<void> {
    for (const client of this.sockets.clients) client.terminate();
    this.sockets.close();
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }

  private answer(rawUrl: string, method: string, headers: IncomingHttpHeaders, res: ServerResponse): void {
    const url = new URL(rawUrl, 'http://backend');
    const reply = (status: number, body: string) => {
      res.writeHead(status, { 'content-type': 'text/plain', 'x-backend': this.name });
      res.end(body);
    };
    if (url.pathname === '/socket.io/') {
      const sid = url.searchParams.get('sid');
      if (sid === null) {
        const issued = `${this.name}-${++this.issued}`;
        this.sessions.add(issued);
        return reply(200, `0${JSON.stringify({ sid: issued, upgrades: ['websocket'], pingInterval: 10000, pingTimeout: 5000, maxPayload: 1000000 })}`);
      }
      if (!this.sessions.has(sid)) return reply(400, JSON.stringify({ code: 1, message: 'Session ID unknown' }));
      return reply(200, method === 'POST' ? 'ok' : '6');
    }
    if (url.pathname === '/healthz') {
      this.healthProbes++;
      return reply(this.draining ? 503 : 200, this.draining ? 'draining' : 'ok');
    }
    if (url.pathname === '/metrics') return reply(200, `# metrics of ${this.name}\n`);
    return reply(200, JSON.stringify({ backend: this.name, path: rawUrl, xForwardedFor: headers['x-forwarded-for'], xRealIp: headers['x-real-ip'] }));
  }
}

/** Linux routes all of 127.0.0.0/8 to lo; other systems may not. */
async function loopbackAliases(): Promise<boolean> {
  const probe = createNetServer();
  try {
    probe.listen(0, '127.0.0.2');
    await Promise.race([once(probe, 'listening'), once(probe, 'error').then(() => Promise.reject(new Error('no alias')))]);
    probe.close();
    return true;
  } catch {
    return false;
  }
}

const address = (n: number) => `127.0.0.${n}`;

describe('nginx in front of two backends', { skip: skipNginx, timeout: 30_000 }, () => {
  let alpha: Backend;
  let beta: Backend;
  let nginx: RunningNginx | undefined;
  let aliases = false;

  before(async () => {
    requireNginx();
    aliases = await loopbackAliases();
    alpha = new Backend('alpha');
    beta = new Backend('beta');
    const gateways = [await alpha.listen(), await beta.listen()];
    // /metrics is allowed from 127.0.0.2 only: plain 127.0.0.1 is "outside".
    nginx = await startNginx({ gateways, internalNetwork: '127.0.0.2/32' });
  });

  after(async () => {
    await nginx?.stop();
    await alpha?.close();
    await beta?.close();
  });

  const url = () => {
    assert.ok(nginx, 'nginx started');
    return nginx.url;
  };
  const needAliases = (t: { skip(message: string): void }): boolean => {
    if (!aliases) t.skip('127.0.0.2 and up cannot be bound here (not Linux?): client address changes cannot be simulated');
    return aliases;
  };

  test('a polling session stays on its backend: handshake, then polls and posts with its sid', async () => {
    const client = new PollingClient(url());
    const handshake = await client.poll('127.0.0.1');
    assert.equal(handshake.status, 200, handshake.body);
    assert.match(handshake.body, /^0\{"sid":/);
    assert.equal(client.cookieHeader, 'phlb=127.0.0.1', 'the first response pins the client with the key that placed it');
    for (let i = 0; i < 10; i++) {
      const reply = await client.poll('127.0.0.1', i % 2 === 0 ? 'GET' : 'POST');
      assert.equal(reply.status, 200, `poll ${i}: ${reply.body}`);
      assert.equal(reply.headers['set-cookie'], undefined, 'a client with the cookie is not sent another');
    }
    assert.equal(new Set(client.backends).size, 1, `every request on one backend: ${client.backends.join(',')}`);
  });

  test('the cookie keeps a session on its backend when the client address changes mid-session', async (t) => {
    if (!needAliases(t)) return;
    // Without the cookie, addresses spread over both backends: an address-only
    // key (ip_hash) would move a session whose address changes.
    const seen = new Set<string>();
    for (let n = 2; n < 60 && seen.size < 2; n++) seen.add(String((await httpRequest(url(), '/socket.io/?EIO=4&transport=polling', { from: address(n) })).headers['x-backend']));
    assert.equal(seen.size, 2, 'cookie-less clients from different addresses reach both backends');

    for (const start of [2, 3, 4, 5]) {
      const client = new PollingClient(url());
      assert.equal((await client.poll(address(start))).status, 200);
      for (let n = 10; n < 30; n++) {
        const reply = await client.poll(address(n));
        assert.equal(reply.status, 200, `from ${address(n)}: ${reply.body}`);
      }
      assert.equal(new Set(client.backends).size, 1, `session from ${address(start)} stayed: ${client.backends.join(',')}`);
    }
  });

  test('a client-chosen phlb query parameter keeps a cookie-less client on one backend from any address', async (t) => {
    if (!needAliases(t)) return;
    const placements = new Map<string, string>();
    for (let i = 0; i < 40 && new Set(placements.values()).size < 2; i++) {
      // No cookie is ever sent back (like a native client without a cookie jar).
      const backends = new Set<string>();
      let sid: string | undefined;
      for (let n = 2; n < 8; n++) {
        const reply = await httpRequest(url(), `/socket.io/?EIO=4&transport=polling&phlb=install-${i}${sid ? `&sid=${sid}` : ''}`, { from: address(n) });
        assert.equal(reply.status, 200, reply.body);
        sid ??= (JSON.parse(reply.body.slice(1)) as { sid: string }).sid;
        backends.add(String(reply.headers['x-backend']));
      }
      assert.equal(backends.size, 1, `install-${i} stayed on one backend`);
      placements.set(`install-${i}`, [...backends][0]!);
    }
    assert.equal(new Set(placements.values()).size, 2, 'different ids spread over both backends');
  });

  test('a WebSocket upgrade passes through and reaches the backend that issued the sid', async () => {
    const client = new PollingClient(url(), '&phlb=ws-client');
    assert.equal((await client.poll('127.0.0.1')).status, 200);
    const ws = new WebSocket(`${url().replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket&phlb=ws-client&sid=${client.sid}`, {
      headers: client.cookieHeader ? { cookie: client.cookieHeader } : {},
    });
    const closed = once(ws, 'close');
    try {
      await once(ws, 'open');
      ws.send('hello');
      const [data] = (await Promise.race([once(ws, 'message'), closed.then(() => Promise.reject(new Error('closed before answering')))])) as [Buffer];
      assert.equal(String(data), `${client.backends[0]}:hello`);
    } finally {
      ws.close();
      await closed;
    }
  });

  test('X-Forwarded-For is the client address, whatever the client claims', async () => {
    const reply = await httpRequest(url(), '/v1/anything', { headers: { 'x-forwarded-for': '6.6.6.6' } });
    const seen = JSON.parse(reply.body) as { xForwardedFor?: string; xRealIp?: string };
    assert.equal(seen.xForwardedFor, '127.0.0.1');
    assert.equal(seen.xRealIp, '127.0.0.1');
  });

  test('/metrics is refused outside the internal network, including through path tricks', async (t) => {
    for (const trick of ['/metrics', '/metrics?x=1', '//metrics', '/%6detrics', '/x/../metrics', '/%2e/metrics']) {
      assert.equal((await httpRequest(url(), trick)).status, 403, trick);
    }
    // The gateway's URL parser reads "/.\metrics" as "/metrics"; nginx refuses backslashes.
    for (const trick of ['/.\\metrics', '/x/..\\metrics']) assert.equal((await httpRequest(url(), trick)).status, 400, trick);
    if (!needAliases(t)) return;
    const inside = await httpRequest(url(), '/metrics', { from: '127.0.0.2' });
    assert.equal(inside.status, 200);
    assert.match(inside.body, /^# metrics of (alpha|beta)/);
  });
});

describe('nginx takes a draining gateway out of rotation (passive /healthz check)', { skip: skipNginx, timeout: 30_000 }, () => {
  let alpha: Backend;
  let beta: Backend;
  let nginx: RunningNginx | undefined;

  before(async () => {
    requireNginx();
    alpha = new Backend('alpha');
    beta = new Backend('beta');
    nginx = await startNginx({ gateways: [await alpha.listen(), await beta.listen()] });
  });

  after(async () => {
    await nginx?.stop();
    await alpha?.close();
    await beta?.close();
  });

  test('/healthz answers 200 while one gateway accepts, and new clients of the draining one go elsewhere', async () => {
    assert.ok(nginx);
    const { url } = nginx;
    assert.equal((await httpRequest(url, '/nginx-healthz')).status, 200);

    // A client id that beta serves while it is healthy.
    let betaKey: string | undefined;
    for (let i = 0; i < 40 && betaKey === undefined; i++) {
      const reply = await httpRequest(url, `/v1/who?phlb=key-${i}`);
      if (reply.headers['x-backend'] === 'beta') betaKey = `key-${i}`;
    }
    assert.ok(betaKey, 'some key maps to beta');

    beta.draining = true;
    // Probes go to a random gateway each; beta's 503s count as failures (max_fails=2).
    for (let i = 0; i < 60 && beta.healthProbes < 2; i++) {
      const probe = await httpRequest(url, '/healthz');
      assert.equal(probe.status, 200, 'answered by the gateway that still accepts');
      assert.equal(probe.headers['x-backend'], 'alpha');
    }
    assert.ok(beta.healthProbes >= 2, `beta was probed ${beta.healthProbes} times`);
    const moved = await httpRequest(url, `/v1/who?phlb=${betaKey}`);
    assert.equal(moved.headers['x-backend'], 'alpha', `beta's client goes to alpha while beta drains\n${nginx.errorLog()}`);
  });
});
