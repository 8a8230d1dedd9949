/**
 * What travels between the processes of a cluster: batches of frames, as
 * plain JSON.
 *
 * A node collects every frame for one destination during a turn of the event
 * loop and sends them as one batch. Inside a batch, an object that several
 * frames carry (a room's public view pushed to every player, the same payload
 * pushed to several connections of one gateway) is written once: frames name
 * it by index in `shared`. So a broadcast crosses to each process once, not
 * once per player.
 */
import type { Address } from '../messages';
import type { SpawnRequest } from '../kit/local-router';

export type NodeId = string;

export type Frame =
  /** Fire-and-forget delivery to an address the receiving node holds. */
  | { readonly k: 'tell'; readonly to: Address; readonly m: object; readonly s?: SharedRefs }
  /** Delivery with a reply, correlated by `id` within the sending node. */
  | { readonly k: 'ask'; readonly id: number; readonly to: Address; readonly m: object; readonly s?: SharedRefs }
  /** The reply to an ask or a spawn; `miss` says the node does not hold that address (any more). */
  | { readonly k: 'reply'; readonly id: number; readonly v?: unknown; readonly miss?: true }
  /** Create an actor on the receiving node (placement chose it). */
  | { readonly k: 'spawn'; readonly id: number; readonly req: SpawnRequest };

/** Property name → index in the batch's `shared` list. */
type SharedRefs = Readonly<Record<string, number>>;

export interface Batch {
  readonly from: NodeId;
  readonly frames: readonly Frame[];
  readonly shared?: readonly object[];
}

/** A frame before encoding: messages are live objects whose properties may be shared with other frames. */
export type OutgoingFrame =
  | { readonly k: 'tell'; readonly to: Address; readonly m: object }
  | { readonly k: 'ask'; readonly id: number; readonly to: Address; readonly m: object }
  | Extract<Frame, { k: 'reply' | 'spawn' }>;

/**
 * Encodes frames for one destination. Any object-valued top-level property of
 * a message that appears (by identity) in more than one frame goes to `shared`.
 */
export function encodeBatch(from: NodeId, frames: readonly OutgoingFrame[]): string {
  const seen = new Map<object, number>();
  let repeated = false;
  for (const frame of frames) {
    if (frame.k !== 'tell' && frame.k !== 'ask') continue;
    for (const value of Object.values(frame.m)) {
      if (typeof value !== 'object' || value === null) continue;
      const count = seen.get(value) ?? 0;
      if (count === 1) repeated = true;
      seen.set(value, count + 1);
    }
  }
  if (!repeated) return JSON.stringify({ from, frames } satisfies Batch);

  const shared: object[] = [];
  const index = new Map<object, number>();
  const encoded = frames.map((frame): Frame => {
    if (frame.k !== 'tell' && frame.k !== 'ask') return frame;
    let refs: Record<string, number> | undefined;
    let message: Record<string, unknown> | undefined;
    for (const [key, value] of Object.entries(frame.m)) {
      if (typeof value !== 'object' || value === null || (seen.get(value) ?? 0) < 2) continue;
      let at = index.get(value);
      if (at === undefined) {
        at = shared.push(value) - 1;
        index.set(value, at);
      }
      message ??= { ...(frame.m as Record<string, unknown>) };
      delete message[key];
      (refs ??= {})[key] = at;
    }
    return refs ? { ...frame, m: message!, s: refs } : frame;
  });
  return JSON.stringify({ from, frames: encoded, shared } satisfies Batch);
}

/** Decodes a batch, putting shared objects back where they were (the same object in every frame that had it). */
export function decodeBatch(text: string): Batch {
  const batch = JSON.parse(text) as Batch;
  if (!batch.shared) return batch;
  for (const frame of batch.frames) {
    if ((frame.k === 'tell' || frame.k === 'ask') && frame.s) {
      const message = frame.m as Record<string, unknown>;
      for (const [key, at] of Object.entries(frame.s)) message[key] = batch.shared[at];
    }
  }
  return batch;
}
