/**
 * The cluster's backplane on Redis (the `redis` client): pub/sub channels as
 * each node's inbox, keys as the directory, expiring keys as membership.
 *
 * Keys, under the cluster's name (several clusters can share one Redis):
 *   <name>:dir:<address>   node that holds the actor
 *   <name>:owned:<node>    set of addresses the node holds (kept 5 min after it dies)
 *   <name>:alive:<node>    the node's last heartbeat (NodeInfo JSON), expires after deadAfterMs
 *   <name>:nodes           set of node ids that have sent a heartbeat
 * Channels: <name>:inbox:<node> (batches of frames), <name>:down (node ids that are gone).
 *
 * Liveness is decided by Redis (an `alive` key that expired), not by any
 * host's clock, so hosts with skewed clocks agree on who is dead.
 */
import { createClient, type RedisClientType } from 'redis';
import type { Backplane, NodeInfo } from '../../actors/cluster/backplane';
import type { NodeId } from '../../actors/cluster/frames';
import type { Address } from '../../actors/messages';
import type { ActorLog } from '../../actors/ports';

/** Claim unless a live node already holds it: KEYS dir, owned-set of ARGV[1]; ARGV node, address, alive-key prefix. */
const CLAIM = `
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

/** Forget every entry of a dead node (those it still owns), keep the list of what it held for a while. */
const SWEEP = `
local removed = 0
for _, address in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local key = ARGV[2] .. address
  if redis.call('GET', key) == ARGV[1] then redis.call('DEL', key); removed = removed + 1 end
end
redis.call('PEXPIRE', KEYS[1], 300000)
redis.call('DEL', KEYS[2])
redis.call('SREM', KEYS[3], ARGV[1])
return removed`;

export interface RedisBackplaneOptions {
  readonly url: string;
  /** Prefix of every key and channel. */
  readonly name: string;
  readonly log: ActorLog;
}

export class RedisBackplane implements Backplane {
  private readonly commands: RedisClientType;
  private readonly subscriber: RedisClientType;
  private readonly prefix: string;
  private readonly downListeners: Array<(node: NodeId) => void> = [];
  private closed = false;

  private constructor(private readonly options: RedisBackplaneOptions) {
    this.prefix = `${options.name}:`;
    this.commands = createClient({ url: options.url });
    this.subscriber = this.commands.duplicate();
    for (const client of [this.commands, this.subscriber]) {
      client.on('error', (error: unknown) => {
        if (!this.closed) options.log.warn({ err: String(error) }, 'redis (cluster backplane) error');
      });
    }
  }

  static async connect(options: RedisBackplaneOptions): Promise<RedisBackplane> {
    const backplane = new RedisBackplane(options);
    await Promise.all([backplane.commands.connect(), backplane.subscriber.connect()]);
    await backplane.subscriber.subscribe(`${backplane.prefix}down`, (node) => {
      for (const listener of backplane.downListeners) listener(node);
    });
    return backplane;
  }

  send(to: NodeId, batch: string): void {
    this.commands.publish(`${this.prefix}inbox:${to}`, batch).catch((error: unknown) => {
      if (!this.closed) this.options.log.warn({ to, err: String(error) }, 'publishing a batch failed');
    });
  }

  async listen(node: NodeId, onBatch: (batch: string) => void): Promise<void> {
    await this.subscriber.subscribe(`${this.prefix}inbox:${node}`, onBatch);
  }

  async owner(address: Address): Promise<NodeId | undefined> {
    return (await this.commands.get(this.dirKey(address))) ?? undefined;
  }

  async claim(address: Address, node: NodeId): Promise<NodeId> {
    const owner = await this.commands.eval(CLAIM, {
      keys: [this.dirKey(address), `${this.prefix}owned:${node}`],
      arguments: [node, address, `${this.prefix}alive:`],
    });
    return String(owner);
  }

  async release(address: Address, node: NodeId): Promise<void> {
    await this.commands.eval(RELEASE, { keys: [this.dirKey(address), `${this.prefix}owned:${node}`], arguments: [node, address] });
  }

  async sweep(node: NodeId): Promise<number> {
    const removed = await this.commands.eval(SWEEP, {
      keys: [`${this.prefix}owned:${node}`, `${this.prefix}alive:${node}`, `${this.prefix}nodes`],
      arguments: [node, `${this.prefix}dir:`],
    });
    return Number(removed);
  }

  async ownedBy(node: NodeId): Promise<Address[]> {
    return this.commands.sMembers(`${this.prefix}owned:${node}`);
  }

  async heartbeat(info: NodeInfo, ttlMs: number): Promise<void> {
    await this.commands
      .multi()
      .set(`${this.prefix}alive:${info.id}`, JSON.stringify(info), { PX: ttlMs })
      .sAdd(`${this.prefix}nodes`, info.id)
      .exec();
  }

  async members(): Promise<NodeInfo[]> {
    const ids = await this.commands.sMembers(`${this.prefix}nodes`);
    if (ids.length === 0) return [];
    const values = await this.commands.mGet(ids.map((id) => `${this.prefix}alive:${id}`));
    const members: NodeInfo[] = [];
    values.forEach((value) => {
      if (value) members.push(JSON.parse(value) as NodeInfo);
    });
    return members;
  }

  async announceDown(node: NodeId): Promise<void> {
    await this.commands.del(`${this.prefix}alive:${node}`);
    await this.commands.publish(`${this.prefix}down`, node);
  }

  onDown(listener: (node: NodeId) => void): void {
    this.downListeners.push(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([this.subscriber.quit(), this.commands.quit()]);
  }

  private dirKey(address: Address): string {
    return `${this.prefix}dir:${address}`;
  }
}
