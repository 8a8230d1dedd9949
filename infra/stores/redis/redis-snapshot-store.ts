/**
 * Snapshots in Redis: each document a hash `<prefix>snapshot:<key>` with the
 * fields `version` and `data` (JSON). Writes and removals are Lua scripts that
 * compare the stored version with the expected one and only then change the
 * hash, so the check and the write are one atomic step on the server — two
 * writers from the same version cannot both win.
 *
 * Durability is Redis's own (AOF/RDB as the server is configured): this driver
 * suits deployments that already trust their Redis with data.
 */
import {
  readEach,
  VersionConflictError,
  type JsonObject,
  type SnapshotStore,
  type SnapshotWrite,
  type SnapshotWriteOutcome,
  type StoredSnapshot,
} from '../../../actors/persistence/stores';
import type { ActorLog } from '../../../actors/ports';
import { LuaScript, RedisStoreConnection } from './redis-connection';

/** KEYS[1] the hash; ARGV expected version, JSON. Answers {1, new version} or {0, stored version}. */
const WRITE = new LuaScript(`
local stored = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if stored ~= tonumber(ARGV[1]) then return {0, stored} end
redis.call('HSET', KEYS[1], 'version', stored + 1, 'data', ARGV[2])
return {1, stored + 1}`);

/** KEYS[1] the hash; ARGV expected version. Answers {1, 0} or {0, stored version}. */
const REMOVE = new LuaScript(`
local stored = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if stored ~= tonumber(ARGV[1]) then return {0, stored} end
redis.call('DEL', KEYS[1])
return {1, 0}`);

export interface RedisSnapshotStoreOptions {
  readonly url: string;
  /** Put before every key, so several deployments (or test runs) can share one Redis ('playhouse:'). */
  readonly prefix: string;
  readonly log?: ActorLog;
  /** See RedisStoreConnectionOptions. */
  readonly callTimeoutMs?: number;
  readonly maxReconnectDelayMs?: number;
}

export class RedisSnapshotStore implements SnapshotStore {
  readonly driver = 'redis';

  private constructor(
    private readonly connection: RedisStoreConnection,
    private readonly prefix: string,
  ) {}

  /** Opens the store; when Redis is unreachable it still opens, and its calls fail until Redis is back. */
  static async open(options: RedisSnapshotStoreOptions): Promise<RedisSnapshotStore> {
    const connection = await RedisStoreConnection.open({ ...options, store: 'redis snapshots' });
    return new RedisSnapshotStore(connection, options.prefix);
  }

  async read(key: string): Promise<StoredSnapshot | undefined> {
    const [version, data] = await this.connection.call((client) => client.hmGet(this.hashKey(key), ['version', 'data']));
    if (version === null || version === undefined || data === null || data === undefined) return undefined;
    return { key, version: Number(version), data: parseDocument(key, data) };
  }

  readMany(keys: readonly string[]): Promise<Map<string, StoredSnapshot>> {
    return readEach(this, keys);
  }

  async write(key: string, data: JsonObject, expectedVersion: number): Promise<number> {
    const outcome = await this.connection.call(() => this.apply({ key, data, expectedVersion }));
    if (outcome instanceof VersionConflictError) throw outcome;
    return outcome;
  }

  async remove(key: string, expectedVersion: number): Promise<void> {
    const outcome = await this.connection.call(() => this.apply({ key, data: null, expectedVersion }));
    if (outcome instanceof VersionConflictError) throw outcome;
  }

  /**
   * Every script is sent in the same turn, so the client writes them out
   * together: one round trip. Each is atomic on its own; the batch is not (it
   * does not need to be: each write answers for itself).
   */
  async writeBatch(writes: readonly SnapshotWrite[]): Promise<SnapshotWriteOutcome[]> {
    if (writes.length === 0) return [];
    return this.connection.call(() => Promise.all(writes.map((write) => this.apply(write))));
  }

  async close(): Promise<void> {
    await this.connection.close();
  }

  private async apply(write: SnapshotWrite): Promise<SnapshotWriteOutcome> {
    const hash = this.hashKey(write.key);
    const expected = String(write.expectedVersion);
    const reply =
      write.data === null
        ? await this.connection.runScript(REMOVE, [hash], [expected])
        : await this.connection.runScript(WRITE, [hash], [expected, JSON.stringify(write.data)]);
    const [applied, version] = scriptReply(reply);
    return applied ? version : new VersionConflictError(write.key, write.expectedVersion, version);
  }

  private hashKey(key: string): string {
    return `${this.prefix}snapshot:${key}`;
  }
}

/** The {applied, version} pair both scripts answer with. */
function scriptReply(reply: unknown): [boolean, number] {
  if (!Array.isArray(reply) || reply.length !== 2 || typeof reply[0] !== 'number' || typeof reply[1] !== 'number') {
    throw new Error(`unexpected answer from a snapshot script: ${JSON.stringify(reply)}`);
  }
  return [reply[0] === 1, reply[1]];
}

function parseDocument(key: string, json: string): JsonObject {
  const data: unknown = JSON.parse(json);
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new Error(`the snapshot under ${key} is not a JSON object`);
  return data as JsonObject;
}
