/**
 * Socket.IO's packet decoder, with two packets a client may send answered
 * rather than fatal. socket.io-parser's own decoder reads everything else.
 *
 * - A CONNECT whose `auth` is JSON but not an object (`40null`, `40[]`,
 *   `40"token"`): socket.io-parser throws, and the connection is closed
 *   without a word. Read as a CONNECT without `auth`, it gets the handshake's
 *   typed refusal (`auth/missing-token`).
 * - An event whose acknowledgement id is not a safe integer (400 digits):
 *   socket.io-parser reads it as `Infinity` (or a rounded number), and the
 *   acknowledgement would go back as `43Infinity[…]`, which no client can
 *   match. Read without the id, the request is refused as one sent without an
 *   acknowledgement (`protocol/ack-required` in a `session:error`).
 */
import { Decoder, PacketType } from 'socket.io-parser';

export class PlayhouseDecoder extends Decoder {
  override add(packet: unknown): void {
    super.add(typeof packet === 'string' ? readable(packet) : packet);
  }
}

/** The packet as socket.io-parser should read it: unchanged unless it is one of the two above. */
function readable(packet: string): string {
  const type = Number(packet.charAt(0));
  if (type !== PacketType.CONNECT && type !== PacketType.EVENT) return packet;
  // Header: type, an optional namespace ("/name,"), an optional id (digits), then the JSON data.
  let start = 1;
  if (packet.charAt(1) === '/') {
    const comma = packet.indexOf(',', 1);
    if (comma < 0) return packet;
    start = comma + 1;
  }
  let end = start;
  while (end < packet.length && packet.charCodeAt(end) >= 48 && packet.charCodeAt(end) <= 57) end++;
  if (type === PacketType.EVENT) {
    if (end === start || Number.isSafeInteger(Number(packet.slice(start, end)))) return packet;
    return packet.slice(0, start) + packet.slice(end);
  }
  const data = packet.slice(start);
  if (data === '') return packet;
  let auth: unknown;
  try {
    auth = JSON.parse(data);
  } catch {
    return packet; // not JSON at all: a broken client, closed as before
  }
  return typeof auth === 'object' && auth !== null && !Array.isArray(auth) ? packet : packet.slice(0, start);
}
