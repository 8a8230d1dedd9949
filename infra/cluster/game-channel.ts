/**
 * Game versions across a cluster, through Redis: a process that watches
 * games/ (a gateway, on the machine where designers edit) publishes each
 * version it loaded and checked; every worker process — forked, threaded or
 * on another host, with or without the files — takes it up (checking it again
 * itself) and serves it to new rooms. The newest version of each game is also
 * kept in a hash, so a worker that starts later catches up.
 *
 * Keys: channel `<cluster>:games`, hash `<cluster>:games:latest` (field = game),
 * kept a day after a publisher last wrote or refreshed it (each does every hour
 * while it runs), so a cluster that is gone leaves nothing in Redis for ever.
 */
import { createClient, type RedisClientType } from 'redis';
import { closeRedisClient } from '../stores/redis/redis-connection';
import type { ActorLog } from '../../actors/ports';
import type { HotGameCatalog, PublishedVersion } from '../game-catalog';

const LATEST_KEPT_MS = 24 * 3600_000;
const LATEST_REFRESH_MS = 3600_000;

export interface GameChannelOptions {
  readonly url: string;
  /** The cluster's name: the prefix of its keys and channels. */
  readonly name: string;
  readonly catalog: HotGameCatalog;
  /** Publish this process's versions (it watches the files); workers only follow. */
  readonly publish: boolean;
  readonly log: ActorLog;
}

export class GameChannel {
  private constructor(
    private readonly client: RedisClientType,
    private readonly subscriber: RedisClientType | undefined,
    private readonly stopListening: () => void,
  ) {}

  static async open(options: GameChannelOptions): Promise<GameChannel> {
    const channel = `${options.name}:games`;
    const latest = `${options.name}:games:latest`;
    const client: RedisClientType = createClient({ url: options.url });
    client.on('error', (error: unknown) => options.log.warn({ err: String(error) }, 'game channel: Redis error'));
    await client.connect();

    const take = (json: string) => {
      try {
        const published = JSON.parse(json) as PublishedVersion;
        const event = options.catalog.install(published);
        if (event?.type === 'failed') options.log.error({ game: published.game, version: published.version, error: event.error }, 'a published game version failed its checks here');
      } catch (error) {
        options.log.warn({ err: String(error) }, 'game channel: unreadable message');
      }
    };

    let subscriber: RedisClientType | undefined;
    let stopListening = () => {};
    if (options.publish) {
      const publish = (published: PublishedVersion) => {
        const json = JSON.stringify(published);
        void Promise.all([client.hSet(latest, published.game, json), client.pExpire(latest, LATEST_KEPT_MS), client.publish(channel, json)]).catch((error: unknown) =>
          options.log.warn({ game: published.game, err: String(error) }, 'could not publish a game version'),
        );
      };
      // What serves now, then every new version.
      for (const published of options.catalog.published()) publish(published);
      const stopPublishing = options.catalog.onChange((event) => {
        if (event.type !== 'loaded') return;
        const published = options.catalog.published().find((entry) => entry.game === event.game);
        if (published) publish(published);
      });
      const refresh = setInterval(() => void client.pExpire(latest, LATEST_KEPT_MS).catch(() => undefined), LATEST_REFRESH_MS);
      refresh.unref();
      stopListening = () => {
        stopPublishing();
        clearInterval(refresh);
      };
    } else {
      subscriber = client.duplicate();
      subscriber.on('error', (error: unknown) => options.log.warn({ err: String(error) }, 'game channel: Redis error'));
      await subscriber.connect();
      await subscriber.subscribe(channel, take);
      // Catch up with what was published before this worker started.
      for (const json of Object.values(await client.hGetAll(latest))) take(json);
    }
    return new GameChannel(client, subscriber, stopListening);
  }

  async close(): Promise<void> {
    this.stopListening();
    await Promise.all([this.subscriber ? closeRedisClient(this.subscriber) : undefined, closeRedisClient(this.client)]);
  }
}
