/**
 * Plays PROTOCOL.md's Example session against a real server on port 0 and
 * checks every message the document shows against what the players receive,
 * and that every numbered event they receive is shown (or summarised in a
 * `note`). The document is the script: its `→` entries are sent as written
 * (with the run's own ids), its `←` entries are what must arrive.
 *
 * How the document abbreviates, and how each abbreviation is matched:
 * - ids of the document (player ids, the room id) stand for this run's ids;
 * - a string with `…` matches any string that starts like it, up to its first `.`
 *   (`eyJhbGciOiJIUzI1NiJ9.eyJuYW1l…` is a token, `r1.…` a resume token);
 * - `expiresAt` is any number (it is a time);
 * - an object with a `note` shows only the fields beside the note.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { NUMBERED_EVENTS } from '../../protocol/messages';
import { useTestServer } from '../support/playhouse';

const DOC = readFileSync(path.resolve(__dirname, '..', '..', 'protocol', 'PROTOCOL.md'), 'utf8');

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

interface Entry {
  readonly who?: string;
  readonly to?: readonly string[];
  readonly dir?: '→' | '←';
  readonly http?: string;
  readonly body?: JsonObject;
  readonly connect?: { readonly auth: JsonObject };
  readonly event?: string;
  readonly ack?: string;
  readonly data?: JsonObject;
  readonly note?: string;
}

/** The first JSON block of the `## Example session` section. */
function exampleEntries(markdown: string): Entry[] {
  const start = markdown.indexOf('\n## Example session\n');
  assert.ok(start >= 0, 'PROTOCOL.md has an "Example session" section');
  const block = /```json\n([\s\S]*?)\n```/.exec(markdown.slice(start));
  assert.ok(block, 'the Example session has a JSON block');
  return JSON.parse(block[1]!) as Entry[];
}

/** Does the document's `shown` value stand for the `real` one? Returns where they differ, or undefined. */
function mismatch(shown: Json | undefined, real: unknown, ids: ReadonlyMap<string, string>, where = '', key = ''): string | undefined {
  if (key === 'expiresAt') return typeof real === 'number' ? undefined : `${where}: a number, got ${JSON.stringify(real)}`;
  if (typeof shown === 'string') {
    const id = ids.get(shown);
    if (id !== undefined) return real === id ? undefined : `${where}: ${shown} stands for ${id}, got ${JSON.stringify(real)}`;
    if (shown.includes('…')) {
      const head = shown.slice(0, shown.indexOf('…'));
      const prefix = head.includes('.') ? head.slice(0, head.indexOf('.') + 1) : head;
      return typeof real === 'string' && real.startsWith(prefix) ? undefined : `${where}: a string starting ${prefix}, got ${JSON.stringify(real)}`;
    }
  }
  if (Array.isArray(shown)) {
    if (!Array.isArray(real) || real.length !== shown.length) return `${where}: ${JSON.stringify(shown)}, got ${JSON.stringify(real)}`;
    for (let i = 0; i < shown.length; i++) {
      const found = mismatch(shown[i], real[i], ids, `${where}[${i}]`);
      if (found) return found;
    }
    return undefined;
  }
  if (shown !== null && typeof shown === 'object') {
    if (real === null || typeof real !== 'object' || Array.isArray(real)) return `${where}: an object, got ${JSON.stringify(real)}`;
    const record = real as Record<string, unknown>;
    const partial = 'note' in shown;
    const keys = Object.keys(shown).filter((k) => k !== 'note');
    if (!partial) {
      const extra = Object.keys(record).filter((k) => !(k in shown));
      if (extra.length > 0) return `${where}: the server also sends ${extra.join(', ')} (${JSON.stringify(real)})`;
    }
    for (const k of keys) {
      if (!(k in record)) return `${where}.${k}: missing`;
      const found = mismatch(shown[k], record[k], ids, `${where}.${k}`, k);
      if (found) return found;
    }
    return undefined;
  }
  return Object.is(shown, real) ? undefined : `${where}: ${JSON.stringify(shown)}, got ${JSON.stringify(real)}`;
}

/** Replaces the document's ids by this run's, anywhere in a request. */
function withIds(value: Json, ids: ReadonlyMap<string, string>): Json {
  if (typeof value === 'string') return ids.get(value) ?? value;
  if (Array.isArray(value)) return value.map((v) => withIds(v, ids));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withIds(v, ids)]));
  return value;
}

interface Push {
  readonly event: string;
  readonly payload: Record<string, unknown>;
  shownBy?: number;
}

