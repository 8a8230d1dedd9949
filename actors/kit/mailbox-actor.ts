/**
 * Base of every Playhouse actor: one comedy topic (`receive`), one bounded
 * serial mailbox, replies that are always plain data (never thrown errors),
 * and messaging by address through the parent router.
 */
import { refusal } from '../../protocol/errors';
import type { ActorKind, Address, Failure } from '../messages';
import type { LocalRouter, SpawnReply } from './local-router';
import type { ActorLog, ActorMetrics } from '../ports';
import type { SelfHandle } from './comedy';
import { Mailbox, MailboxFullError } from './mailbox';

/** Settings every actor gets from the router in its custom parameters. */
export interface ActorSettings {
  readonly mailboxCapacity: number;
  /** How long an `ask` waits for a reply before giving up. */
  readonly askTimeoutMs: number;
}

/** What the router hands to each child it creates. */
export interface ChildParameters<P> {
  readonly address: Address;
  readonly settings: ActorSettings;
  readonly params: P;
}

export class AskTimeoutError extends Error {
  constructor(to: Address, timeoutMs: number) {
    super(`no reply from ${to} within ${timeoutMs} ms`);
    this.name = 'AskTimeoutError';
  }
}

export abstract class MailboxActor<M extends object, P> {
  protected abstract readonly kind: ActorKind;
  protected self!: SelfHandle;
  protected address!: Address;
  protected params!: P;
  protected settings!: ActorSettings;
  private mailbox!: Mailbox;
  /** The router, when it lives in this process: messages then skip comedy's in-memory hop. */
  private router: LocalRouter | undefined;

  constructor(
    protected readonly metrics: ActorMetrics,
    protected readonly log: ActorLog,
  ) {}

  /** comedy lifecycle hook. */
  async initialize(self: SelfHandle): Promise<void> {
    const parameters = self.getCustomParameters() as ChildParameters<P>;
    this.self = self;
    this.address = parameters.address;
    this.params = parameters.params;
    this.settings = parameters.settings;
    this.mailbox = new Mailbox(this.settings.mailboxCapacity, (delta) => this.metrics.mailboxDepthChanged(this.kind, delta));
    await this.started();
  }

  /** Called by a router in the same process right after creating this actor. */
  bindRouter(router: LocalRouter): void {
    this.router = router;
  }

  /** comedy lifecycle hook. */
  async destroy(): Promise<void> {
    await this.stopped();
  }

  /** The single comedy topic: every message enters the mailbox, one at a time. */
  receive(message: M): Promise<unknown> {
    return this.mailbox.post(() => this.handle(message)).catch((error: unknown) => this.failure(error, message));
  }

  protected abstract handle(message: M): unknown;

  /** Runs once the actor is initialised, before any message. */
  protected started(): void | Promise<void> {}

  /** Runs when the actor is destroyed. */
  protected stopped(): void | Promise<void> {}

  /** Sends without waiting for an answer. */
  protected tell(to: Address, message: object): void {
    if (this.router) return this.router.tell({ to, message });
    this.self
      .getParent()
      .send('tell', { to, message })
      .catch((error: unknown) => this.log.debug({ to, err: String(error) }, 'tell failed (actor system stopping?)'));
  }

  /** Sends and waits for the reply; rejects with AskTimeoutError after askTimeoutMs. */
  protected ask<R>(to: Address, message: object): Promise<R> {
    const timeoutMs = this.settings.askTimeoutMs;
    return new Promise<R>((resolve, reject) => {
      const timer = setTimeout(() => reject(new AskTimeoutError(to, timeoutMs)), timeoutMs);
      (this.router ? this.router.ask({ to, message }) : this.self.getParent().sendAndReceive('ask', { to, message }))
        .then(
          (reply) => resolve(reply as R),
          (error: unknown) => reject(error),
        )
        .finally(() => clearTimeout(timer));
    });
  }

  /** Asks the router to create an actor (or find the existing one) at `address`. */
  protected async spawn(kind: ActorKind, address: Address, params: object): Promise<SpawnReply> {
    if (this.router) return this.router.spawn({ kind, address, params });
    return (await this.self.getParent().sendAndReceive('spawn', { kind, address, params })) as SpawnReply;
  }

  /** Puts a message in this actor's own mailbox (timers use this). */
  protected enqueueSelf(message: M): Promise<unknown> {
    return this.receive(message);
  }

  /** Asks the router to destroy this actor once the current message is done. */
  protected retire(): void {
    if (this.router) {
      void this.router.retire({ address: this.address });
      return;
    }
    this.self
      .getParent()
      .send('retire', { address: this.address })
      .catch((error: unknown) => this.log.debug({ address: this.address, err: String(error) }, 'retire failed (actor system stopping?)'));
  }

  /** Any error escaping a handler becomes a typed reply; the actor keeps running. */
  private failure(error: unknown, message: M): Failure {
    if (error instanceof MailboxFullError) {
      this.metrics.mailboxOverflow(this.kind);
      this.log.warn({ address: this.address, capacity: error.capacity }, 'mailbox full, message refused');
      return refusal('server/overloaded', undefined, { retryAfterMs: 100 });
    }
    this.log.error({ address: this.address, err: error instanceof Error ? error.stack : String(error), message }, 'handler failed');
    return refusal('server/internal');
  }
}
