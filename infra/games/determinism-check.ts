/**
 * Finds the places where a game's rules reach for the clock, randomness or
 * timers of the host instead of what the rules API hands in. The API promises
 * exact replays (a room's log replays to the same state on another worker),
 * which holds only if rules get time as `tick`'s `dtMs` and randomness from
 * `ctx.random()`. Such a call is a warning, not an error: the version still
 * loads, and the designer is told the file and line.
 *
 * The compiled bundle is parsed (acorn) and every use is mapped back through
 * the source map, so helpers in other files of the game are checked too. No
 * scope analysis: a local variable that shadows `Date` would be reported as
 * the global would.
 */
import { parse, type Expression, type Node, type Super } from 'acorn';
import { simple } from 'acorn-walk';
import type { BundleLocator } from './bundle-locator';

/** A use of a non-deterministic API in a game's sources. */
export interface GameLoadWarning {
  /** Relative to the folder holding games/, e.g. games/dice/rules.ts. */
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  readonly column: number;
  /** What was used, as written: `Date.now`, `new Date()`, `crypto.randomUUID`... */
  readonly api: string;
  readonly message: string;
}

type Kind = 'clock' | 'random' | 'timer';

const ADVICE: Readonly<Record<Kind, string>> = {
  clock: 'reads the host clock, so a replay gives another result: rules get time only as tick’s dtMs',
  random: 'is not replayable: use ctx.random(), which the room seeds and records',
  timer: 'runs outside the room’s order of moves: rules must be synchronous',
};

/** Dotted names of the host's non-deterministic APIs (a use of one of their members is a use too). */
const APIS: ReadonlyMap<string, Kind> = new Map<string, Kind>([
  ['Date.now', 'clock'],
  ['performance.now', 'clock'],
  ['performance.timeOrigin', 'clock'],
  ['process.hrtime', 'clock'],
  ['process.uptime', 'clock'],
  ['Math.random', 'random'],
  ['crypto.randomUUID', 'random'],
  ['crypto.getRandomValues', 'random'],
  ['crypto.randomBytes', 'random'],
  ['crypto.randomInt', 'random'],
  ['setTimeout', 'timer'],
  ['setInterval', 'timer'],
  ['setImmediate', 'timer'],
  ['queueMicrotask', 'timer'],
]);

/** Names of the global object: `globalThis.Math.random` is `Math.random`. */
const GLOBAL_OBJECTS = new Set(['globalThis', 'global', 'window', 'self']);

/** Every use of a non-deterministic API in the bundle, at its place in the sources, in source order. */
export function findNondeterminism(code: string, locator: BundleLocator, fallbackFile: string): GameLoadWarning[] {
  const found: GameLoadWarning[] = [];
  const report = (node: Node, api: string, kind: Kind) => {
    const position = node.loc!.start;
    const at = locator.locatePosition(position.line, position.column);
    found.push({
      file: at?.file ?? fallbackFile,
      line: at?.line ?? position.line,
      column: at?.column ?? position.column + 1,
      api,
      message: `${api} ${ADVICE[kind]}`,
    });
  };
  const program = parse(code, { ecmaVersion: 'latest', sourceType: 'script', locations: true, allowHashBang: true });
  simple(program, {
    MemberExpression(node) {
      const name = dottedName(node);
      const kind = name === undefined ? undefined : APIS.get(name);
      if (name !== undefined && kind !== undefined) report(node, name, kind);
    },
    Identifier(node) {
      const kind = APIS.get(node.name);
      if (kind !== undefined) report(node, node.name, kind);
    },
    // Only the argument-less forms read the clock: `new Date(0)` or `new Date(iso)` are fixed dates.
    NewExpression(node) {
      if (dottedName(node.callee) === 'Date' && node.arguments.length === 0) report(node, 'new Date()', 'clock');
    },
    CallExpression(node) {
      if (dottedName(node.callee) === 'Date') report(node, 'Date()', 'clock');
    },
  });
  return found.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column);
}

/** One line per warning in the compiler's style, `file:line:column: warning: message`, which editors turn into a link. */
export function describeGameLoadWarning(warning: GameLoadWarning): string {
  return `${warning.file}:${warning.line}:${warning.column}: warning: ${warning.message}`;
}

/** `a.b.c` for a chain of names (`a['b']` counts as `a.b`), without a leading `globalThis.`; undefined for anything else. */
function dottedName(node: Expression | Super): string | undefined {
  const parts: string[] = [];
  let current = node;
  while (current.type === 'MemberExpression') {
    const { property } = current;
    const name = current.computed ? (property.type === 'Literal' && typeof property.value === 'string' ? property.value : undefined) : property.type === 'Identifier' ? property.name : undefined;
    if (name === undefined) return undefined;
    parts.unshift(name);
    current = current.object;
  }
  if (current.type !== 'Identifier') return undefined;
  if (!GLOBAL_OBJECTS.has(current.name)) parts.unshift(current.name);
  return parts.join('.');
}
