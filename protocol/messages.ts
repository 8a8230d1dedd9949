/**
 * The schemas of what clients send, checked by the gateway before anything
 * reaches an actor. The messages themselves are types the client SDK owns
 * (`@playhouse/client/protocol`): each schema here must produce its type
 * (`satisfies`), so the server and the SDK cannot drift apart.
 */
import { z } from 'zod';
import type * as Wire from '@playhouse/client/protocol';

export { PROTOCOL_VERSION, NUMBERED_EVENTS } from '@playhouse/client/protocol';
export type {
  ClientToServerEvents,
  ErrorMessage,
  GuestLoginResponse,
  MatchFound,
  MoveAccepted,
  Outcome,
  Reply,
  RoomDeltaMessage,
  RoomOverMessage,
  RoomPlayerMessage,
  RoomStateMessage,
  RoomStatus,
  SeatInfo,
  ServerEventName,
  ServerToClientEvents,
  SessionReady,
} from '@playhouse/client/protocol';

/** Protocol versions this server speaks (the client sends its PROTOCOL_VERSION in the handshake). */
export const SUPPORTED_PROTOCOL_VERSIONS: readonly number[] = [1];

const id = z.string().min(1).max(64).regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits and _ . : - only');
/** Client-chosen, unique per action: lets the server answer a retried action with its first result. */
const actionId = z.string().min(1).max(64);
/** A numbered message's sequence number (`seq`, `lastSeq`, `seen`): up to 2^53−1. */
const sequenceNumber = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

// ---- Handshake and login -------------------------------------------------

export const HandshakeAuth = z.object({
  token: z.string().min(1).max(4096),
  // Some Socket.IO clients (socket.io-client-java) send every auth value as a string: accept "1" as 1.
  protocol: z.union([z.number().int(), z.string().regex(/^\d{1,6}$/).transform(Number)]),
  resume: z
    .strictObject({
      token: z.string().min(1).max(512),
      lastSeq: sequenceNumber,
    })
    .optional(),
}) satisfies z.ZodType<Wire.HandshakeAuth>;
export type HandshakeAuth = Wire.HandshakeAuth;

/** `name` is checked and normalised apart (display-name.ts), with its own error code. */
export const GuestLoginRequest = z.strictObject({
  name: z.string().optional(),
}) satisfies z.ZodType<Wire.GuestLoginRequest>;
export type GuestLoginRequest = Wire.GuestLoginRequest;

// ---- Client → server -----------------------------------------------------

/** Optional on every request: the device has every numbered message up to `seen` (see the SDK's request types). */
const seen = sequenceNumber.optional();

export const FindMatchRequest = z.strictObject({
  actionId,
  seen,
  game: id,
}) satisfies z.ZodType<Wire.FindMatchRequest>;
export type FindMatchRequest = Wire.FindMatchRequest;

export const MoveRequest = z.strictObject({
  actionId,
  seen,
  roomId: id,
  version: z.number().int().min(0),
  move: z.string().min(1).max(64),
  payload: z.unknown(),
}) satisfies z.ZodType<Wire.MoveRequest>;
export type MoveRequest = Wire.MoveRequest;

export const RoomRequest = z.strictObject({
  actionId,
  seen,
  roomId: id,
}) satisfies z.ZodType<Wire.RoomRequest>;
export type RoomRequest = Wire.RoomRequest;

export const DeliveredRequest = z.strictObject({
  seq: sequenceNumber,
}) satisfies z.ZodType<Wire.DeliveredRequest>;
export type DeliveredRequest = Wire.DeliveredRequest;

/** Schema of each client event's single argument. */
export const CLIENT_EVENT_SCHEMAS = {
  'match:find': FindMatchRequest,
  'room:move': MoveRequest,
  'room:leave': RoomRequest,
  'room:rematch': RoomRequest,
} as const;
export type ClientEventName = keyof typeof CLIENT_EVENT_SCHEMAS;
