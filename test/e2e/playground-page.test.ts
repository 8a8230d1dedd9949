/**
 * The designer's playground end to end: a real server watching a copy of
 * games/, Debian's Chromium driven by playwright-core. The page seats test
 * players through the public protocol, sends moves as any of them, shows each
 * player's view and each refusal with its reason, and follows the rules as
 * they reload. A server in production (NODE_ENV=production, or
 * PLAYHOUSE_PLAYGROUND=false) answers 404 under /playground. Every wait is for
 * something the page shows, never a fixed sleep.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { loadConfig, type ConfigInput } from '../../infra/config';
import type { CatalogEvent } from '../../infra/game-catalog';
import { startPlayhouse, type RunningPlayhouse } from '../../infra/playhouse-server';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const haveChromium = existsSync(CHROMIUM);
const skipBrowser = !haveChromium && process.env.CI !== 'true' ? `${CHROMIUM} is missing (apt-get install chromium); the browser tests are skipped` : false;
if (skipBrowser) console.log(`# ${skipBrowser}`);

const ROOT = path.resolve(__dirname, '..', '..');
let base = '';
let games = '';
let server: RunningPlayhouse | undefined;
let browser: Browser | undefined;

/** A server of its own on port 0, with its own SQLite file; `env` stands for the process environment. */
function start(overrides: ConfigInput = {}, env: NodeJS.ProcessEnv = {}): Promise<RunningPlayhouse> {
  const sqliteFile = path.join(mkdtempSync(path.join(tmpdir(), 'playhouse-playground-')), 'playhouse.sqlite');
  return startPlayhouse(loadConfig({ port: 0, host: '127.0.0.1', persistence: { sqliteFile }, ...overrides }, { LOG_LEVEL: 'silent', ...env }));
}

before(async () => {
  // A copy of games/ the test may edit; node_modules beside it so the rules resolve zod as in the repository.
  base = mkdtempSync(path.join(tmpdir(), 'playhouse-playground-games-'));
  games = path.join(base, 'games');
  cpSync(path.join(ROOT, 'games'), games, { recursive: true });
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(base, 'node_modules'), 'dir');
  server = await start({ games: { watch: true, directory: games } });
  if (haveChromium) browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(base, { recursive: true, force: true });
});

function url(): string {
  assert.ok(server, 'server started');
  return server.url;
}

/** Edits a game's rules and resolves with the catalogue's answer (a new version, or a failure). */
function editRules(game: string, change: (source: string) => string): Promise<CatalogEvent> {
  const file = path.join(games, game, 'rules.ts');
  const heard = new Promise<CatalogEvent>((resolve) => {
    assert.ok(server, 'server started');
    const stop = server.context.games.onChange((event) => {
      if (event.game !== game) return;
      stop();
      resolve(event);
    });
  });
  writeFileSync(file, change(readFileSync(file, 'utf8')));
  return heard;
}

// ---- page helpers ------------------------------------------------------------

const card = (page: Page, player: number) => page.locator(`[data-testid="player"][data-player="${player}"]`);

async function send(page: Page, as: number, move: string, payload: string): Promise<void> {
  await page.locator('#mover').selectOption({ label: `Tester ${as}` });
  await page.locator('#move-name').fill(move);
  await page.locator('#payload').fill(payload);
  await page.locator('#send').click();
}

/** Waits for the player's newest log entry to match `text` (and carry `code` when given). */
async function logged(page: Page, player: number, text: string | RegExp, code?: string): Promise<void> {
  const entry = card(page, player).locator(`[data-testid="log"] li${code ? `[data-code="${code}"]` : ''}`, { hasText: text });
  await entry.first().waitFor();
}

async function viewOf(page: Page, player: number): Promise<Record<string, unknown>> {
  return JSON.parse((await card(page, player).locator('[data-testid="view"]').textContent()) ?? 'null') as Record<string, unknown>;
}

test('GET /playground serves the page, its script and the installed games with their moves and example payloads', async () => {
  for (const pathname of ['/playground', '/playground/']) {
    const page = await fetch(`${url()}${pathname}`);
    assert.equal(page.status, 200, pathname);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(await page.text(), /<script src="\/playground\/playground\.js"/);
  }
  const script = await fetch(`${url()}/playground/playground.js`);
  assert.match(script.headers.get('content-type') ?? '', /^text\/javascript/);

  const listed = (await (await fetch(`${url()}/playground/games`)).json()) as { games: Array<{ name: string; startsWith: number; moves: Array<{ name: string; example: unknown }> }> };
  const connectFour = listed.games.find((game) => game.name === 'connect-four');
  assert.deepEqual(connectFour?.moves.map(({ name, example }) => ({ name, example })), [{ name: 'drop', example: { column: 0 } }]);
  assert.equal(connectFour?.startsWith, 2);
  assert.ok(listed.games.some((game) => game.name === 'arena'));
  assert.equal((await fetch(`${url()}/playground/nothing-here`)).status, 404);
});

