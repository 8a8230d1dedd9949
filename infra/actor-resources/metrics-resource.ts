/** comedy resource: this process's metrics, injected into actors as 'Metrics'. */
import type { ActorMetrics } from '../../actors/ports';
import { processMetrics } from '../metrics';

export default class MetricsResource {
  static getName(): string {
    return 'Metrics';
  }
  getResource(): ActorMetrics {
    return processMetrics();
  }
}
