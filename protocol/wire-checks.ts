/**
 * The checks every server speaking this protocol makes at the wire, before a
 * message reaches any game logic: the handshake, each request (acknowledgement,
 * size, schema) and the guest-login body. Playhouse's gateway and the
 * benchmark ceiling both use them, so they refuse exactly the same things with
 * exactly the same codes and messages.
 */
import type { z } from 'zod';
import { checkDisplayName } from './display-name';
import { errorBody, type ErrorBody } from './errors';
import { CLIENT_EVENT_SCHEMAS, GuestLoginRequest, HandshakeAuth, SUPPORTED_PROTOCOL_VERSIONS, type ClientEventName } from './messages';

export type Checked<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ErrorBody };

/** One readable line from a schema's complaints, each prefixed by its path (or `root`). */
export function describeIssues(error: z.ZodError, root: string): string {
  return error.issues.map((issue) => `${issue.path.join('.') || root}: ${issue.message}`).join('; ');
}

/** The Socket.IO `auth` object of a connection: present, well formed, in a protocol version we speak. */
export function checkHandshake(auth: unknown): Checked<HandshakeAuth> {
  const token = typeof auth === 'object' && auth !== null ? (auth as { token?: unknown }).token : undefined;
  if (token === undefined || token === '') return { ok: false, error: errorBody('auth/missing-token') };
  const parsed = HandshakeAuth.safeParse(auth);
  if (!parsed.success) return { ok: false, error: errorBody('protocol/bad-message', 'handshake auth must be { token: string, protocol: number }') };
  if (!SUPPORTED_PROTOCOL_VERSIONS.includes(parsed.data.protocol)) {
    return {
      ok: false,
      error: errorBody('protocol/version-unsupported', `protocol ${parsed.data.protocol} is not supported; this server speaks ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')}`),
    };
  }
  return { ok: true, value: parsed.data };
}

export type ClientRequestOf<E extends ClientEventName> = z.output<(typeof CLIENT_EVENT_SCHEMAS)[E]>;

/** What a request's checks found; `ack` is the request's acknowledgement callback when it has one. */
export type CheckedRequest<E extends ClientEventName> =
  | { readonly ok: true; readonly request: ClientRequestOf<E>; readonly ack: (reply: object) => void }
  | { readonly ok: false; readonly error: ErrorBody; readonly ack: ((reply: object) => void) | undefined };

/** A client event's arguments: exactly one object and an acknowledgement, within the size limit, matching the event's schema. */
export function checkRequest<E extends ClientEventName>(event: E, args: readonly unknown[], maxMessageBytes: number): CheckedRequest<E> {
  const last = args[args.length - 1];
  const ack = typeof last === 'function' ? (last as (reply: object) => void) : undefined;
  if (!ack || args.length !== 2) {
    return { ok: false, ack, error: errorBody('protocol/ack-required', `${event} takes exactly one object and an acknowledgement callback`) };
  }
  const size = jsonBytes(args[0]);
  if (size === undefined) return { ok: false, ack, error: errorBody('protocol/bad-message', `${event}: nested too deeply to be read`) };
  if (size > maxMessageBytes) return { ok: false, ack, error: errorBody('protocol/payload-too-large', `${size} bytes; the limit is ${maxMessageBytes}`) };
  const parsed = CLIENT_EVENT_SCHEMAS[event].safeParse(args[0]);
  if (!parsed.success) return { ok: false, ack, error: errorBody('protocol/bad-message', describeIssues(parsed.error, event).slice(0, 500)) };
  return { ok: true, ack, request: parsed.data as ClientRequestOf<E> };
}

/** The body of `POST /v1/auth/guest` (already read, within its size limit), its `name` normalised (display-name.ts). */
export function checkGuestLogin(raw: string): Checked<GuestLoginRequest> {
  let body: unknown;
  try {
    body = raw.trim() === '' ? {} : JSON.parse(raw);
  } catch {
    return { ok: false, error: errorBody('auth/bad-request', 'body is not JSON') };
  }
  const parsed = GuestLoginRequest.safeParse(body);
  if (!parsed.success) return { ok: false, error: errorBody('auth/bad-request', describeIssues(parsed.error, 'body')) };
  if (parsed.data.name === undefined) return { ok: true, value: parsed.data };
  const name = checkDisplayName(parsed.data.name);
  return name.ok ? { ok: true, value: { name: name.name } } : name;
}

/**
 * UTF-8 bytes of a value as JSON (what the size limit is stated in); undefined when it cannot be serialised:
 * off the wire, only a value nested deeper than JSON.stringify's stack (thousands of levels) cannot.
 */
function jsonBytes(value: unknown): number | undefined {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    return undefined;
  }
  if (json === undefined) return 0;
  let bytes = json.length;
  // Every code unit counts one byte; characters past U+007F count their extra UTF-8 bytes.
  for (let i = 0; i < json.length; i++) {
    const unit = json.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      bytes += 2; // a surrogate pair (2 units) is 4 bytes
      i++;
    } else if (unit > 0x7ff) bytes += 2;
    else if (unit > 0x7f) bytes += 1;
  }
  return bytes;
}
