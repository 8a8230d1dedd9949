/**
 * How often one client address may sign in: a fixed window of `attempts` per
 * `windowSeconds` (rate-limiter-flexible). Every sign-in route asks `admit`
 * before doing any work, so a script cannot mint accounts or guess
 * credentials faster than that.
 *
 * One process (`single`) counts in memory. The gateways of a cluster count
 * together on the cluster's Redis (keys `<cluster>:sign-in:<address>`, each
 * expiring with its window), so a client cannot multiply its allowance by
 * spreading over gateways. While Redis is unreachable each gateway falls back
 * to counting in its own memory rather than refusing everyone or no one.
 */
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { createClient, type RedisClientType } from 'redis';
import type { ActorLog } from '../../actors/ports';
import { closeRedisClient } from '../stores/redis/redis-connection';

export interface SignInLimits {
  readonly attempts: number;
  readonly windowSeconds: number;
}

export type SignInVerdict = { readonly admitted: true } | { readonly admitted: false; readonly retryAfterMs: number };

export class SignInLimiter {
  private constructor(
    private readonly limiter: RateLimiterAbstract,
    private readonly onClose: () => Promise<void>,
  ) {}

  /** Counts in this process's memory (the single-process default). */
  static inMemory(limits: SignInLimits): SignInLimiter {
    return new SignInLimiter(memoryLimiter(limits), async () => undefined);
  }

  /** Counts on Redis, shared by every gateway of the cluster `name`; in memory while Redis is away. */
  static async onRedis(limits: SignInLimits, redis: { readonly url: string; readonly name: string; readonly log: ActorLog }): Promise<SignInLimiter> {
    const client: RedisClientType = createClient({ url: redis.url, disableOfflineQueue: true });
    let failing = false;
    client.on('error', (error: unknown) => {
      if (!failing) redis.log.warn({ err: String(error) }, 'redis (sign-in limits) unreachable; counting sign-ins per gateway meanwhile');
      failing = true;
    });
    client.on('ready', () => (failing = false));
    await client.connect();
    const limiter = new RateLimiterRedis({
      storeClient: client,
      useRedisPackage: true,
      rejectIfRedisNotReady: true,
      keyPrefix: `${redis.name}:sign-in`,
      points: limits.attempts,
      duration: limits.windowSeconds,
      insuranceLimiter: memoryLimiter(limits),
    });
    return new SignInLimiter(limiter, () => closeRedisClient(client));
  }

  /** Counts one sign-in attempt from `clientAddress`; refused past the limit, with the wait until the window ends. */
  async admit(clientAddress: string): Promise<SignInVerdict> {
    try {
      await this.limiter.consume(clientAddress);
      return { admitted: true };
    } catch (rejection: unknown) {
      if (rejection instanceof RateLimiterRes) return { admitted: false, retryAfterMs: Math.max(1, Math.ceil(rejection.msBeforeNext)) };
      throw rejection;
    }
  }

  close(): Promise<void> {
    return this.onClose();
  }
}

function memoryLimiter(limits: SignInLimits): RateLimiterMemory {
  return new RateLimiterMemory({ keyPrefix: 'sign-in', points: limits.attempts, duration: limits.windowSeconds });
}
