/**
 * Game folders for the reload tests: a copy of a fixture (or a real game) in
 * a temporary games/ directory of its own, with the real games/api.ts beside
 * it, so a test can edit files freely and errors name games/<game>/....
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';

export const FIXTURES = path.join(__dirname, 'fixtures');
export const GAMES = path.resolve(__dirname, '..', '..', 'games');

export interface GameFolder {
  /** Holds games/: what errors' paths are relative to. */
  readonly root: string;
  readonly folder: string;
  read(file: string): string;
  write(file: string, text: string): void;
}

/** Copies `source` (a game folder) to <tmp>/games/<name>; removed when the test ends. */
export function copyGame(t: TestContext, source: string, name = path.basename(source)): GameFolder {
  const root = mkdtempSync(path.join(tmpdir(), 'playhouse-reload-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const folder = path.join(root, 'games', name);
  cpSync(path.join(GAMES, 'api.ts'), path.join(root, 'games', 'api.ts'));
  cpSync(source, folder, { recursive: true });
  return {
    root,
    folder,
    read: (file) => readFileSync(path.join(folder, file), 'utf8'),
    write: (file, text) => writeFileSync(path.join(folder, file), text),
  };
}

/** 1-based line of the first line of `text` containing `marker`. */
export function lineOf(text: string, marker: string): number {
  const index = text.split('\n').findIndex((line) => line.includes(marker));
  if (index < 0) throw new Error(`marker ${marker} not found`);
  return index + 1;
}
