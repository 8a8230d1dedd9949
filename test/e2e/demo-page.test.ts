/**
 * The demo page end to end: a real server in this process, Debian's Chromium
 * driven by playwright-core, two browser contexts as two players (a context
 * taken offline with `context.setOffline` is a phone losing its network).
 * Every wait is for something the page shows (a selector, a text), never a
 * fixed sleep.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Script } from 'node:vm';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { loadConfig, type ConfigInput } from '../../infra/config';
import { startPlayhouse, type RunningPlayhouse } from '../../infra/playhouse-server';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const haveChromium = existsSync(CHROMIUM);
const inCI = process.env.CI === 'true';
const skipBrowser = !haveChromium && !inCI ? `${CHROMIUM} is missing (apt-get install chromium); the browser tests are skipped` : false;
if (skipBrowser) console.log(`# ${skipBrowser}`);

let server: RunningPlayhouse | undefined;
let browser: Browser | undefined;

/** The embedded default of `npm start` (SQLite), in a file of its own. */
function startServer(overrides: ConfigInput = {}): Promise<RunningPlayhouse> {
  const sqliteFile = path.join(mkdtempSync(path.join(tmpdir(), 'playhouse-demo-')), 'playhouse.sqlite');
  return startPlayhouse(loadConfig({ port: 0, host: '127.0.0.1', persistence: { sqliteFile }, ...overrides }));
}

