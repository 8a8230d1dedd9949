/**
 * The numbered messages of one session, kept until the device acknowledges
 * them, so a device that comes back (on any gateway) gets exactly what it
 * missed, in order.
 *
 * Bounded: past `capacity` unacknowledged messages the oldest are dropped, and
 * a device resuming from before them gets a full state snapshot instead of a
 * replay (the session asks its room for it).
 */
import type { ServerEventName } from '../../protocol/messages';
import type { NumberedMessage } from './session-protocol';

/** What a device resuming after `lastSeq` receives: the messages it missed, or a snapshot because some are gone. */
export type Catch = { readonly kind: 'replay'; readonly messages: readonly NumberedMessage[] } | { readonly kind: 'snapshot' };

export class OutboundLog {
  /**
   * Entries before `head` are acknowledged and already cleared to `undefined`: the array is cut in batches
   * (not one shift each), but what it held must not stay reachable until then. A message carries a room's
   * whole view; kept alive for ~30 more messages, each outlived the young generation and was promoted, and
   * acknowledged views were a third of a busy server's old generation.
   */
  private messages: (NumberedMessage | undefined)[] = [];
  /** Index of the first live entry of `messages`. */
  private head = 0;
  private lastSeq = 0;

  constructor(private readonly capacity: number) {}

  /** The sequence number of the newest message. */
  get seq(): number {
    return this.lastSeq;
  }

  /** Unacknowledged messages held. */
  get size(): number {
    return this.messages.length - this.head;
  }

  append(event: ServerEventName, payload: object): NumberedMessage {
    const message = { seq: ++this.lastSeq, event, payload };
    this.messages.push(message);
    if (this.size > this.capacity) this.dropOldest();
    this.compact();
    return message;
  }

  /** The device has every message up to `seq` (one beyond the newest acknowledges all sent so far, none sent later). */
  acknowledge(seq: number): void {
    while (this.head < this.messages.length && this.messages[this.head]!.seq <= seq) this.dropOldest();
    this.compact();
  }

  /** What a device that last received `lastSeq` must get; `undefined` if it claims a message never sent. */
  since(lastSeq: number): Catch | undefined {
    if (lastSeq > this.lastSeq) return undefined;
    this.acknowledge(lastSeq);
    const oldest = this.head < this.messages.length ? this.messages[this.head]!.seq : this.lastSeq + 1;
    if (oldest > lastSeq + 1) return { kind: 'snapshot' };
    return { kind: 'replay', messages: this.messages.slice(this.head) as NumberedMessage[] };
  }

  /** A session taken up on another worker goes on numbering where its previous incarnation stopped. */
  continueFrom(seq: number): void {
    this.lastSeq = Math.max(this.lastSeq, seq);
  }

  /** Forget everything held (the device starts over from a snapshot); numbering goes on. */
  clear(): void {
    this.messages = [];
    this.head = 0;
  }

  private dropOldest(): void {
    this.messages[this.head++] = undefined;
  }

  private compact(): void {
    // Drop the dead prefix once it is as large as what is left: amortised O(1) per message.
    if (this.head > 32 && this.head * 2 >= this.messages.length) {
      this.messages = this.messages.slice(this.head);
      this.head = 0;
    }
  }
}
