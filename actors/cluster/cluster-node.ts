/**
 * One process's place in a cluster: it sends messages for actors held
 * elsewhere to the node that holds them, answers the frames other nodes send
 * it, places new actors on the least-loaded worker, and notices nodes that
 * die.
 *
 * Where an actor lives is looked up in the directory (and cached); a node
 * that no longer holds an address answers `miss`, and the sender looks again.
 * Frames to one node are batched per turn of the event loop.
 *
 * Faults (see README "What a cluster survives"):
 * - A node is declared gone only by an observer that has reached the
 *   backplane without a break for twice the dead timeout: after a Redis
 *   outage every live node has reconnected and heartbeaten again before
 *   anyone judges (nodes reconnect at different moments, and one that comes
 *   back empty has only the workers' memory of their rooms, which fencing
 *   would throw away), so an outage of Redis itself never looks like the
 *   death of the cluster.
 * - Each incarnation has an epoch. Declaring one gone fences it on the
 *   backplane; when a fenced node wakes (it stalled past the dead timeout)
 *   its heartbeat says so, it drops what it held and comes back as a new
 *   incarnation. Nodes ignore frames from incarnations they know are gone.
 * - A node's heartbeat is its lease: once the last one is older than the
 *   dead timeout allows, it holds the frames it receives until a heartbeat
 *   says whether it is still a member (then it handles them) or fenced
 *   (then it drops them), so a woken zombie acts on nothing.
 * - After Redis lost the node (restarted empty, or an outage outlived the
 *   heartbeat's time to live) the node claims its actors in the directory again.
 */
import { hostname } from 'node:os';
import { refusal } from '../../protocol/errors';
import type { Envelope, SpawnReply, SpawnRequest } from '../kit/local-router';
import { LOBBY } from '../lobby/lobby-protocol';
import type { Address } from '../messages';
import type { ActorLog, ActorMetrics } from '../ports';
import type { ActorHost, ClusterLink } from '../worker/actor-host';
import type { Backplane, HeartbeatResult, NodeInfo, NodeRole } from './backplane';
import { decodeBatch, encodeBatch, type Frame, type NodeId, type OutgoingFrame } from './frames';

export interface ClusterNodeOptions {
  readonly id: NodeId;
  readonly role: NodeRole;
  readonly slot: string;
  readonly heartbeatMs: number;
  readonly deadAfterMs: number;
  /** How long an ask to another node may wait before it is answered `server/unavailable`. */
  readonly askTimeoutMs: number;
  readonly log: ActorLog;
  readonly metrics: Pick<ActorMetrics, 'clusterBatch'>;
  /** Connected clients, for gateways' heartbeats. */
  readonly connections?: () => number;
  /**
   * The id of this node's next incarnation, after it was fenced: a worker takes a new one (its directory
   * entries name its incarnation); a gateway keeps its id (its address names it) with a new epoch.
   */
  readonly nextId?: () => NodeId;
}

/** What a node does when the cluster declared it gone: drop what it held, before it rejoins as a new incarnation. */
export type FencedListener = () => Promise<void>;

/** What a node learns when another node dies: the addresses that node held. */
export type NodeDownListener = (node: NodeId, lost: readonly Address[]) => void;

/** A node's standing in the cluster, as its readiness probe reports it. */
export interface NodeHealth {
  /** The last heartbeat reached the backplane (Redis). */
  readonly backplaneUp: boolean;
  /** Workers alive and taking new sessions and rooms. */
  readonly liveWorkers: number;
  /** The cluster declared this incarnation gone: it serves nothing until it rejoins. */
  readonly fenced: boolean;
}

export type SpawnedReply = SpawnReply & { readonly node?: NodeId };

interface PendingAsk {
  readonly node: NodeId;
  readonly envelope: Envelope;
  readonly resolve: (value: unknown) => void;
  readonly timer: NodeJS.Timeout;
  readonly retried: boolean;
}

const GATEWAY_PREFIX = 'gateway:';

/** Incarnations remembered as gone; past it the oldest are forgotten (their heartbeats expired long ago). */
const GONE_REMEMBERED = 10_000;

