import path from 'node:path';
import { comedyModule } from '../../actors/kit/comedy';

/** The resources every actor process offers (comedy names: see comedyModule); the context first. */
export const ACTOR_RESOURCES: readonly string[] = ['context-resource', 'cluster-resource', 'stores-resource'].map((name) =>
  comedyModule(path.join(__dirname, name)),
);

/** The resources of actors in a process whose context is already built: that context, then the rest as usual. */
export const ACTOR_RESOURCES_AFTER_CONTEXT: readonly string[] = ACTOR_RESOURCES.slice(1);
