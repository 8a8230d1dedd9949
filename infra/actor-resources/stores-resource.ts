/** comedy resource: opens this process's stores for its persistence actor, injected into workers as 'Stores'. */
import type { StoreConnector } from '../../actors/persistence/stores';
import { RESOURCE } from '../../actors/ports';
import type { ProcessContext } from '../process-context';
import { openStores } from '../stores/open-stores';

export default class StoresResource {
  constructor(private readonly context: ProcessContext) {}

  static getName(): string {
    return RESOURCE.stores;
  }

  static inject(): string[] {
    return [RESOURCE.context];
  }

  getResource(): StoreConnector {
    return { open: (config) => openStores(config, this.context.log) };
  }
}