/** Cached locations kept at most; past it the oldest are forgotten (and looked up again if needed). */
const LOCATION_CACHE_LIMIT = 200_000;

export class ClusterNode implements ClusterLink {
  private readonly locations = new Map<Address, NodeId>();
  private readonly lookups = new Map<Address, Promise<NodeId | undefined>>();
  private readonly pending = new Map<number, PendingAsk>();
  private readonly outbox = new Map<NodeId, OutgoingFrame[]>();
  private readonly live = new Map<NodeId, NodeInfo>();
  private readonly downListeners: NodeDownListener[] = [];
  private readonly fencedListeners: FencedListener[] = [];
  private readonly rejoinedListeners: Array<() => void> = [];
  /** Incarnations known gone: node id → the highest epoch declared gone. */
  private readonly gone = new Map<NodeId, number>();
  /** The role of every node seen, kept after it dies (a gone gateway's sessions must hear of it). */
  private readonly roles = new Map<NodeId, NodeRole>();
  /** Batches received while this node's lease was out, waiting for a heartbeat to say what it is. */
  private held: string[] = [];
  private currentId: NodeId;
  private epoch = 0;
  /** performance.now() of the first heartbeat of the current unbroken run of successful ones (undefined: the last failed). */
  private contactSince: number | undefined;
  /** performance.now() until which this node may act without hearing from the backplane again. */
  private leaseUntil = 0;
  private joined = false;
  private beating: Promise<void> | undefined;
  /** Actors placed on each node since its last heartbeat, so a burst of placements spreads out. */
  private readonly placedSinceHeartbeat = new Map<NodeId, number>();
  private nextId = 1;
  private flushScheduled = false;
  /** The members read in flight, shared by everyone who needs it. */
  private membersRead: Promise<void> | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private draining = false;
  private stopped = false;
  private backplaneUp = false;
  private fenced = false;
  private readonly onBatch = (batch: string): void => this.receive(batch);

  constructor(
    private readonly host: ActorHost,
    private readonly backplane: Backplane,
    private readonly options: ClusterNodeOptions,
  ) {
    this.currentId = options.id;
  }

  get id(): NodeId {
    return this.currentId;
  }

  /** Joins the cluster: receives its frames, reports itself alive, learns who else is. */
  async start(): Promise<void> {
    this.backplane.onDown((node, epoch) => this.heardDown(node, epoch));
    this.epoch = await this.backplane.newEpoch();
    await this.backplane.listen(this.id, this.onBatch);
    await this.beat();
    this.heartbeatTimer = setInterval(() => void this.beat(), this.options.heartbeatMs);
    this.heartbeatTimer.unref();
    this.host.connect(this);
  }

  onNodeDown(listener: NodeDownListener): void {
    this.downListeners.push(listener);
  }

  /** Runs when the backplane had lost this node (Redis came back empty, or an outage outlived the heartbeat), once its actors are claimed again. */
  onRejoined(listener: () => void): void {
    this.rejoinedListeners.push(listener);
  }

  /** Runs when the cluster declared this incarnation gone, before the node rejoins as a new one. */
  onFenced(listener: FencedListener): void {
    this.fencedListeners.push(listener);
  }

  /** Takes no new sessions or rooms from now on (placement skips this node). */
  async drain(): Promise<void> {
    this.draining = true;
    await this.beat();
  }

  /** Leaves the cluster: says so at once, so others need not wait for the heartbeat to expire. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.heartbeatTimer);
    this.flush();
    this.failPending(() => true, refusal('server/shutting-down'));
    this.held = [];
    await this.backplane.announceDown(this.id, this.epoch).catch(() => undefined);
  }

  /** What this node knows of its own standing: for readiness probes. */
  health(): NodeHealth {
    let liveWorkers = 0;
    for (const info of this.live.values()) if (info.role === 'worker' && !info.draining) liveWorkers++;
    return { backplaneUp: this.backplaneUp, liveWorkers, fenced: this.fenced };
  }

  /** Whether `node` is (or was) a gateway of the cluster, as far as this node knows. */
  isGateway(node: NodeId): boolean {
    return this.roles.get(node) === 'gateway';
  }

  /** Live nodes as of the last heartbeat. */
  members(): readonly NodeInfo[] {
    return [...this.live.values()];
  }

