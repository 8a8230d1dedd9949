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
  /**
   * This incarnation's fencing token: higher than any incarnation's before it (of any node). A node
   * declared gone is fenced at its epoch; a later incarnation of the same id (a restarted gateway) has a
   * higher one and is a new member.
   */
  readonly epoch: number;
}

/**
 * What a heartbeat found:
 * - `alive`: this incarnation was a member and still is;
 * - `rejoined`: the backplane had lost it (Redis restarted empty, or an outage outlived the heartbeat's
 *   time to live) and nobody declared it gone: it is a member again and must claim its actors again;
 * - `fenced`: the cluster declared this incarnation gone (it stalled past the dead timeout): it must stop
 *   serving and come back as a new incarnation.
 */
export type HeartbeatResult = 'alive' | 'rejoined' | 'fenced';

export interface Backplane {
  // ---- bus: batches of frames, each to one node's inbox
  /** Resolves once the batch is on its way; rejects if it could not be sent (Redis unreachable): it is lost. */
  send(to: NodeId, batch: string): Promise<void>;
  /** Starts receiving this node's batches. */
  listen(node: NodeId, onBatch: (batch: string) => void): Promise<void>;
  /** Stops receiving a node's batches (an incarnation this process left behind). */
  unlisten(node: NodeId): Promise<void>;

  // ---- directory: address → node
  owner(address: Address): Promise<NodeId | undefined>;
  /**
   * Records `node` as the owner unless a live node already is; returns the owner. A fenced node claims
   * nothing: the answer is then the current owner, or '' when there is none.
   */
  claim(address: Address, node: NodeId): Promise<NodeId>;
  /** Forgets the entry if `node` still owns it. */
  release(address: Address, node: NodeId): Promise<void>;
  /** The addresses a node owned, still readable for a while after it was declared gone (so every survivor learns what was lost). */
  ownedBy(node: NodeId): Promise<Address[]>;

  // ---- membership
  /** A new incarnation's epoch: higher than every epoch handed out before, even across a Redis restarted empty. */
  newEpoch(): Promise<number>;
  /** Reports this incarnation alive (and its load) for the next `ttlMs`, unless it was declared gone. */
  heartbeat(info: NodeInfo, ttlMs: number): Promise<HeartbeatResult>;
  /** Nodes whose last heartbeat has not expired. */
  members(): Promise<NodeInfo[]>;
  /**
   * Declares the incarnation `epoch` of `node` gone, in one step on the backplane: unless its heartbeat
   * is still alive there, it is fenced (its next heartbeat answers `fenced`, its claims are refused) and
   * its directory entries are forgotten. Returns false if it was alive after all (nothing changed).
   * Saying it twice is harmless.
   */
  declareGone(node: NodeId, epoch: number): Promise<boolean>;
  /** A node says it is leaving (or replaced its previous incarnation): declared gone at once, and every node is told. */
  announceDown(node: NodeId, epoch: number): Promise<void>;
  onDown(listener: (node: NodeId, epoch: number) => void): void;

  close(): Promise<void>;
}
