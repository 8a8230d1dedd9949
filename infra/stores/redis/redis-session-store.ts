/**
 * Away sessions' resume state in Redis: one JSON value per player,
 * `<name>:session:<playerId>`, expiring when the grace period ends (PX), so a
 * session whose worker died can be taken up on another worker.
 *
 * On the fail-fast store connection: while Redis is down every call rejects
 * at once with StoreUnavailableError (a session then starts without what was
 * saved, or is not saved), instead of waiting for Redis to come back.
 */
import { savedSessionExpiresAt, type ActorLog, type SavedSession, type SessionStateStore } from '../../../actors/ports';
import { RedisStoreConnection } from './redis-connection';

export interface RedisSessionStoreOptions {
  readonly url: string;
  /** The cluster's name: prefix of the keys. */
  readonly name: string;
  readonly log?: ActorLog;
  /** See RedisStoreConnectionOptions. */
  readonly callTimeoutMs?: number;
  readonly maxReconnectDelayMs?: number;
}

export class RedisSessionStore implements SessionStateStore {
  private constructor(
    private readonly connection: RedisStoreConnection,
    private readonly prefix: string,
  ) {}

  /** Opens the store; when Redis is unreachable it still opens, and its calls fail until Redis is back. */
  static async connect(options: RedisSessionStoreOptions): Promise<RedisSessionStore> {
    const connection = await RedisStoreConnection.open({ ...options, store: 'redis sessions' });
    return new RedisSessionStore(connection, `${options.name}:session:`);
  }

  async save(state: SavedSession): Promise<void> {
    const ttlMs = Math.max(1, savedSessionExpiresAt(state, Date.now()) - Date.now());
    await this.connection.call((client) => client.set(this.prefix + state.playerId, JSON.stringify(state), { PX: ttlMs }));
  }

  async load(playerId: string): Promise<SavedSession | undefined> {
    const json = await this.connection.call((client) => client.get(this.prefix + playerId));
    return json ? (JSON.parse(json) as SavedSession) : undefined;
  }

  async remove(playerId: string): Promise<void> {
    await this.connection.call((client) => client.del(this.prefix + playerId));
  }

  async close(): Promise<void> {
    await this.connection.close();
  }
}
