/**
 * `npm run games -- new <name>`: a new game folder a designer starts from —
 * rules that pass the server's load checks (a small turn-based game to
 * replace), its tunables.json, and a rules test that calls the rules directly
 * and runs the server's load checks on the folder. Nothing is overwritten.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface ScaffoldOptions {
  /** Kebab-case: the folder's name and the name clients ask for in match:find. */
  readonly name: string;
  /** The games directory: holds api.ts and one folder per game. */
  readonly gamesDirectory: string;
  /** Where the rules test goes (test/games/ of the repository). */
  readonly testsDirectory: string;
  /** The repository, for the test's import of the server's load check. */
  readonly repositoryRoot: string;
}

export type ScaffoldResult = { readonly ok: true; readonly files: readonly string[] } | { readonly ok: false; readonly message: string };

/** Lower-case words joined by dashes: valid as a folder name everywhere and as a protocol game id. */
const GAME_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const MAX_NAME_LENGTH = 40;

export function scaffoldGame(options: ScaffoldOptions): ScaffoldResult {
  const { name } = options;
  if (!GAME_NAME.test(name) || name.length > MAX_NAME_LENGTH) {
    return { ok: false, message: `'${name}' is not a game name: use lower-case letters, digits and dashes, starting with a letter (e.g. tic-tac-toe), at most ${MAX_NAME_LENGTH} characters` };
  }
  const games = path.resolve(options.gamesDirectory);
  if (!existsSync(path.join(games, 'api.ts'))) return { ok: false, message: `${games} is not a games directory (it has no api.ts)` };
  const folder = path.join(games, name);
  const testFile = path.join(path.resolve(options.testsDirectory), `${name}.test.ts`);
  for (const taken of [folder, testFile]) if (existsSync(taken)) return { ok: false, message: `${taken} already exists; choose another name or remove it` };

  const fromTests = (target: string) => importPath(path.dirname(testFile), target);
  const files: Array<readonly [string, string]> = [
    [path.join(folder, 'rules.ts'), rulesSource(name)],
    [path.join(folder, 'tunables.json'), `${JSON.stringify({ target: 21, maxStep: 3 }, null, 2)}\n`],
    [testFile, testSource(name, fromTests(games), fromTests(path.join(options.repositoryRoot, 'infra', 'games', 'game-version')))],
  ];
  mkdirSync(folder, { recursive: true });
  mkdirSync(path.dirname(testFile), { recursive: true });
  // 'wx': never overwrite a file that appeared meanwhile
  for (const [file, text] of files) writeFileSync(file, text, { flag: 'wx' });
  return { ok: true, files: files.map(([file]) => file) };
}

/** A relative module path from `fromDirectory` to `target`, as an import writes it. */
function importPath(fromDirectory: string, target: string): string {
  const relative = path.relative(fromDirectory, target).split(path.sep).join('/');
  return relative.startsWith('.') ? relative : `./${relative}`;
}

function rulesSource(name: string): string {
  return `/**
 * ${name}: players take turns adding 1 to \`maxStep\` to a shared count; whoever
 * brings it exactly to \`target\` wins. A starting point: replace it with your
 * game. The rules API is in ../api.ts, the designer's guide in ../README.md.
 *
 * Pure rules: no I/O, no clock, no Math.random (ctx.random() is the room's
 * seeded randomness, so a replay gives the same game). Never mutate \`state\`.
 */
import { defineGame, invalid, z, type Outcome, type PlayerId } from '../api';

export interface State {
  /** Seated players, in seat order. */
  readonly players: readonly PlayerId[];
  /** Seat whose turn it is. */
  readonly turn: number;
  readonly count: number;
  /** Copied from the tunables at setup: a running game keeps its own if tunables.json changes. */
  readonly target: number;
  readonly maxStep: number;
  readonly winner: PlayerId | null;
}

const tunables = z
  .object({
    target: z.number().int().min(2).max(1000),
    maxStep: z.number().int().min(1).max(100),
  })
  // strict: a misspelt key in tunables.json is an error, not a silently ignored value
  .strict();

export type Tunables = z.infer<typeof tunables>;

export default defineGame({
  name: '${name}',
  minPlayers: 2,
  maxPlayers: 2,
  tunables,

  setup(ctx): State {
    return {
      players: [...ctx.players],
      // who starts is drawn from the room's seeded randomness: a replay draws the same
      turn: Math.floor(ctx.random() * ctx.players.length),
      count: 0,
      target: ctx.tunables.target,
      maxStep: ctx.tunables.maxStep,
      winner: null,
    };
  },

  moves: {
    add: {
      // a payload of another shape is refused before apply runs (move/bad-payload)
      payload: z.object({ amount: z.number().int() }).strict(),
      apply(state, { amount }, ctx) {
        // each refusal reaches the player as move/illegal with this reason
        if (state.winner !== null) return invalid('game-over', 'the game is over');
        if (amount < 1 || amount > state.maxStep) return invalid('out-of-range', \`add between 1 and \${state.maxStep}\`);
        if (state.count + amount > state.target) return invalid('overshoot', \`the count may not pass \${state.target}\`);
        const count = state.count + amount;
        return { ...state, count, turn: (state.turn + 1) % state.players.length, winner: count === state.target ? ctx.playerId : null };
      },
    },
  },

  // the room refuses everyone else with move/not-your-turn
  activePlayers(state) {
    return state.winner === null ? [state.players[state.turn]!] : [];
  },

  isOver(state): Outcome | null {
    return state.winner === null ? null : { winners: [state.winner], draw: false, reason: 'target-reached' };
  },

  // nothing is hidden: every player gets the same view, built once per change
  publicView: true,

  view(state) {
    return {
      count: state.count,
      target: state.target,
      maxStep: state.maxStep,
      players: state.players,
      currentPlayer: state.winner === null ? state.players[state.turn] : null,
      winner: state.winner,
    };
  },
});
`;
}

