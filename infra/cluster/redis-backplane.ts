/**
 * The cluster's backplane on Redis (the `redis` client): pub/sub channels as
 * each node's inbox, keys as the directory, expiring keys as membership.
 *
 * Keys, under the cluster's name (several clusters can share one Redis):
 *   <name>:dir:<address>   node that holds the actor
 *   <name>:owned:<node>    set of addresses the node holds (kept 5 min after it dies)
 *   <name>:alive:<node>    the node's last heartbeat (NodeInfo JSON), expires after deadAfterMs
 *   <name>:nodes           set of node ids that have sent a heartbeat
 *   <name>:fenced:<node>   the highest epoch of that node declared gone (kept a day)
 *   <name>:epoch           the last epoch handed out (kept a day after the last node started, as fences are)
 * Channels: <name>:inbox:<node> (batches of frames), <name>:down ('<node> <epoch>' of incarnations gone).
 *
 * Liveness is decided by Redis (an `alive` key that expired), not by any
 * host's clock, so hosts with skewed clocks agree on who is dead. Declaring a
 * node gone and its heartbeat are each one script, so exactly one of them
 * wins: a node is either alive after all or fenced, never both.
 *
 * Commands fail at once while Redis is unreachable (no offline queue): a
 * heartbeat that cannot be written is a failed heartbeat, and a frame that
 * cannot be published is lost (its ask times out) rather than delivered late.
 */
import { createClient, type RedisClientType } from 'redis';
import { closeRedisClient } from '../stores/redis/redis-connection';
import type { Backplane, HeartbeatResult, NodeInfo } from '../../actors/cluster/backplane';
import type { NodeId } from '../../actors/cluster/frames';
import type { Address } from '../../actors/messages';
import type { ActorLog } from '../../actors/ports';

/**
 * Claim unless a live node already holds it, or the claimant was declared gone.
 * KEYS dir, owned-set of the claimant, its fence; ARGV node, address, alive-key prefix.
 */
const CLAIM = `
if redis.call('EXISTS', KEYS[3]) == 1 then return redis.call('GET', KEYS[1]) or '' end
local current = redis.call('GET', KEYS[1])
if current and current ~= ARGV[1] and redis.call('EXISTS', ARGV[3] .. current) == 1 then return current end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
return ARGV[1]`;

/** Delete the entry only if this node still owns it. */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
redis.call('SREM', KEYS[2], ARGV[2])
return 1`;

/**
 * A new epoch: microseconds of Redis's own clock, and always above the last one handed out, so a Redis
 * restarted empty still hands out epochs above those of the nodes that outlived it. The counter expires
 * with the fences it must stay above, so a cluster that is gone leaves nothing behind for ever.
 * KEYS the epoch counter; ARGV how long it is kept, ms.
 */
const NEW_EPOCH = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
local epoch = math.max(now, last + 1)
local text = string.format('%.0f', epoch)
redis.call('SET', KEYS[1], text, 'PX', ARGV[1])
return text`;

/**
 * A heartbeat, unless this incarnation was fenced; says whether its membership had been lost meanwhile.
 * KEYS alive, fence, nodes; ARGV node, epoch, info JSON, ttl ms.
 */
const HEARTBEAT = `
local fence = redis.call('GET', KEYS[2])
if fence and tonumber(fence) >= tonumber(ARGV[2]) then return 'fenced' end
local previous = redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4], 'GET')
redis.call('SADD', KEYS[3], ARGV[1])
if previous then
  local ok, info = pcall(cjson.decode, previous)
  if ok and type(info) == 'table' and tonumber(info.epoch) == tonumber(ARGV[2]) then return 'alive' end
end
return 'rejoined'`;

/**
 * Declare an incarnation gone unless its heartbeat is alive (ARGV[6] '1': it says so itself, alive or not):
 * fence it, forget the directory entries it still owns, keep the list of what it held for a while.
 * KEYS alive, fence, owned-set, nodes; ARGV node, epoch, dir prefix, fence ttl ms, owned-list ttl ms, self.
 */
const DECLARE_GONE = `
local epoch = tonumber(ARGV[2])
local current = redis.call('GET', KEYS[1])
local newer = false
if current then
  local ok, info = pcall(cjson.decode, current)
  local aliveEpoch = ok and type(info) == 'table' and tonumber(info.epoch) or 0
  if aliveEpoch > epoch then newer = true
  elseif ARGV[6] == '1' and aliveEpoch == epoch then redis.call('DEL', KEYS[1])
  else return 0 end
end
local fence = tonumber(redis.call('GET', KEYS[2]) or '0')
if fence < epoch then redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[4]) end
for _, address in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  local key = ARGV[3] .. address
  if redis.call('GET', key) == ARGV[1] then redis.call('DEL', key) end
end
redis.call('PEXPIRE', KEYS[3], ARGV[5])
if not newer then redis.call('SREM', KEYS[4], ARGV[1]) end
return 1`;

/** A fenced incarnation stays refused this long: longer than any stall a process wakes up from. */
const FENCE_TTL_MS = 24 * 3600_000;
/** What a dead node held stays readable this long, for survivors that hear of the death late. */
const OWNED_LIST_TTL_MS = 300_000;

export interface RedisBackplaneOptions {
  readonly url: string;
  /** Prefix of every key and channel. */
  readonly name: string;
  readonly log: ActorLog;
}

/** The longest pause between two attempts to reach Redis again. */
const MAX_RECONNECT_DELAY_MS = 500;

