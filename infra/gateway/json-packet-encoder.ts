/**
 * Socket.IO's packet encoder for Playhouse's JSON-only protocol. On the wire
 * it writes exactly what socket.io-parser's own encoder writes for JSON data
 * (any Socket.IO client decodes it; the default decoder still reads what
 * clients send), with two costs of every move removed:
 *
 * - the walk of every outgoing packet looking for binary data (`hasBinary`),
 *   which visits each value of a ~700-byte room state. Nothing Playhouse
 *   sends is binary: replies and pushes are built by actors, and game views
 *   are plain JSON by the rules API's contract (games/api.ts). A Buffer put
 *   in a view anyway would arrive as JSON (`{"type":"Buffer","data":[…]}`),
 *   as it would after crossing a cluster's workers.
 * - the second `JSON.stringify` of a room state sent twice in one turn: the
 *   opponent's `room:state` push and the mover's acknowledgement (`{ok,
 *   version, state}`) carry the same object. The encoder remembers the last
 *   object it serialised (one entry, so it holds nothing for long) and
 *   reuses its text. Messages are never changed once built (the room makes
 *   a new one per change), so the text stays true.
 */
import { Encoder, PacketType, type Packet } from 'socket.io-parser';

export class JsonPacketEncoder extends Encoder {
  private lastObject: object | undefined;
  private lastJson = '';

  override encode(packet: Packet): string[] {
    if (packet.type !== PacketType.EVENT && packet.type !== PacketType.ACK) return super.encode(packet);
    let text = String(packet.type);
    if (packet.nsp && packet.nsp !== '/') text += `${packet.nsp},`;
    if (packet.id != null) text += String(packet.id);
    if (packet.data != null) text += Array.isArray(packet.data) ? this.arguments(packet.data) : JSON.stringify(packet.data);
    return [text];
  }

  /** The event's arguments (`[name, payload, seq]`, or an acknowledgement's `[reply]`), as JSON.stringify writes an array. */
  private arguments(values: readonly unknown[]): string {
    let text = '[';
    for (let i = 0; i < values.length; i++) {
      if (i > 0) text += ',';
      const value = values[i];
      text += isPlainObject(value) ? this.object(value) : (JSON.stringify(value) ?? 'null');
    }
    return `${text}]`;
  }

  /** A payload or reply: a reply carrying a state is written around the state's (possibly remembered) text. */
  private object(value: Record<string, unknown>): string {
    const state = value.state;
    if (!isPlainObject(state)) return this.remembered(value);
    let text = '{';
    for (const key of Object.keys(value)) {
      const field = value[key];
      // JSON.stringify leaves these out of an object.
      if (field === undefined || typeof field === 'function' || typeof field === 'symbol') continue;
      if (text.length > 1) text += ',';
      text += `${JSON.stringify(key)}:${field === state ? this.remembered(state) : JSON.stringify(field)}`;
    }
    return `${text}}`;
  }

  private remembered(value: object): string {
    if (value === this.lastObject) return this.lastJson;
    const json = JSON.stringify(value);
    this.lastObject = value;
    this.lastJson = json;
    return json;
  }
}

/** An object JSON.stringify writes field by field (no toJSON, no class of its own, not an array). */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return (prototype === Object.prototype || prototype === null) && typeof (value as { toJSON?: unknown }).toJSON !== 'function';
}
