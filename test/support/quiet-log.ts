/** A log that drops every line: for tests that read what they check from answers, not from the log. */
import type { ActorLog } from '../../actors/ports';

export const QUIET_LOG: ActorLog = { debug() {}, info() {}, warn() {}, error() {} };
