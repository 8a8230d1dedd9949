/**
 * Keeps protocol/PROTOCOL.md in step with the code, and pins down the wire
 * schemas that native (Unity, Swift, Kotlin) clients are written against.
 *
 * The checks on the document are pure functions over its text, so each one is
 * also run against a deliberately broken copy: that proves it can fail.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ERROR_CODES } from '../../protocol/errors';
import { checkGuestLogin } from '../../protocol/wire-checks';
import {
  CLIENT_EVENT_SCHEMAS,
  FindMatchRequest,
  HandshakeAuth,
  MoveRequest,
  PROTOCOL_VERSION,
  RoomRequest,
} from '../../protocol/messages';

const ROOT = path.resolve(__dirname, '..', '..');
const DOC = readFileSync(path.join(ROOT, 'protocol', 'PROTOCOL.md'), 'utf8');
const MESSAGES_SOURCE = readFileSync(path.join(ROOT, 'packages', 'client', 'src', 'protocol', 'messages.ts'), 'utf8');
const CATALOGUE = Object.keys(ERROR_CODES);

// ---- reading the document -----------------------------------------------------

/** The text of the `## <title>` section, up to the next `## ` heading (fenced code blocks included). */
function section(markdown: string, title: string): string {
  const lines = markdown.split('\n');
  const start = lines.findIndex((line) => new RegExp(`^##\\s+${title}\\s*$`, 'i').test(line));
  if (start < 0) return '';
  let inFence = false;
  const body: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (/^\s*```/.test(line)) inFence = !inFence;
    if (!inFence && /^##\s/.test(line)) break;
    body.push(line);
  }
  return body.join('\n');
}

/** Codes in the first column of the tables of the Errors section: rows like "| `move/illegal` | ...". */
function documentedCodes(markdown: string): string[] {
  const codes: string[] = [];
  for (const line of section(markdown, 'Errors').split('\n')) {
    const match = /^\|\s*`([^`]+)`\s*\|/.exec(line);
    if (match) codes.push(match[1]!);
  }
  return codes;
}

function missingFromTable(markdown: string): string[] {
  const documented = new Set(documentedCodes(markdown));
  return CATALOGUE.filter((code) => !documented.has(code));
}

function staleInTable(markdown: string): string[] {
  return documentedCodes(markdown).filter((code) => !Object.prototype.hasOwnProperty.call(ERROR_CODES, code));
}

function duplicatedInTable(markdown: string): string[] {
  const codes = documentedCodes(markdown);
  return codes.filter((code, index) => codes.indexOf(code) !== index);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** An event is documented when it is in backticks somewhere, or is (part of) a heading. */
function isDocumented(markdown: string, name: string): boolean {
  if (markdown.includes(`\`${name}\``)) return true;
  const inHeading = new RegExp(`^#{1,6}\\s+(?:.*[^\\w:-])?${escapeRegExp(name)}(?:[^\\w:-].*)?$`, 'm');
  return inHeading.test(markdown);
}

function undocumentedEvents(markdown: string, names: readonly string[]): string[] {
  return names.filter((name) => !isDocumented(markdown, name));
}

/** Every `protocol: <n>` / `"protocol": <n>` in the handshake section. */
function handshakeProtocolVersions(markdown: string): number[] {
  const text = section(markdown, 'Handshake');
  return [...text.matchAll(/"?\bprotocol"?\s*:\s*(\d+)/g)].map((match) => Number(match[1]));
}

function handshakeStatesVersion(markdown: string, version: number): boolean {
  const versions = handshakeProtocolVersions(markdown);
  return versions.length > 0 && versions.every((v) => v === version);
}

// ---- reading messages.ts (the event maps are types, so they are read as text) --

/** The quoted keys at the top level of `interface <name> { ... }` in TypeScript source. */
function interfaceKeys(source: string, name: string): string[] {
  const withoutComments = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/[^\n]*/g, '');
  const header = new RegExp(`interface\\s+${name}\\s*(?:extends[^{]*)?\\{`).exec(withoutComments);
  if (!header) throw new Error(`interface ${name} not found`);
  const keys: string[] = [];
  let depth = 1;
  let statementStart = true;
  for (let i = header.index + header[0].length; i < withoutComments.length && depth > 0; i++) {
    const char = withoutComments[i]!;
    if (char === '{' || char === '(' || char === '[' || char === '<') depth++;
    else if (char === '}' || char === ')' || char === ']' || char === '>') {
      // `=>` is an arrow, not a closing angle bracket
      if (!(char === '>' && withoutComments[i - 1] === '=')) depth--;
    } else if (depth === 1 && (char === ';' || char === '\n')) statementStart = true;
    else if (depth === 1 && statementStart && (char === "'" || char === '"')) {
      const end = withoutComments.indexOf(char, i + 1);
      const rest = withoutComments.slice(end + 1);
      if (/^\s*\??\s*:/.test(rest)) keys.push(withoutComments.slice(i + 1, end));
      i = end;
      statementStart = false;
    } else if (depth === 1 && !/\s/.test(char)) statementStart = false;
  }
  return keys;
}

const SERVER_EVENTS = interfaceKeys(MESSAGES_SOURCE, 'ServerToClientEvents');
const CLIENT_EVENTS_FROM_TYPES = interfaceKeys(MESSAGES_SOURCE, 'ClientToServerEvents');
const CLIENT_EVENTS = Object.keys(CLIENT_EVENT_SCHEMAS);

// ---- the document against the code --------------------------------------------

test('the Errors section has a table of codes', () => {
  assert.ok(section(DOC, 'Errors').length > 0, 'PROTOCOL.md has no "## Errors" section');
  assert.ok(documentedCodes(DOC).length > 0, 'the Errors section has no rows like "| `code` | ... |"');
});

test('every code in ERROR_CODES appears in the errors table', () => {
  assert.deepEqual(missingFromTable(DOC), [], 'codes missing from the errors table of PROTOCOL.md');
});

test('every code in the errors table exists in ERROR_CODES (no stale docs)', () => {
  assert.deepEqual(staleInTable(DOC), [], 'codes in PROTOCOL.md that ERROR_CODES does not have');
  assert.deepEqual(duplicatedInTable(DOC), [], 'codes listed twice in the errors table');
});

test('the event maps parsed from messages.ts look right', () => {
  assert.ok(SERVER_EVENTS.length >= 5, `too few server events parsed: ${SERVER_EVENTS.join(', ')}`);
  for (const name of ['session:ready', 'room:state', 'session:closed']) assert.ok(SERVER_EVENTS.includes(name), `${name} not parsed`);
  // the typed client event map and the runtime schema table of requests must list the same events,
  // besides `session:ack`, the one event without an acknowledgement (its schema is DeliveredRequest)
  assert.deepEqual([...CLIENT_EVENTS_FROM_TYPES].filter((event) => event !== 'session:ack').sort(), [...CLIENT_EVENTS].sort());
  assert.ok(CLIENT_EVENTS_FROM_TYPES.includes('session:ack'), 'session:ack parsed');
});

test('every client → server event is documented', () => {
  assert.deepEqual(undocumentedEvents(DOC, CLIENT_EVENTS), [], 'client events missing from PROTOCOL.md');
  assert.deepEqual(undocumentedEvents(DOC, CLIENT_EVENTS_FROM_TYPES), [], 'client events missing from PROTOCOL.md');
});

test('every server → client event is documented', () => {
  assert.deepEqual(undocumentedEvents(DOC, SERVER_EVENTS), [], 'server events missing from PROTOCOL.md');
});

test('the handshake section states PROTOCOL_VERSION', () => {
  assert.ok(section(DOC, 'Handshake').length > 0, 'PROTOCOL.md has no "## Handshake" section');
  const versions = handshakeProtocolVersions(DOC);
  assert.ok(versions.length > 0, 'the handshake section shows no `protocol: <n>`');
  assert.ok(handshakeStatesVersion(DOC, PROTOCOL_VERSION), `handshake shows protocol ${versions.join(', ')}; PROTOCOL_VERSION is ${PROTOCOL_VERSION}`);
});

// ---- the checks themselves can fail ----------------------------------------------

test('the checks catch a code removed from the table', () => {
  const broken = DOC.split('\n').filter((line) => !line.startsWith('| `move/illegal` |')).join('\n');
  assert.notEqual(broken, DOC, 'the move/illegal row was not found to remove');
  assert.ok(missingFromTable(broken).includes('move/illegal'));
  assert.ok(!missingFromTable(DOC).includes('move/illegal'));
});

test('the checks catch a stale or duplicated code in the table', () => {
  const illegalRow = /^\| `move\/illegal` \|/m;
  const stale = DOC.replace(illegalRow, () => '| `move/bogus` | A code that does not exist. | nowhere |\n| `move/illegal` |');
  assert.ok(staleInTable(stale).includes('move/bogus'));
  const doubled = DOC.replace(illegalRow, () => '| `move/illegal` | again | again |\n| `move/illegal` |');
  assert.ok(duplicatedInTable(doubled).includes('move/illegal'));
});

test('the checks only read codes from the Errors section', () => {
  const elsewhere = DOC.replace('## Errors', '## Errata');
  assert.deepEqual(documentedCodes(elsewhere), []);
  assert.equal(missingFromTable(elsewhere).length, CATALOGUE.length);
});

test('the checks catch an undocumented event', () => {
  assert.deepEqual(undocumentedEvents(DOC, ['room:teleport']), ['room:teleport']);
  const withoutDelta = DOC.split('room:delta').join('room-delta');
  assert.ok(undocumentedEvents(withoutDelta, SERVER_EVENTS).includes('room:delta'));
  // a longer name that merely contains the event is not the event
  assert.equal(isDocumented('### `room:stateful`\n', 'room:state'), false);
  assert.equal(isDocumented('### room:state\n', 'room:state'), true);
});

test('the checks catch a wrong or missing protocol version in the handshake', () => {
  const handshake = section(DOC, 'Handshake');
  const bumped = DOC.replace(handshake, () => handshake.replace(/("?\bprotocol"?\s*:\s*)\d+/g, (_all, prefix: string) => `${prefix}${PROTOCOL_VERSION + 1}`));
  assert.equal(handshakeStatesVersion(bumped, PROTOCOL_VERSION), false);
  const silent = DOC.replace(handshake, () => handshake.replace(/"?\bprotocol"?\s*:\s*\d+/g, 'protocol: <n>'));
  assert.equal(handshakeStatesVersion(silent, PROTOCOL_VERSION), false);
});

test('the interface reader sees top-level keys only', () => {
  const source = `
    interface Sample {
      /** 'not:a-key': in a comment */
      'a:b': (x: { 'nested': string }) => void;
      "c:d"?: (y: Ack<{ e: 'f' }>) => void; // 'g:h': trailing comment
    }`;
  assert.deepEqual(interfaceKeys(source, 'Sample'), ['a:b', 'c:d']);
});

// ---- the wire schemas ------------------------------------------------------------

const ID_64 = 'a'.repeat(64);
const ID_65 = 'a'.repeat(65);

const validFind = { actionId: 'k3j9x2aa-1', game: 'connect-four' };
const validMove = { actionId: 'k3j9x2aa-2', roomId: 'connect-four.1.a77y', version: 3, move: 'drop', payload: { column: 3 } };
const validRoom = { actionId: 'k3j9x2aa-3', roomId: 'connect-four.1.a77y' };

function passes(schema: { safeParse(value: unknown): { success: boolean } }, value: unknown): boolean {
  return schema.safeParse(value).success;
}

test('valid requests pass', () => {
  assert.deepEqual(FindMatchRequest.parse(validFind), validFind);
  assert.deepEqual(MoveRequest.parse(validMove), validMove);
  assert.deepEqual(RoomRequest.parse(validRoom), validRoom);
  assert.ok(passes(CLIENT_EVENT_SCHEMAS['match:find'], validFind));
  assert.ok(passes(CLIENT_EVENT_SCHEMAS['room:move'], validMove));
  assert.ok(passes(CLIENT_EVENT_SCHEMAS['room:leave'], validRoom));
  assert.ok(passes(CLIENT_EVENT_SCHEMAS['room:rematch'], validRoom));
});

test('boundary values pass', () => {
  assert.ok(passes(FindMatchRequest, { actionId: 'x', game: 'A' }), 'one-character ids');
  assert.ok(passes(FindMatchRequest, { actionId: ID_64, game: ID_64 }), '64-character ids');
  assert.ok(passes(RoomRequest, { actionId: 'a', roomId: 'Az09_.:-' }), 'every allowed id character');
  assert.ok(passes(MoveRequest, { ...validMove, version: 0 }), 'version 0');
  assert.ok(passes(MoveRequest, { ...validMove, version: Number.MAX_SAFE_INTEGER }), 'largest safe integer');
  assert.ok(passes(MoveRequest, { ...validMove, move: 'm'.repeat(64) }), '64-character move name');
  assert.ok(passes(MoveRequest, { ...validMove, payload: null }), 'null payload');
  assert.ok(passes(MoveRequest, { ...validMove, payload: [1, 'two'] }), 'any JSON payload (the room checks it)');
  // actionId is only length-limited, unlike ids
  assert.ok(passes(FindMatchRequest, { actionId: 'any chars / ü ✓', game: 'arena' }));
});

test('wrong types fail', () => {
  for (const [schema, value] of [
    [FindMatchRequest, { ...validFind, game: 4 }],
    [FindMatchRequest, { ...validFind, actionId: 17 }],
    [MoveRequest, { ...validMove, version: '3' }],
    [MoveRequest, { ...validMove, roomId: null }],
    [MoveRequest, { ...validMove, move: ['drop'] }],
    [RoomRequest, { ...validRoom, roomId: { id: 'x' } }],
    [RoomRequest, JSON.stringify(validRoom)],
    [RoomRequest, null],
    [RoomRequest, [validRoom]],
  ] as const) {
    assert.equal(passes(schema, value), false, JSON.stringify(value));
  }
});

test('missing fields fail', () => {
  for (const key of Object.keys(validFind)) {
    const { [key]: _dropped, ...rest } = validFind as Record<string, unknown>;
    assert.equal(passes(FindMatchRequest, rest), false, `match:find without ${key}`);
  }
  for (const key of Object.keys(validMove)) {
    const { [key]: _dropped, ...rest } = validMove as Record<string, unknown>;
    assert.equal(passes(MoveRequest, rest), false, `room:move without ${key}`);
  }
  for (const key of Object.keys(validRoom)) {
    const { [key]: _dropped, ...rest } = validRoom as Record<string, unknown>;
    assert.equal(passes(RoomRequest, rest), false, `room request without ${key}`);
  }
  assert.equal(passes(FindMatchRequest, {}), false);
});

test('extra keys fail', () => {
  assert.equal(passes(FindMatchRequest, { ...validFind, extra: 1 }), false);
  assert.equal(passes(MoveRequest, { ...validMove, playerId: 'someone-else' }), false);
  assert.equal(passes(RoomRequest, { ...validRoom, version: 1 }), false);
  // a room:move body is not a room:leave body
  assert.equal(passes(RoomRequest, validMove), false);
});

test('too-long or empty ids fail', () => {
  assert.equal(passes(FindMatchRequest, { ...validFind, game: ID_65 }), false);
  assert.equal(passes(FindMatchRequest, { ...validFind, actionId: ID_65 }), false);
  assert.equal(passes(MoveRequest, { ...validMove, roomId: ID_65 }), false);
  assert.equal(passes(MoveRequest, { ...validMove, move: 'm'.repeat(65) }), false);
  assert.equal(passes(RoomRequest, { ...validRoom, roomId: ID_65 }), false);
  assert.equal(passes(RoomRequest, { ...validRoom, actionId: ID_65 }), false);
  assert.equal(passes(FindMatchRequest, { ...validFind, game: '' }), false);
  assert.equal(passes(FindMatchRequest, { ...validFind, actionId: '' }), false);
  assert.equal(passes(MoveRequest, { ...validMove, move: '' }), false);
});

test('bad id characters fail', () => {
  for (const bad of ['connect four', 'connect/four', 'arenä', 'room#1', 'a\nb', '../etc', 'x@y', '"q"']) {
    assert.equal(passes(FindMatchRequest, { ...validFind, game: bad }), false, `game ${JSON.stringify(bad)}`);
    assert.equal(passes(RoomRequest, { ...validRoom, roomId: bad }), false, `roomId ${JSON.stringify(bad)}`);
    assert.equal(passes(MoveRequest, { ...validMove, roomId: bad }), false, `move roomId ${JSON.stringify(bad)}`);
  }
});

test('negative, non-integer or non-finite versions fail', () => {
  for (const version of [-1, -0.5, 1.5, 0.1, Number.NaN, Number.POSITIVE_INFINITY, 1e20, '1', null]) {
    assert.equal(passes(MoveRequest, { ...validMove, version }), false, `version ${String(version)}`);
  }
});

test('the handshake auth object: token string, integer protocol (or its decimal string)', () => {
  assert.ok(passes(HandshakeAuth, { token: 't', protocol: PROTOCOL_VERSION }));
  assert.ok(passes(HandshakeAuth, { token: 't', protocol: PROTOCOL_VERSION, extra: true }), 'extra keys are ignored');
  // socket.io-client-java sends every auth value as a string.
  assert.equal(HandshakeAuth.parse({ token: 't', protocol: String(PROTOCOL_VERSION) }).protocol, PROTOCOL_VERSION);
  for (const protocol of ['one', '1.5', '', ' 1', '-1']) assert.equal(passes(HandshakeAuth, { token: 't', protocol }), false, JSON.stringify(protocol));
  assert.equal(passes(HandshakeAuth, { token: 't', protocol: 1.5 }), false);
  assert.equal(passes(HandshakeAuth, { token: 't' }), false);
  assert.equal(passes(HandshakeAuth, { token: '', protocol: 1 }), false);
  assert.equal(passes(HandshakeAuth, { token: 'x'.repeat(4097), protocol: 1 }), false);
  assert.equal(passes(HandshakeAuth, { token: null, protocol: 1 }), false);
});

test('the guest login body: optional name, normalised, 1–32 characters, nothing else', () => {
  const login = (body: unknown) => checkGuestLogin(JSON.stringify(body));
  assert.deepEqual(login({}), { ok: true, value: {} });
  assert.deepEqual(login({ name: '  Ada  ' }), { ok: true, value: { name: 'Ada' } });
  assert.ok(login({ name: 'x'.repeat(32) }).ok);
  const codeOf = (body: unknown) => {
    const checked = login(body);
    return checked.ok ? 'ok' : `${checked.error.code}${checked.error.reason ? `:${checked.error.reason}` : ''}`;
  };
  assert.equal(codeOf({ name: 'x'.repeat(33) }), 'auth/invalid-name:too-long');
  assert.equal(codeOf({ name: '   ' }), 'auth/invalid-name:empty');
  assert.equal(codeOf({ name: 7 }), 'auth/bad-request');
  assert.equal(codeOf({ name: 'Ada', admin: true }), 'auth/bad-request');
});
