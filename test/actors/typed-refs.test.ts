/**
 * Typed actor references: the compiler checks both ends of every message.
 *
 * Most of this file is checked by `npm run typecheck`, not run: each
 * `@ts-expect-error` marks a line that must NOT compile (a wrong message, a
 * misread reply, a handler answering the wrong reply). Should the typing
 * loosen, the line compiles, the directive is unused, and the type check
 * fails. At run time, a reference is only its address: a plain string.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MailboxActor } from '../../actors/kit/mailbox-actor';
import { dispatch, refTo, type ActorRef, type Handlers, type ProtocolOf } from '../../actors/kit/protocol';
import { LOBBY } from '../../actors/lobby/lobby-protocol';
import { gatewayRef } from '../../actors/messages';
import { PERSISTENCE } from '../../actors/persistence/persistence-protocol';
import { roomRef, type RoomProtocol } from '../../actors/room/room-protocol';
import { sessionRef } from '../../actors/session/session-protocol';

type PingMessage = { readonly type: 'ping' } | { readonly type: 'count'; readonly by: number };
type PingProtocol = ProtocolOf<PingMessage, { ping: { readonly ok: true }; count: void }>;

/** An actor that only type-checks what actors may write; its methods never run. */
class Checker extends MailboxActor<PingProtocol, object> {
  protected readonly kind = 'lobby' as const;

  private static readonly handlers: Handlers<PingProtocol, Checker> = {
    ping: () => ({ ok: true }),
    count: () => undefined,
  };

  handle(message: PingMessage): unknown {
    return dispatch(Checker.handlers, this, message);
  }

  async messagesMustFitTheirProtocol(): Promise<void> {
    const room = roomRef('r1');
    this.tell(room, { type: 'sync', playerId: 'p1' });
    // @ts-expect-error a session's message is not a room's
    this.tell(room, { type: 'delivered', seq: 1 });
    // @ts-expect-error a room's message with a field missing
    this.tell(room, { type: 'leave', playerId: 'p1' });
    // @ts-expect-error a field the message does not have
    await this.ask(room, { type: 'ping', extra: true });
    // @ts-expect-error no such message
    await this.ask(LOBBY, { type: 'find-room', playerId: 'p1', name: 'n', game: 'g' });
    // @ts-expect-error a plain string is no reference: nothing says what it accepts
    this.tell('room:r1', { type: 'sync', playerId: 'p1' });
    // @ts-expect-error a reference to a session is not one to a room
    const wrongKind: ActorRef<RoomProtocol> = sessionRef('p1');
    void wrongKind;
  }

  async repliesAreTheOnesDeclared(): Promise<void> {
    const found = await this.ask(LOBBY, { type: 'find-match', playerId: 'p1', name: 'n', game: 'g' });
    if (found.ok) {
      const seat: number = found.seat;
      void seat;
      // @ts-expect-error a match found has no version: that is a move's reply
      void found.version;
    }
    const read = await this.ask(PERSISTENCE, { type: 'read-snapshot', key: 'room/r1' });
    if (read.ok) void read.snapshot;
    const written = await this.ask(PERSISTENCE, { type: 'write', priority: 'low', write: { kind: 'snapshot', key: 'k', data: null } });
    // @ts-expect-error a write's reply carries no snapshot
    if (written.ok) void written.snapshot;
    const moved = await this.ask(roomRef('r1'), { type: 'move', playerId: 'p1', actionId: 'a1', version: 0, move: 'drop', payload: 3 });
    if (moved.ok) {
      const version: number = moved.version;
      void version;
    }
    // @ts-expect-error an attach is answered with an AttachReply, not a MoveReply
    const attach: { ok: true; version: number } = await this.ask(sessionRef('p1'), { type: 'attach', gateway: gatewayRef('g'), connectionId: 'c' });
    void attach;
  }
}

export const wrongReplies: Handlers<PingProtocol, Checker> = {
  // @ts-expect-error ping is answered { ok: true }, not a number
  ping: () => 1,
  count: () => undefined,
};

// @ts-expect-error a protocol must name the reply of every message its actor accepts
export type MissingReply = ProtocolOf<PingMessage, { ping: { readonly ok: true } }>;

test('a reference is its address: a plain string that crosses processes as JSON', () => {
  const refs = [roomRef('connect-four.1.ab'), sessionRef('p1'), gatewayRef('gw1'), LOBBY, PERSISTENCE, refTo<PingProtocol>('anything')];
  assert.deepEqual(refs, ['room:connect-four.1.ab', 'session:p1', 'gateway:gw1', 'lobby', 'persistence', 'anything']);
  assert.deepEqual(JSON.parse(JSON.stringify(refs)), refs);
  for (const ref of refs) assert.equal(typeof ref, 'string');
});

test('the handler table answers each message with its own handler', async () => {
  let counted = 0;
  const handlers: Handlers<PingProtocol, { add(by: number): void }> = {
    ping: () => ({ ok: true }),
    count: (actor, { by }) => actor.add(by),
  };
  const actor = { add: (by: number) => void (counted += by) };
  assert.deepEqual(await dispatch(handlers, actor, { type: 'ping' }), { ok: true });
  await dispatch(handlers, actor, { type: 'count', by: 3 });
  assert.equal(counted, 3);
});
