/**
 * Paths as the project writes them: relative to the root (the folder that
 * holds games/), with forward slashes, so an error names
 * `games/arena/rules.ts` whichever machine or folder the server runs from.
 */
import path from 'node:path';

export function repoPath(root: string, absolute: string): string {
  return path.relative(root, absolute).split(path.sep).join('/');
}
