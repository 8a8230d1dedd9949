/**
 * The trial run a new version of a game's rules must pass before it is
 * published: `setup` on sample players, then `view` for each of them,
 * `isOver`, `activePlayers`, one `tick` for a real-time game, and the game's
 * own `selfTest`. It catches the mistakes a reload would otherwise turn into
 * a crashed room: a throw, or a state that is not plain JSON. A throw is
 * reported at its line in the game's sources.
 */
import type { AnyGameRules, GameContext, PlayerId } from '../../games/api';
import { SeededRandom } from '../../actors/room/seeded-random';
import type { BundleLocator } from './bundle-locator';
import { gameLoadError, thrownMessage, type GameLoadError } from './game-load-error';
import { findNonJson } from './plain-json';

/** Fixed, so a trial run is the same every time (and a failure can be reproduced). */
const TRIAL_SEED = 0x5eed;
/** Deep enough to reach the game's own frame under a few layers of zod. */
const TRIAL_STACK_LIMIT = 50;

export interface TrialSubject {
  readonly rules: AnyGameRules;
  /** Already checked against the game's schema. */
  readonly tunables: unknown;
  readonly locator: BundleLocator;
  /** The rules module, for problems with no throw site. */
  readonly file: string;
  /** Where `export default` is in the rules module, if found: the line a non-throw problem points at. */
  readonly definitionLine: number | null;
}

/** Null if the rules pass, else why not. */
export function trialRun(subject: TrialSubject): GameLoadError | null {
  const { rules } = subject;
  const players: PlayerId[] = Array.from({ length: rules.maxPlayers }, (_, i) => `p${i + 1}`);
  const random = new SeededRandom(TRIAL_SEED);
  const ctx: GameContext<unknown> = { players, gameNumber: 1, tunables: subject.tunables, random: () => random.next() };

  const previousLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = Math.max(previousLimit, TRIAL_STACK_LIMIT);
  try {
    const state = call(subject, `setup on ${players.length} players`, () => rules.setup(ctx));
    notJson(subject, findNonJson(state, 'the state from setup'));
    for (const player of players) {
      notJson(subject, findNonJson(call(subject, `view(state, '${player}')`, () => rules.view(state, player)), `view(state, '${player}')`));
    }
    const outcome = call(subject, 'isOver(state)', () => rules.isOver(state, ctx));
    if (outcome !== null && !isOutcome(outcome)) fail(subject, `isOver must return null or { winners, draw, reason } (it returned ${JSON.stringify(outcome)})`);
    if (rules.activePlayers) {
      const active = call(subject, 'activePlayers(state)', () => rules.activePlayers!(state));
      if (active !== 'all' && !(Array.isArray(active) && active.every((id) => typeof id === 'string'))) {
        fail(subject, `activePlayers must return 'all' or an array of player ids (it returned ${JSON.stringify(active)})`);
      }
    }
    if (rules.realtime && rules.tick) {
      const dtMs = 1000 / rules.realtime.tickHz;
      const next = call(subject, `tick(state, ${dtMs}, ctx)`, () => rules.tick!(state, dtMs, ctx));
      notJson(subject, findNonJson(next, 'the state from tick'));
      if (rules.viewDelta) call(subject, `viewDelta(state, next, '${players[0]}')`, () => rules.viewDelta!(state, next, players[0]!));
    }
    if (rules.selfTest) call(subject, 'selfTest', () => rules.selfTest!());
    return null;
  } catch (failure) {
    if (failure instanceof TrialFailure) return failure.error;
    throw failure;
  } finally {
    Error.stackTraceLimit = previousLimit;
  }
}

/** Carries a located error out of the trial's nested steps. */
class TrialFailure {
  constructor(readonly error: GameLoadError) {}
}

/** Runs one call into the game; a throw becomes a 'check' error at the throw site. */
function call<R>(subject: TrialSubject, what: string, run: () => R): R {
  try {
    return run();
  } catch (thrown) {
    const at = subject.locator.locate(thrown);
    const message = what === 'selfTest' ? `selfTest failed: ${thrownMessage(thrown)}` : `${what} threw: ${thrownMessage(thrown)}`;
    throw new TrialFailure(gameLoadError(subject.rules.name, 'check', at?.file ?? subject.file, message, at ?? definitionAt(subject)));
  }
}

function notJson(subject: TrialSubject, problem: string | null): void {
  if (problem !== null) fail(subject, `${problem}: states and views must be plain JSON (they are saved, replayed and sent as JSON)`);
}

function fail(subject: TrialSubject, message: string): never {
  throw new TrialFailure(gameLoadError(subject.rules.name, 'check', subject.file, message, definitionAt(subject)));
}

function definitionAt(subject: TrialSubject): { line: number; column: number } | null {
  return subject.definitionLine === null ? null : { line: subject.definitionLine, column: 1 };
}

function isOutcome(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const { winners, draw, reason } = value as Record<string, unknown>;
  return Array.isArray(winners) && typeof draw === 'boolean' && typeof reason === 'string';
}
