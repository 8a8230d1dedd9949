/**
 * One typed configuration, validated at boot. Defaults suit `npm start` on a
 * laptop; every field that operators change has an environment variable.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { z } from 'zod';

const Placement = z.enum(['in-memory', 'forked', 'threaded']);

export const ConfigSchema = z.strictObject({
  /** TCP port of the gateway (HTTP + Socket.IO). 0 picks a free port. */
  port: z.number().int().min(0).max(65535).default(8080),
  host: z.string().min(1).default('0.0.0.0'),
  gatewayId: z.string().regex(/^[A-Za-z0-9_.-]+$/).default(`gw-${hostname()}-${process.pid}`),
  log: z.strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') }).default({ level: 'info' }),
  auth: z
    .strictObject({
      /** HMAC secret for player tokens; every gateway of a cluster must share it. */
      secret: z.string().min(32, 'must be at least 32 characters').optional(),
      tokenTtlSeconds: z.number().int().min(60).default(7 * 24 * 3600),
    })
    .default({ tokenTtlSeconds: 7 * 24 * 3600 }),
  limits: z
    .strictObject({
      /** Largest accepted message; larger ones get `protocol/payload-too-large`. */
      maxMessageBytes: z.number().int().min(256).default(4096),
      /** Largest WebSocket frame / HTTP poll body at all; past it the connection is closed. */
      maxFrameBytes: z.number().int().min(1024).default(64 * 1024),
      /** Per-session token bucket: sustained requests per second and burst size. */
      requestsPerSecond: z.number().positive().default(20),
      requestBurst: z.number().int().min(1).default(40),
      /** A connection sending this many events within one second is disconnected (`session/flood`). */
      floodEventsPerSecond: z.number().int().min(10).default(200),
    })
    .default({ maxMessageBytes: 4096, maxFrameBytes: 64 * 1024, requestsPerSecond: 20, requestBurst: 40, floodEventsPerSecond: 200 }),
  heartbeat: z
    .strictObject({
      pingIntervalMs: z.number().int().min(1000).default(10_000),
      pingTimeoutMs: z.number().int().min(1000).default(5_000),
    })
    .default({ pingIntervalMs: 10_000, pingTimeoutMs: 5_000 }),
  actors: z
    .strictObject({
      placement: z
        .strictObject({ session: Placement.default('in-memory'), room: Placement.default('in-memory'), lobby: Placement.default('in-memory') })
        .default({ session: 'in-memory', room: 'in-memory', lobby: 'in-memory' }),
      /** Messages that may wait in one actor's mailbox; past it new ones are refused with `server/overloaded`. */
      mailboxCapacity: z
        .strictObject({ session: z.number().int().min(1).default(256), room: z.number().int().min(1).default(1024), lobby: z.number().int().min(1).default(4096) })
        .default({ session: 256, room: 1024, lobby: 4096 }),
      askTimeoutMs: z.number().int().min(100).default(5000),
    })
    .default({
      placement: { session: 'in-memory', room: 'in-memory', lobby: 'in-memory' },
      mailboxCapacity: { session: 256, room: 1024, lobby: 4096 },
      askTimeoutMs: 5000,
    }),
});

export type PlayhouseConfig = z.infer<typeof ConfigSchema> & { readonly auth: { readonly secret: string } };
export type ConfigInput = z.input<typeof ConfigSchema>;

/** Environment variable → config path, and how to read it. */
const ENVIRONMENT: ReadonlyArray<readonly [string, readonly string[], 'number' | 'string']> = [
  ['PORT', ['port'], 'number'],
  ['HOST', ['host'], 'string'],
  ['PLAYHOUSE_GATEWAY_ID', ['gatewayId'], 'string'],
  ['LOG_LEVEL', ['log', 'level'], 'string'],
  ['PLAYHOUSE_TOKEN_SECRET', ['auth', 'secret'], 'string'],
  ['PLAYHOUSE_MAX_MESSAGE_BYTES', ['limits', 'maxMessageBytes'], 'number'],
  ['PLAYHOUSE_REQUESTS_PER_SECOND', ['limits', 'requestsPerSecond'], 'number'],
  ['PLAYHOUSE_REQUEST_BURST', ['limits', 'requestBurst'], 'number'],
  ['PLAYHOUSE_SESSION_PLACEMENT', ['actors', 'placement', 'session'], 'string'],
  ['PLAYHOUSE_ROOM_PLACEMENT', ['actors', 'placement', 'room'], 'string'],
];

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Builds the configuration from defaults, then `overrides` (tests, scripts),
 * then the environment, which wins. Throws ConfigError naming every bad field.
 */
export function loadConfig(overrides: ConfigInput = {}, env: NodeJS.ProcessEnv = process.env): PlayhouseConfig {
  const input: Record<string, unknown> = structuredClone(overrides) as Record<string, unknown>;
  const problems: string[] = [];
  for (const [variable, path, kind] of ENVIRONMENT) {
    const raw = env[variable];
    if (raw === undefined || raw === '') continue;
    const value = kind === 'number' ? Number(raw) : raw;
    if (kind === 'number' && !Number.isFinite(value)) {
      problems.push(`${variable}=${raw}: not a number`);
      continue;
    }
    setPath(input, path, value);
  }
  const parsed = ConfigSchema.safeParse(input);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  const config = parsed.data;
  return { ...config, auth: { ...config.auth, secret: config.auth.secret ?? randomBytes(32).toString('base64url') } };
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}
