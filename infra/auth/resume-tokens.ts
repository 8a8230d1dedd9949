/**
 * Resume tokens: what a device presents to continue its session after a drop,
 * through any gateway. A token binds a player id to the session's current
 * nonce, signed with HMAC-SHA256 under a key derived from the cluster's token
 * secret, so every gateway can check it and nobody can forge one or use another
 * player's. The session itself holds the nonce and replaces it on every
 * connection: a token works once.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const VERSION = 'r1';

export class ResumeTokens {
  private readonly key: Buffer;

  constructor(secret: string) {
    // A key of its own: a resume token can never pass for a player token, nor the reverse.
    this.key = createHmac('sha256', secret).update('playhouse resume tokens').digest();
  }

  issue(playerId: string, nonce: string): string {
    const player = Buffer.from(playerId).toString('base64url');
    return `${VERSION}.${player}.${nonce}.${this.mac(player, nonce)}`;
  }

  /** The nonce a token carries if it is genuine and names `playerId`; undefined otherwise. */
  nonceFor(token: string, playerId: string): string | undefined {
    const parts = token.split('.');
    if (parts.length !== 4 || parts[0] !== VERSION) return undefined;
    const [, player, nonce, mac] = parts as [string, string, string, string];
    const expected = Buffer.from(this.mac(player, nonce));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    if (Buffer.from(player, 'base64url').toString() !== playerId) return undefined;
    return nonce;
  }

  private mac(player: string, nonce: string): string {
    return createHmac('sha256', this.key).update(`${VERSION}.${player}.${nonce}`).digest('base64url');
  }
}
