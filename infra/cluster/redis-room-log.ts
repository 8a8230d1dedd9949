/**
 * Rooms' input logs on the cluster's Redis (see RoomLog in actors/ports.ts).
 *
 * Keys, under the cluster's name:
 *   <name>:roomlog:<roomId>        a stream: one entry per input, id '<seq>-1', field 'e' the entry's JSON
 *   <name>:roomlog:<roomId>:meta   a hash: 'generation' (the holder's fencing token), 'last' (the last seq
 *                                  appended, kept across trims), 'open' (the room's first entry)
 * Both expire a day after the room last wrote (a room whose players never came back).
 *
 * Each call is one script, so a fence check and the write it guards are one
 * step. The guarantee of "no acknowledged move lost" holds against a worker's
 * death as it stands; against a crash of Redis itself it needs Redis to keep
 * an append-only file fsynced on every write (README, "What a cluster survives").
 */
import { RoomLogFencedError, RoomLogLostError, type ActorLog, type RoomInput, type RoomLog, type RoomLogEntry } from '../../actors/ports';
import { LuaScript, RedisStoreConnection } from '../stores/redis/redis-connection';

/**
 * KEYS stream, meta; ARGV generation, ttl ms, base seq, then seq and JSON of each entry.
 * Returns -1 when fenced, -2 when the log lost its history and the entries do not follow the base, else the last seq.
 */
const APPEND = new LuaScript(`
local generation = tonumber(ARGV[1])
local current = tonumber(redis.call('HGET', KEYS[2], 'generation') or '0')
if current > generation then return -1 end
local last = tonumber(redis.call('HGET', KEYS[2], 'last') or '-2')
if last == -2 then
  local first = tonumber(ARGV[4])
  if first ~= 0 and first ~= tonumber(ARGV[3]) + 1 then return -2 end
  last = first - 1
end
if current < generation then redis.call('HSET', KEYS[2], 'generation', ARGV[1]) end
for i = 4, #ARGV, 2 do
  local seq = tonumber(ARGV[i])
  if seq > last then
    redis.call('XADD', KEYS[1], ARGV[i] .. '-1', 'e', ARGV[i + 1])
    if seq == 0 then redis.call('HSET', KEYS[2], 'open', ARGV[i + 1]) end
    last = seq
  end
end
redis.call('HSET', KEYS[2], 'last', last)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return last`);

/** KEYS stream, meta; ARGV after seq (-1: all), ttl ms. Returns {the new generation, entries}. */
const TAKE_OVER = new LuaScript(`
local generation = redis.call('HINCRBY', KEYS[2], 'generation', 1)
redis.call('PEXPIRE', KEYS[2], ARGV[2])
local start = '-'
if tonumber(ARGV[1]) >= 0 then start = '(' .. ARGV[1] .. '-1' end
return {generation, redis.call('XRANGE', KEYS[1], start, '+')}`);

/** A room's log lives this long after its last write. */
const LOG_TTL_MS = 24 * 3600_000;

type StreamEntry = [string, string[]];

export interface RedisRoomLogOptions {
  readonly url: string;
  /** The cluster's name: prefix of the keys. */
  readonly name: string;
  readonly log?: ActorLog;
}

export class RedisRoomLog implements RoomLog {
  private constructor(
    private readonly connection: RedisStoreConnection,
    private readonly prefix: string,
  ) {}

  /** Opens the log; when Redis is unreachable it still opens, and its calls fail (StoreUnavailableError) until Redis is back. */
  static async connect(options: RedisRoomLogOptions): Promise<RedisRoomLog> {
    const connection = await RedisStoreConnection.open({ ...options, store: 'redis room log' });
    return new RedisRoomLog(connection, `${options.name}:roomlog:`);
  }

  async append(roomId: string, generation: number, base: number, entries: readonly RoomLogEntry[]): Promise<void> {
    const args = [String(generation), String(LOG_TTL_MS), String(base)];
    for (const entry of entries) args.push(String(entry.seq), JSON.stringify(entry));
    const last = Number(await this.connection.call(() => this.connection.runScript(APPEND, this.keys(roomId), args)));
    if (last === -1) throw new RoomLogFencedError(roomId, generation);
    if (last === -2) throw new RoomLogLostError(roomId);
  }

  async takeOver(roomId: string, afterSeq: number): Promise<{ readonly generation: number; readonly entries: RoomLogEntry[] }> {
    const [generation, stream] = (await this.connection.call(() =>
      this.connection.runScript(TAKE_OVER, this.keys(roomId), [String(afterSeq), String(LOG_TTL_MS)]),
    )) as [number, StreamEntry[]];
    return { generation: Number(generation), entries: stream.map(([, fields]) => JSON.parse(fields[1]!) as RoomLogEntry) };
  }

  async opening(roomId: string): Promise<Extract<RoomInput, { type: 'open' }> | undefined> {
    const json = await this.connection.call((client) => client.hGet(this.keys(roomId)[1]!, 'open'));
    if (!json) return undefined;
    const entry = JSON.parse(json) as RoomLogEntry;
    return entry.input.type === 'open' ? entry.input : undefined;
  }

  async trim(roomId: string, seq: number): Promise<void> {
    await this.connection.call((client) => client.xTrim(this.keys(roomId)[0]!, 'MINID', `${seq + 1}`));
  }

  async remove(roomId: string): Promise<void> {
    await this.connection.call((client) => client.del(this.keys(roomId)));
  }

  async close(): Promise<void> {
    await this.connection.close();
  }

  private keys(roomId: string): string[] {
    return [this.prefix + roomId, `${this.prefix}${roomId}:meta`];
  }
}
