/**
 * Why a version of a game could not be loaded, as plain data: the reload
 * machinery logs it, shows it to the designer and publishes it across the
 * cluster, while the previous version keeps serving. Every error names the
 * file and (when it is known) the line a designer has to open.
 */

/** The step that refused the version, in the order they run. */
export type GameLoadPhase = 'compile' | 'load' | 'check' | 'tunables';

export interface GameLoadError {
  /** The game's name, or its folder's name when the rules never loaded far enough to say. */
  readonly game: string;
  readonly phase: GameLoadPhase;
  /** Relative to the repository root, with forward slashes, e.g. games/connect-four/rules.ts. */
  readonly file: string;
  /** 1-based; null when nothing points at a line (JSON has no stack, a shape has no throw site). */
  readonly line: number | null;
  /** 1-based; null with `line`. */
  readonly column: number | null;
  readonly message: string;
}

/** A place in a source file, 1-based, as editors and stack traces count. */
export interface SourceLocation {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

export function gameLoadError(
  game: string,
  phase: GameLoadPhase,
  file: string,
  message: string,
  at?: Pick<SourceLocation, 'line' | 'column'> | null,
): GameLoadError {
  return { game, phase, file, line: at?.line ?? null, column: at?.column ?? null, message };
}

/** One line in the compiler's own style, `file:line:column: phase: message`, which editors turn into a link. */
export function describeGameLoadError(error: GameLoadError): string {
  const place = error.line === null ? error.file : `${error.file}:${error.line}${error.column === null ? '' : `:${error.column}`}`;
  return `${place}: ${error.phase}: ${error.message}`;
}

/** The message of anything thrown: games may throw strings or other values, not only Errors. */
export function thrownMessage(thrown: unknown): string {
  if (thrown instanceof Error) return thrown.message || thrown.name;
  if (typeof thrown === 'string') return thrown;
  try {
    return JSON.stringify(thrown) ?? String(thrown);
  } catch {
    return String(thrown);
  }
}
