/**
 * The server's side of the error catalogue. The codes themselves and the body
 * of a refusal belong to the wire, so the client SDK owns them
 * (`@playhouse/client/protocol`); these helpers build what the server sends.
 */
import { ERROR_CODES, type ErrorBody, type ErrorCode } from '@playhouse/client/protocol';

export { ERROR_CODES, type ErrorBody, type ErrorCode };

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