/** A player's connection: everything pushed to it, in order, from its first packet. */
class Player {
  readonly pushes: Push[] = [];
  private wake: Array<() => void> = [];
  constructor(readonly socket: Socket) {
    socket.onAny((event: string, payload: Record<string, unknown>) => {
      this.pushes.push({ event, payload });
      for (const resolve of this.wake.splice(0)) resolve();
    });
  }
  /** Resolves once a push satisfies `found`, or rejects after `ms`. */
  async until(found: () => boolean, what: string, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!found()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`not received within ${ms} ms: ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

const testServer = useTestServer();

test('the Example session of PROTOCOL.md is what a real server says, message for message', async () => {
  const { url } = testServer();
  const entries = exampleEntries(DOC);
  const documentRoomId = entries.find((entry) => entry.ack === 'match:find')?.data?.roomId;
  assert.ok(typeof documentRoomId === 'string', 'the Example session shows a match:find answer with its room id');
  const ids = new Map<string, string>();
  const tokens = new Map<string, string>();
  const players = new Map<string, Player>();
  const lastRequest = new Map<string, { event: string; answer: JsonObject; shown: boolean }>();
  /** Versions reached by requests the document summarises (no ack shown): their pushes need not be shown. */
  const summarisedVersions = new Set<number>();
  const pending: Array<{ index: number; who: string; event: string; data: JsonObject }> = [];
  const playerOf = (who: string): Player => {
    const player = players.get(who);
    assert.ok(player, `entry for ${who}, who is not connected yet`);
    return player;
  };
  const closeRequest = (who: string) => {
    const request = lastRequest.get(who);
    if (request && !request.shown && request.event !== 'session:ack' && typeof request.answer.version === 'number') summarisedVersions.add(request.answer.version);
  };

  try {
    for (const [index, entry] of entries.entries()) {
      const label = `entry ${index} (${JSON.stringify(entry).slice(0, 100)})`;
      if (entry.note !== undefined && entry.dir === undefined) continue;
      if (entry.dir === '→') {
        const who = entry.who!;
        if (entry.http) {
          const response = await fetch(`${url}/v1/auth/guest`, { method: 'POST', body: JSON.stringify(entry.body) });
          assert.equal(response.status, 200, label);
          const login = (await response.json()) as JsonObject;
          const shown = entries[index + 1];
          assert.ok(shown?.http === '200' && shown.who === who && shown.body, `${label} is followed by its answer`);
          ids.set(shown.body.playerId as string, login.playerId as string);
          tokens.set(who, login.token as string);
          const wrong = mismatch(shown.body, login, ids, 'login');
          assert.equal(wrong, undefined, `${label}: ${wrong}`);
        } else if (entry.connect) {
          const auth = { ...entry.connect.auth, token: tokens.get(who) };
          const socket = io(url, { auth, transports: ['websocket'], reconnection: false });
          const player = new Player(socket);
          players.set(who, player);
          await player.until(() => player.pushes.some((p) => p.event === 'session:ready'), `${who}'s session:ready`);
        } else {
          closeRequest(who);
          const body = withIds(entry.data!, ids);
          const socket = playerOf(who).socket;
          if (entry.event === 'session:ack') {
            socket.emit(entry.event, body);
            lastRequest.set(who, { event: entry.event, answer: {}, shown: true });
          } else {
            const answer = (await socket.timeout(10_000).emitWithAck(entry.event!, body)) as JsonObject;
            lastRequest.set(who, { event: entry.event!, answer, shown: false });
            // The first room id the server gives stands for the document's.
            if (typeof answer.roomId === 'string' && !ids.has(documentRoomId)) ids.set(documentRoomId, answer.roomId);
          }
        }
        continue;
      }
      if (entry.http) continue; // a login answer, checked with its request
      if (entry.ack) {
        const who = entry.who!;
        const request = lastRequest.get(who);
        assert.ok(request && request.event === entry.ack, `${label}: ${who}'s last request was ${request?.event}, not ${entry.ack}`);
        request.shown = true;
        const wrong = mismatch(entry.data!, request.answer, ids, `ack of ${entry.ack}`);
        assert.equal(wrong, undefined, `${label}: ${wrong}`);
        continue;
      }
      for (const who of entry.to ?? [entry.who!]) pending.push({ index, who, event: entry.event!, data: entry.data! });
    }
    for (const who of players.keys()) closeRequest(who);

    // Every push shown arrives (in any order relative to acks), each matched by one real push.
    for (const { index, who, event, data } of pending) {
      const player = playerOf(who);
      const matches = (push: Push) => push.shownBy === undefined && push.event === event && mismatch(data, push.payload, ids) === undefined;
      try {
        await player.until(() => player.pushes.some(matches), `${event} for ${who}`);
      } catch {
        const candidates = player.pushes.filter((p) => p.event === event).map((p) => mismatch(data, p.payload, ids, event) ?? 'already matched');
        assert.fail(`entry ${index}: no ${event} to ${who} as shown; the ones received differ: ${candidates.join(' | ') || 'none received'}`);
      }
      player.pushes.find(matches)!.shownBy = index;
    }

    // And nothing numbered arrives that the document leaves out (but for the summarised moves' states).
    for (const [who, player] of players) {
      for (const push of player.pushes) {
        if (push.shownBy !== undefined || !(NUMBERED_EVENTS as readonly string[]).includes(push.event)) continue;
        const version = push.payload.version;
        if (push.event === 'room:state' && typeof version === 'number' && summarisedVersions.has(version)) continue;
        assert.fail(`${who} received ${push.event} ${JSON.stringify(push.payload).slice(0, 300)}, which the Example session does not show`);
      }
    }
  } finally {
    for (const player of players.values()) player.socket.close();
  }
});
