/**
 * One typed configuration, validated at boot. Defaults suit `npm start` on a
 * laptop; every field that operators change has an environment variable.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import proxyaddr from 'proxy-addr';
import { z } from 'zod';

/** Where the worker actors of a `worker` process run (comedy's placement modes). */
export const WorkerMode = z.enum(['in-memory', 'forked', 'threaded', 'remote']);

/**
 * Every section left out is `{}` run through its schema (`prefault`), so each default is written once, at
 * its field (zod's `.default(value)` would return `value` unparsed, and every default would be written twice).
 */
export const ConfigSchema = z.strictObject({
  /**
   * What this process is: `single` (gateway and every actor, no services needed: `npm start`),
   * `gateway` (Socket.IO only; actors live on workers) or `worker` (hosts actors; no sockets).
   */
  role: z.enum(['single', 'gateway', 'worker']).default('single'),
  /** TCP port of the gateway (HTTP + Socket.IO). 0 picks a free port. */
  port: z.number().int().min(0).max(65535).default(8080),
  host: z.string().min(1).default('0.0.0.0'),
  gatewayId: z.string().regex(/^[A-Za-z0-9_.-]+$/).default(`gw-${hostname()}-${process.pid}`),
  log: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      /** `json` lines or human-readable `pretty` lines; unset: pretty on a terminal outside production (infra/logger.ts). */
      format: z.enum(['json', 'pretty']).optional(),
    })
    .prefault({}),
  auth: z
    .strictObject({
      /** HMAC secret for player tokens; every gateway of a cluster must share it. */
      secret: z.string().min(32, 'must be at least 32 characters').optional(),
      tokenTtlSeconds: z.number().int().min(60).default(7 * 24 * 3600),
    })
    .prefault({}),
  http: z
    .strictObject({
      /**
       * Peers whose X-Forwarded-For is believed (the load balancer in front): addresses, CIDR networks, or
       * proxy-addr's names `loopback`, `linklocal`, `uniquelocal`. A client's address is the nearest one in
       * X-Forwarded-For that is not itself a trusted proxy; from any other peer the header is ignored.
       */
      trustedProxies: z
        .array(z.string().min(1))
        .default(['loopback'])
        .refine((list) => compiles(list), 'each entry must be an IP address, a CIDR network, or loopback / linklocal / uniquelocal'),
      /** Serve the demo page at `/`. Default: on, except when NODE_ENV=production. */
      demoPage: z.boolean().optional(),
    })
    .prefault({}),
  signIn: z
    .strictObject({
      /** Sign-in requests one client address may make per window (every gateway of a cluster counts together). */
      attempts: z.number().int().min(1).default(30),
      windowSeconds: z.number().int().min(1).default(60),
    })
    .prefault({}),
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
    .prefault({}),
  /**
   * Socket.IO heartbeats: the server pings every `pingIntervalMs` and drops a connection that has not
   * answered within `pingTimeoutMs` more — so a phone that vanished without closing (a half-open
   * connection) is noticed within interval + timeout, and its session's grace period starts.
   */
  heartbeat: z
    .strictObject({
      pingIntervalMs: z.number().int().min(100).default(10_000),
      pingTimeoutMs: z.number().int().min(100).default(5_000),
    })
    .prefault({}),
  resume: z
    .strictObject({
      /** A dropped player's session (and seat) waits this long for the device to resume; then the player leaves. */
      graceMs: z.number().int().min(0).default(30_000),
      /** Numbered messages a session keeps until the client acknowledges them; past it, a resume gets a snapshot. */
      bufferMessages: z.number().int().min(1).max(100_000).default(256),
      /** Recent action ids (and their results) a session remembers, to answer a retried action without applying it again. */
      actionWindow: z.number().int().min(1).max(10_000).default(128),
    })
    .prefault({}),
  actors: z
    .strictObject({
      /** Messages that may wait in one actor's mailbox; past it new ones are refused with `server/overloaded`. */
      mailboxCapacity: z
        .strictObject({ session: z.number().int().min(1).default(256), room: z.number().int().min(1).default(1024), lobby: z.number().int().min(1).default(4096) })
        .prefault({}),
      askTimeoutMs: z.number().int().min(100).default(5000),
    })
    .prefault({}),
  cluster: z
    .strictObject({
      /** Redis holding the directory (who lives where) and carrying messages between processes. */
      redisUrl: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL').default('redis://127.0.0.1:6379'),
      /** Prefix of every Redis key and channel: several clusters can share one Redis. */
      name: z.string().regex(/^[A-Za-z0-9_-]+$/).default('playhouse'),
      /** Worker actors a `worker` process starts, and where comedy places them. */
      workers: z.number().int().min(1).max(256).default(2),
      workerMode: WorkerMode.default('forked'),
      /** `host:port` of comedy-node listeners, for `workerMode: remote` (workers go round-robin over them). */
      remoteHosts: z.array(z.string().regex(/^[^:\s]+:\d+$/, 'must be host:port')).default([]),
      /** Allow remote hosts on public addresses (comedy's listeners have no authentication). */
      allowPublicRemote: z.boolean().default(false),
      /** How often a process reports that it is alive (and its load); missing this many times over = dead. */
      heartbeatMs: z.number().int().min(100).default(1000),
      deadAfterMs: z.number().int().min(300).default(4000),
      /** A `worker` process serves its workers' metrics, merged, on this port (0 = any free port). */
      metricsPort: z.number().int().min(0).max(65535).default(9464),
      /** A stopping process finishes its mailboxes and games for at most this long. */
      drainTimeoutMs: z.number().int().min(0).default(10_000),
    })
    .prefault({}),
  games: z
    .strictObject({
      /** Watch games/ and load a changed game as a new version (designers see edits live); off in production if you deploy by image. */
      watch: z.boolean().default(true),
      /** Bearer token for /admin/ endpoints; without one they answer only on this machine. */
      adminToken: z.string().min(16, 'must be at least 16 characters').optional(),
      /** Where the games are (default: games/ of the installation). */
      directory: z.string().min(1).optional(),
      /** Serve the designer's playground at /playground. Default: on, unless NODE_ENV is production. */
      playground: z.boolean().optional(),
    })
    .prefault({}),
  persistence: z
    .strictObject({
      /**
       * Where room snapshots and player profiles go. Defaults: `sqlite` in one process (a file, nothing to
       * install), `redis` on a cluster's workers (every worker must reach the same store to restore a room).
       */
      snapshots: z.enum(['memory', 'sqlite', 'mariadb', 'redis', 'riak']).optional(),
      /** Where match results go. Defaults: `sqlite` in one process, `mariadb` on a cluster's workers. */
      records: z.enum(['memory', 'sqlite', 'mariadb']).optional(),
      /** The SQLite file of a single process (created with its directory). */
      sqliteFile: z.string().min(1).default('data/playhouse.sqlite'),
      /** MariaDB / MySQL, as mysql://user:password@host:port/database. */
      mariadbUrl: z.string().regex(/^(mysql|mariadb):\/\//, 'must be a mysql:// URL').default('mysql://root@127.0.0.1:3306/test'),
      /** Redis for snapshots; defaults to the cluster's Redis. */
      redisUrl: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL').optional(),
      /** Riak nodes' protocol-buffers endpoints, host:port. */
      riakNodes: z.array(z.string().regex(/^[^:\s]+:\d+$/, 'must be host:port')).default([]),
      riakBucketType: z.string().min(1).default('playhouse'),
      riakBucket: z.string().min(1).default('snapshots'),
      /** Run pending SQL migrations at boot (handy in development); in production run `npm run migrate` and set this false. */
      migrateOnBoot: z.boolean().default(true),
      /**
       * Whether rooms write snapshots at all. A snapshot is only ever read to restore a room whose worker died,
       * and only a cluster can do that (its sessions' seats are in Redis). Default: on for a cluster's workers,
       * off in one process, where sessions live in memory and a restarted server has no player to give a room back to.
       */
      roomSnapshots: z.boolean().optional(),
      /** Rooms snapshot their state this often while it changes (and always at the end of a game); 0: only at game end. */
      snapshotIntervalMs: z.number().int().min(0).default(1000),
      /**
       * Cluster workers: `moves` acknowledges a room's input only once it is in the room's log on the
       * cluster's Redis (no acknowledged move is lost when a worker dies); `snapshot` does not log, and a
       * room restored elsewhere goes back to its latest snapshot (up to snapshotIntervalMs of moves lost).
       */
      durability: z.enum(['moves', 'snapshot']).default('moves'),
      queue: z
        .strictObject({
          /** Writes that may wait; past it low then normal writes are shed, and critical ones refused. */
          maxQueued: z.number().int().min(1).default(10_000),
          batchSize: z.number().int().min(1).max(10_000).default(200),
          normalWindowMs: z.number().int().min(0).default(50),
          lowIntervalMs: z.number().int().min(1).default(1000),
          /**
           * Under load, critical commits start at least this far apart, so match results arriving together share one
           * commit. 25 ms: at ~450 game ends a second (the duel at 1,000 clients), a SQLite commit (~0.2 ms of CPU and an
           * fsync) every 25 ms instead of every 10 cost 4 µs less per move; a result waits at most that long to be durable.
           */
          criticalSpacingMs: z.number().int().min(0).max(1000).default(25),
          retryInitialMs: z.number().int().min(1).default(100),
          /**
           * At most a second between tries while a store is down: a room whose log came back empty waits on its
           * snapshot's write, so this bounds how long its players wait after the store returns; a try a second
           * per lane costs nothing worth saving.
           */
          retryMaxMs: z.number().int().min(1).default(1000),
        })
        .prefault({}),
    })
    .prefault({}),
});

