/**
 * The one place that opens a Redis connection for a store (snapshots, hot
 * session state), set up so that an outage is visible instead of hanging.
 *
 * The `redis` client's defaults suit a cache, not a store: while disconnected
 * it queues every command and waits forever. A store must instead fail fast —
 * the persistence actor keeps the write and retries with backoff — so here:
 *   - `disableOfflineQueue`: a command sent while the connection is down is
 *     rejected at once, never queued to be replayed later;
 *   - every call has a deadline, so a server that accepted the connection but
 *     stopped answering also ends in an error;
 *   - reconnection goes on in the background with capped backoff, so the same
 *     client works again once Redis is back, without reopening;
 *   - an 'error' listener, without which a dropped connection would crash the process.
 * Every failure of a call comes out as StoreUnavailableError.
 */
import { createHash } from 'node:crypto';
import { createClient, type RedisClientType } from 'redis';
import { StoreUnavailableError, VersionConflictError } from '../../../actors/persistence/stores';
import type { ActorLog } from '../../../actors/ports';

export interface RedisStoreConnectionOptions {
  /** `redis://host:port[/db]`. */
  readonly url: string;
  /** Names the store in errors and logs ('redis snapshots', 'redis sessions'). */
  readonly store: string;
  /** How long one call may take, answer included, before it counts as unavailable (default 5,000 ms). */
  readonly callTimeoutMs?: number;
  /** The longest pause between two reconnection attempts (default 1,000 ms). */
  readonly maxReconnectDelayMs?: number;
  /** Told once when Redis becomes unreachable and once when it is back (not on every failed attempt). */
  readonly log?: ActorLog;
}

/** A Lua script run by its SHA1 (EVALSHA), sent whole only when Redis does not have it cached yet. */
export class LuaScript {
  readonly sha1: string;
  constructor(readonly source: string) {
    this.sha1 = createHash('sha1').update(source).digest('hex');
  }
}

/**
 * Closes a client gracefully (what it sent is answered) if Redis answers within `withinMs`, and drops the
 * socket otherwise: a graceful close waits for a server that may never come back, and a process that is
 * stopping must end.
 */
export async function closeRedisClient(client: RedisClientType, withinMs = 1_000): Promise<void> {
  if (!client.isOpen) return;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, withinMs)));
  await Promise.race([client.close().catch(() => undefined), late]);
  clearTimeout(timer);
  if (client.isOpen) client.destroy();
}

const DEFAULT_CALL_TIMEOUT_MS = 5_000;
const DEFAULT_MAX_RECONNECT_DELAY_MS = 1_000;
/** How long `open` waits for the first connection before handing back a store that is still connecting. */
const FIRST_CONNECT_WAIT_MS = 2_000;

export class RedisStoreConnection {
  private closed = false;
  /** Whether the last thing heard from the connection was a failure (to log outages once, not per attempt). */
  private down = false;
  private readonly inFlight = new Set<Promise<unknown>>();

  private constructor(
    readonly client: RedisClientType,
    private readonly options: RedisStoreConnectionOptions,
  ) {}

  /**
   * Opens the connection, waiting for it up to a bound. When Redis cannot be
   * reached the store is handed back all the same: its calls reject with
   * StoreUnavailableError until a background reconnection succeeds.
   */
  static async open(options: RedisStoreConnectionOptions): Promise<RedisStoreConnection> {
    const maxDelay = options.maxReconnectDelayMs ?? DEFAULT_MAX_RECONNECT_DELAY_MS;
    const client: RedisClientType = createClient({
      url: options.url,
      disableOfflineQueue: true,
      // Bounds the time a command may wait to be written (it is then removed, never sent late).
      commandOptions: { timeout: options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS },
      socket: {
        connectTimeout: Math.min(options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS, 2_000),
        // Always try again (the default gives up on a socket timeout), 50 ms doubling up to the cap, with jitter.
        reconnectStrategy: (retries) => Math.min(50 * 2 ** retries, maxDelay) + Math.floor(Math.random() * 50),
      },
    });
    const connection = new RedisStoreConnection(client, options);
    client.on('error', (error: unknown) => connection.wentDown(error));
    client.on('ready', () => connection.cameBack());

    // connect() resolves only once connected (it retries in between): wait for that, the first failure, or a bound.
    let timer: NodeJS.Timeout | undefined;
    let onFirstError: (() => void) | undefined;
    await Promise.race([
      client.connect().then(
        () => undefined,
        () => undefined, // The reconnect strategy never gives up: this only ends early by close().
      ),
      new Promise<void>((resolve) => {
        onFirstError = resolve;
        client.once('error', onFirstError);
        timer = setTimeout(resolve, FIRST_CONNECT_WAIT_MS);
      }),
    ]);
    clearTimeout(timer);
    if (onFirstError) client.off('error', onFirstError);
    return connection;
  }

  /** True while commands can be sent (false during an outage and while reconnecting). */
  get ready(): boolean {
    return this.client.isReady;
  }

  /**
   * Runs one store operation (any number of commands sent in the same turn go
   * out in one write) within the call deadline. A VersionConflictError passes
   * through; any other failure becomes StoreUnavailableError.
   */
  async call<T>(operation: (client: RedisClientType) => Promise<T>): Promise<T> {
    const timeoutMs = this.options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    // Async wrapper: an operation that throws before its first await is mapped like any other failure.
    const running = Promise.race([(async () => operation(this.client))(), deadline]);
    this.inFlight.add(running);
    try {
      return await running;
    } catch (error) {
      if (error instanceof VersionConflictError || error instanceof StoreUnavailableError) throw error;
      throw new StoreUnavailableError(this.options.store, error);
    } finally {
      clearTimeout(timer);
      this.inFlight.delete(running);
    }
  }

  /** Runs a Lua script by SHA1, sending its source only when Redis answers NOSCRIPT (first use, or after a restart). */
  async runScript(script: LuaScript, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    const call = { keys: [...keys], arguments: [...args] };
    try {
      return await this.client.evalSha(script.sha1, call);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return this.client.eval(script.source, call);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // A connection attempt that succeeds after this must not keep the process alive.
    this.client.unref();
    // Let calls in flight finish (each is bounded by its deadline), then drop the socket.
    if (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    if (this.client.isOpen) this.client.destroy();
  }

  private wentDown(error: unknown): void {
    if (this.closed || this.down) return;
    this.down = true;
    this.options.log?.warn({ store: this.options.store, err: String(error) }, 'redis is unreachable; calls fail until it is back');
  }

  private cameBack(): void {
    if (!this.down) return;
    this.down = false;
    if (!this.closed) this.options.log?.info({ store: this.options.store }, 'redis is reachable again');
  }
}
