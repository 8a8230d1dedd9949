/**
 * Who sent an HTTP request. Behind a load balancer the TCP peer is the
 * balancer, and the client's address is in X-Forwarded-For, which anyone can
 * also write: the header is believed only from the configured trusted proxies
 * (proxy-addr walks it from the nearest hop and stops at the first address
 * that is not a trusted proxy).
 */
import type { IncomingMessage } from 'node:http';
import proxyaddr from 'proxy-addr';

/** Headers a proxy adds on the way in; a request carrying any of them did not come straight from its client. */
const PROXY_HEADERS = ['x-forwarded-for', 'forwarded', 'x-real-ip'] as const;

export type ClientAddressOf = (request: IncomingMessage) => string;

/** The client's address, taking X-Forwarded-For only from the trusted proxies (addresses, CIDRs, `loopback`, ...). */
export function clientAddressResolver(trustedProxies: readonly string[]): ClientAddressOf {
  const trust = proxyaddr.compile([...trustedProxies]);
  return (request) => proxyaddr(request, trust);
}

/** Whether the request passed through a proxy (it carries a forwarding header), trusted or not. */
export function cameThroughProxy(request: IncomingMessage): boolean {
  return PROXY_HEADERS.some((header) => request.headers[header] !== undefined);
}

/** The TCP peer is this machine. */
export function isLoopbackPeer(request: IncomingMessage): boolean {
  const address = request.socket.remoteAddress;
  return address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';
}