export type PlayhouseConfig = z.infer<typeof ConfigSchema> & {
  readonly auth: { readonly secret: string };
  readonly http: { readonly demoPage: boolean };
  readonly games: { readonly playground: boolean };
};
export type ConfigInput = z.input<typeof ConfigSchema>;

/** Environment variable → config path, and how to read it. */
const ENVIRONMENT: ReadonlyArray<readonly [string, readonly string[], 'number' | 'string' | 'list' | 'boolean']> = [
  ['PORT', ['port'], 'number'],
  ['HOST', ['host'], 'string'],
  ['PLAYHOUSE_GATEWAY_ID', ['gatewayId'], 'string'],
  ['LOG_LEVEL', ['log', 'level'], 'string'],
  ['LOG_FORMAT', ['log', 'format'], 'string'],
  ['PLAYHOUSE_TOKEN_SECRET', ['auth', 'secret'], 'string'],
  ['PLAYHOUSE_MAX_MESSAGE_BYTES', ['limits', 'maxMessageBytes'], 'number'],
  ['PLAYHOUSE_REQUESTS_PER_SECOND', ['limits', 'requestsPerSecond'], 'number'],
  ['PLAYHOUSE_REQUEST_BURST', ['limits', 'requestBurst'], 'number'],
  ['PLAYHOUSE_TRUSTED_PROXIES', ['http', 'trustedProxies'], 'list'],
  ['PLAYHOUSE_DEMO_PAGE', ['http', 'demoPage'], 'boolean'],
  ['PLAYHOUSE_SIGN_IN_ATTEMPTS', ['signIn', 'attempts'], 'number'],
  ['PLAYHOUSE_SIGN_IN_WINDOW_SECONDS', ['signIn', 'windowSeconds'], 'number'],
  ['PLAYHOUSE_ROLE', ['role'], 'string'],
  ['PLAYHOUSE_PING_INTERVAL_MS', ['heartbeat', 'pingIntervalMs'], 'number'],
  ['PLAYHOUSE_PING_TIMEOUT_MS', ['heartbeat', 'pingTimeoutMs'], 'number'],
  ['PLAYHOUSE_RESUME_GRACE_MS', ['resume', 'graceMs'], 'number'],
  ['PLAYHOUSE_RESUME_BUFFER', ['resume', 'bufferMessages'], 'number'],
  ['PLAYHOUSE_ACTION_WINDOW', ['resume', 'actionWindow'], 'number'],
  ['REDIS_URL', ['cluster', 'redisUrl'], 'string'],
  ['PLAYHOUSE_CLUSTER', ['cluster', 'name'], 'string'],
  ['PLAYHOUSE_WORKERS', ['cluster', 'workers'], 'number'],
  ['PLAYHOUSE_WORKER_MODE', ['cluster', 'workerMode'], 'string'],
  ['PLAYHOUSE_REMOTE_HOSTS', ['cluster', 'remoteHosts'], 'list'],
  ['PLAYHOUSE_HEARTBEAT_MS', ['cluster', 'heartbeatMs'], 'number'],
  ['PLAYHOUSE_DEAD_AFTER_MS', ['cluster', 'deadAfterMs'], 'number'],
  ['PLAYHOUSE_DRAIN_TIMEOUT_MS', ['cluster', 'drainTimeoutMs'], 'number'],
  ['PLAYHOUSE_METRICS_PORT', ['cluster', 'metricsPort'], 'number'],
  ['PLAYHOUSE_GAMES_WATCH', ['games', 'watch'], 'boolean'],
  ['PLAYHOUSE_ADMIN_TOKEN', ['games', 'adminToken'], 'string'],
  ['PLAYHOUSE_GAMES_DIR', ['games', 'directory'], 'string'],
  ['PLAYHOUSE_PLAYGROUND', ['games', 'playground'], 'boolean'],
  ['PLAYHOUSE_SNAPSHOT_STORE', ['persistence', 'snapshots'], 'string'],
  ['PLAYHOUSE_RECORD_STORE', ['persistence', 'records'], 'string'],
  ['PLAYHOUSE_SQLITE_FILE', ['persistence', 'sqliteFile'], 'string'],
  ['PLAYHOUSE_MARIADB_URL', ['persistence', 'mariadbUrl'], 'string'],
  ['PLAYHOUSE_SNAPSHOT_REDIS_URL', ['persistence', 'redisUrl'], 'string'],
  ['RIAK_NODES', ['persistence', 'riakNodes'], 'list'],
  ['PLAYHOUSE_MIGRATE_ON_BOOT', ['persistence', 'migrateOnBoot'], 'boolean'],
  ['PLAYHOUSE_ROOM_SNAPSHOTS', ['persistence', 'roomSnapshots'], 'boolean'],
  ['PLAYHOUSE_SNAPSHOT_INTERVAL_MS', ['persistence', 'snapshotIntervalMs'], 'number'],
  ['PLAYHOUSE_DURABILITY', ['persistence', 'durability'], 'string'],
  ['PLAYHOUSE_WRITE_QUEUE_MAX', ['persistence', 'queue', 'maxQueued'], 'number'],
  ['PLAYHOUSE_WRITE_BATCH_SIZE', ['persistence', 'queue', 'batchSize'], 'number'],
  ['PLAYHOUSE_WRITE_NORMAL_WINDOW_MS', ['persistence', 'queue', 'normalWindowMs'], 'number'],
  ['PLAYHOUSE_WRITE_LOW_INTERVAL_MS', ['persistence', 'queue', 'lowIntervalMs'], 'number'],
  ['PLAYHOUSE_WRITE_CRITICAL_SPACING_MS', ['persistence', 'queue', 'criticalSpacingMs'], 'number'],
];

