/**
 * `@playhouse/client/protocol`: the wire alone (message types, error codes,
 * the protocol version), without the SDK and its socket.io-client. The server
 * takes its message types from here.
 */
export * from './errors';
export * from './messages';
