/**
 * Signed player tokens (JWT, HS256 via `jose`). The token names the player; a
 * client cannot act as another player without the server's secret.
 */
import { randomUUID } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';

export interface PlayerIdentity {
  readonly playerId: string;
  readonly name: string;
}

export class PlayerTokens {
  private readonly key: Uint8Array;

  constructor(
    secret: string,
    private readonly ttlSeconds: number,
  ) {
    this.key = new TextEncoder().encode(secret);
  }

  /** A new guest: a fresh player id and a token for it. */
  async issueGuest(name: string | undefined): Promise<PlayerIdentity & { token: string; expiresAt: number }> {
    const playerId = `g-${randomUUID()}`;
    const identity = { playerId, name: name ?? `Guest ${playerId.slice(2, 6)}` };
    const expiresAt = Date.now() + this.ttlSeconds * 1000;
    const token = await new SignJWT({ name: identity.name })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(playerId)
      .setIssuedAt()
      .setExpirationTime(Math.floor(expiresAt / 1000))
      .sign(this.key);
    return { ...identity, token, expiresAt };
  }

  /** The identity a token carries; throws if it is forged, expired or malformed. */
  async verify(token: string): Promise<PlayerIdentity> {
    const { payload } = await jwtVerify(token, this.key, { algorithms: ['HS256'] });
    if (typeof payload.sub !== 'string' || typeof payload.name !== 'string') throw new Error('token lacks subject or name');
    return { playerId: payload.sub, name: payload.name };
  }
}
