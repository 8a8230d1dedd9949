/**
 * The one catalogue of error codes a client can receive.
 *
 * Every refusal the server sends carries one of these codes, whichever tier
 * refused it: the gateway's wire checks, the actors' own checks, or the game's
 * rules (`move/illegal`, with the rules' reason beside it). PROTOCOL.md lists
 * the same codes; a test keeps the two in step.
 */
export const ERROR_CODES = {
  // Wire level: the gateway refuses before anything reaches an actor.
  'protocol/bad-message': 'The message does not match the schema of its event.',
  'protocol/unknown-event': 'The event name is not part of the protocol.',
  'protocol/ack-required': 'The event must be sent with an acknowledgement callback.',
  'protocol/payload-too-large': 'The message is larger than the configured limit.',
  'protocol/version-unsupported': 'The client speaks a protocol version this server does not.',
  // Identity.
  'auth/missing-token': 'The handshake carries no token.',
  'auth/invalid-token': 'The token is forged, expired or malformed.',
  'auth/bad-request': 'The login request is malformed.',
  'auth/invalid-name': 'The display name is refused; see reason (control, bidi or invisible characters, markup, empty, too long).',
  'auth/rate-limited': 'Too many sign-ins from this address; retry after the given delay.',
  'http/not-found': 'No HTTP endpoint at that path and method.',
  'http/forbidden': 'The admin endpoints need the admin token (or, without one configured, a client on the server\'s own machine that did not come through a proxy).',
  // Session.
  'rate/limited': 'Too many messages; slow down and retry after the given delay.',
  'session/replaced': 'The same player connected again elsewhere; this connection is closed.',
  'session/flood': 'The connection sent far more than the rate limit allows and was closed.',
  'session/lost': 'The server process holding the session stopped; log in and connect again.',
  'session/resume-refused': 'The resume token is not this session\'s current one (reused, forged, expired or another player\'s); connect without it.',
  // Matchmaking and rooms.
  'match/unknown-game': 'No game of that name is installed.',
  'match/already-in-room': 'The player is already seated in a room; leave it first.',
  'room/not-found': 'No such room (it ended, or never existed).',
  'room/not-member': 'The player is not seated in this room.',
  'room/full': 'The room has no free seat.',
  'room/not-over': 'A rematch can only be asked for once the game is over.',
  'room/lost': 'The server process running the room stopped; the game is gone (find a new match).',
  // Moves: the room's own checks.
  'move/not-started': 'The game has not started yet (waiting for players).',
  'move/game-over': 'The game is over; no more moves are accepted.',
  'move/not-your-turn': 'It is another player\'s turn.',
  'move/stale-version': 'The move was made against an older state; resync and retry.',
  'move/unknown-move': 'The game has no move of that name.',
  'move/bad-payload': 'The move\'s payload does not match the game\'s schema for it.',
  // Moves: the game's rules said no; `reason` says why (e.g. column-full).
  'move/illegal': 'The rules refuse this move; see reason.',
  // Persistence: answers of the persistence actor to server-side writers (not sent to game clients today).
  'persistence/overloaded': 'The write queue is full; the write was not accepted (or, if low priority, was shed). Retry later.',
  'persistence/conflict': 'The data changed since the version this write was based on; nothing was written. Read again and retry.',
  // Server.
  'server/overloaded': 'A mailbox is full; the message was not processed. Retry later.',
  'server/shutting-down': 'The server is shutting down; reconnect elsewhere.',
  'server/unavailable': 'The part of the cluster that handles this did not answer; the message may not have been processed. Retry shortly.',
  'server/internal': 'An unexpected server error; the message changed nothing.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The error body inside every refusal. */
export interface ErrorBody {
  readonly code: ErrorCode;
  readonly message: string;
  /** For `move/illegal`: the rules' own reason code, e.g. 'column-full'; for `auth/invalid-name`: the rule the name broke, e.g. 'bidi-control'. */
  readonly reason?: string;
  /** For `rate/limited`, `auth/rate-limited` and `server/overloaded`: when a retry may succeed. */
  readonly retryAfterMs?: number;
}
