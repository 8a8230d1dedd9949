/**
 * Away sessions' resume state in Redis (the `redis` client): one JSON value
 * per player, `<name>:session:<playerId>`, expiring when the grace period
 * ends, so a session whose worker died can be taken up on another worker.
 */
import { createClient, type RedisClientType } from 'redis';
import type { SavedSession, SessionStateStore } from '../../actors/ports';

export class RedisSessionStore implements SessionStateStore {
  private constructor(
    private readonly client: RedisClientType,
    private readonly prefix: string,
  ) {}

  static async connect(options: { readonly url: string; readonly name: string }): Promise<RedisSessionStore> {
    const client: RedisClientType = createClient({ url: options.url });
    // Errors surface on each command; without a listener a dropped connection would crash the process.
    client.on('error', () => undefined);
    await client.connect();
    return new RedisSessionStore(client, `${options.name}:session:`);
  }

  async save(state: SavedSession): Promise<void> {
    const ttlMs = Math.max(1, state.graceEndsAt - Date.now());
    await this.client.set(this.prefix + state.playerId, JSON.stringify(state), { PX: ttlMs });
  }

  async load(playerId: string): Promise<SavedSession | undefined> {
    const json = await this.client.get(this.prefix + playerId);
    return json ? (JSON.parse(json) as SavedSession) : undefined;
  }

  async remove(playerId: string): Promise<void> {
    await this.client.del(this.prefix + playerId);
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
