/**
 * The games in games/, each a folder with a rules module and a tunables.json
 * beside it, kept as versions: `get` answers the newest version that loaded
 * and passed its checks (infra/games/). With `watch()`, a designer's edit is
 * loaded as a new version within moments; a file that fails to load or fails
 * its checks leaves the previous version serving and is reported (log,
 * `status()`, change listeners: the admin endpoint and `npm run games -- watch`).
 *
 * Rooms pin the version they started with (actors/room/match.ts); this
 * catalogue holds only the newest, so an old version is released once no room
 * runs it.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { GameCatalog, LoadedGame } from '../actors/ports';
import { describeGameLoadWarning, instantiateGameVersion, readTunables, type GameLoadError, type GameLoadWarning, type GameVersion, type GameVersionResult } from './games/game-version';
import { compileRules, type RulesBundle } from './games/rules-bundle';
import type { ActorLog } from '../actors/ports';
import { installationPath } from './installation';

/** games/ of the installation: rules stay TypeScript, from source or in a build alike. */
export const GAMES_DIR = installationPath('games');

/** What the catalogue knows of one game: the version serving and the last failure since it loaded. */
export interface GameStatus {
  readonly game: string;
  readonly folder: string;
  readonly version: string | null;
  readonly tunablesVersion: string | null;
  readonly loadedAt: number | null;
  /** The last load that failed after (or instead of) the version serving; cleared by the next success. */
  readonly error: (GameLoadError & { readonly at: number }) | null;
  /** The serving version's uses of non-deterministic host APIs (file and line each). */
  readonly warnings: readonly GameLoadWarning[];
}

/**
 * A version as another process can take it up (a cluster's workers, from the gateway that watched the
 * files): the compiled rules and the tunables text, plain JSON.
 */
export interface PublishedVersion {
  /** The game's folder name in games/. */
  readonly folder: string;
  readonly game: string;
  readonly version: string;
  readonly tunablesVersion: string;
  readonly bundle: Pick<RulesBundle, 'file' | 'version' | 'code' | 'sourceMap'>;
  readonly tunablesText: string;
}

export type CatalogEvent =
  | {
      readonly type: 'loaded';
      readonly game: string;
      readonly version: string;
      readonly tunablesVersion: string;
      readonly previous: string | null;
      readonly warnings: readonly GameLoadWarning[];
    }
  | { readonly type: 'failed'; readonly game: string; readonly error: GameLoadError; readonly serving: string | null }
  /** The files load again, as the version that kept serving (a mistake undone). */
  | { readonly type: 'recovered'; readonly game: string; readonly version: string };

/** How long a folder must be quiet before it is reloaded (editors write a file in several steps). */
const SETTLE_MS = 150;

export class HotGameCatalog implements GameCatalog {
  private readonly games = new Map<string, LoadedGame>();
  /** What produced each game's serving version, to publish it and to skip re-evaluating unchanged rules. */
  private readonly sources = new Map<string, PublishedVersion>();
  private readonly statuses = new Map<string, GameStatus>();
  /** Folder name → game name (a folder's game keeps its name across versions). */
  private readonly folders = new Map<string, string>();
  private readonly listeners = new Set<(event: CatalogEvent) => void>();
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private watcher: FSWatcher | undefined;
  /** Holders of the watch (a process's gateway and its worker share one catalogue): it stops with the last. */
  private watchers = 0;

  constructor(
    private readonly directory: string,
    private readonly log: ActorLog,
  ) {
    for (const folder of gameFolders(directory)) this.reload(folder);
  }

  get(name: string): LoadedGame | undefined {
    return this.games.get(name);
  }

  names(): readonly string[] {
    return [...this.games.keys()].sort();
  }

  status(): GameStatus[] {
    return [...this.statuses.values()].sort((a, b) => a.game.localeCompare(b.game));
  }

