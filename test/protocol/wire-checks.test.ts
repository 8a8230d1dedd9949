/** The wire checks Playhouse's gateway and the ceiling share. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkGuestLogin, checkHandshake, checkRequest } from '../../protocol/wire-checks';

const ack = () => undefined;
const move = (payload: unknown) => ({ actionId: 'a1', roomId: 'r', version: 0, move: 'drop', payload });

test('the size limit counts UTF-8 bytes of the JSON, as Node does, for 1- to 4-byte characters', () => {
  for (const text of ['plain ascii', 'é è ü', '€ ™ ✓', '😀 🎲 𝄞', 'mixed é€😀 text', '"quotes" and \\ backslash']) {
    const request = move({ text });
    const bytes = Buffer.byteLength(JSON.stringify(request), 'utf8');
    assert.equal(checkRequest('room:move', [request, ack], bytes).ok, true, `${text}: exactly at the limit passes`);
    const over = checkRequest('room:move', [request, ack], bytes - 1);
    assert.equal(over.ok, false, `${text}: one byte over is refused`);
    assert.equal(!over.ok && over.error.code, 'protocol/payload-too-large');
    assert.equal(!over.ok && over.error.message, `${bytes} bytes; the limit is ${bytes - 1}`);
  }
});

test('a request needs exactly one object and an acknowledgement; unserialisable values are malformed', () => {
  const noAck = checkRequest('match:find', [{ actionId: 'a', game: 'connect-four' }], 4096);
  assert.equal(!noAck.ok && noAck.error.code, 'protocol/ack-required');
  assert.equal(noAck.ack, undefined);
  const extra = checkRequest('match:find', [{ actionId: 'a', game: 'connect-four' }, 'x', ack], 4096);
  assert.equal(!extra.ok && extra.error.code, 'protocol/ack-required');
  assert.equal(extra.ack, ack, 'the ack is still returned so the refusal can be answered through it');
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.deepEqual((checkRequest('room:move', [move(cyclic), ack], 4096) as { error: object }).error, {
    code: 'protocol/bad-message',
    message: 'room:move: nested too deeply to be read',
  });
  const bad = checkRequest('match:find', [{ actionId: 'a' }, ack], 4096);
  assert.equal(!bad.ok && bad.error.code, 'protocol/bad-message');
  assert.match(!bad.ok ? bad.error.message : '', /^game: /);
  const good = checkRequest('match:find', [{ actionId: 'a', game: 'connect-four' }, ack], 4096);
  assert.deepEqual(good.ok && good.request, { actionId: 'a', game: 'connect-four' });
});

test('the handshake: missing token, malformed auth, unsupported version, or the token it carries', () => {
  assert.equal((checkHandshake(undefined) as { error: { code: string } }).error.code, 'auth/missing-token');
  assert.equal((checkHandshake({ token: '' }) as { error: { code: string } }).error.code, 'auth/missing-token');
  assert.equal((checkHandshake({ token: 't' }) as { error: { code: string } }).error.code, 'protocol/bad-message');
  assert.equal((checkHandshake({ token: 't', protocol: 2 }) as { error: { code: string } }).error.code, 'protocol/version-unsupported');
  assert.deepEqual(checkHandshake({ token: 't', protocol: '1' }), { ok: true, value: { token: 't', protocol: 1 } });
});

test('the guest login body: JSON, schema, empty means defaults', () => {
  assert.deepEqual(checkGuestLogin(''), { ok: true, value: {} });
  assert.deepEqual(checkGuestLogin('{"name":" Ada "}'), { ok: true, value: { name: 'Ada' } });
  assert.equal((checkGuestLogin('{not json') as { error: { message: string } }).error.message, 'body is not JSON');
  assert.match((checkGuestLogin('{"name":12}') as { error: { message: string } }).error.message, /^name: /);
  assert.match((checkGuestLogin('{"admin":true}') as { error: { message: string } }).error.message, /^body: /);
});
