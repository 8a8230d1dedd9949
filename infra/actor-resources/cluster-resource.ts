/** comedy resource: connects a worker to the cluster's Redis backplane, injected into workers as 'Cluster'. */
import type { Backplane } from '../../actors/cluster/backplane';
import type { ClusterConnector } from '../../actors/ports';
import { GameChannel } from '../cluster/game-channel';
import { RedisBackplane } from '../cluster/redis-backplane';
import { RedisRoomLog } from '../cluster/redis-room-log';
import { processGames } from '../game-catalog';
import { RedisSessionStore } from '../stores/redis/redis-session-store';
import { processLogger } from '../logger';

export default class ClusterResource {
  static getName(): string {
    return 'Cluster';
  }
  getResource(): ClusterConnector {
    return {
      connect: (options): Promise<Backplane> => RedisBackplane.connect({ ...options, log: processLogger() }),
      sessionStore: (options) => RedisSessionStore.connect({ ...options, log: processLogger() }),
      roomLog: (options) => RedisRoomLog.connect({ ...options, log: processLogger() }),
      async followGames(options) {
        const channel = await GameChannel.open({ ...options, catalog: processGames(), publish: false, log: processLogger() });
        return () => channel.close();
      },
    };
  }
}
