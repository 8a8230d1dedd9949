/** comedy resource: connects a worker to the cluster's Redis backplane, injected into workers as 'Cluster'. */
import type { Backplane } from '../../actors/cluster/backplane';
import { RESOURCE, type ClusterConnector } from '../../actors/ports';
import { GameChannel } from '../cluster/game-channel';
import { RedisBackplane } from '../cluster/redis-backplane';
import { RedisRoomLog } from '../cluster/redis-room-log';
import type { ProcessContext } from '../process-context';
import { RedisSessionStore } from '../stores/redis/redis-session-store';

export default class ClusterResource {
  constructor(private readonly context: ProcessContext) {}

  static getName(): string {
    return RESOURCE.cluster;
  }

  static inject(): string[] {
    return [RESOURCE.context];
  }

  getResource(): ClusterConnector {
    const { log, games } = this.context;
    return {
      connect: (options): Promise<Backplane> => RedisBackplane.connect({ ...options, log }),
      sessionStore: (options) => RedisSessionStore.connect({ ...options, log }),
      roomLog: (options) => RedisRoomLog.connect({ ...options, log }),
      async followGames(options) {
        const channel = await GameChannel.open({ ...options, catalog: games, publish: false, log });
        return () => channel.close();
      },
    };
  }
}
