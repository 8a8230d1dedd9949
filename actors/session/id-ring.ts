/**
 * The last `capacity` string ids, each with a value, oldest first: a ring of
 * slots and an open-addressing index. The arrays start small and double until
 * they hold `capacity` ids (a player who made one request costs ~0.5 KB, not
 * the full window's ~5 KB); from then on they are never reallocated.
 *
 * Why not a Map: a session remembers its player's last 128 action ids, one in
 * and one out per move. A Map that slides like that leaves a hole per delete
 * and rebuilds its hash table every few dozen moves; the table belongs to a
 * long-lived session, so every copy outlived the young generation. At 2,000
 * duel clients those tables were a fifth of everything that survived a
 * scavenge. Here remembering an id and forgetting the oldest allocate nothing.
 */
export class IdRing<V> {
  /** Ring slots: the id in each (undefined: empty or removed), its value and its hash. */
  private ids: Array<string | undefined> = [];
  private values: Array<V | undefined> = [];
  private hashes: number[] = [];
  /** Open addressing with linear probing: slot + 1 of the id hashed there, 0 for none. At least twice the slots, a power of two. */
  private index: number[] = [];
  private mask = 0;
  /** The ring slot the next id goes to; the oldest id is there too once the ring is full. */
  private next = 0;
  private count = 0;

  constructor(
    readonly capacity: number,
    initialSlots = 8,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`an IdRing holds at least one id, not ${capacity}`);
    this.resize(Math.max(1, Math.min(capacity, initialSlots)));
  }

  /** Ids held (removed ones not counted). */
  get size(): number {
    return this.count;
  }

  /** The ring slot holding `id`, or -1. */
  slotOf(id: string): number {
    const hash = hashOf(id);
    for (let at = hash & this.mask; ; at = (at + 1) & this.mask) {
      const slot = this.index[at]! - 1;
      if (slot < 0) return -1;
      if (this.hashes[slot] === hash && this.ids[slot] === id) return slot;
    }
  }

  has(id: string): boolean {
    return this.slotOf(id) >= 0;
  }

  valueAt(slot: number): V {
    return this.values[slot] as V;
  }

  setAt(slot: number, value: V): void {
    this.values[slot] = value;
  }

  /** Adds `id` (which must not be held) as the newest, forgetting the oldest slot's id if the ring is full. Returns its slot. */
  add(id: string, value: V): number {
    const slot = this.next;
    if (this.ids[slot] !== undefined) this.removeAt(slot);
    const hash = hashOf(id);
    this.ids[slot] = id;
    this.values[slot] = value;
    this.hashes[slot] = hash;
    this.indexSlot(slot);
    this.count++;
    this.next = slot + 1;
    if (this.next === this.ids.length) {
      // Grown only before the ring first comes round: slots up to here are in insertion order, and stay where
      // they are (a caller may hold one, as RecentActions does while an action runs).
      if (this.ids.length < this.capacity) this.resize(Math.min(this.capacity, this.ids.length * 2));
      else this.next = 0;
    }
    return slot;
  }

  /** Forgets the id in `slot`; the slot stays empty until the ring comes round to it. */
  removeAt(slot: number): void {
    if (this.ids[slot] === undefined) return;
    let at = this.hashes[slot]! & this.mask;
    while (this.index[at] !== slot + 1) at = (at + 1) & this.mask;
    // Backward-shift deletion: pull later entries of the probe run into the gap, so lookups need no tombstones.
    for (let probe = (at + 1) & this.mask; this.index[probe] !== 0; probe = (probe + 1) & this.mask) {
      const home = this.hashes[this.index[probe]! - 1]! & this.mask;
      const stays = at <= probe ? at < home && home <= probe : at < home || home <= probe;
      if (stays) continue;
      this.index[at] = this.index[probe]!;
      at = probe;
    }
    this.index[at] = 0;
    this.ids[slot] = undefined;
    this.values[slot] = undefined;
    this.count--;
  }

  /** Slots holding an id, oldest first. */
  *slots(): IterableIterator<number> {
    const length = this.ids.length;
    for (let step = 0; step < length; step++) {
      const slot = (this.next + step) % length;
      if (this.ids[slot] !== undefined) yield slot;
    }
  }

  idAt(slot: number): string {
    return this.ids[slot]!;
  }

  /** Makes room for `slots` slots, keeping every id in its slot, and rebuilds the index for them. */
  private resize(slots: number): void {
    // New arrays of the exact length (push would leave spare room past the last growth).
    this.ids = grown(this.ids, slots, undefined);
    this.values = grown(this.values, slots, undefined);
    this.hashes = grown(this.hashes, slots, 0);
    let size = 2;
    while (size < slots * 2) size *= 2;
    this.index = new Array<number>(size).fill(0);
    this.mask = size - 1;
    for (let slot = 0; slot < this.ids.length; slot++) if (this.ids[slot] !== undefined) this.indexSlot(slot);
  }

  /** Enters `slot` (its id and hash already set) in the index, at the first free place of its probe run. */
  private indexSlot(slot: number): void {
    let at = this.hashes[slot]! & this.mask;
    while (this.index[at] !== 0) at = (at + 1) & this.mask;
    this.index[at] = slot + 1;
  }
}

function grown<T>(items: readonly T[], length: number, empty: T): T[] {
  const copy = new Array<T>(length).fill(empty);
  for (let i = 0; i < items.length; i++) copy[i] = items[i]!;
  return copy;
}

/** FNV-1a over the UTF-16 code units, kept to 31 bits (a small integer to V8). */
function hashOf(id: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 0x01000193);
  return (hash ^ (hash >>> 15)) & 0x7fffffff;
}
