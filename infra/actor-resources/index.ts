/** Module paths (from the app root) of the resources every actor process offers. */
export const ACTOR_RESOURCES: readonly string[] = [
  '/infra/actor-resources/context-resource',
  '/infra/actor-resources/cluster-resource',
  '/infra/actor-resources/stores-resource',
];

/** The resources of actors in a process whose context is already built: that context, then the rest as usual. */
export const ACTOR_RESOURCES_AFTER_CONTEXT: readonly string[] = ACTOR_RESOURCES.slice(1);
