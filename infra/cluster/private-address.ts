/**
 * Is an address on a private network? comedy's remote listeners accept anyone
 * who can reach them, so Playhouse refuses to place workers on (or listen on)
 * a public address unless told explicitly.
 */
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

const PRIVATE = new BlockList();
PRIVATE.addSubnet('127.0.0.0', 8, 'ipv4');
PRIVATE.addSubnet('10.0.0.0', 8, 'ipv4');
PRIVATE.addSubnet('172.16.0.0', 12, 'ipv4');
PRIVATE.addSubnet('192.168.0.0', 16, 'ipv4');
PRIVATE.addSubnet('169.254.0.0', 16, 'ipv4');
PRIVATE.addSubnet('100.64.0.0', 10, 'ipv4'); // carrier-grade NAT / many VPC overlays
PRIVATE.addAddress('::1', 'ipv6');
PRIVATE.addSubnet('fc00::', 7, 'ipv6');
PRIVATE.addSubnet('fe80::', 10, 'ipv6');

/** True for loopback, RFC 1918, link-local and unique-local addresses; hostnames are resolved first. */
export async function isPrivateAddress(hostOrAddress: string): Promise<boolean> {
  const family = isIP(hostOrAddress);
  if (family === 0) {
    const resolved = await lookup(hostOrAddress, { all: true }).catch(() => []);
    if (resolved.length === 0) return false;
    const checks = await Promise.all(resolved.map((entry) => isPrivateAddress(entry.address)));
    return checks.every(Boolean);
  }
  return PRIVATE.check(hostOrAddress, family === 4 ? 'ipv4' : 'ipv6');
}

/** Listening on every interface is public by definition. */
export function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::' || address === '';
}
