/**
 * A small typed, promise-based wrapper around basho-riak-client 2.4.0 (Riak KV
 * over protocol buffers): fetch, store and delete of one key, with the causal
 * context (vclock) handed back and forth. The library has no type definitions:
 * every untyped access to it stays in this file, behind the narrow shapes below.
 *
 * What this file fixes in the library:
 * - Loading it makes Node print "Accessing non-existent property 'padLevels' of
 *   module exports inside circular dependency" (winston 2.2 reads a property of
 *   itself while it loads). That one warning is dropped while the library loads.
 * - It logs through winston's default logger straight to the console (an
 *   "error" with a stack for every unreachable node). Its warnings and errors go
 *   to our logger instead; set RIAK_NODEJS_CLIENT_DEBUG to keep its own console log.
 * - After `client.stop()` a node that had lost its connection keeps its health
 *   check running forever (a fibonacci backoff timer, re-armed every ≤ 5 s, that
 *   reconnects to the dead node and keeps the process alive). We keep hold of
 *   each node's backoff timers and stop them before the cluster stops.
 * - A node whose health-check connection is accepted then closed (a load
 *   balancer in front of a dead node) stops health-checking for good and makes
 *   stop() take ~7.5 s: `reportHealthCheckHangUps` below.
 *
 * Every failure of the library (no node reachable, connection closed or timed
 * out, an error answered by Riak) becomes a StoreUnavailableError: nothing is
 * known to be written, the caller may retry.
 */
import { dirname } from 'node:path';
import { StoreUnavailableError } from '../../../actors/persistence/stores';
import type { ActorLog } from '../../../actors/ports';

const STORE_NAME = 'riak';

/** Where a value lives: Riak keys are grouped in buckets, buckets in bucket types (which hold the properties). */
export interface RiakLocation {
  readonly bucketType: string;
  readonly bucket: string;
  readonly key: string;
}

/** One user metadata entry (x-riak-meta-*): strings both ways. */
export interface RiakUserMeta {
  readonly key: string;
  readonly value: string;
}

/** One value as Riak holds it; a key with concurrent writes holds several (siblings). */
export interface RiakSibling {
  /** The stored bytes (empty for a tombstone, and in head-only answers). */
  readonly value: Buffer;
  readonly contentType: string | undefined;
  readonly userMeta: readonly RiakUserMeta[];
  /** A deletion not yet reaped, kept as a sibling or as the whole answer. */
  readonly isTombstone: boolean;
  /** When the coordinating node stored it, epoch milliseconds (with a microsecond fraction). */
  readonly lastModified: number | undefined;
}

/** What a fetch answered. `vclock` is set whenever something (a tombstone included) is stored. */
export interface RiakFetchAnswer {
  readonly found: boolean;
  readonly vclock: Buffer | undefined;
  readonly siblings: readonly RiakSibling[];
}

/** What a store with `returnHead` answered: the key's values (metadata only) right after the write, and their merged vclock. */
export interface RiakStoreAnswer {
  readonly vclock: Buffer | undefined;
  readonly siblings: readonly RiakSibling[];
}

/** A value to store. */
export interface RiakContent {
  readonly value: string;
  readonly contentType: string;
  readonly userMeta: readonly RiakUserMeta[];
}

/** The properties of a bucket that decide how concurrent writes end. */
export interface RiakBucketProps {
  /** Concurrent writes are kept as siblings (true) or one silently replaces the other (false). */
  readonly allowMult: boolean;
  readonly lastWriteWins: boolean;
  /** A strongly consistent bucket type (needs Riak's ensemble subsystem). */
  readonly consistent: boolean;
}

export interface RiakClientOptions {
  /** 'host:port' of each node's protocol buffers listener (port 8087 when none is given). */
  readonly nodes: readonly string[];
  /** Where the library's own warnings and errors go (its global logger is routed once per process, by the first client). */
  readonly log: ActorLog;
  /** To open one TCP connection (and each health check of a node that failed). Default 3000. */
  readonly connectTimeoutMs?: number;
  /** For one command to be answered on an open connection (Riak gets 90% of it as its own deadline). Default 5000. */
  readonly requestTimeoutMs?: number;
  /** How many times a command is tried, on the next node each time, before it fails. Default 3. */
  readonly executionAttempts?: number;
  /** Connections kept open to each node when idle. Default 1. */
  readonly minConnectionsPerNode?: number;
  /** At most this many connections (so commands in flight) per node. Default 64. */
  readonly maxConnectionsPerNode?: number;
}

