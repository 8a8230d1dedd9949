/**
 * Lobby: finds a room with a free seat for a game, or opens a new one.
 *
 * Its mailbox serialises matchmaking, so two players never race for the last
 * seat: the lobby asks the room to seat the player and only then answers.
 * It also takes up rooms that died with their worker, from their latest
 * snapshot (asked by the players' sessions; the mailbox makes it once).
 */
import { randomInt } from 'node:crypto';
import { refusal } from '../../protocol/errors';
import { MailboxActor } from '../kit/mailbox-actor';
import { dispatch, type Handlers } from '../kit/protocol';
import { PERSISTENCE } from '../persistence/persistence-protocol';
import type { Reply } from '../../protocol/messages';
import type { JoinResult } from '../room/room-state';
import type { RoomSnapshot } from '../room/room-actor';
import { roomRef, roomSnapshotKey, type RoomMessage, type RoomParams } from '../room/room-protocol';
import type { FindMatchReply, LobbyMessage, LobbyProtocol } from './lobby-protocol';

export class LobbyActor extends MailboxActor<LobbyProtocol, object> {
  protected readonly kind = 'lobby' as const;
  /** Rooms with free seats, per game, oldest first (fill rooms before opening new ones). */
  private readonly openRooms = new Map<string, string[]>();
  private roomsOpened = 0;

  private static readonly handlers: Handlers<LobbyProtocol, LobbyActor> = {
    'find-match': (lobby, { playerId, name, game }) => lobby.findMatch(playerId, name, game),
    'room-status': (lobby, { game, roomId, open, closed }) => lobby.setOpen(game, roomId, open && !closed),
    'restore-room': (lobby, { roomId }) => lobby.restoreRoom(roomId),
  };

  handle(message: LobbyMessage): unknown {
    return dispatch(LobbyActor.handlers, this, message);
  }

  private async restoreRoom(roomId: string): Promise<Reply> {
    const room = roomRef(roomId);
    const alive = await this.ask(room, { type: 'ping' }).catch(() => undefined);
    if (alive?.ok) return { ok: true };
    const read = await this.ask(PERSISTENCE, { type: 'read-snapshot', key: roomSnapshotKey(roomId) });
    if (!read.ok) return read;
    if (!read.snapshot) return this.restoreFromLog(roomId);
    const saved = read.snapshot.data as unknown as RoomSnapshot;
    const params: RoomParams = { roomId, game: saved.game, seed: saved.seed, restore: { version: read.snapshot.version, data: read.snapshot.data } };
    const spawned = await this.spawn('room', room, params);
    if (!spawned.ok) return spawned;
    this.log.info({ roomId, version: saved.match.version, savedAt: saved.savedAt, created: spawned.created }, 'room restored from its snapshot');
    return { ok: true };
  }

  /** A room that died before its first snapshot: its log opens with what it was created with, and holds every input. */
  private async restoreFromLog(roomId: string): Promise<Reply> {
    const opening = await this.roomLog?.opening(roomId).catch((error: unknown) => {
      this.log.warn({ roomId, err: String(error) }, 'could not read a room log');
      return undefined;
    });
    if (!opening) return refusal('room/lost', `room ${roomId} left no snapshot and no log to restore`);
    const params: RoomParams = { roomId, game: opening.game, seed: opening.seed, restore: { version: 0, data: null } };
    const spawned = await this.spawn('room', roomRef(roomId), params);
    if (!spawned.ok) return spawned;
    this.log.info({ roomId, created: spawned.created }, 'room restored from its log');
    return { ok: true };
  }

  private async findMatch(playerId: string, name: string, game: string): Promise<FindMatchReply> {
    if (!this.games.get(game)) return refusal('match/unknown-game', `no game named '${game}'; installed: ${this.games.names().join(', ')}`);
    const join = { type: 'join', playerId, name } as const satisfies RoomMessage;

    for (const roomId of [...(this.openRooms.get(game) ?? [])]) {
      const reply = await this.ask(roomRef(roomId), join);
      if (reply.ok) return this.seated(game, reply);
      this.setOpen(game, roomId, false); // full or gone: stop offering it
      if (reply.error.code !== 'room/full' && reply.error.code !== 'room/not-found') return reply;
    }

    const roomId = `${game}.${(++this.roomsOpened).toString(36)}.${randomInt(36 ** 4).toString(36)}`;
    const params: RoomParams = { roomId, game, seed: randomInt(2 ** 31) };
    const spawned = await this.spawn('room', roomRef(roomId), params);
    if (!spawned.ok) return spawned;
    const reply = await this.ask(roomRef(roomId), join);
    return reply.ok ? this.seated(game, reply) : reply;
  }

  private seated(game: string, reply: Extract<JoinResult, { ok: true }>): FindMatchReply {
    this.setOpen(game, reply.roomId, reply.open);
    return { ok: true, roomId: reply.roomId, game: reply.game, seat: reply.seat };
  }

  private setOpen(game: string, roomId: string, open: boolean): void {
    const rooms = this.openRooms.get(game) ?? [];
    const listed = rooms.includes(roomId);
    if (open && !listed) this.openRooms.set(game, [...rooms, roomId]);
    if (!open && listed) this.openRooms.set(game, rooms.filter((id) => id !== roomId));
  }
}