function testSource(name: string, games: string, gameVersion: string): string {
  return `/**
 * ${name}'s rules, called directly with a hand-built context, and the checks
 * the server runs before it serves a version (the same as \`npm run games --
 * check ${name}\`). Run: node --import tsx --test <this file>
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { isInvalid, type GameContext, type PlayerId } from '${games}/api';
import game, { type State, type Tunables } from '${games}/${name}/rules';
import { loadGameVersion } from '${gameVersion}';

const FOLDER = path.join(__dirname, '${games}', '${name}');
const ADA = 'ada';
const BOB = 'bob';
const tunables = game.tunables.parse(JSON.parse(readFileSync(path.join(FOLDER, 'tunables.json'), 'utf8')));

/** \`random\` stands for the room's seeded randomness: a fixed value makes the test exact. */
function context(random = 0, players: PlayerId[] = [ADA, BOB]): GameContext<Tunables> {
  return { players, tunables, random: () => random };
}

function add(state: State, playerId: PlayerId, amount: number) {
  return game.moves.add.apply(state, { amount }, { ...context(), playerId });
}

function accepted(next: ReturnType<typeof add>): State {
  if (isInvalid(next)) assert.fail(\`refused: \${next.reason}\`);
  return next;
}

test('the folder passes the server’s load checks, with no warning', () => {
  const loaded = loadGameVersion(FOLDER);
  assert.ok(loaded.ok, loaded.ok ? '' : \`\${loaded.error.file}:\${loaded.error.line}: \${loaded.error.message}\`);
  assert.deepEqual(loaded.version.warnings, []);
});

test('setup: the count is 0 and the room’s randomness picks who starts', () => {
  const state = game.setup(context(0));
  assert.equal(state.count, 0);
  assert.equal(state.target, tunables.target);
  assert.deepEqual(game.activePlayers!(state), [ADA]);
  assert.deepEqual(game.activePlayers!(game.setup(context(0.9))), [BOB]);
});

test('a move adds to the count and passes the turn, without changing the state it was given', () => {
  const start = Object.freeze(game.setup(context()));
  const next = accepted(add(start, ADA, 2));
  assert.equal(next.count, 2);
  assert.deepEqual(game.activePlayers!(next), [BOB]);
  assert.equal(start.count, 0);
});

test('moves out of range, past the target or after the end are refused with a reason', () => {
  const start = game.setup(context());
  for (const [amount, reason] of [[0, 'out-of-range'], [tunables.maxStep + 1, 'out-of-range']] as const) {
    const refused = add(start, ADA, amount);
    assert.ok(isInvalid(refused) && refused.reason === reason, \`adding \${amount}\`);
  }
  const nearEnd: State = { ...start, count: tunables.target - 1 };
  const overshoot = add(nearEnd, ADA, 2);
  assert.ok(isInvalid(overshoot) && overshoot.reason === 'overshoot');

  const won = accepted(add(nearEnd, ADA, 1));
  const late = add(won, BOB, 1);
  assert.ok(isInvalid(late) && late.reason === 'game-over');
});

test('reaching the target exactly wins', () => {
  const start = game.setup(context());
  assert.equal(game.isOver(start, context()), null);
  const won = accepted(add({ ...start, count: tunables.target - 1 }, ADA, 1));
  assert.deepEqual(game.isOver(won, context()), { winners: [ADA], draw: false, reason: 'target-reached' });
  assert.deepEqual(game.activePlayers!(won), []);
  assert.deepEqual(game.view(won, BOB), { count: tunables.target, target: tunables.target, maxStep: tunables.maxStep, players: [ADA, BOB], currentPlayer: null, winner: ADA });
});
`;
}
