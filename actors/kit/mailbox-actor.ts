/**
 * Base of every Playhouse actor (session, room, lobby): one bounded serial
 * mailbox, replies that are always plain data (never thrown errors), and
 * messaging by address through the host it lives in.
 *
 * An actor is a plain object inside a worker (see actors/worker/actor-host.ts),
 * not a comedy actor of its own: comedy places and supervises the *workers*,
 * each hosting thousands of these. One comedy actor per player cost 2.2 KB of
 * heap and several promises per message; an actor here costs its own fields.
 */
import { refusal } from '../../protocol/errors';
import type { ActorKinds } from '../actor-kinds';
import type { ActorKind, Address, Failure } from '../messages';
import type { ActorLog, ActorMetrics, Clock, GameCatalog, RoomLog, SessionStateStore } from '../ports';
import type { SpawnReply, SpawnRequest } from './local-router';
import type { Deadlines } from './deadlines';
import { Mailbox, MailboxFullError, type MailboxOwner } from './mailbox';
import type { ActorRef, MessageOf, Protocol } from './protocol';

/** Settings every actor of a kind gets. */
export interface ActorSettings {
  readonly mailboxCapacity: number;
  /** How long an `ask` waits for a reply before giving up. */
  readonly askTimeoutMs: number;
  /** Rooms: write snapshots at all (they are read only to restore a room whose worker died). */
  readonly snapshots?: boolean;
  /** Rooms: how often to snapshot a changing match (0: only when a game ends). */
  readonly snapshotIntervalMs?: number;
  /** Rooms: how long a restored room holds the seats of players who do not come back. */
  readonly awayGraceMs?: number;
  /**
   * Rooms with a log (a cluster's workers): `moves` acknowledges an input only once it is in the room's
   * log, so a room restored elsewhere has every acknowledged move; `snapshot` does not log, and a restored
   * room goes back to its latest snapshot.
   */
  readonly durability?: 'moves' | 'snapshot';
}

/** What the host hands an actor: its name, its settings, the outside world, and messaging. */
export interface ActorContext {
  readonly address: Address;
  readonly settings: ActorSettings;
  readonly metrics: ActorMetrics;
  readonly log: ActorLog;
  readonly games: GameCatalog;
  /** The only time and timers an actor takes (a test may drive them by hand). */
  readonly clock: Clock;
  /** The time limits of asks, on that clock. */
  readonly deadlines: Deadlines;
  /** Away sessions' resume state, shared by the cluster's workers (absent in one process). */
  readonly sessionStore: SessionStateStore | undefined;
  /** Rooms' input logs, shared by the cluster's workers (absent in one process). */
  readonly roomLog: RoomLog | undefined;
  tell(to: Address, message: object): void;
  ask(to: Address, message: object): Promise<unknown>;
  spawn(request: SpawnRequest): Promise<SpawnReply>;
  /** Destroys the actor at `address` (an actor retiring itself). */
  retire(address: Address): void;
}

export class AskTimeoutError extends Error {
  constructor(to: Address, timeoutMs: number) {
    super(`no reply from ${to} within ${timeoutMs} ms`);
    this.name = 'AskTimeoutError';
  }
}

/** An actor of protocol `P` created with parameters `Params`. */
export abstract class MailboxActor<P extends Protocol, Params> implements MailboxOwner<MessageOf<P>> {
  protected abstract readonly kind: ActorKind;
  protected readonly address: Address;
  protected readonly settings: ActorSettings;
  protected readonly metrics: ActorMetrics;
  protected readonly log: ActorLog;
  /** The only time and timers an actor takes. */
  protected readonly clock: Clock;
  private readonly mailbox: Mailbox<MessageOf<P>>;

  constructor(
    private readonly context: ActorContext,
    protected readonly params: Params,
  ) {
    this.address = context.address;
    this.settings = context.settings;
    this.metrics = context.metrics;
    this.log = context.log;
    this.clock = context.clock;
    // The actor is its mailbox's owner: no closures per actor (there are thousands) or per message.
    this.mailbox = new Mailbox(this.settings.mailboxCapacity, this);
  }

  /** Away sessions' resume state, shared by the cluster (undefined in one process). */
  protected get sessionStore(): SessionStateStore | undefined {
    return this.context.sessionStore;
  }

  /** Rooms' input logs, shared by the cluster (undefined in one process). */
  protected get roomLog(): RoomLog | undefined {
    return this.context.roomLog;
  }

  /** Messages accepted and not yet finished. */
  get depth(): number {
    return this.mailbox.depth;
  }

  /** The entry point of asks: every message enters the mailbox, one at a time; the answer is never a rejection. */
  receive(message: MessageOf<P>): Promise<unknown> {
    return this.mailbox.post(message);
  }

  /** The entry point of tells: the same mailbox, but no answer is made. */
  deliver(message: MessageOf<P>): void {
    this.mailbox.deliver(message);
  }

  /** What the actor does with one message (the mailbox calls it; nothing else should): its handler table's answer. */
  abstract handle(message: MessageOf<P>): unknown;

  /** The mailbox's callback: waiting messages changed (metrics). */
  depthChanged(delta: number): void {
    this.metrics.mailboxDepthChanged(this.kind, delta);
  }

  /** Runs once, after construction and before any message. */
  started(): void | Promise<void> {}

  /** Runs when the actor is destroyed. */
  stopped(): void | Promise<void> {}

  protected get games(): GameCatalog {
    return this.context.games;
  }

  /** Sends without waiting for an answer: only a message `to`'s protocol accepts. */
  protected tell<Q extends Protocol>(to: ActorRef<Q>, message: MessageOf<Q>): void {
    this.context.tell(to, message);
  }

  /** Sends and waits for the reply the message gets in `to`'s protocol; rejects with AskTimeoutError after askTimeoutMs. */
  protected ask<Q extends Protocol, T extends keyof Q & string>(to: ActorRef<Q>, message: Q[T]['message'] & { readonly type: T }): Promise<Q[T]['reply']> {
    const timeoutMs = this.settings.askTimeoutMs;
    // The actor at `to` answers by its protocol (a router's own answer, such as `room/not-found`, is a Failure every reply admits).
    const reply = this.context.ask(to, message) as Promise<Q[T]['reply']>;
    return this.context.deadlines.within(reply, timeoutMs, () => new AskTimeoutError(to, timeoutMs));
  }

  /** Asks the host to create an actor of `kind` (or find the existing one) at `ref`. */
  protected spawn<K extends ActorKind>(kind: K, ref: ActorRef<ActorKinds[K]['protocol']>, params: ActorKinds[K]['params']): Promise<SpawnReply> {
    return this.context.spawn({ kind, address: ref, params });
  }

  /** Puts a message in this actor's own mailbox (timers use this). */
  protected enqueueSelf(message: MessageOf<P>): Promise<unknown> {
    return this.receive(message);
  }

  /** Asks the host to destroy this actor once the current message is done. */
  protected retire(): void {
    this.context.retire(this.address);
  }

  /** The mailbox's callback: any error escaping a handler becomes a typed reply; the actor keeps running. */
  failed(error: unknown, message: MessageOf<P>): Failure {
    if (error instanceof MailboxFullError) {
      this.metrics.mailboxOverflow(this.kind);
      this.log.warn({ address: this.address, capacity: error.capacity }, 'mailbox full, message refused');
      return refusal('server/overloaded', undefined, { retryAfterMs: 100 });
    }
    this.log.error({ address: this.address, err: error instanceof Error ? error.stack : String(error), message }, 'handler failed');
    return refusal('server/internal');
  }
}