before(async () => {
  server = await startServer();
  if (haveChromium) browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Called first in each browser test: only reached without Chromium when CI=true (otherwise the test is skipped). */
function requireBrowser(): Browser {
  if (!browser) throw new Error(`CI=true but ${CHROMIUM} is missing: install Debian's chromium package so the demo page can be tested`);
  return browser;
}

function baseUrl(): string {
  assert.ok(server, 'server started');
  return server.url;
}

test('GET / serves the demo page; /demo.js is JavaScript and /demo.css is CSS', async () => {
  const page = await fetch(`${baseUrl()}/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
  const html = await page.text();
  assert.match(html, /<script src="\/demo\.js"/);
  for (const id of ['find-match', 'status', 'error', 'board', 'rematch', 'leave', 'you']) assert.match(html, new RegExp(`id="${id}"`));

  const script = await fetch(`${baseUrl()}/demo.js`);
  assert.equal(script.status, 200);
  assert.match(script.headers.get('content-type') ?? '', /^text\/javascript/);
  const source = await script.text();
  assert.doesNotThrow(() => new Script(source, { filename: 'demo.js' }), 'demo.js compiles as JavaScript');

  const css = await fetch(`${baseUrl()}/demo.css`);
  assert.equal(css.status, 200);
  assert.match(css.headers.get('content-type') ?? '', /^text\/css/);

  // The page names its icon; /favicon.ico answers too, for pages that name none.
  assert.match(html, /<link rel="icon" href="\/favicon\.svg"/);
  for (const icon of ['/favicon.svg', '/favicon.ico']) {
    const answer = await fetch(`${baseUrl()}${icon}`);
    assert.equal(answer.status, 200, icon);
    assert.equal(answer.headers.get('content-type'), 'image/svg+xml', icon);
    assert.match(await answer.text(), /^<svg /);
  }
});

// ---- page helpers ------------------------------------------------------------

const cell = (row: number, column: number) => `#board [data-row="${row}"][data-col="${column}"]`;

const LOGIN_KEY = 'playhouse-demo-login';

/** A new browser context per player: its own sessionStorage, so its own guest login. */
async function openPlayer(errors: string[], url = baseUrl()): Promise<Page> {
  return openTab(await requireBrowser().newContext(), errors, url);
}

/** A long-poll of an engine.io session the server no longer has, answered 400. */
const STALE_POLL = /^400 \S+\/socket\.io\/\?\S*transport=polling\S*&sid=/;

/**
 * What went wrong on the page, without what taking a context offline causes by itself: back online, Socket.IO's
 * client may send one last long-poll of the connection the server dropped meanwhile, which engine.io answers 400
 * (its session id is gone), and Chromium logs each such answer as "Failed to load resource ... 400".
 */
function unexplained(errors: readonly string[]): string[] {
  let consoleLinesLeft = errors.filter((error) => STALE_POLL.test(error)).length;
  return errors.filter((error) => {
    if (STALE_POLL.test(error)) return false;
    if (consoleLinesLeft > 0 && error === 'console: Failed to load resource: the server responded with a status of 400 (Bad Request)') {
      consoleLinesLeft--;
      return false;
    }
    return true;
  });
}

/**
 * Opens the page; uncaught errors, errors in the console and failed requests (a missing favicon) land in `errors`.
 * Requests refused while the context is offline are the test's doing, not the page's.
 */
async function openTab(context: BrowserContext, errors: string[], url = baseUrl()): Promise<Page> {
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().includes('ERR_INTERNET_DISCONNECTED')) errors.push(`console: ${message.text()}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 400) errors.push(`${response.status()} ${response.url()}`);
  });
  await page.goto(`${url}/`);
  await page.locator('#find-match:enabled').waitFor();
  await statusIs(page, 'Press “Find a match” to play.');
  return page;
}

function storedLogin(page: Page): Promise<{ token: string; name: string } | null> {
  return page.evaluate((key) => JSON.parse(sessionStorage.getItem(key) ?? 'null') as { token: string; name: string } | null, LOGIN_KEY);
}

async function statusIs(page: Page, text: string | RegExp): Promise<void> {
  const pattern = typeof text === 'string' ? new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) : text;
  await page.locator('#status', { hasText: pattern }).waitFor();
}

async function discAt(page: Page, row: number, column: number, seat: number): Promise<void> {
  await page.locator(`${cell(row, column)}[data-seat="${seat}"]`).waitFor();
}

/** The board as the page draws it: one character per cell, top row first ('.' = empty). */
function snapshot(page: Page): Promise<string> {
  return page.$$eval('#board [data-row]', (cells) => cells.map((c) => c.getAttribute('data-seat') ?? '.').join(''));
}

function discCount(page: Page): Promise<number> {
  return page.locator('#board [data-seat]').count();
}

/**
 * `mover` (whose turn the page says it is) drops into `column`, by the column
 * button or by clicking a cell; both pages must then show the disc.
 */
async function play(mover: Page, watcher: Page, column: number, row: number, seat: number, via: 'button' | 'cell' = 'button'): Promise<void> {
  await statusIs(mover, 'Your turn');
  await mover.click(via === 'button' ? `[data-column="${column}"]` : cell(5, column));
  await discAt(mover, row, column, seat);
  await discAt(watcher, row, column, seat);
  assert.equal(await mover.locator('#error').isHidden(), true, 'no error after an accepted move');
}

async function refusedOutOfTurn(page: Page, other: Page, click: string): Promise<void> {
  const [board, otherBoard, version] = [await snapshot(page), await snapshot(other), await page.getAttribute('#board', 'data-version')];
  await page.click(click);
  await page.locator('#error:visible', { hasText: 'move/not-your-turn' }).waitFor();
  assert.equal(await page.textContent('#error'), "move/not-your-turn: It is another player's turn.");
  assert.equal(await snapshot(page), board, 'the refused move changed nothing on the page');
  assert.equal(await snapshot(other), otherBoard, 'nor on the other page');
  assert.equal(await page.getAttribute('#board', 'data-version'), version);
}

// ---- the game through the page ---------------------------------------------------

test('two players find a match, play to a win, rematch, and one leaves', { skip: skipBrowser, timeout: 90_000 }, async () => {
  requireBrowser();
  const errors: string[] = [];
  const alice = await openPlayer(errors);
  const bob = await openPlayer(errors);
  const aliceName = await alice.inputValue('#name');
  const bobName = await bob.inputValue('#name');
  assert.match(aliceName, /^Player \d+$/);
  assert.notEqual(await alice.textContent('#you'), await bob.textContent('#you'), 'two contexts are two players');

  // Matchmaking: the first waits, the second starts the game.
  await alice.click('#find-match');
  await statusIs(alice, 'Waiting for an opponent to join…');
  await bob.click('#find-match');
  for (const page of [alice, bob]) {
    await page.locator('#board[data-status="playing"]').waitFor();
    assert.equal(await page.locator('#board [data-row][data-col]').count(), 42);
    assert.equal(await page.locator('#board [data-column]').count(), 7);
    assert.equal(await discCount(page), 0);
    assert.equal(await page.locator('#find-match').isDisabled(), true);
    assert.equal(await page.locator('#leave').isVisible(), true);
  }

  // Seat 0 (red) moves first; find out which page that is.
  await alice.locator('#status', { hasText: /^(Your turn|Waiting for .+)$/ }).waitFor();
  const aliceFirst = (await alice.textContent('#status')) === 'Your turn';
  const [first, second] = aliceFirst ? [alice, bob] : [bob, alice];
  const [firstName, secondName] = aliceFirst ? [aliceName, bobName] : [bobName, aliceName];
  await statusIs(second, `Waiting for ${firstName}`);
  assert.match((await first.textContent('#you')) ?? '', /Red/);
  assert.match((await second.textContent('#you')) ?? '', /Yellow/);
  assert.match((await first.textContent('#opponent')) ?? '', new RegExp(`${secondName}.*Yellow`));

  // Out of turn: the server refuses, the page says so, the board stays as it was.
  await refusedOutOfTurn(second, first, '[data-column="3"]');

  // First disc: both pages show it, and the turn passes.
  await play(first, second, 0, 0, 0);
  await statusIs(first, `Waiting for ${secondName}`);
  await refusedOutOfTurn(first, second, cell(5, 4)); // clicking a cell sends a move too

  // Play on to a vertical four in column 0; the second player clicks cells.
  await play(second, first, 1, 0, 1, 'cell');
  await play(first, second, 0, 1, 0);
  await play(second, first, 1, 1, 1, 'cell');
  await play(first, second, 0, 2, 0);
  await play(second, first, 1, 2, 1, 'cell');
  await play(first, second, 0, 3, 0);

  await statusIs(first, 'You won');
  await statusIs(second, 'You lost');
  for (const page of [first, second]) {
    await page.locator('#board[data-status="over"]').waitFor();
    assert.equal(await page.locator('#board .cell.win').count(), 4);
    assert.equal(await page.locator('#board [data-column]:disabled').count(), 7);
    await page.locator('#rematch:visible').waitFor();
  }

  // Rematch: once both ask, a fresh board.
  await first.click('#rematch');
  await statusIs(first, /^You won · Rematch asked/);
  await second.click('#rematch');
  for (const page of [first, second]) {
    await page.locator('#board[data-status="playing"]').waitFor();
    assert.equal(await discCount(page), 0);
    assert.equal(await page.locator('#rematch').isHidden(), true);
  }

  // A full column: the rules refuse with move/illegal, and the page shows the reason.
  await first.locator('#status', { hasText: /^(Your turn|Waiting for .+)$/ }).waitFor();
  const [mover, waiter] = (await first.textContent('#status')) === 'Your turn' ? [first, second] : [second, first];
  // The opener alternates between a room's games: seat 1 opens the second.
  const openerSeat = 1;
  for (let row = 0; row < 6; row++) {
    const even = row % 2 === 0;
    await play(even ? mover : waiter, even ? waiter : mover, 2, row, even ? openerSeat : 1 - openerSeat);
  }
  await statusIs(mover, 'Your turn');
  const board = await snapshot(mover);
  // Columns are numbered 1 to 7 for people: the third button says 3, and so does the refusal.
  assert.match((await mover.textContent('[data-column="2"]')) ?? '', /^3\b/);
  assert.equal(await mover.getAttribute('[data-column="2"]', 'title'), 'Drop a disc in column 3');
  await mover.click('[data-column="2"]');
  await mover.locator('#error:visible', { hasText: 'move/illegal' }).waitFor();
  assert.equal(await mover.textContent('#error'), 'Column 3 is full (move/illegal: column-full)');
  assert.equal(await snapshot(mover), board);

  // Leaving mid-game forfeits: the one who stays is told they win.
  await waiter.click('#leave');
  await statusIs(mover, 'Opponent left — you win');
  await mover.locator('#notice:visible', { hasText: 'left the room' }).waitFor();
  // No rematch without an opponent: a new match instead.
  assert.equal(await mover.locator('#rematch').isHidden(), true, 'no Rematch button without an opponent');
  assert.equal(await mover.locator('#find-match').isEnabled(), true, 'Find a match is offered instead');
  await statusIs(waiter, 'Press “Find a match” to play.');
  assert.equal(await waiter.locator('#find-match').isEnabled(), true);
  assert.equal(await waiter.locator('#leave').isHidden(), true);

  assert.deepEqual(errors, [], 'no uncaught errors on either page');
  await Promise.all([alice, bob].map((page) => page.context().close()));
});

test('tabs of one browser are separate players; a tab taken over says why', { skip: skipBrowser, timeout: 60_000 }, async () => {
  const context = await requireBrowser().newContext();
  const errors: string[] = [];
  const tab1 = await openTab(context, errors);
  const tab2 = await openTab(context, errors);

  // The login lives in sessionStorage: per tab, kept across a reload, nothing in localStorage.
  const login1 = await storedLogin(tab1);
  const login2 = await storedLogin(tab2);
  assert.ok(login1 && login2);
  assert.notEqual(login1.token, login2.token);
  assert.equal(await tab1.evaluate(() => localStorage.length), 0);
  await tab1.reload();
  await tab1.locator('#find-match:enabled').waitFor();
  assert.equal((await storedLogin(tab1))?.token, login1.token);
  assert.equal(await tab1.inputValue('#name'), login1.name);

  // The two tabs can play each other.
  await tab1.click('#find-match');
  await statusIs(tab1, 'Waiting for an opponent to join…');
  await tab2.click('#find-match');
  await tab1.locator('#board[data-status="playing"]').waitFor();
  await tab2.locator('#board[data-status="playing"]').waitFor();
  await tab1.locator('#opponent', { hasText: login2.name }).waitFor();

  // A tab that got tab1's login (as "duplicate tab" copies sessionStorage) takes that player over.
  const tab3 = await context.newPage();
  tab3.setDefaultTimeout(10_000);
  tab3.on('pageerror', (error) => errors.push(error.message));
  await tab3.addInitScript(([key, value]) => sessionStorage.setItem(key, value), [LOGIN_KEY, JSON.stringify(login1)] as const);
  await tab3.goto(`${baseUrl()}/`);
  await tab1.locator('#notice:visible', { hasText: 'session/replaced' }).waitFor();
  await statusIs(tab1, 'Not connected.');
  assert.equal(await tab1.locator('#find-match').isEnabled(), true, 'tab1 can reconnect');
  assert.equal(await tab3.inputValue('#name'), login1.name);

  // Still seated in the game: leaving from tab3 forfeits it for tab2's opponent.
  await tab3.locator('#leave:visible').click();
  await statusIs(tab2, 'Opponent left — you win');
  await statusIs(tab3, 'Press “Find a match” to play.');

  assert.deepEqual(errors, [], 'no uncaught errors on any tab');
  await context.close();
});

// ---- a lost connection -------------------------------------------------------------

/** Words of the transport the page must never show a player. */
const RAW_TRANSPORT_WORDS = /xhr poll error|transport (close|error)|websocket error|ping timeout/i;

async function noRawTransportWords(page: Page): Promise<void> {
  assert.doesNotMatch(await page.locator('main').innerText(), RAW_TRANSPORT_WORDS);
}

/** Two players matched on `url`, game started; returns them as [the one to move, the other]. */
async function matchedPair(errors: string[], url: string): Promise<[Page, Page]> {
  const alice = await openPlayer(errors, url);
  const bob = await openPlayer(errors, url);
  await alice.click('#find-match');
  await statusIs(alice, 'Waiting for an opponent to join…');
  await bob.click('#find-match');
  await alice.locator('#status', { hasText: /^(Your turn|Waiting for .+)$/ }).waitFor();
  await bob.locator('#status', { hasText: /^(Your turn|Waiting for .+)$/ }).waitFor();
  return (await alice.textContent('#status')) === 'Your turn' ? [alice, bob] : [bob, alice];
}

test('offline: the page says the connection is lost and holds the move until it is back', { skip: skipBrowser, timeout: 90_000 }, async () => {
  requireBrowser();
  // Heartbeats every 500 ms, so both ends notice a silent network within about a second.
  const quick = await startServer({ heartbeat: { pingIntervalMs: 500, pingTimeoutMs: 500 } });
  const errors: string[] = [];
  try {
    const [mover, other] = await matchedPair(errors, quick.url);
    const moverName = await mover.inputValue('#name');

    await mover.context().setOffline(true);
    await statusIs(mover, 'Connection lost, reconnecting…');
    await other.locator('#notice:visible', { hasText: `${moverName} lost their connection` }).waitFor();
    // A move made offline waits in the SDK's queue, and the page says so.
    await mover.click('[data-column="0"]');
    await statusIs(mover, 'Connection lost, reconnecting… Your move will be sent when it is back.');
    assert.equal(await mover.getAttribute('#board', 'data-pending'), 'true');
    assert.equal(await discCount(mover), 0);
    await noRawTransportWords(mover);

    await mover.context().setOffline(false);
    await discAt(mover, 0, 0, 0);
    await discAt(other, 0, 0, 0);
    await statusIs(other, 'Your turn');
    await other.locator('#notice:visible', { hasText: `${moverName} is back` }).waitFor();
    await mover.locator('#notice:visible', { hasText: /^Reconnected/ }).waitFor();
    assert.equal(await mover.getAttribute('#board', 'data-pending'), 'false');
    assert.equal(await mover.locator('#error').isHidden(), true);
    await noRawTransportWords(mover);
    assert.deepEqual(unexplained(errors), [], 'no uncaught errors, console errors or failed requests');
    await Promise.all([mover, other].map((page) => page.context().close()));
  } finally {
    await quick.stop();
  }
});

test('away past the grace period: the player is told they lost by forfeit, the opponent that their connection was lost', { skip: skipBrowser, timeout: 90_000 }, async () => {
  requireBrowser();
  const quick = await startServer({ heartbeat: { pingIntervalMs: 500, pingTimeoutMs: 500 }, resume: { graceMs: 1500 } });
  const errors: string[] = [];
  try {
    const [stayer, leaver] = await matchedPair(errors, quick.url);
    const leaverName = await leaver.inputValue('#name');

    await leaver.context().setOffline(true);
    await statusIs(leaver, 'Connection lost, reconnecting…');
    await stayer.locator('#notice:visible', { hasText: `${leaverName} lost their connection` }).waitFor();
    // The grace period runs out: the seat is given up, and the game forfeited. Dropped, not left.
    await statusIs(stayer, 'Opponent’s connection was lost — you win');
    await stayer.locator('#notice:visible', { hasText: `${leaverName}'s connection did not come back in time` }).waitFor();
    assert.equal(await stayer.locator('#rematch').isHidden(), true, 'no Rematch button without an opponent');

    // Back online: the session is gone, and the page says what happened to the game.
    await leaver.context().setOffline(false);
    await leaver.locator('#notice:visible', { hasText: 'You were away too long and lost your seat: the game was forfeited, and your opponent won.' }).waitFor();
    await statusIs(leaver, 'Press “Find a match” to play.');
    assert.equal(await leaver.locator('#find-match').isEnabled(), true);
    await noRawTransportWords(leaver);

    // The one who stayed starts a new match from the finished room.
    await stayer.click('#find-match');
    await statusIs(stayer, 'Waiting for an opponent to join…');
    assert.deepEqual(unexplained(errors), [], 'no uncaught errors, console errors or failed requests');
    await Promise.all([stayer, leaver].map((page) => page.context().close()));
  } finally {
    await quick.stop();
  }
});
