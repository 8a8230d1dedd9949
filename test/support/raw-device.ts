/**
 * Test support: a device speaking the wire protocol through socket.io-client
 * directly, without the SDK, so a test controls exactly what is sent — which
 * resume token and sequence number, which action id, when to acknowledge and
 * when the connection drops — and sees every numbered message as it arrived.
 */
import { io, type Socket } from 'socket.io-client';
import type { ErrorBody } from '../../protocol/errors';
import { NUMBERED_EVENTS, PROTOCOL_VERSION, type ServerEventName, type SessionReady } from '../../protocol/messages';

export interface Received {
  readonly event: ServerEventName;
  readonly payload: Record<string, unknown>;
  readonly seq: number | undefined;
}

export interface ResumeAuth {
  readonly token: string;
  readonly lastSeq: number;
}

export class RefusedHandshake extends Error {
  constructor(readonly body: ErrorBody | undefined) {
    super(`handshake refused: ${body?.code ?? 'no code'}`);
  }
}

export class Device {
  readonly received: Received[] = [];
  private waiters: Array<() => void> = [];

  private constructor(
    readonly socket: Socket,
    readonly ready: SessionReady,
  ) {
    for (const event of [...NUMBERED_EVENTS, 'session:closed'] as const) {
      socket.on(event, (payload: Record<string, unknown>, seq?: number) => {
        this.received.push({ event, payload, seq });
        for (const wake of this.waiters.splice(0)) wake();
      });
    }
  }

  /** Connects over WebSocket; resolves on `session:ready`, rejects with RefusedHandshake on connect_error. */
  static connect(url: string, token: string, resume?: ResumeAuth): Promise<Device> {
    const socket = io(url, { auth: { token, protocol: PROTOCOL_VERSION, ...(resume ? { resume } : {}) }, transports: ['websocket'], reconnection: false });
    return new Promise((resolve, reject) => {
      // Listen for numbered messages from the first packet on: replayed ones follow session:ready at once.
      const early: Array<[ServerEventName, Record<string, unknown>, number | undefined]> = [];
      const record = (event: ServerEventName) => (payload: Record<string, unknown>, seq?: number) => early.push([event, payload, seq]);
      const recorders = NUMBERED_EVENTS.map((event) => [event, record(event)] as const);
      for (const [event, listener] of recorders) socket.on(event, listener);
      socket.once('session:ready', (ready: SessionReady) => {
        for (const [event, listener] of recorders) socket.off(event, listener);
        const device = new Device(socket, ready);
        // Socket.IO delivers the packets after session:ready in later ticks; nothing was missed.
        for (const [event, payload, seq] of early) device.received.push({ event, payload, seq });
        resolve(device);
      });
      socket.once('connect_error', (error: Error & { data?: ErrorBody }) => {
        socket.close();
        reject(new RefusedHandshake(error.data));
      });
    });
  }

  /** The highest sequence number received. */
  get lastSeq(): number {
    return this.received.reduce((max, message) => Math.max(max, message.seq ?? 0), this.ready.seq);
  }

  /** Resolves with the first received message (already or later) matching. */
  async waitFor(predicate: (message: Received) => boolean, what: string, timeoutMs = 10_000): Promise<Received> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.find(predicate);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`not received within ${timeoutMs} ms: ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The newest room:state received for `roomId`. */
  latestState(roomId: string): Record<string, unknown> | undefined {
    const states = this.received.filter((m) => m.event === 'room:state' && m.payload.roomId === roomId).map((m) => m.payload);
    return states.sort((a, b) => (a.version as number) - (b.version as number)).at(-1);
  }

  request<T extends object = Record<string, unknown>>(event: string, body: object): Promise<({ ok: true } & T) | { ok: false; error: ErrorBody }> {
    return this.socket.timeout(10_000).emitWithAck(event, body);
  }

  /** Acknowledges everything received so far. */
  acknowledge(): void {
    this.socket.emit('session:ack', { seq: this.lastSeq });
  }

  /** The connection dies under the device (the server sees a transport close, not a goodbye). */
  drop(): void {
    this.socket.io.engine.close();
  }

  close(): void {
    this.socket.close();
  }
}
