/** comedy resource: this process's logger, injected into actors as 'Log'. */
import type { ActorLog } from '../../actors/ports';
import { processLogger } from '../logger';

export default class LogResource {
  static getName(): string {
    return 'Log';
  }
  getResource(): ActorLog {
    return processLogger();
  }
}
