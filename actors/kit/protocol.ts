/**
 * Typed actor references (the model is Akka Typed's `ActorRef<Protocol>`).
 *
 * Each actor kind declares its protocol once: for every message `type` it
 * accepts, the message and the reply it gets. A reference to an actor is its
 * address (a plain string on the wire and across processes) branded with that
 * protocol, so the compiler checks both ends of a message:
 * - `tell(ref, message)` accepts only the messages of `ref`'s protocol;
 * - `ask(ref, message)` resolves to the reply that message gets;
 * - the actor's handler table must answer each message with its reply.
 *
 * The routing below the actors (host, cluster link, comedy) stays untyped: it
 * carries addresses and plain JSON, whatever the protocol.
 */

/** One message an actor accepts and the reply it gets (`void`: nobody waits for one). */
export interface Exchange<M extends { readonly type: string }, R> {
  readonly message: M;
  readonly reply: R;
}

/** An actor kind's protocol: each message type, keyed by its `type`, with its reply. */
export type Protocol = { readonly [type: string]: Exchange<{ readonly type: string }, unknown> };

/**
 * A protocol from the union of an actor's messages and the reply of each message type (every type must be
 * named: a message added without its reply is a compile error).
 */
export type ProtocolOf<M extends { readonly type: string }, Replies extends { readonly [T in M['type']]: unknown }> = {
  readonly [T in M['type']]: Exchange<Extract<M, { readonly type: T }>, Replies[T]>;
};

/** Every message of a protocol. */
export type MessageOf<P extends Protocol> = P[keyof P]['message'];

/** The reply a message of the protocol gets. */
export type ReplyOf<P extends Protocol, M extends MessageOf<P>> = P[M['type']]['reply'];

/** What a handler may return for a reply: the reply, or a promise of it (the mailbox waits for it). */
export type Handled<R> = R | Promise<R>;

/**
 * An actor's answers to its protocol, one function per message type, written once per class (a static
 * table, so thousands of actors share it): the compiler checks each message gets the reply it declares.
 */
export type Handlers<P extends Protocol, A> = {
  readonly [T in keyof P]: (actor: A, message: P[T]['message']) => Handled<P[T]['reply']>;
};

declare const protocolBrand: unique symbol;

/**
 * Where an actor of protocol `P` is: its address, a plain string at run time (JSON on the wire), typed by
 * the messages it accepts. Made only by the address functions of each protocol.
 */
export type ActorRef<P extends Protocol> = string & { readonly [protocolBrand]: P };

/** The reference to an address whose protocol the caller knows (the address functions of each protocol). */
export function refTo<P extends Protocol>(address: string): ActorRef<P> {
  return address as ActorRef<P>;
}

/** Hands a message to its handler in `handlers`. */
export function dispatch<P extends Protocol, A>(handlers: Handlers<P, A>, actor: A, message: MessageOf<P>): Handled<ReplyOf<P, MessageOf<P>>> {
  // The table has a handler for each message type, so the one for `message.type` takes `message`.
  const handler = handlers[message.type as keyof P] as (actor: A, message: MessageOf<P>) => Handled<ReplyOf<P, MessageOf<P>>>;
  return handler(actor, message);
}