test('seat two players in connect-four, send moves as either: every view and every refusal with its reason; live as the rules reload', { skip: skipBrowser }, async () => {
  assert.ok(browser, `CI=true but ${CHROMIUM} is missing`);
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  try {
    await page.goto(`${url()}/playground`);
    await page.locator('#game option[value="arena"]').waitFor({ state: 'attached' });
    await page.locator('#game').selectOption('connect-four');
    assert.equal(await page.locator('#player-count').inputValue(), '2');
    await page.locator('#seat:enabled').click();
    await page.locator('#notice', { hasText: /^2 players seated in connect-four\./ }).waitFor();
    for (const player of [1, 2]) await card(page, player).locator('[data-testid="player-status"]', { hasText: /playing/ }).waitFor();
    const version = await page.locator('#rules').getAttribute('data-version');
    assert.ok(version);

    // Tester 1 took seat 0 and moves first; both players' views show the disc.
    assert.equal(await page.locator('#payload').inputValue(), '{"column":0}', 'the example payload is filled in');
    await send(page, 1, 'drop', '{"column":3}');
    await logged(page, 1, 'drop {"column":3} → accepted, version');
    for (const player of [1, 2]) {
      await card(page, player).locator('[data-testid="view"]', { hasText: '"column": 3' }).waitFor();
      const view = await viewOf(page, player);
      assert.deepEqual(view.lastMove, { player: (view.players as string[])[0], column: 3, row: 0 });
    }

    // Every kind of refusal, with its code and reason, on the card of the player who sent it.
    await send(page, 1, 'drop', '{"column":4}');
    await logged(page, 1, /→ move\/not-your-turn/, 'move/not-your-turn');
    await send(page, 2, 'drop', '{"column":99}');
    await logged(page, 2, /→ move\/illegal \(out-of-range\): column must be between 0 and 6/, 'move/illegal');
    await send(page, 2, 'drop', '{"col":1}');
    await logged(page, 2, /→ move\/bad-payload/, 'move/bad-payload');
    await send(page, 2, 'fly', '{}');
    await logged(page, 2, /fly \{\} → move\/unknown-move: connect-four has no move 'fly'/, 'move/unknown-move');
    await send(page, 2, 'drop', '{"column": ');
    await page.locator('#form-error', { hasText: /^The payload is not JSON .*nothing was sent\.$/ }).waitFor();
    assert.equal(await card(page, 2).locator('[data-testid="log"] li.refused').count(), 3, 'the bad JSON was not sent');

    // A rules edit: the page shows the new version and the players start a new match on it.
    const loaded = await editRules('connect-four', (source) =>
      source.replace('      apply(state, { column }, ctx) {\n', "      apply(state, { column }, ctx) {\n        if (column === 6) return invalid('column-closed', 'column 6 is closed');\n"),
    );
    assert.equal(loaded.type, 'loaded', JSON.stringify(loaded));
    assert.ok(loaded.type === 'loaded');
    await page.locator(`#rules[data-version="${loaded.version}"]`).waitFor();
    await page.locator('#notice', { hasText: `on rules version ${loaded.version}` }).waitFor();
    await logged(page, 1, `rules reloaded (version ${loaded.version}): new match`);
    await card(page, 1).locator('[data-testid="player-status"]', { hasText: /playing · game 1/ }).waitFor();
    await send(page, 1, 'drop', '{"column":6}');
    await logged(page, 1, /→ move\/illegal \(column-closed\): column 6 is closed/, 'move/illegal');

    // A mistake: the error names its file and line; the version before keeps serving.
    const failed = await editRules('connect-four', (source) => source.replace("if (column === 6) return invalid('column-closed', 'column 6 is closed');", 'if (column === 6) return invalid(;'));
    assert.equal(failed.type, 'failed');
    await page.locator('#load-error', { hasText: new RegExp(`^games/connect-four/rules\\.ts:\\d+:\\d+: compile: .*\\(version ${loaded.version} keeps serving\\)$`) }).waitFor();
    assert.equal(await page.locator('#rules').getAttribute('data-version'), loaded.version);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('the playground is off in production: NODE_ENV=production or PLAYHOUSE_PLAYGROUND=false answer 404; PLAYHOUSE_PLAYGROUND=true turns it on', async () => {
  assert.equal(loadConfig({}, {}).games.playground, true, 'on in development');
  assert.equal(loadConfig({}, { NODE_ENV: 'production' }).games.playground, false);
  assert.equal(loadConfig({}, { PLAYHOUSE_PLAYGROUND: 'false' }).games.playground, false);
  assert.equal(loadConfig({}, { NODE_ENV: 'production', PLAYHOUSE_PLAYGROUND: 'true' }).games.playground, true);
  assert.throws(() => loadConfig({}, { PLAYHOUSE_PLAYGROUND: 'maybe' }), /PLAYHOUSE_PLAYGROUND=maybe: not true\/false/);

  for (const env of [{ NODE_ENV: 'production' }, { PLAYHOUSE_PLAYGROUND: 'false' }]) {
    const production = await start({}, env);
    try {
      for (const pathname of ['/playground', '/playground/', '/playground/playground.js', '/playground/games', '/playground/events']) {
        const response = await fetch(`${production.url}${pathname}`);
        assert.equal(response.status, 404, `${JSON.stringify(env)} ${pathname}`);
        assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'http/not-found');
      }
    } finally {
      await production.stop();
    }
  }
  const explicit = await start({}, { NODE_ENV: 'production', PLAYHOUSE_PLAYGROUND: 'true' });
  try {
    assert.equal((await fetch(`${explicit.url}/playground`)).status, 200);
  } finally {
    await explicit.stop();
  }
});
