/** comedy resource: opens this process's stores for its persistence actor, injected into workers as 'Stores'. */
import type { StoreConnector } from '../../actors/persistence/stores';
import { processLogger } from '../logger';
import { openStores } from '../stores/open-stores';

export default class StoresResource {
  static getName(): string {
    return 'Stores';
  }
  getResource(): StoreConnector {
    return { open: (config) => openStores(config, processLogger()) };
  }
}
