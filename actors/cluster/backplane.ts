/**
 * What the processes of a cluster share, as interfaces: a message bus between
 * nodes, a directory of who holds which actor, and membership (who is alive,
 * how loaded). infra/cluster/ implements them on Redis; actors never see the
 * driver.
 */
import type { Address } from '../messages';
import type { NodeId } from './frames';

export type NodeRole = 'gateway' | 'worker';

/** What each node reports about itself on every heartbeat. */
export interface NodeInfo {
  readonly id: NodeId;
  readonly role: NodeRole;
  /** Stable name of the slot this node fills ('w1'); a restarted worker gets a new id and keeps its slot. */
  readonly slot: string;
  readonly host: string;
  readonly pid: number;
  readonly sessions: number;
  readonly rooms: number;
  /** Connected clients (gateways). */
  readonly connections: number;
  /** A draining node takes no new sessions or rooms. */
  readonly draining: boolean;
}

export interface Backplane {
  // ---- bus: batches of frames, each to one node's inbox
  send(to: NodeId, batch: string): void;
  /** Starts receiving this node's batches. */
  listen(node: NodeId, onBatch: (batch: string) => void): Promise<void>;

  // ---- directory: address → node
  owner(address: Address): Promise<NodeId | undefined>;
  /** Records `node` as the owner unless someone else already is; returns the owner. */
  claim(address: Address, node: NodeId): Promise<NodeId>;
  /** Forgets the entry if `node` still owns it. */
  release(address: Address, node: NodeId): Promise<void>;
  /** Forgets every entry a (dead) node owned; returns how many. */
  sweep(node: NodeId): Promise<number>;
  /** The addresses a node owned, still readable for a while after `sweep` (so every survivor learns what was lost). */
  ownedBy(node: NodeId): Promise<Address[]>;

  // ---- membership
  /** Reports this node alive (and its load) for the next `ttlMs`. */
  heartbeat(info: NodeInfo, ttlMs: number): Promise<void>;
  /** Nodes whose last heartbeat has not expired. */
  members(): Promise<NodeInfo[]>;
  /** Says at once that a node is gone (it stopped, or was replaced), instead of waiting for its heartbeat to expire. */
  announceDown(node: NodeId): Promise<void>;
  onDown(listener: (node: NodeId) => void): void;

  close(): Promise<void>;
}
