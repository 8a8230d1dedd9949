/**
 * Which of a room's messages go to its log, and as what (RoomInput, in
 * actors/ports.ts): the inputs that change the match, once the room accepted
 * them. Refusals change nothing and are not logged; neither are messages that
 * only read or tell (sync, ping) or the room's own housekeeping (snapshot).
 */
import type { RoomMessage } from '../messages';
import type { RoomInput } from '../ports';

/**
 * The log entry's input for `message`, or undefined when it is not logged. `changed`: the match's version
 * moved (a tick that advanced nothing is not logged); `tickMs`: how far the tick advanced the game.
 */
export function loggedInput(message: RoomMessage, reply: unknown, changed: boolean, tickMs: number): RoomInput | undefined {
  if (isRefusal(reply)) return undefined;
  switch (message.type) {
    case 'join':
      return { type: 'join', playerId: message.playerId, name: message.name };
    case 'move':
      // A move sent again is answered from memory and changes nothing.
      if (!changed) return undefined;
      return { type: 'move', playerId: message.playerId, actionId: message.actionId, version: message.version, move: message.move, payload: message.payload };
    case 'leave':
      return { type: 'leave', playerId: message.playerId };
    case 'rematch':
      return { type: 'rematch', playerId: message.playerId };
    case 'presence':
      return { type: 'presence', playerId: message.playerId, away: message.away };
    case 'away-expired':
      return reply === undefined ? undefined : { type: 'away-expired', playerId: message.playerId };
    case 'sessions-lost':
      return changed || Object.keys(message.playerIds).length > 0 ? { type: 'sessions-lost', playerIds: Object.keys(message.playerIds) } : undefined;
    case 'tick':
      return changed ? { type: 'tick', dtMs: tickMs } : undefined;
    case 'sync':
    case 'ping':
    case 'snapshot':
    case 'lobby-lost':
      return undefined;
  }
}

function isRefusal(reply: unknown): boolean {
  return typeof reply === 'object' && reply !== null && (reply as { ok?: unknown }).ok === false;
}