  // ---- ClusterLink: what the host hands over for addresses it does not hold

  tell(envelope: Envelope): void {
    const node = this.cached(envelope.to);
    if (node) return this.enqueue(node, { k: 'tell', to: envelope.to, m: envelope.message });
    void this.locate(envelope.to).then((found) => {
      if (found) this.enqueue(found, { k: 'tell', to: envelope.to, m: envelope.message });
      else this.options.log.debug({ to: envelope.to }, 'tell to an address nobody holds: dropped');
    });
  }

  ask(envelope: Envelope): Promise<unknown> {
    const node = this.cached(envelope.to);
    if (node) return this.sendAsk(node, envelope, false);
    return this.locate(envelope.to).then((found) => (found ? this.sendAsk(found, envelope, false) : notHeld(envelope.to)));
  }

  /** Creates the actor on the least-loaded live worker that is not draining. */
  async spawn(request: SpawnRequest): Promise<SpawnedReply> {
    const tried = new Set<NodeId>();
    for (;;) {
      const node = this.pickWorker(tried);
      if (!node) return refusal('server/unavailable', 'no worker is available');
      tried.add(node);
      this.placedSinceHeartbeat.set(node, (this.placedSinceHeartbeat.get(node) ?? 0) + 1);
      const reply =
        node === this.id
          ? await this.spawnHere(request)
          : ((await this.expectReply(node, { to: request.address, message: {} }, true, (id) => ({ k: 'spawn', id, req: request }))) as SpawnedReply);
      if (reply.ok && reply.node) this.remember(request.address, reply.node);
      // The chosen worker died before answering (we had not noticed yet): place it on another one.
      if (!reply.ok && reply.error.code === 'server/unavailable' && node !== this.id) continue;
      return reply;
    }
  }

  released(address: Address): void {
    this.forget(address, this.id);
    void this.backplane.release(address, this.id).catch(() => undefined);
  }

  /** Where `address` lives, from the cache or the directory; undefined if nobody live holds it. */
  async locate(address: Address): Promise<NodeId | undefined> {
    if (this.host.holds(address)) return this.id;
    const cached = this.cached(address);
    if (cached) return cached;
    let lookup = this.lookups.get(address);
    if (!lookup) {
      lookup = this.lookUp(address).finally(() => this.lookups.delete(address));
      this.lookups.set(address, lookup);
    }
    return lookup;
  }

  // ---- internals

  private async lookUp(address: Address): Promise<NodeId | undefined> {
    // A gateway's address names its node: no directory entry needed.
    if (address.startsWith(GATEWAY_PREFIX)) {
      const node = address.slice(GATEWAY_PREFIX.length);
      return (await this.isLive(node)) ? node : undefined;
    }
    let owner = await this.backplane.owner(address).catch(() => undefined);
    if (owner === this.id && !this.host.holds(address)) {
      // A stale entry of ours (the actor retired, its release lost): it is nobody's.
      await this.backplane.release(address, this.id).catch(() => undefined);
      owner = undefined;
    }
    if (owner && (await this.isLive(owner))) {
      this.remember(address, owner);
      return owner;
    }
    // The one lobby of the cluster is created on first use (and again if its worker died).
    if (address === LOBBY) {
      const spawned = await this.spawn({ kind: 'lobby', address: LOBBY, params: {} });
      return spawned.ok ? spawned.node : undefined;
    }
    return undefined;
  }

  /**
   * Creates the actor here once the directory says it is ours: the claim comes first, so of two nodes asked
   * to create the same actor (two gateways opening one player's session, a room restored twice while a slow
   * placement timed out) only one builds it — a room taken up twice would take its log over twice.
   */
  private async spawnHere(request: SpawnRequest): Promise<SpawnedReply> {
    if (this.options.role !== 'worker') return refusal('server/internal', 'only workers hold actors');
    const owner = await this.backplane.claim(request.address, this.id).catch(() => '');
    if (owner !== this.id && owner !== '' && (await this.isLive(owner))) return { ok: true, created: false, node: owner };
    // This incarnation was fenced, or Redis could not be reached: what it would hold would be nobody's.
    if (owner !== this.id) return refusal('server/unavailable', `${request.address} could not be registered in the cluster's directory`);
    const reply = await this.host.spawnHere(request);
    if (!reply.ok) {
      this.forget(request.address, this.id);
      await this.backplane.release(request.address, this.id).catch(() => undefined);
      return reply;
    }
    return { ok: true, created: reply.created, node: this.id };
  }

