/**
 * Display names over real HTTP logins: normalised (NFKC, spaces collapsed and
 * trimmed) and refused with `auth/invalid-name` and a `reason` for what no
 * player name needs; an opponent sees exactly the normalised name.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { errorCodeOf, httpRequest } from '../support/http-request';
import { stateWhere, useTestServer } from '../support/playhouse';

const testServer = useTestServer();

async function login(name: string): Promise<{ status: number; name?: string; code?: string; reason?: string }> {
  const reply = await httpRequest(testServer().url, '/v1/auth/guest', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name }) });
  const body = JSON.parse(reply.body) as { name?: string; error?: { reason?: string } };
  return { status: reply.status, ...(body.name !== undefined ? { name: body.name } : {}), ...(errorCodeOf(reply) ? { code: errorCodeOf(reply)! } : {}), ...(body.error?.reason ? { reason: body.error.reason } : {}) };
}

const REFUSED: ReadonlyArray<readonly [reason: string, names: readonly string[]]> = [
  ['control-character', ['Ada\u0000', 'Ada\nBob', 'Ada\tBob', 'Ada\u0085', 'Ada\u2028Bob', '\u001b[31mAda']],
  ['bidi-control', ['Ada\u202Egnp.exe', '\u2066Ada\u2069', 'Ada\u200F', '\u202AAda', 'Ada\u061C']],
  ['invisible-character', ['Ada\u200B', 'A\u2060da', '\u3164', '\u115FAda', 'Ad\u00ADa', 'A\uFEFFda', '\u2800', 'Ada\u{E0041}', 'a\u200Db', 'Ada\u200C', 'A\u034Fda', 'Ada\uFE00']],
  ['markup-character', ['<b>Ada</b>', 'Ada & Bob', '\uFF1Cscript\uFF1E', '"Ada"', '`Ada`', 'Ada\uFE64']],
  ['unassigned-character', ['\uE000Ada', 'Ada\uD800', 'Ada\u{10FFFF}']],
  ['too-many-marks', ['Z' + '\u0336'.repeat(9), 'Ada' + '\u0315\u031B\u0358\u0321\u0322\u0327\u0328\u0334\u0335\u0336']],
  ['empty', ['', '   ', '\u3000\u00A0\u2003']],
  ['too-long', ['x'.repeat(33), '\u{1F600}'.repeat(33), ' '.repeat(600) + 'Ada']],
];

const ACCEPTED: ReadonlyArray<readonly [given: string, seen: string]> = [
  ['  Ada   Lovelace  ', 'Ada Lovelace'],
  ['\uFF21\uFF44\uFF41', 'Ada'], // fullwidth letters
  ['Ada\u00A0\u3000Bob', 'Ada Bob'], // no-break and ideographic spaces
  ['Zoe\u0308', 'Zoë'], // a combining mark composed
  ['\u{1F469}\u200D\u{1F4BB} Zoë', '\u{1F469}\u200D\u{1F4BB} Zoë'], // a zero-width joiner inside an emoji stays
  ['\u{1F44D}\u{1F3FD} \u2764\uFE0F', '\u{1F44D}\u{1F3FD} \u2764\uFE0F'],
  ["O'Brien", "O'Brien"],
  ['Nguyễn Thị', 'Nguyễn Thị'],
  ['Жанна', 'Жанна'],
  ['李小龍', '李小龍'],
  ['مريم', 'مريم'],
  ['अनुष्का', 'अनुष्का'],
  ['\u{1F600}'.repeat(32), '\u{1F600}'.repeat(32)], // 32 graphemes, 64 UTF-16 units
];

test('names no player needs are refused with auth/invalid-name and the rule they broke', async () => {
  for (const [reason, names] of REFUSED) {
    for (const name of names) {
      const reply = await login(name);
      assert.deepEqual(reply, { status: 400, code: 'auth/invalid-name', reason }, JSON.stringify(name));
    }
  }
});

test('accepted names come back normalised: NFKC, one space between words, trimmed', async () => {
  for (const [given, seen] of ACCEPTED) assert.deepEqual(await login(given), { status: 200, name: seen }, JSON.stringify(given));
});

test('an opponent sees the normalised name, and so does the player', async () => {
  const ada = await testServer().player('  \uFF21\uFF44\uFF41   Lovelace ');
  const bob = await testServer().player('Bob');
  const { roomId } = await ada.findMatch('connect-four');
  await bob.findMatch('connect-four');
  const seenByBob = await stateWhere(bob, roomId, (state) => state.players.length === 2);
  assert.deepEqual(seenByBob.players.map((player) => player.name).sort(), ['Ada Lovelace', 'Bob']);
  const seenByAda = await stateWhere(ada, roomId, (state) => state.players.length === 2);
  assert.equal(seenByAda.players.find((player) => player.playerId === ada.playerId)?.name, 'Ada Lovelace');
});
