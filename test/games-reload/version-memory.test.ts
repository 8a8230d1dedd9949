/**
 * Versions nobody references are released: a designer saves hundreds of
 * times a day, and each save that loads is a new module with its own
 * schemas, closures and source map. Keeping only the newest (as the
 * catalogue does once no room runs the old ones) must leave the heap where
 * it was; the same measurement with every version kept shows what a leak
 * would cost, so this test can tell the two apart.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { loadGameVersion, type GameVersion } from '../../infra/games/game-version';
import { copyGame, GAMES } from './game-folders';
import { heapAfterGc } from '../support/heap';

const VERSIONS = 200;
/**
 * Growth allowed over VERSIONS released versions (measured: under 1 MB, mostly warm-up). Keeping each
 * version costs ~50 KB (~10 MB for 200); evaluating through vm.Script, which Node 20 never frees, ~3.7 MB;
 * through vm.compileFunction on Node 24, whose compilation cache keeps every source, ~4 MB.
 */
const RELEASED_BOUND = 2 * 1024 * 1024;

test(`${VERSIONS} versions of a game, only the newest kept: the heap stays bounded, and keeping them all would show`, async (t) => {
  const game = copyGame(t, path.join(GAMES, 'connect-four'));
  const original = game.read('rules.ts');
  let edits = 0;
  /** A small edit (a new exported constant): a different bundle, so a different version. */
  const nextVersion = (): GameVersion => {
    edits++;
    game.write('rules.ts', `${original}\nexport const edit = ${edits};\n`);
    const result = loadGameVersion(game.folder);
    assert.ok(result.ok, result.ok ? '' : JSON.stringify(result.error));
    return result.version;
  };

  // warm-up: code paths compiled, esbuild's service and caches at their working size
  let newest = nextVersion();
  for (let i = 0; i < 50; i++) newest = nextVersion();

  const before = await heapAfterGc();
  const started = performance.now();
  const seen = new Set<string>([newest.version]);
  for (let i = 0; i < VERSIONS; i++) {
    newest = nextVersion();
    seen.add(newest.version);
  }
  const perVersionMs = (performance.now() - started) / VERSIONS;
  const released = (await heapAfterGc()) - before;
  assert.equal(seen.size, VERSIONS + 1, 'every edit is a new version');

  // the same, keeping every version referenced (what a leak would look like)
  const kept: GameVersion[] = [];
  const beforeKept = await heapAfterGc();
  for (let i = 0; i < VERSIONS / 2; i++) kept.push(nextVersion());
  const keptPerVersion = ((await heapAfterGc()) - beforeKept) / kept.length;

  t.diagnostic(
    `compile+load+check: ${perVersionMs.toFixed(1)} ms per version; heap after ${VERSIONS} released versions: ` +
      `${(released / 1024).toFixed(0)} KB (${(released / VERSIONS / 1024).toFixed(1)} KB per version); ` +
      `a version kept referenced costs ${(keptPerVersion / 1024).toFixed(1)} KB`,
  );
  assert.ok(released < RELEASED_BOUND, `heap grew ${(released / 1048576).toFixed(1)} MB over ${VERSIONS} released versions`);
  assert.ok(keptPerVersion * VERSIONS > 2 * RELEASED_BOUND, `keeping versions cost only ${(keptPerVersion / 1024).toFixed(1)} KB each: this test could not see a leak`);
  assert.equal(kept.length, VERSIONS / 2); // keeps `kept` alive until the measurement is done
});
