/**
 * The protocol version, in a module of its own so the client SDK can read it
 * without pulling the server's schema validator (zod) into browser bundles.
 */

/** Bumped on any incompatible change; sent by the client in the handshake. */
export const PROTOCOL_VERSION = 1;
export const SUPPORTED_PROTOCOL_VERSIONS: readonly number[] = [1];
