/**
 * The server's side of the error catalogue. The codes a client can receive
 * and the body of a refusal belong to the wire, so the client SDK owns them
 * (`@playhouse/client/protocol`); these helpers build what the server sends.
 * The codes the server's own parts raise between themselves, and never send
 * to a client as such, are the second catalogue below.
 */
import { ERROR_CODES, type ErrorBody, type ErrorCode } from '@playhouse/client/protocol';

export { ERROR_CODES, type ErrorBody, type ErrorCode };

/**
 * Codes the server's parts raise between themselves (a store to the persistence actor, a room's log to its
 * room). A client never receives them: what reaches one is translated into a code of ERROR_CODES.
 */
export const SERVER_ERROR_CODES = {
  'persistence/store-unavailable': 'A store could not be reached or failed the request; nothing is known to be written.',
  'room-log/fenced': 'A newer holder took the room\'s log over: this holder is stale.',
  'room-log/lost': 'The room\'s log lost its history (its Redis restarted empty).',
} as const;

export type ServerErrorCode = keyof typeof SERVER_ERROR_CODES;

export function errorBody(code: ErrorCode, message?: string, extra?: Partial<Omit<ErrorBody, 'code' | 'message'>>): ErrorBody {
  return { code, message: message ?? ERROR_CODES[code], ...extra };
}

/** A refused request, as every reply carries it. */
export interface Refusal {
  readonly ok: false;
  readonly error: ErrorBody;
}

export function refusal(code: ErrorCode, message?: string, extra?: Partial<Omit<ErrorBody, 'code' | 'message'>>): Refusal {
  return { ok: false, error: errorBody(code, message, extra) };
}

/** A refusal thrown rather than returned (out of a chain of awaits), carrying the body the client receives. */
export class RefusedError extends Error {
  constructor(readonly body: ErrorBody) {
    super(body.message);
    this.name = 'RefusedError';
  }

  get code(): ErrorCode {
    return this.body.code;
  }
}