// ---- The library's shapes, as far as this file uses them ---------------------

type Callback = (error: unknown, result: unknown) => void;

interface LibraryBackoff {
  reset(): void;
  on(event: 'backoff', listener: () => void): void;
  listenerCount(event: string): number;
}
interface LibraryBackoffModule {
  fibonacci: (options: unknown) => LibraryBackoff;
}
interface LibraryNode {
  readonly state: number;
}
interface LibraryCluster {
  readonly nodes: readonly LibraryNode[];
}
interface LibraryClient {
  execute(command: unknown): void;
  stop(callback: Callback): void;
}
interface LibraryRiakObject {
  setValue(value: string): LibraryRiakObject;
  setContentType(contentType: string): LibraryRiakObject;
  setUserMeta(userMeta: RiakUserMeta[]): LibraryRiakObject;
}
type CommandClass = new (options: object, callback: Callback) => unknown;
interface RiakLibrary {
  Client: new (cluster: LibraryCluster, started: (error: unknown) => void) => LibraryClient;
  Cluster: new (options: { nodes: LibraryNode[]; executionAttempts: number }) => LibraryCluster;
  Node: new (options: object) => LibraryNode;
  Commands: {
    KV: {
      FetchValue: CommandClass;
      StoreValue: CommandClass;
      DeleteValue: CommandClass;
      FetchBucketProps: CommandClass;
      RiakObject: new () => LibraryRiakObject;
    };
  };
}

interface Loaded {
  readonly riak: RiakLibrary;
  readonly backoff: LibraryBackoffModule;
}

/** The library, as Node's module cache holds it: loaded once per process, with its global logger routed once. */
let loaded: Loaded | undefined;

/** Loads the library once, on first use (importing this file does not), quietly; its log goes to `log`. */
function library(log: ActorLog): Loaded {
  if (loaded) return loaded;
  const emitWarning = process.emitWarning;
  // The padLevels warning is raised synchronously inside require(): drop it, and only it.
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const message = typeof warning === 'string' ? warning : warning.message;
    if (message.includes("'padLevels'") && message.includes('circular dependency')) return;
    (emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    const riak = require('basho-riak-client') as RiakLibrary;
    // The library's own copies of winston and backoff, as its files resolve them.
    const packageDir = dirname(require.resolve('basho-riak-client/package.json'));
    routeLibraryLog(require(require.resolve('winston', { paths: [packageDir] })) as Winston, log);
    const backoff = require(require.resolve('backoff', { paths: [packageDir] })) as LibraryBackoffModule;
    reportHealthCheckHangUps(require('basho-riak-client/lib/core/riakconnection') as { prototype: LibraryConnection });
    loaded = { riak, backoff };
    return loaded;
  } finally {
    process.emitWarning = emitWarning;
  }
}

interface LibraryConnection {
  _connectedEmitted: boolean;
  _connected(this: LibraryConnection): void;
  once(event: 'connectionClosed', listener: (connection: unknown, reason: unknown) => void): void;
  emit(event: 'connectFailed', connection: unknown, reason: unknown): void;
}

/**
 * A health check's connection that the peer closes before the ping is answered
 * (what a load balancer in front of a dead node does: accept, then hang up)
 * reports 'connectionClosed', which nobody listens to yet, instead of
 * 'connectFailed': the node then never checks again, and its connection count
 * stays one too high, so stopping waits ~7.5 s for a connection that is gone.
 * Report it as the failed connection it is.
 */
function reportHealthCheckHangUps(connectionClass: { prototype: LibraryConnection }): void {
  const connected = connectionClass.prototype._connected;
  connectionClass.prototype._connected = function (this: LibraryConnection) {
    connected.call(this);
    if (this._connectedEmitted) return;
    this.once('connectionClosed', (connection) => {
      if (!this._connectedEmitted) this.emit('connectFailed', connection, 'connection closed before it was ready');
    });
  };
}

interface Winston {
  level: string;
  transports: { Console: unknown };
  remove(transport: unknown): void;
  add(transport: object, options: undefined, created: true): void;
}

