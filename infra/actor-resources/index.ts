import path from 'node:path';
import { comedyModule } from '../../actors/kit/comedy';

/** The resources every actor process offers (comedy names: see comedyModule). */
export const ACTOR_RESOURCES: readonly string[] = ['metrics-resource', 'log-resource', 'games-resource', 'cluster-resource', 'stores-resource'].map((name) =>
  comedyModule(path.join(__dirname, name)),
);