export class RedisBackplane implements Backplane {
  private readonly commands: RedisClientType;
  private readonly subscriber: RedisClientType;
  private readonly prefix: string;
  private readonly downListeners: Array<(node: NodeId, epoch: number) => void> = [];
  private closed = false;

  private constructor(options: RedisBackplaneOptions) {
    this.prefix = `${options.name}:`;
    this.commands = createClient({
      url: options.url,
      disableOfflineQueue: true,
      socket: {
        // Always reconnect (the client's default gives up for good after a socket timeout), and soon: every node
        // must be back within the observers' settling time after an outage (see ClusterNode).
        reconnectStrategy: (retries) => Math.min(50 * 2 ** retries, MAX_RECONNECT_DELAY_MS) + Math.floor(Math.random() * 50),
      },
    });
    this.subscriber = this.commands.duplicate();
    for (const client of [this.commands, this.subscriber]) {
      // The client reconnects by itself (every ≤ half a second): say so once per outage, not at every attempt.
      let failing = false;
      client.on('error', (error: unknown) => {
        if (this.closed) return;
        if (failing) options.log.debug({ err: String(error) }, 'redis (cluster backplane) still unreachable');
        else options.log.warn({ err: String(error) }, 'redis (cluster backplane) error; reconnecting');
        failing = true;
      });
      client.on('ready', () => (failing = false));
    }
  }

  static async connect(options: RedisBackplaneOptions): Promise<RedisBackplane> {
    const backplane = new RedisBackplane(options);
    await Promise.all([backplane.commands.connect(), backplane.subscriber.connect()]);
    await backplane.subscriber.subscribe(`${backplane.prefix}down`, (message) => {
      const [node, epoch] = message.split(' ');
      if (!node || !epoch) return;
      for (const listener of backplane.downListeners) listener(node, Number(epoch));
    });
    return backplane;
  }

  async send(to: NodeId, batch: string): Promise<void> {
    await this.commands.publish(`${this.prefix}inbox:${to}`, batch);
  }

  async listen(node: NodeId, onBatch: (batch: string) => void): Promise<void> {
    await this.subscriber.subscribe(`${this.prefix}inbox:${node}`, onBatch);
  }

  async unlisten(node: NodeId): Promise<void> {
    await this.subscriber.unsubscribe(`${this.prefix}inbox:${node}`);
  }

  async owner(address: Address): Promise<NodeId | undefined> {
    return (await this.commands.get(this.dirKey(address))) ?? undefined;
  }

  async claim(address: Address, node: NodeId): Promise<NodeId> {
    const owner = await this.commands.eval(CLAIM, {
      keys: [this.dirKey(address), this.key('owned', node), this.key('fenced', node)],
      arguments: [node, address, `${this.prefix}alive:`],
    });
    return String(owner);
  }

  async release(address: Address, node: NodeId): Promise<void> {
    await this.commands.eval(RELEASE, { keys: [this.dirKey(address), this.key('owned', node)], arguments: [node, address] });
  }

  async ownedBy(node: NodeId): Promise<Address[]> {
    return this.commands.sMembers(this.key('owned', node));
  }

  async newEpoch(): Promise<number> {
    return Number(await this.commands.eval(NEW_EPOCH, { keys: [`${this.prefix}epoch`], arguments: [String(FENCE_TTL_MS)] }));
  }

  async heartbeat(info: NodeInfo, ttlMs: number): Promise<HeartbeatResult> {
    const result = await this.commands.eval(HEARTBEAT, {
      keys: [this.key('alive', info.id), this.key('fenced', info.id), `${this.prefix}nodes`],
      arguments: [info.id, String(info.epoch), JSON.stringify(info), String(ttlMs)],
    });
    return String(result) as HeartbeatResult;
  }

  async members(): Promise<NodeInfo[]> {
    const ids = await this.commands.sMembers(`${this.prefix}nodes`);
    if (ids.length === 0) return [];
    const values = await this.commands.mGet(ids.map((id) => this.key('alive', id)));
    const members: NodeInfo[] = [];
    values.forEach((value) => {
      if (value) members.push(JSON.parse(value) as NodeInfo);
    });
    return members;
  }

  declareGone(node: NodeId, epoch: number): Promise<boolean> {
    return this.runDeclare(node, epoch, false);
  }

  async announceDown(node: NodeId, epoch: number): Promise<void> {
    await this.runDeclare(node, epoch, true);
    await this.commands.publish(`${this.prefix}down`, `${node} ${epoch}`);
  }

  onDown(listener: (node: NodeId, epoch: number) => void): void {
    this.downListeners.push(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([closeRedisClient(this.subscriber), closeRedisClient(this.commands)]);
  }

  private async runDeclare(node: NodeId, epoch: number, self: boolean): Promise<boolean> {
    const declared = await this.commands.eval(DECLARE_GONE, {
      keys: [this.key('alive', node), this.key('fenced', node), this.key('owned', node), `${this.prefix}nodes`],
      arguments: [node, String(epoch), `${this.prefix}dir:`, String(FENCE_TTL_MS), String(OWNED_LIST_TTL_MS), self ? '1' : '0'],
    });
    return Number(declared) === 1;
  }

  private dirKey(address: Address): string {
    return `${this.prefix}dir:${address}`;
  }

  private key(kind: 'alive' | 'owned' | 'fenced', node: NodeId): string {
    return `${this.prefix}${kind}:${node}`;
  }
}
