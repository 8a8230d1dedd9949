/**
 * Where this installation of Playhouse is: the folder with its package.json —
 * the repository when the server runs from source (tsx), the parent of dist/
 * when it runs the build (`npm run build`, then plain node).
 *
 * Files the server reads as they are, not as compiled code, are found from
 * here, so the source run and the build read the same ones: the games
 * (designers' TypeScript, compiled at run time), the demo and playground pages
 * (their scripts bundled at run time), the nginx template. dist/ holds only
 * the compiled server.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';

function findInstallation(from: string): string {
  for (let folder = from; ; folder = path.dirname(folder)) {
    if (existsSync(path.join(folder, 'package.json'))) return folder;
    if (path.dirname(folder) === folder) throw new Error(`no package.json above ${from}: run Playhouse from its installation (the repository, or an image built from it)`);
  }
}

export const INSTALLATION_DIR = findInstallation(__dirname);

/** A path inside the installation (e.g. `installationPath('games')`). */
export function installationPath(...segments: string[]): string {
  return path.join(INSTALLATION_DIR, ...segments);
}
