/**
 * Logs read well where they are read: human-readable lines on a developer's
 * terminal, JSON lines in production and wherever output goes to a pipe or a
 * file; LOG_FORMAT overrides. Each case is a real process logging through
 * the process context's logger (infra/logger.ts), on a real pseudo-terminal (util-linux `script`) or a pipe.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { stripVTControlCharacters } from 'node:util';

const ROOT = path.resolve(__dirname, '..', '..');
/** A process's logger as its context makes it, from the configuration the environment gives. */
const LOG_ONE_LINE = `require('./infra/logger').configuredLogger(require('./infra/config').loadConfig({}, process.env).log).info({ roomId: 'r1' }, 'match started')`;
const NODE = `${JSON.stringify(process.execPath)} --import tsx -e ${JSON.stringify(LOG_ONE_LINE)}`;

/** What the process printed with its stdout on a terminal. */
function onTerminal(env: NodeJS.ProcessEnv): string {
  return execFileSync('script', ['--quiet', '--return', '--command', NODE, '/dev/null'], { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'info', ...env } }).toString();
}

/** What the process printed with its stdout on a pipe. */
function onPipe(env: NodeJS.ProcessEnv): string {
  return execFileSync('sh', ['-c', NODE], { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'info', ...env } }).toString();
}

const JSON_LINE = /^\{"level":30,.*"roomId":"r1","msg":"match started"\}\r?\n$/;
const PRETTY_LINE = /^\[\d\d:\d\d:\d\d\.\d{3}\] .*INFO.*: .*match started.* \{"roomId":"r1"\}.*\r?\n$/;

test('on a terminal outside production, logs are human-readable lines', () => {
  assert.match(stripVTControlCharacters(onTerminal({ NODE_ENV: '', LOG_FORMAT: '' })), PRETTY_LINE);
});

test('in production, piped, or when told, logs are JSON lines', () => {
  assert.match(onTerminal({ NODE_ENV: 'production', LOG_FORMAT: '' }), JSON_LINE, 'production on a terminal');
  assert.match(onTerminal({ NODE_ENV: '', LOG_FORMAT: 'json' }), JSON_LINE, 'LOG_FORMAT=json on a terminal');
  assert.match(onPipe({ NODE_ENV: '', LOG_FORMAT: '' }), JSON_LINE, 'a pipe');
});

test('LOG_FORMAT=pretty gives readable lines on a pipe too', () => {
  assert.match(stripVTControlCharacters(onPipe({ NODE_ENV: 'production', LOG_FORMAT: 'pretty' })), PRETTY_LINE);
});
