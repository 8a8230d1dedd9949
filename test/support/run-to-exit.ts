/**
 * Test support: runs a script of scripts/ as a real child process (through
 * tsx, as npm runs it) to its end, and hands back what it printed and how it
 * ended — for the mistakes a command must refuse in one line.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

export interface Ended {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `script` to its end. One still running after `boundMs` gets SIGTERM (a
 * launcher then stops what it started), and SIGKILL 10 s later; the test sees
 * that signal.
 */
export async function runToExit(script: string, args: readonly string[], env: NodeJS.ProcessEnv, boundMs = 60_000): Promise<Ended> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.resolve(ROOT, script), ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timers = [setTimeout(() => child.kill('SIGTERM'), boundMs), setTimeout(() => child.kill('SIGKILL'), boundMs + 10_000)];
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  timers.forEach(clearTimeout);
  return { code, signal, stdout, stderr };
}

/** The lines of a stack trace (`    at f (file:1:2)`). */
export const STACK_LINE = /^\s+at /m;

/**
 * The one line a command that refused to start printed on stderr, after
 * checking that it exited with 1 and printed no stack trace.
 */
export function refusalLine(ended: Ended): string {
  const printed = `stdout:\n${ended.stdout}\nstderr:\n${ended.stderr}`;
  assert.equal(ended.code, 1, `exits with 1:\n${printed}`);
  assert.doesNotMatch(ended.stderr + ended.stdout, STACK_LINE, `no stack trace:\n${printed}`);
  const lines = ended.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr:\n${printed}`);
  return lines[0]!;
}