/** The library's warnings and errors go to our logger; its debug chatter is not even formatted. */
function routeLibraryLog(winston: Winston, log: ActorLog): void {
  if (process.env.RIAK_NODEJS_CLIENT_DEBUG) return;
  winston.remove(winston.transports.Console);
  winston.add(
    {
      name: 'playhouse',
      level: 'warn',
      log(level: string, message: string, meta: unknown, done: (error: null, logged: boolean) => void) {
        const detail = meta instanceof Error ? meta.message : typeof meta === 'object' && meta !== null && Object.keys(meta).length > 0 ? meta : undefined;
        log.warn({ component: 'basho-riak-client', riakLevel: level, ...(detail === undefined ? {} : { detail }) }, message);
        done(null, true);
      },
    },
    undefined,
    true,
  );
  winston.level = 'warn';
}

// ---- The client ---------------------------------------------------------------

export class RiakClient {
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly library: Loaded,
    private readonly client: LibraryClient,
    /** Each node's backoff timers (health check; shutdown), to stop at close. */
    private readonly nodeBackoffs: readonly LibraryBackoff[],
    private readonly requestTimeoutMs: number,
  ) {}

  /** Riak's own deadline, a little shorter than ours: it answers 'timeout' before our socket timeout drops the connection. */
  private get serverTimeoutMs(): number {
    return Math.max(1, Math.floor(this.requestTimeoutMs * 0.9));
  }

  /**
   * Starts a client on the given nodes. Resolves once each node has tried its
   * first connection (at most `connectTimeoutMs`), reachable or not: a node
   * that is down is retried by the library's health check, and commands fail
   * with StoreUnavailableError meanwhile.
   */
  static async start(options: RiakClientOptions): Promise<RiakClient> {
    if (options.nodes.length === 0) throw new Error('riak: at least one node (host:port) is needed');
    const loadedLibrary = library(options.log);
    const { riak, backoff } = loadedLibrary;
    const requestTimeoutMs = options.requestTimeoutMs ?? 5000;
    const nodeOptions = {
      connectionTimeout: options.connectTimeoutMs ?? 3000,
      requestTimeout: requestTimeoutMs,
      minConnections: options.minConnectionsPerNode ?? 1,
      maxConnections: options.maxConnectionsPerNode ?? 64,
    };
    const backoffs: LibraryBackoff[] = [];
    const nodes = options.nodes.map((address) => {
      const { host, port } = parseAddress(address);
      return withBackoffsCaptured(backoff, backoffs, () => new riak.Node({ ...nodeOptions, remoteAddress: host, remotePort: port }));
    });
    const cluster = new riak.Cluster({ nodes, executionAttempts: options.executionAttempts ?? 3 });
    // Start errors (a node refusing its first connection) are not fatal: the node is health-checked.
    const client = await new Promise<LibraryClient>((resolve) => {
      const started: LibraryClient = new riak.Client(cluster, () => setImmediate(() => resolve(started)));
    });
    return new RiakClient(loadedLibrary, client, backoffs, requestTimeoutMs);
  }

  /**
   * The key's values and vclock; a deleted key still answers the tombstone's
   * vclock, so a new write descends from it. `headOnly`: metadata without the
   * values (what a conditional write needs, whatever the document's size).
   */
  async fetch(location: RiakLocation, options: { readonly headOnly?: boolean } = {}): Promise<RiakFetchAnswer> {
    const answer = await this.run('FetchValue', {
      ...location,
      returnDeletedVClock: true,
      headOnly: options.headOnly ?? false,
      timeout: this.serverTimeoutMs,
    });
    const { isNotFound, vclock, values } = answer as { isNotFound: boolean; vclock: Buffer | null; values: unknown[] };
    return { found: !isNotFound, vclock: vclock ?? undefined, siblings: values.map(toSibling) };
  }

  /**
   * Stores `content` under the location, as a descendant of `vclock` (none: a
   * new key). With `returnHead` Riak answers the metadata of every value the
   * key holds right after the write (values left out): more than one means
   * another write was concurrent with this one.
   */
  async store(location: RiakLocation, content: RiakContent, options: { readonly vclock: Buffer | undefined; readonly returnHead: boolean }): Promise<RiakStoreAnswer> {
    const { riak } = this.library;
    const value = new riak.Commands.KV.RiakObject()
      .setValue(content.value)
      .setContentType(content.contentType)
      .setUserMeta(content.userMeta.map((meta) => ({ key: meta.key, value: meta.value })));
    const answer = await this.run('StoreValue', {
      ...location,
      value,
      ...(options.vclock ? { vclock: options.vclock } : {}),
      returnHead: options.returnHead,
      timeout: this.serverTimeoutMs,
    });
    const { vclock, values } = answer as { vclock: Buffer | null; values: unknown[] };
    return { vclock: vclock ?? undefined, siblings: values.map(toSibling) };
  }

  /** Deletes the key as a descendant of `vclock` (leaves a tombstone that Riak reaps later). */
  async delete(location: RiakLocation, vclock: Buffer | undefined): Promise<void> {
    await this.run('DeleteValue', { ...location, ...(vclock ? { vclock } : {}), timeout: this.serverTimeoutMs });
  }

  /** The properties in force for a bucket (its own, or its bucket type's). */
  async bucketProps(bucketType: string, bucket: string): Promise<RiakBucketProps> {
    const props = (await this.run('FetchBucketProps', { bucketType, bucket })) as Partial<Record<keyof RiakBucketProps, unknown>>;
    return { allowMult: props.allowMult === true, lastWriteWins: props.lastWriteWins === true, consistent: props.consistent === true };
  }

  /** Stops the client: closes its connections and every timer it started. Idempotent. */
  stop(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      for (const backoff of this.nodeBackoffs) stopHealthCheck(backoff);
      this.client.stop(() => resolve());
    });
    return this.closing;
  }

  private run(command: 'FetchValue' | 'StoreValue' | 'DeleteValue' | 'FetchBucketProps', options: object): Promise<unknown> {
    if (this.closing) return Promise.reject(new Error('riak client is stopped'));
    const Command = this.library.riak.Commands.KV[command];
    return new Promise((resolve, reject) => {
      let settled = false;
      const callback: Callback = (error, result) => {
        if (settled) return;
        settled = true;
        if (error === null || error === undefined) resolve(result);
        else reject(new StoreUnavailableError(STORE_NAME, error instanceof Error ? error : new Error(String(error))));
      };
      // Constructing validates the options and may throw (a programming error): the promise rejects with it.
      this.client.execute(new Command(options, callback));
    });
  }
}

