/** Module paths (from the app root) of the resources every actor process offers. */
export const ACTOR_RESOURCES: readonly string[] = [
  '/infra/actor-resources/metrics-resource',
  '/infra/actor-resources/log-resource',
  '/infra/actor-resources/games-resource',
  '/infra/actor-resources/cluster-resource',
  '/infra/actor-resources/stores-resource',
];