  /** Calls `listener` on every version loaded and every failure; returns the unsubscribe function. */
  onChange(listener: (event: CatalogEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Loads the folder's game again: a new version if its rules or tunables changed and pass their checks;
   * otherwise the previous version keeps serving and the failure is reported.
   */
  reload(folder: string): CatalogEvent | undefined {
    const name = path.basename(folder);
    const known = this.folders.get(name) ?? name;
    const compiled = compileRules(folder, { root: path.resolve(folder, '..', '..'), game: known });
    if (!compiled.ok) return this.failed(known, folder, compiled.error);
    const tunablesText = readTunables(folder);
    const published: PublishedVersion = {
      folder: name,
      game: known,
      version: compiled.bundle.version,
      tunablesVersion: '',
      bundle: { file: compiled.bundle.file, version: compiled.bundle.version, code: compiled.bundle.code, sourceMap: compiled.bundle.sourceMap },
      tunablesText,
    };
    return this.take(folder, published, () => instantiateGameVersion(compiled.bundle, tunablesText));
  }

  /** Takes up a version another process loaded and checked (it is checked here again: loads, shape, trial run). */
  install(published: PublishedVersion): CatalogEvent | undefined {
    const folder = path.join(this.directory, published.folder);
    const bundle: RulesBundle = { ...published.bundle, folder, entry: path.join(folder, path.basename(published.bundle.file)) };
    return this.take(folder, published, () => instantiateGameVersion(bundle, published.tunablesText));
  }

  /** The serving version of every game, as other processes can take it up. */
  published(): PublishedVersion[] {
    return [...this.sources.values()];
  }

  /** Installs a compiled version unless it is what already serves; a failure leaves the serving one. */
  private take(folder: string, published: PublishedVersion, instantiate: () => GameVersionResult): CatalogEvent | undefined {
    const name = path.basename(folder);
    const game = this.folders.get(name) ?? published.game;
    const serving = this.games.get(game);
    const before = this.statuses.get(game);
    const source = this.sources.get(game);
    if (serving && source && source.version === published.version && source.tunablesText === published.tunablesText) {
      // Saved again without a change, or a mistake undone back to what serves: nothing new to publish.
      if (!before?.error) return undefined;
      this.statuses.set(game, { ...before, error: null });
      return this.emit({ type: 'recovered', game, version: serving.version });
    }
    const outcome = instantiate();
    if (!outcome.ok) return this.failed(game, folder, outcome.error);
    const loaded = outcome.version;
    this.folders.set(name, loaded.game);
    this.sources.set(loaded.game, { ...published, game: loaded.game, tunablesVersion: loaded.tunablesVersion });
    this.installVersion(loaded, folder);
    this.log.info({ game: loaded.game, version: loaded.version, tunables: loaded.tunablesVersion, previous: serving?.version ?? null }, 'game version loaded');
    for (const warning of loaded.warnings) this.log.warn({ game: loaded.game, version: loaded.version, warning }, describeGameLoadWarning(warning));
    return this.emit({ type: 'loaded', game: loaded.game, version: loaded.version, tunablesVersion: loaded.tunablesVersion, previous: serving?.version ?? null, warnings: loaded.warnings });
  }

  private failed(game: string, folder: string, error: GameLoadError): CatalogEvent {
    const serving = this.games.get(game);
    const before = this.statuses.get(game);
    this.statuses.set(game, {
      game,
      folder,
      version: serving?.version ?? null,
      tunablesVersion: serving?.tunablesVersion ?? null,
      loadedAt: before?.loadedAt ?? null,
      error: { ...error, at: Date.now() },
      warnings: before?.warnings ?? [],
    });
    this.log.error({ game, error, serving: serving?.version ?? null }, 'game failed to load; the previous version keeps serving');
    return this.emit({ type: 'failed', game, error, serving: serving?.version ?? null });
  }

  /** Watches the games directory and reloads a game's folder when a file in it changes (until every holder closed). */
  async watch(): Promise<void> {
    this.watchers++;
    if (this.watcher) return;
    const watcher = watch(this.directory, { ignoreInitial: true, depth: 2, ignored: (file) => /(^|[/\\])(\.|node_modules)/.test(path.relative(this.directory, file)) });
    this.watcher = watcher;
    const changed = (file: string) => {
      const relative = path.relative(this.directory, file);
      const [folderName] = relative.split(path.sep);
      if (!folderName || folderName === relative) return; // a file at the top (api.ts, README.md): not a game
      this.schedule(path.join(this.directory, folderName));
    };
    watcher.on('add', changed).on('change', changed).on('unlink', changed);
    watcher.on('error', (error) => this.log.warn({ err: String(error) }, 'watching games/ failed'));
    await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  }

  /** One holder of the watch is done; the last one stops it. */
  async close(): Promise<void> {
    if (this.watchers > 0) this.watchers--;
    if (this.watchers > 0) return;
    for (const timer of this.pending.values()) clearTimeout(timer);
    this.pending.clear();
    await this.watcher?.close();
    this.watcher = undefined;
  }

  private schedule(folder: string): void {
    clearTimeout(this.pending.get(folder));
    this.pending.set(
      folder,
      setTimeout(() => {
        this.pending.delete(folder);
        if (existsSync(folder)) this.reload(folder);
      }, SETTLE_MS),
    );
  }

  private installVersion(version: GameVersion, folder: string): void {
    const game: LoadedGame = { name: version.game, version: version.version, rules: version.rules, tunables: version.tunables, tunablesVersion: version.tunablesVersion };
    this.games.set(version.game, game);
    this.statuses.set(version.game, { game: version.game, folder, version: version.version, tunablesVersion: version.tunablesVersion, loadedAt: version.loadedAt, error: null, warnings: version.warnings });
  }

  private emit(event: CatalogEvent): CatalogEvent {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.log.warn({ err: String(error) }, 'a game catalogue listener failed');
      }
    }
    return event;
  }
}

/** The folders of games/ that hold a rules module. */
function gameFolders(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => path.join(directory, entry.name))
    .filter((folder) => existsSync(path.join(folder, 'rules.ts')) || existsSync(path.join(folder, 'rules.js')));
}
