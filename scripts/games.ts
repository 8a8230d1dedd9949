/**
 * `npm run games -- <command>`: the designer's view of a running server's games.
 *
 *   watch   prints every new version and every failed load (file:line: message) as it happens
 *   status  prints the version each game serves, its rooms per version and its last error
 *   check   loads and checks a game folder here, without a server (what the server would say)
 *   new     scaffolds a new game: games/<name>/ (rules, tunables) and its rules test in test/games/
 *
 * watch and status read the server's /admin/games endpoints (PLAYHOUSE_ADMIN_TOKEN
 * if the server has one; otherwise they answer only on the server's machine).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { CatalogEvent, GameStatus } from '../infra/game-catalog';
import type { GameLoadError } from '../infra/games/game-version';
import { describeGameLoadWarning, loadGameVersion, type GameLoadWarning } from '../infra/games/game-version';
import { INSTALLATION_DIR } from '../infra/installation';
import { scaffoldGame } from './game-scaffold';

const USAGE = `usage: npm run games -- <watch|status|check|new> [options]
  watch  [--url URL] [--token T]   follow new versions and load errors as they happen
  status [--url URL] [--token T]   what each game serves now
  check  FOLDER                    load and check games/<FOLDER> (or a path) here
  new    NAME [--games DIR] [--tests DIR]
                                   scaffold games/NAME (rules.ts, tunables.json) and test/games/NAME.test.ts
--url defaults to http://127.0.0.1:$PORT (8080); --token to PLAYHOUSE_ADMIN_TOKEN;
--games to PLAYHOUSE_GAMES_DIR or games/; --tests to test/games/.`;

const REPOSITORY = INSTALLATION_DIR;

type StatusWithRooms = GameStatus & { readonly rooms: Readonly<Record<string, number>> };

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { url: { type: 'string' }, token: { type: 'string' }, games: { type: 'string' }, tests: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  const [command, target] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const url = (values.url ?? `http://127.0.0.1:${process.env.PORT ?? 8080}`).replace(/\/$/, '');
  const token = values.token ?? process.env.PLAYHOUSE_ADMIN_TOKEN;
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  switch (command) {
    case 'check':
      return check(target);
    case 'new':
      return newGame(target, values.games ?? process.env.PLAYHOUSE_GAMES_DIR ?? path.join(REPOSITORY, 'games'), values.tests ?? path.join(REPOSITORY, 'test', 'games'));
    case 'status': {
      const response = await fetch(`${url}/admin/games`, { headers });
      if (!response.ok) return failed(`${url}/admin/games answered ${response.status}: ${await response.text()}`);
      const { games } = (await response.json()) as { games: StatusWithRooms[] };
      for (const game of games) printStatus(game);
      return 0;
    }
    case 'watch':
      return watchEvents(`${url}/admin/games/events`, headers);
    default:
      console.error(`unknown command '${command}'\n${USAGE}`);
      return 2;
  }
}

function check(target: string | undefined): number {
  if (!target) return failed(`check needs a game folder\n${USAGE}`);
  const folder = path.isAbsolute(target) || target.includes(path.sep) ? path.resolve(target) : path.resolve(REPOSITORY, 'games', target);
  const outcome = loadGameVersion(folder);
  if (!outcome.ok) {
    console.log(describeError(outcome.error));
    return 1;
  }
  console.log(`${outcome.version.game}: version ${outcome.version.version} (tunables ${outcome.version.tunablesVersion}) loads and passes its checks`);
  printWarnings(outcome.version.warnings);
  return 0;
}

function newGame(name: string | undefined, gamesDirectory: string, testsDirectory: string): number {
  if (!name) return failed(`new needs a game name\n${USAGE}`);
  const made = scaffoldGame({ name, gamesDirectory, testsDirectory, repositoryRoot: REPOSITORY });
  if (!made.ok) return failed(made.message);
  for (const file of made.files) console.log(`created ${path.relative(process.cwd(), file)}`);
  const [rules, , test] = made.files.map((file) => path.relative(process.cwd(), file));
  console.log(`next: edit ${rules}; run its test with  node --import tsx --test ${test}`);
  console.log(`      with the server running (npm start), try it at http://127.0.0.1:${process.env.PORT ?? 8080}/playground`);
  return 0;
}

function printWarnings(warnings: readonly GameLoadWarning[] | undefined): void {
  for (const warning of warnings ?? []) console.log(`  ${describeGameLoadWarning(warning)}`);
}

/** Reads the Server-Sent Events stream until the server goes away. */
async function watchEvents(url: string, headers: Record<string, string>): Promise<number> {
  const response = await fetch(url, { headers: { ...headers, accept: 'text/event-stream' } });
  if (!response.ok || !response.body) return failed(`${url} answered ${response.status}: ${await response.text()}`);
  console.log(`watching ${url} (Ctrl-C to stop)`);
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (!event || !data) continue;
      if (event === 'status') for (const game of (JSON.parse(data) as { games: GameStatus[] }).games) printStatus(game);
      else printEvent(JSON.parse(data) as CatalogEvent);
    }
  }
  console.log('the server closed the stream');
  return 0;
}

function printStatus(game: GameStatus & { readonly rooms?: Readonly<Record<string, number>> }): void {
  const rooms = game.rooms ? Object.entries(game.rooms).map(([version, count]) => `${count} on ${version}`).join(', ') : '';
  console.log(`${game.game}: serving ${game.version ?? 'nothing'} (tunables ${game.tunablesVersion ?? '-'})${rooms ? `; rooms: ${rooms}` : ''}`);
  if (game.error) console.log(`  last error: ${describeError(game.error)}`);
  printWarnings(game.warnings);
}

function printEvent(event: CatalogEvent): void {
  const time = new Date().toLocaleTimeString();
  if (event.type === 'loaded') {
    console.log(`${time} ${event.game}: version ${event.version} (tunables ${event.tunablesVersion}) now serves${event.previous ? `, was ${event.previous}` : ''}`);
    printWarnings(event.warnings);
  }  else if (event.type === 'recovered') console.log(`${time} ${event.game}: loads again; version ${event.version} serves`);
  else console.log(`${time} ${event.game}: ${describeError(event.error)}; ${event.serving ? `version ${event.serving} keeps serving` : 'nothing serves'}`);
}

function describeError(error: GameLoadError): string {
  const where = error.line ? `${error.file}:${error.line}${error.column ? `:${error.column}` : ''}` : error.file;
  return `${where}: ${error.phase} failed: ${error.message}`;
}

function failed(message: string): number {
  console.error(message);
  return 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);