  private sendAsk(node: NodeId, envelope: Envelope, retried: boolean): Promise<unknown> {
    if (node === this.id) {
      // The directory (or our cache of it) named this node, but the actor is gone from it (retired meanwhile).
      if (this.host.holdsHere(envelope.to)) return this.host.ask(envelope);
      this.forget(envelope.to, this.id);
      return Promise.resolve(notHeld(envelope.to));
    }
    return this.expectReply(node, envelope, retried, (id) => ({ k: 'ask', id, to: envelope.to, m: envelope.message }));
  }

  /**
   * Sends the frame `frame(id)` and resolves with the reply frame of that id, or
   * `server/unavailable` after the ask timeout. A `miss` reply is looked up again
   * unless `retried`.
   */
  private expectReply(node: NodeId, envelope: Envelope, retried: boolean, frame: (id: number) => OutgoingFrame): Promise<unknown> {
    return new Promise((resolve) => {
      const id = this.nextId++;
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve(refusal('server/unavailable', `${envelope.to} (on ${node}) did not answer within ${this.options.askTimeoutMs} ms`));
      }, this.options.askTimeoutMs);
      this.pending.set(id, { node, envelope, resolve, timer, retried });
      this.enqueue(node, frame(id));
    });
  }

  private enqueue(node: NodeId, frame: OutgoingFrame): void {
    let frames = this.outbox.get(node);
    if (!frames) this.outbox.set(node, (frames = []));
    frames.push(frame);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    for (const [node, frames] of this.outbox) {
      const batch = encodeBatch(this.id, frames);
      this.options.metrics.clusterBatch('sent', frames.length, batch.length);
      this.backplane.send(node, batch).catch((error: unknown) => this.notSent(node, frames, error));
    }
    this.outbox.clear();
  }

  /** A batch could not be sent (Redis unreachable): its asks are answered at once rather than at their timeout. */
  private notSent(node: NodeId, frames: readonly OutgoingFrame[], error: unknown): void {
    if (this.stopped) return;
    this.options.log.debug({ node, frames: frames.length, err: String(error) }, 'a batch could not be sent');
    const asks = new Set<number>();
    for (const frame of frames) if (frame.k === 'ask' || frame.k === 'spawn') asks.add(frame.id);
    if (asks.size === 0) return;
    this.failPending((_ask, id) => asks.has(id), refusal('server/unavailable', 'the cluster backplane (Redis) is unreachable; retry shortly'));
  }

  private receive(text: string): void {
    if (this.stopped) return;
    if (performance.now() > this.leaseUntil) {
      // Out of lease (a stall, or Redis unreachable): act on nothing until a heartbeat says what this node is.
      this.held.push(text);
      void this.beat();
      return;
    }
    this.handleBatch(text);
  }

  private handleBatch(text: string): void {
    let frames: readonly Frame[];
    let from: NodeId;
    try {
      const batch = decodeBatch(text);
      frames = batch.frames;
      from = batch.from;
    } catch (error) {
      this.options.log.error({ err: String(error) }, 'undecodable batch from the cluster bus: dropped');
      return;
    }
    if (this.gone.has(from) && !this.live.has(from)) {
      // A zombie's frames (an incarnation declared gone) change nothing here. Read the members again in
      // case it is a new incarnation of a gateway we have not seen yet; its asks are retried meanwhile.
      void this.learnMembers().catch(() => undefined);
      return;
    }
    this.options.metrics.clusterBatch('received', frames.length, text.length);
    for (const frame of frames) this.handleFrame(from, frame);
  }

  private handleFrame(from: NodeId, frame: Frame): void {
    switch (frame.k) {
      case 'tell':
        if (this.host.holdsHere(frame.to)) this.host.tell({ to: frame.to, message: frame.m });
        return;
      case 'ask':
        if (!this.host.holdsHere(frame.to)) {
          // Draining, this node handed its actors over: the directory still names it until it has left, so
          // the asker would find it again. A retryable refusal lets the request reach the next holder.
          if (this.draining) this.enqueue(from, { k: 'reply', id: frame.id, v: refusal('server/unavailable', `${frame.to} is moving to another worker; retry`) });
          else this.enqueue(from, { k: 'reply', id: frame.id, miss: true });
          return;
        }
        void this.host.ask({ to: frame.to, message: frame.m }).then((value) => this.enqueue(from, { k: 'reply', id: frame.id, v: value }));
        return;
      case 'spawn':
        void this.spawnHere(frame.req).then((value) => this.enqueue(from, { k: 'reply', id: frame.id, v: value }));
        return;
      case 'reply':
        return this.answered(frame);
    }
  }

  private answered(frame: Extract<Frame, { k: 'reply' }>): void {
    const ask = this.pending.get(frame.id);
    if (!ask) return; // timed out already
    this.pending.delete(frame.id);
    clearTimeout(ask.timer);
    if (!frame.miss) return ask.resolve(frame.v);
    // That node does not hold the address (any more): look it up again, once.
    this.forget(ask.envelope.to, ask.node);
    if (ask.retried) return ask.resolve(notHeld(ask.envelope.to));
    void this.lookUp(ask.envelope.to).then((found) =>
      ask.resolve(found && found !== ask.node ? this.sendAsk(found, ask.envelope, true) : notHeld(ask.envelope.to)),
    );
  }

  /** One heartbeat at a time: the interval's, or one a held batch asked for. */
  private beat(): Promise<void> {
    this.beating ??= this.heartbeat().finally(() => (this.beating = undefined));
    return this.beating;
  }

  private async heartbeat(): Promise<void> {
    if (this.stopped || this.fenced) return;
    const stats = this.host.stats();
    const info: NodeInfo = {
      id: this.id,
      role: this.options.role,
      slot: this.options.slot,
      host: hostname(),
      pid: process.pid,
      sessions: stats.actors.session,
      rooms: stats.actors.room,
      connections: this.options.connections?.() ?? 0,
      draining: this.draining,
      epoch: this.epoch,
    };
    const sentAt = performance.now();
    let result: HeartbeatResult;
    try {
      const limitMs = this.options.deadAfterMs / 2;
      result = await this.host.deadlines.within(this.backplane.heartbeat(info, this.options.deadAfterMs), limitMs, () => new Error(`heartbeat: no answer within ${limitMs} ms`));
    } catch (error) {
      if (this.backplaneUp || this.contactSince !== undefined) this.options.log.warn({ err: String(error) }, 'cluster heartbeat failed: the backplane (Redis) is unreachable');
      this.backplaneUp = false;
      this.contactSince = undefined;
      return;
    }
    if (result === 'fenced') return this.becomeFenced();
    // The lease runs from when the heartbeat was sent: it ends before the backplane's record of it expires.
    this.leaseUntil = sentAt + this.options.deadAfterMs - this.options.heartbeatMs;
    if (!this.backplaneUp && this.joined) this.options.log.warn({ node: this.id }, 'cluster backplane (Redis) reachable again');
    this.backplaneUp = true;
    this.contactSince ??= sentAt;
    if (result === 'rejoined' && this.joined) await this.claimAgain();
    this.joined = true;
    this.releaseHeld();
    try {
      await this.learnMembers();
      this.placedSinceHeartbeat.clear();
    } catch (error) {
      this.options.log.warn({ err: String(error) }, 'reading the cluster members failed');
    }
  }

  /** Handles the batches that waited for this heartbeat, in the order they came. */
  private releaseHeld(): void {
    const held = this.held;
    this.held = [];
    for (const batch of held) this.handleBatch(batch);
  }

  /**
   * The backplane had lost this node (Redis restarted empty, or an outage outlived the heartbeat's time to
   * live) without anyone declaring it gone: its directory entries may be gone too. Claim every actor again;
   * one another node took meanwhile is theirs, and our copy goes.
   */
  private async claimAgain(): Promise<void> {
    const addresses = (['lobby', 'room', 'session'] as const).flatMap((kind) => this.host.addressesOf(kind));
    this.options.log.warn({ node: this.id, actors: addresses.length }, 'the cluster backplane had lost this node: claiming its actors again');
    const owners = await Promise.all(addresses.map((address) => this.backplane.claim(address, this.id).catch(() => undefined)));
    for (const [i, owner] of owners.entries()) {
      if (owner === undefined || owner === this.id) continue;
      this.options.log.warn({ address: addresses[i], owner }, 'another node took this actor meanwhile: dropping our copy');
      await this.host.retire({ address: addresses[i]! });
    }
    for (const listener of this.rejoinedListeners) listener();
  }

  /**
   * The cluster declared this incarnation gone (it stalled past the dead timeout, or a new incarnation of
   * its slot replaced it): its actors were taken up elsewhere. Answer nothing more, drop what it holds,
   * and come back as a new incarnation.
   */
  private async becomeFenced(): Promise<void> {
    if (this.fenced || this.stopped) return;
    this.fenced = true;
    this.leaseUntil = 0;
    this.options.log.error({ node: this.id, epoch: this.epoch }, 'the cluster declared this node gone (it stalled past the dead timeout): dropping what it held and rejoining');
    this.held = [];
    this.failPending(() => true, refusal('server/unavailable', `${this.id} was declared gone by the cluster`));
    this.locations.clear();
    this.outbox.clear();
    this.live.delete(this.currentId);
    for (const listener of this.fencedListeners) {
      await listener().catch((error: unknown) => this.options.log.error({ err: String(error) }, 'dropping a fenced node\'s actors failed'));
    }
    const previous = this.currentId;
    const next = this.options.nextId?.() ?? previous;
    for (;;) {
      if (this.stopped) return;
      try {
        this.epoch = await this.backplane.newEpoch();
        if (next !== previous) {
          await this.backplane.listen(next, this.onBatch);
          await this.backplane.unlisten(previous).catch(() => undefined);
        }
        break;
      } catch (error) {
        this.options.log.warn({ err: String(error) }, 'rejoining the cluster failed: retrying');
        await new Promise((resolve) => setTimeout(resolve, this.options.heartbeatMs).unref());
      }
    }
    this.currentId = next;
    this.joined = false;
    this.fenced = false;
    this.options.log.warn({ node: this.id, epoch: this.epoch, previous }, 'rejoined the cluster as a new incarnation');
    await this.heartbeat();
  }

  /** Reads who is alive now: new nodes join `live`; nodes whose heartbeat expired are declared gone. */
  private learnMembers(): Promise<void> {
    this.membersRead ??= this.backplane
      .members()
      .then((members) => {
        const seen = new Set<NodeId>();
        for (const member of members) {
          if (member.id === this.id) {
            // Placement counts this node too.
            if (member.epoch === this.epoch) this.live.set(member.id, member);
            seen.add(member.id);
            continue;
          }
          const goneEpoch = this.gone.get(member.id);
          if (goneEpoch !== undefined && member.epoch <= goneEpoch) continue;
          seen.add(member.id);
          this.gone.delete(member.id);
          const known = this.live.get(member.id);
          // A new incarnation under a known id (a gateway restarted before its old heartbeat expired).
          if (known && known.epoch < member.epoch) this.lost(known.id, known.epoch, 'declared');
          this.live.set(member.id, member);
          this.roles.set(member.id, member.role);
        }
        // Only an observer that has reached the backplane for twice the dead timeout may judge: after an
        // outage, every live node has reconnected and heartbeaten again by then, even one that reconnected
        // a little later than this one or was slowed by the load of everyone coming back at once.
        const settled = this.contactSince !== undefined && performance.now() - this.contactSince >= 2 * this.options.deadAfterMs;
        if (!settled) return;
        for (const info of [...this.live.values()]) if (!seen.has(info.id)) void this.declareGone(info);
      })
      .finally(() => (this.membersRead = undefined));
    return this.membersRead;
  }

  /**
   * Whether `node` is alive. A node that joined since our last heartbeat is not
   * in `live` yet (a gateway that just started, a worker just placed): read the
   * members again rather than drop what is addressed to it.
   */
  private async isLive(node: NodeId): Promise<boolean> {
    if (this.live.has(node)) return true;
    if (this.gone.has(node)) return false;
    if (node === this.id) return true;
    await this.learnMembers().catch(() => undefined);
    return this.live.has(node);
  }

  private pickWorker(exclude: ReadonlySet<NodeId>): NodeId | undefined {
    let best: NodeId | undefined;
    let bestLoad = Infinity;
    for (const info of this.live.values()) {
      if (info.role !== 'worker' || info.draining || exclude.has(info.id)) continue;
      if (info.id === this.id && this.draining) continue;
      // Rooms carry the game work; sessions weigh less (a session is mostly idle between moves).
      const load = info.rooms * 2 + info.sessions + (this.placedSinceHeartbeat.get(info.id) ?? 0) * 2;
      if (load < bestLoad) {
        best = info.id;
        bestLoad = load;
      }
    }
    return best;
  }

  /** A member's heartbeat expired: declare it gone on the backplane (unless it beat meanwhile), then act on it. */
  private async declareGone(info: NodeInfo): Promise<void> {
    const declared = await this.backplane.declareGone(info.id, info.epoch).catch((error: unknown) => {
      this.options.log.warn({ node: info.id, err: String(error) }, 'declaring a node gone failed: will try again');
      return false;
    });
    if (declared) this.lost(info.id, info.epoch, 'declared');
  }

  /** Another node said an incarnation is gone (it stopped, or a new one replaced it). */
  private heardDown(node: NodeId, epoch: number): void {
    if (node === this.id && epoch === this.epoch) {
      void this.becomeFenced();
      return;
    }
    this.lost(node, epoch, 'announced');
  }

  /**
   * An incarnation is gone: forget it, fail what waits on it, tell the listeners what it held. `announced`: it
   * said so itself as it stopped (or its replacement did), which every orderly shutdown does, so it is no warning.
   */
  private lost(node: NodeId, epoch: number, how: 'announced' | 'declared'): void {
    if (node === this.id && epoch === this.epoch) return;
    if ((this.gone.get(node) ?? -1) >= epoch) return;
    this.gone.set(node, epoch);
    if (this.gone.size > GONE_REMEMBERED) {
      const oldest = this.gone.keys().next().value!;
      this.gone.delete(oldest);
      this.roles.delete(oldest);
    }
    const live = this.live.get(node);
    if (live && live.epoch <= epoch) this.live.delete(node);
    if (how === 'announced') this.options.log.info({ node, epoch }, 'cluster node left');
    else this.options.log.warn({ node, epoch }, 'cluster node gone');
    this.failPending((ask) => ask.node === node, refusal('server/unavailable', `${node} stopped before answering`));
    for (const [address, owner] of this.locations) if (owner === node) this.locations.delete(address);
    if (this.downListeners.length === 0) return;
    void this.backplane
      .ownedBy(node)
      .then((lost) => {
        for (const listener of this.downListeners) listener(node, lost);
      })
      .catch((error: unknown) => this.options.log.warn({ node, err: String(error) }, 'reading what a dead node held failed'));
  }

  private failPending(which: (ask: PendingAsk, id: number) => boolean, reply: unknown): void {
    for (const [id, ask] of this.pending) {
      if (!which(ask, id)) continue;
      this.pending.delete(id);
      clearTimeout(ask.timer);
      ask.resolve(reply);
    }
  }

  private cached(address: Address): NodeId | undefined {
    const node = this.locations.get(address);
    return node && this.live.has(node) ? node : undefined;
  }

  private remember(address: Address, node: NodeId): void {
    if (this.locations.size >= LOCATION_CACHE_LIMIT) {
      const oldest = this.locations.keys().next();
      if (!oldest.done) this.locations.delete(oldest.value);
    }
    this.locations.set(address, node);
  }

  private forget(address: Address, node: NodeId): void {
    if (this.locations.get(address) === node) this.locations.delete(address);
  }
}

function notHeld(address: Address): unknown {
  if (address.startsWith('room:')) return refusal('room/not-found');
  if (address.startsWith('session:')) return refusal('session/lost');
  return refusal('server/unavailable', `nobody holds ${address}`);
}
