/**
 * Turns positions in a compiled rules bundle back into the designer's files.
 *
 * Node maps stack traces through source maps only for modules its own loader
 * compiled; code it evaluates from a string keeps bundle positions even with
 * `process.setSourceMapsEnabled(true)` (tried with `vm` on Node 20.20). So each version
 * keeps esbuild's source map and maps the frames of its own bundle, which it
 * recognises by the unique script name it was evaluated under.
 */
import { SourceMap, type SourceMapPayload } from 'node:module';
import path from 'node:path';
import type { SourceLocation } from './game-load-error';
import { repoPath } from './repo-path';

export class BundleLocator {
  /** Parsed on first use: most versions never throw, and the parsed map is several times the size of its JSON. */
  private parsed: SourceMap | undefined;
  private readonly frame: RegExp;

  /**
   * @param scriptName the file name the bundle was evaluated under (what its stack frames show)
   * @param sourceMapJson esbuild's map for the bundle; its `sources` are relative to `mapDirectory`
   * @param gameDirectory frames inside this folder are preferred: that is the code the designer wrote
   * @param frameLineOffset lines the evaluator puts before the bundle: a frame at line L is at bundle line L - offset
   */
  constructor(
    readonly scriptName: string,
    private readonly sourceMapJson: string,
    private readonly mapDirectory: string,
    private readonly root: string,
    private readonly gameDirectory: string,
    private readonly frameLineOffset = 0,
  ) {
    this.frame = new RegExp(`${escapeRegExp(scriptName)}:(\\d+):(\\d+)`);
  }

  /**
   * Where `thrown` was thrown in the game's sources: the innermost frame in the game's own folder, else
   * the innermost frame of the bundle (games/api.ts), else null (not an Error, or thrown outside the bundle).
   */
  locate(thrown: unknown): SourceLocation | null {
    const stack = stackOf(thrown);
    if (stack === undefined) return null;
    let firstInBundle: SourceLocation | null = null;
    for (const line of stack.split('\n')) {
      const mapped = this.mapFrame(line);
      if (!mapped) continue;
      if (this.isGameFile(mapped.file)) return mapped;
      firstInBundle ??= mapped;
    }
    return firstInBundle;
  }

  /** The stack with every bundle position replaced by its source position, for logs. */
  mapStack(stack: string): string {
    return stack
      .split('\n')
      .map((line) => {
        const mapped = this.mapFrame(line);
        return mapped ? line.replace(this.frame, `${mapped.file}:${mapped.line}:${mapped.column}`) : line;
      })
      .join('\n');
  }

  /** Where a position of the bundle (1-based line, 0-based column, as parsers count) is in the sources, or null. */
  locatePosition(line: number, column: number): SourceLocation | null {
    return this.mapPosition(line - 1, column);
  }

  /** One stack line's position in the sources, if the line is a frame of this bundle. */
  private mapFrame(stackLine: string): SourceLocation | null {
    const match = this.frame.exec(stackLine);
    if (!match) return null;
    // stack positions are 1-based, source map entries 0-based
    return this.mapPosition(Number(match[1]) - this.frameLineOffset - 1, Number(match[2]) - 1);
  }

  /** A 0-based bundle position in the sources (1-based, as editors count). */
  private mapPosition(line: number, column: number): SourceLocation | null {
    const entry = this.sourceMap().findEntry(line, column);
    if (!('originalSource' in entry) || typeof entry.originalSource !== 'string') return null;
    return {
      file: repoPath(this.root, path.resolve(this.mapDirectory, entry.originalSource)),
      line: entry.originalLine + 1,
      column: entry.originalColumn + 1,
    };
  }

  private isGameFile(file: string): boolean {
    return !path.relative(this.gameDirectory, path.resolve(this.root, file)).startsWith('..');
  }

  private sourceMap(): SourceMap {
    this.parsed ??= new SourceMap(JSON.parse(this.sourceMapJson) as SourceMapPayload);
    return this.parsed;
  }
}

function stackOf(thrown: unknown): string | undefined {
  if (typeof thrown !== 'object' || thrown === null) return undefined;
  const stack: unknown = (thrown as { stack?: unknown }).stack;
  return typeof stack === 'string' ? stack : undefined;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