/** Every environment variable the configuration reads (deployment files are checked against it). */
export const ENVIRONMENT_VARIABLES: readonly string[] = ENVIRONMENT.map(([name]) => name);

/** Variables whose values never appear in a message. */
const SECRET_VARIABLES: ReadonlySet<string> = new Set(['PLAYHOUSE_TOKEN_SECRET', 'PLAYHOUSE_ADMIN_TOKEN']);

/** Each problem names what the operator set (`PORT=eighty: not a number`), on one line, to print as it is. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Builds the configuration from defaults, then `overrides` (tests, scripts),
 * then the environment, then `commandLine` (flags an operator typed, which
 * win over an inherited environment, as in every Unix tool). Throws
 * ConfigError naming every bad field.
 */
export function loadConfig(overrides: ConfigInput = {}, env: NodeJS.ProcessEnv = process.env, commandLine: ConfigInput = {}): PlayhouseConfig {
  const input: Record<string, unknown> = structuredClone(overrides) as Record<string, unknown>;
  const problems: string[] = [];
  for (const [variable, path, kind] of ENVIRONMENT) {
    const raw = env[variable];
    if (raw === undefined || raw === '') continue;
    const value = kind === 'number' ? Number(raw) : kind === 'list' ? raw.split(',').map((item) => item.trim()).filter(Boolean) : kind === 'boolean' ? parseBoolean(raw) : raw;
    if (kind === 'number' && !Number.isFinite(value)) {
      problems.push(`${variable}=${raw}: not a number`);
      continue;
    }
    if (kind === 'boolean' && value === undefined) {
      problems.push(`${variable}=${raw}: not true/false`);
      continue;
    }
    setPath(input, path, value);
  }
  mergeInto(input, commandLine as Record<string, unknown>);
  const parsed = ConfigSchema.safeParse(input, { error: plainMessage });
  const setting = (path: readonly PropertyKey[]) => whoSet(path, env, commandLine);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${setting(issue.path)}: ${issue.message}`);
  }
  if (parsed.success) problems.push(...persistenceProblems(parsed.data, setting));
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  const config = parsed.data;
  return {
    ...config,
    auth: { ...config.auth, secret: config.auth.secret ?? randomBytes(32).toString('base64url') },
    // The demo is for trying Playhouse; a production deployment serves none unless it asks.
    http: { ...config.http, demoPage: config.http.demoPage ?? env.NODE_ENV !== 'production' },
    // a development tool: on wherever NODE_ENV does not say production, unless set either way
    games: { ...config.games, playground: config.games.playground ?? env.NODE_ENV !== 'production' },
  };
}

/** Whether proxy-addr understands every entry of a trusted-proxy list. */
function compiles(list: readonly string[]): boolean {
  try {
    proxyaddr.compile([...list]);
    return true;
  } catch {
    return false;
  }
}

function parseBoolean(raw: string): boolean | undefined {
  if (/^(true|1|yes)$/i.test(raw)) return true;
  if (/^(false|0|no)$/i.test(raw)) return false;
  return undefined;
}

/**
 * Messages for the checks that carry none of their own, in the words of the
 * settings table (zod's defaults read `Too big: expected number to be <=65535`).
 * undefined keeps zod's message.
 */
function plainMessage(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'too_big':
      return `must be at most ${String(issue.maximum)}${issue.origin === 'string' ? ' characters' : ''}`;
    case 'too_small':
      return issue.inclusive === false ? `must be above ${String(issue.minimum)}` : `must be at least ${String(issue.minimum)}${issue.origin === 'string' ? ' characters' : ''}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map(String).join(', ')}`;
    case 'invalid_type':
      return issue.input === undefined ? undefined : `must be a ${issue.expected}`;
    default:
      return undefined;
  }
}

/**
 * What set the field at `path`, as the operator wrote it: a flag (named after
 * the field in kebab case, as `npm start`'s are: `--worker-mode threaded`),
 * an environment variable (`PORT=eighty`; secrets without their value), or
 * else the field's path (a value given in code).
 */
function whoSet(path: readonly PropertyKey[], env: NodeJS.ProcessEnv, commandLine: ConfigInput): string {
  for (let length = path.length; length > 0; length--) {
    const flag = valueAt(commandLine, path.slice(0, length));
    if (flag !== undefined && !isPlainObject(flag)) return `--${String(path[length - 1]).replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)} ${String(flag)}`;
  }
  const variable = ENVIRONMENT.find(([name, field]) => field.every((key, i) => path[i] === key) && env[name] !== undefined && env[name] !== '');
  if (variable) {
    const [name] = variable;
    return SECRET_VARIABLES.has(name) ? name : `${name}=${withoutPassword(env[name]!)}`;
  }
  return path.map(String).join('.') || '(root)';
}

/** A URL's password is not for a log or a terminal. */
export function withoutPassword(value: string): string {
  return value.replace(/^([a-z]+:\/\/[^:/@]*:)[^@/]*@/i, '$1***@');
}

function valueAt(source: unknown, path: readonly PropertyKey[]): unknown {
  let node = source;
  for (const key of path) {
    if (!isPlainObject(node)) return undefined;
    node = node[key as string];
  }
  return node;
}

/** Store choices that cannot work where this process runs. */
function persistenceProblems(config: z.infer<typeof ConfigSchema>, setting: (path: readonly string[]) => string): string[] {
  if (config.role !== 'worker') return [];
  const { snapshots, records } = resolvedStores(config);
  const problems: string[] = [];
  // A SQLite file belongs to one process; a cluster has several workers writing.
  if (snapshots === 'sqlite') problems.push(`${setting(['persistence', 'snapshots'])}: sqlite holds one process's data; a cluster's workers need mariadb, redis or riak`);
  if (records === 'sqlite') problems.push(`${setting(['persistence', 'records'])}: sqlite holds one process's data; a cluster's workers need mariadb`);
  if (snapshots === 'riak' && config.persistence.riakNodes.length === 0) problems.push(`${setting(['persistence', 'snapshots'])}: riak snapshots need at least one node in RIAK_NODES`);
  return problems;
}

/** The store drivers in effect: what was configured, else the default for the role. */
export function resolvedStores(config: Pick<PlayhouseConfig, 'role' | 'persistence'>): { snapshots: NonNullable<PlayhouseConfig['persistence']['snapshots']>; records: NonNullable<PlayhouseConfig['persistence']['records']> } {
  const clustered = config.role === 'worker';
  return {
    snapshots: config.persistence.snapshots ?? (clustered ? 'redis' : 'sqlite'),
    records: config.persistence.records ?? (clustered ? 'mariadb' : 'sqlite'),
  };
}

/** Copies every leaf of `source` into `target`, keeping what `target` has beside it. */
function mergeInto(target: Record<string, unknown>, source: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(source)) {
    const existing = target[key];
    if (isPlainObject(value) && isPlainObject(existing)) mergeInto(existing, value);
    else if (isPlainObject(value)) mergeInto((target[key] = {}) as Record<string, unknown>, value);
    else target[key] = value;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}