/**
 * Runs `build` (a node's constructor) while recording every backoff the
 * library creates: the node keeps them in closures out of reach otherwise.
 */
function withBackoffsCaptured<T>(backoffModule: LibraryBackoffModule, into: LibraryBackoff[], build: () => T): T {
  const fibonacci = backoffModule.fibonacci;
  backoffModule.fibonacci = (options: unknown) => {
    const created = fibonacci(options);
    into.push(created);
    return created;
  };
  try {
    return build();
  } finally {
    backoffModule.fibonacci = fibonacci;
  }
}

/**
 * The health check's backoff is the one with 'ready' listeners before the
 * node stops (the shutdown backoff gets its own only while stopping): clear
 * its pending timer, and clear it again whenever it is re-armed from now on.
 */
function stopHealthCheck(backoff: LibraryBackoff): void {
  if (backoff.listenerCount('ready') === 0) return;
  backoff.reset();
  backoff.on('backoff', () => backoff.reset());
}

function parseAddress(address: string): { host: string; port: number } {
  const match = /^([^:\s]+)(?::(\d{1,5}))?$/.exec(address.trim());
  if (!match) throw new Error(`riak: a node is 'host:port', got '${address}'`);
  return { host: match[1]!, port: match[2] === undefined ? 8087 : Number(match[2]) };
}

/** A library RiakObject (fetched or returned by a store) as our plain sibling. */
function toSibling(object: unknown): RiakSibling {
  const raw = object as { value?: unknown; contentType?: unknown; userMeta?: unknown; isTombstone?: unknown; lastModified?: unknown };
  const userMeta = Array.isArray(raw.userMeta)
    ? raw.userMeta.map((entry: { key?: unknown; value?: unknown }) => ({ key: String(entry.key), value: String(entry.value) }))
    : [];
  return {
    value: Buffer.isBuffer(raw.value) ? raw.value : Buffer.alloc(0),
    contentType: typeof raw.contentType === 'string' ? raw.contentType : undefined,
    userMeta,
    isTombstone: raw.isTombstone === true,
    lastModified: typeof raw.lastModified === 'number' ? raw.lastModified : undefined,
  };
}
