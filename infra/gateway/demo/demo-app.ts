/**
 * The Connect Four demo page, in plain DOM. Everything goes through the SDK
 * (@playhouse/client): log in as a guest, connect, find a match, send moves,
 * and draw each `room:state` the server pushes.
 *
 * The page decides nothing itself: a move out of turn or into a full column
 * is sent anyway, and the server's refusal is shown as it comes back.
 *
 * Each tab keeps its guest token in sessionStorage (not localStorage), so two
 * tabs of one browser are two different players.
 *
 * Columns are numbered 1 to 7 for people everywhere on the page (the buttons,
 * the refusals); the wire and the rules count from 0.
 */
import { guestLogin, PlayhouseClient, PlayhouseError, type Outcome, type RoomStateMessage } from '@playhouse/client';

/** The parts of Connect Four's view (games/connect-four/rules.ts) that the page draws. */
interface BoardView {
  readonly columns: number;
  readonly rows: number;
  /** board[row][column], row 0 = bottom; a filled cell holds its disc's seat, 0 or 1. */
  readonly board: readonly (readonly (0 | 1 | null)[])[];
  /** Whose move it is, or null once the game is over. */
  readonly currentPlayer: string | null;
  readonly lastMove: Cell | null;
  readonly winningLine: readonly Cell[] | null;
}

interface Cell {
  readonly column: number;
  readonly row: number;
}

interface StoredLogin {
  readonly token: string;
  readonly name: string;
  readonly expiresAt: number;
}

const GAME = 'connect-four';
const SERVER = location.origin;
const LOGIN_KEY = 'playhouse-demo-login';
const COLOURS = ['Red', 'Yellow'];

const byId = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const ui = {
  name: byId<HTMLInputElement>('name'),
  findMatch: byId<HTMLButtonElement>('find-match'),
  you: byId('you'),
  opponent: byId('opponent'),
  status: byId('status'),
  error: byId('error'),
  board: byId('board'),
  rematch: byId<HTMLButtonElement>('rematch'),
  leave: byId<HTMLButtonElement>('leave'),
  notice: byId('notice'),
};

// ---- What the page knows; render() draws all of it -------------------------

let client: PlayhouseClient | undefined;
let roomId: string | undefined;
/** A request (connect, find match) is in flight. */
let pending = false;
/** The game number for which this player asked for a rematch. */
let rematchAskedFor: number | undefined;
/** The connection dropped and the SDK is bringing it back (moves made meanwhile wait in its queue). */
let reconnecting = false;
/** Moves sent (or queued while offline) and not answered yet. */
let movesPending = 0;
/** Opponents whose connection dropped (`away`); one who then leaves lost their seat, they did not walk out. */
const awayPlayers = new Set<string>();
/** Opponents who lost their seat that way, for the outcome line. */
const droppedPlayers = new Set<string>();

// ---- Session ----------------------------------------------------------------

function storedLogin(): StoredLogin | undefined {
  try {
    const login = JSON.parse(sessionStorage.getItem(LOGIN_KEY) ?? 'null') as StoredLogin | null;
    return login && login.expiresAt > Date.now() + 60_000 ? login : undefined;
  } catch {
    return undefined;
  }
}

async function newLogin(name: string): Promise<StoredLogin> {
  const { token, name: given, expiresAt } = await guestLogin(SERVER, name === '' ? undefined : name);
  const login = { token, name: given, expiresAt };
  sessionStorage.setItem(LOGIN_KEY, JSON.stringify(login));
  return login;
}

/** A connected client under the name in the field: reuses this tab's login unless the name changed. */
async function ensureClient(): Promise<PlayhouseClient> {
  const wanted = ui.name.value.trim();
  // A client that is reconnecting by itself is kept: it resumes the session when the network comes back.
  if (client && client.connectionState !== 'closed' && (wanted === '' || wanted === client.session.name)) return client;
  const previous = client;
  client = undefined;
  previous?.close();

  let login = storedLogin();
  if (!login || (wanted !== '' && wanted !== login.name)) login = await newLogin(wanted);
  let connected: PlayhouseClient;
  try {
    connected = await PlayhouseClient.connect({ url: SERVER, token: login.token });
  } catch (error) {
    // A token from an earlier server run (whose secret was different): log in afresh, once.
    if (!(error instanceof PlayhouseError) || error.code !== 'auth/invalid-token') throw error;
    login = await newLogin(wanted);
    connected = await PlayhouseClient.connect({ url: SERVER, token: login.token });
  }
  listen(connected);
  client = connected;
  roomId = connected.session.rooms[0];
  ui.name.value = connected.session.name;
  return connected;
}

/** Server pushes for one client; a replaced client's late events are ignored. */
function listen(source: PlayhouseClient): void {
  const current = () => source === client;
  let closedBecause: string | undefined;

  source.on('state', (state) => {
    if (current() && state.roomId === roomId) render();
  });
  source.on('player', ({ roomId: room, playerId, change }) => {
    // Arrives before the state without the leaver, so the name can still be looked up.
    if (!current() || room !== roomId) return;
    const who = nameOf(source.state(room), playerId);
    if (change === 'left' && awayPlayers.has(playerId)) {
      droppedPlayers.add(playerId);
      showNotice(`${who}'s connection did not come back in time; they lost their seat.`);
    } else if (change === 'left') showNotice(`${who} left the room.`);
    else if (change === 'away') showNotice(`${who} lost their connection; their seat is held while they come back.`);
    else if (change === 'back') showNotice(`${who} is back.`);
    if (change === 'away') awayPlayers.add(playerId);
    else awayPlayers.delete(playerId);
  });
  source.on('closed', (error) => {
    closedBecause = `The server closed the session (${error.code}: ${error.message}).`;
  });
  // The SDK reconnects and resumes by itself: show it, and give up only when it does.
  source.on('connection', ({ state, resumed, reason }) => {
    if (!current()) return;
    if (state === 'reconnecting') {
      // The transport's own words ("xhr poll error", "transport close") mean nothing to a player: the console keeps them.
      if (reason) console.info(`Playhouse demo: connection lost (${reason}); reconnecting`);
      reconnecting = true;
      showNotice(undefined);
      render();
    } else if (state === 'connected') {
      reconnecting = false;
      const left = roomId;
      roomId = source.session.rooms[0];
      if (left && roomId !== left) showNotice(seatLostText(source.state(left)));
      else showNotice(resumed === 'replay' ? 'Reconnected: nothing was missed.' : 'Reconnected.');
      render();
    } else {
      reconnecting = false;
      client = undefined;
      roomId = undefined;
      showNotice(`${closedBecause ?? `Disconnected${reason ? ` (${reason})` : ''}.`} Press “Find a match” to reconnect.`);
      render();
    }
  });
}

// ---- Actions ------------------------------------------------------------------

/** Runs a request; a refusal is shown with its code (and, for move/illegal, the rules' reason). */
async function attempt(action: () => Promise<unknown>, column?: number): Promise<void> {
  showError(undefined);
  render();
  try {
    await action();
  } catch (error) {
    showError(error, column);
  }
  render();
}

/** Like attempt(), with the find-match button and name field locked meanwhile. */
function busy(action: () => Promise<void>): Promise<void> {
  return attempt(async () => {
    pending = true;
    render();
    try {
      await action();
    } finally {
      pending = false;
    }
  });
}

function connectAndFindMatch(): Promise<void> {
  return busy(async () => {
    const connected = await ensureClient();
    showNotice(undefined);
    if (roomId && !aloneAfterGame(connected.state(roomId), connected.playerId)) return; // the server gave back the room this player sits in
    // The game is over and the opponent gone: a new match is in another room.
    if (roomId) await connected.leave(roomId);
    roomId = (await connected.findMatch(GAME)).roomId;
  });
}

function drop(column: number): void {
  const c = client;
  const room = roomId;
  if (!c || !room) return;
  movesPending++;
  void attempt(() => c.move(room, 'drop', { column }).finally(() => movesPending--), column);
}

function askRematch(): void {
  const c = client;
  const room = roomId;
  if (!c || !room) return;
  void attempt(async () => {
    const gameNumber = c.state(room)?.gameNumber;
    await c.rematch(room);
    rematchAskedFor = gameNumber;
  });
}

function leave(): void {
  const c = client;
  const room = roomId;
  if (!c || !room) return;
  void attempt(async () => {
    await c.leave(room);
    roomId = undefined;
    showNotice('You left the room.');
  });
}

// ---- Rendering ----------------------------------------------------------------

function render(): void {
  const state = client && roomId ? client.state(roomId) : undefined;
  const me = client?.playerId;
  const view = (state?.view ?? null) as BoardView | null;
  const mine = state?.players.find((seat) => seat.playerId === me);
  const theirs = state?.players.find((seat) => seat.playerId !== me);

  const alone = aloneAfterGame(state, me);
  ui.findMatch.disabled = pending || reconnecting || (roomId !== undefined && !alone);
  ui.name.disabled = pending || roomId !== undefined;
  ui.you.replaceChildren(...(client ? [`You: ${client.session.name}`, ...colour(mine?.seat)] : []));
  ui.opponent.replaceChildren(...(theirs ? [`vs ${theirs.name}`, ...colour(theirs.seat)] : state ? ['No opponent yet'] : []));
  ui.status.textContent = statusText(state, view, me);
  // A rematch needs someone to play it with.
  ui.rematch.hidden = state?.status !== 'over' || alone;
  ui.rematch.disabled = state !== undefined && rematchAskedFor === state.gameNumber;
  ui.leave.hidden = roomId === undefined;
  renderBoard(state, view);
}

function statusText(state: RoomStateMessage | undefined, view: BoardView | null, me: string | undefined): string {
  if (!client) return pending ? 'Connecting…' : 'Not connected.';
  if (reconnecting) return `Connection lost, reconnecting…${movesPending > 0 ? ' Your move will be sent when it is back.' : ''}`;
  if (!roomId) return pending ? 'Looking for a match…' : 'Press “Find a match” to play.';
  // Just seated (the reply can beat the first state), or back in a room after reconnecting.
  if (!state) return 'Waiting for the board from the server…';
  switch (state.status) {
    case 'waiting':
      return 'Waiting for an opponent to join…';
    case 'playing':
      return view?.currentPlayer === me ? 'Your turn' : `Waiting for ${nameOf(state, view?.currentPlayer)}`;
    case 'over': {
      const asked = rematchAskedFor === state.gameNumber ? ' · Rematch asked, waiting for your opponent' : '';
      const gone = aloneAfterGame(state, me) && state.outcome?.reason !== 'opponent-left' ? ' · Your opponent has left' : '';
      return outcomeText(state.outcome, me, state) + asked + gone;
    }
  }
}

function outcomeText(outcome: Outcome | null, me: string | undefined, state: RoomStateMessage): string {
  if (!outcome) return 'Game over';
  if (outcome.draw) return 'Draw';
  const won = me !== undefined && outcome.winners.includes(me);
  if (outcome.reason === 'opponent-left') {
    if (!won) return 'You lost (you left)';
    // The leaver is the one of the game's players who is no longer seated.
    const dropped = [...droppedPlayers].some((playerId) => !state.players.some((seat) => seat.playerId === playerId));
    return dropped ? 'Opponent’s connection was lost — you win' : 'Opponent left — you win';
  }
  return won ? 'You won' : 'You lost';
}

/** The game is over and nobody else is seated: no rematch to play, only a new match. */
function aloneAfterGame(state: RoomStateMessage | undefined, me: string | undefined): boolean {
  return state?.status === 'over' && !state.players.some((seat) => seat.playerId !== me);
}

/** Said on coming back to find the seat gone: the session's grace period ran out while the connection was away. */
function seatLostText(last: RoomStateMessage | undefined): string {
  if (last?.status === 'playing') return 'You were away too long and lost your seat: the game was forfeited, and your opponent won.';
  return 'You were away too long and lost your seat in the room.';
}

/** One row of column buttons, then the cells, top row first. */
function renderBoard(state: RoomStateMessage | undefined, view: BoardView | null): void {
  const columns = view?.columns ?? 7;
  const rows = view?.rows ?? 6;
  const status = state?.status ?? 'idle';
  const children: HTMLElement[] = [];
  for (let column = 0; column < columns; column++) {
    const button = document.createElement('button');
    button.className = 'drop';
    button.dataset.column = String(column);
    button.textContent = `${column + 1} ▼`;
    button.title = `Drop a disc in column ${column + 1}`;
    // Enabled on every turn (whose turn it is, is the server's call), and offline too: the SDK sends it when back.
    button.disabled = status !== 'playing';
    children.push(button);
  }
  for (let row = rows - 1; row >= 0; row--) {
    for (let column = 0; column < columns; column++) {
      const cell = document.createElement('div');
      cell.className = 'cell';
      cell.dataset.row = String(row);
      cell.dataset.col = String(column);
      const seat = view?.board[row]?.[column];
      if (seat !== undefined && seat !== null) cell.dataset.seat = String(seat);
      const here = (at: Cell) => at.row === row && at.column === column;
      if (view?.lastMove && here(view.lastMove)) cell.classList.add('last');
      if (view?.winningLine?.some(here)) cell.classList.add('win');
      children.push(cell);
    }
  }
  ui.board.style.setProperty('--columns', String(columns));
  ui.board.dataset.status = status;
  // Dimmed while the connection is away or a move waits for its answer.
  ui.board.dataset.pending = String(reconnecting || movesPending > 0);
  ui.board.dataset.version = String(state?.version ?? 0);
  ui.board.replaceChildren(...children);
}

function colour(seat: number | undefined): (string | HTMLElement)[] {
  if (seat === undefined) return [];
  const disc = document.createElement('span');
  disc.className = 'disc';
  disc.dataset.seat = String(seat);
  return [' · ', disc, COLOURS[seat] ?? `Seat ${seat}`];
}

function nameOf(state: RoomStateMessage | undefined, playerId: string | null | undefined): string {
  return state?.players.find((seat) => seat.playerId === playerId)?.name ?? 'the other player';
}

/** A refusal in words for people, with its code; `column` (0-based) is the column the player chose. */
function refusalText(error: PlayhouseError, column: number | undefined): string {
  const chosen = column === undefined ? 'that column' : `column ${column + 1}`;
  if (error.code === 'move/illegal' && error.reason === 'column-full') return `${capitalised(chosen)} is full (move/illegal: column-full)`;
  if (error.code === 'move/illegal' && error.reason === 'out-of-range') return `There is no ${chosen} (move/illegal: out-of-range)`;
  if (error.code === 'client/disconnected' || error.code === 'client/timeout') return 'The server could not be reached. Check the connection and try again.';
  return error.message + (error.reason ? ` (${error.reason})` : '');
}

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function showError(error: unknown, column?: number): void {
  ui.error.hidden = error === undefined;
  if (error instanceof PlayhouseError) ui.error.textContent = refusalText(error, column);
  // fetch() (the login) fails with a TypeError when the network is away.
  else if (error instanceof TypeError) ui.error.textContent = 'The server could not be reached. Check the connection and try again.';
  else if (error !== undefined) ui.error.textContent = String(error);
}

function showNotice(text: string | undefined): void {
  ui.notice.hidden = text === undefined;
  ui.notice.textContent = text ?? '';
}

// ---- Wiring -------------------------------------------------------------------

ui.findMatch.addEventListener('click', () => void connectAndFindMatch());
ui.rematch.addEventListener('click', askRematch);
ui.leave.addEventListener('click', leave);
ui.board.addEventListener('click', (event) => {
  // Column buttons carry data-column, cells data-col: either drops a disc there.
  const target = (event.target as HTMLElement).closest<HTMLElement>('[data-column], [data-col]');
  const column = target?.dataset.column ?? target?.dataset.col;
  if (column !== undefined && ui.board.dataset.status === 'playing') drop(Number(column));
});

ui.name.value = storedLogin()?.name ?? `Player ${Math.floor(100 + Math.random() * 900)}`;
render();
void busy(async () => {
  await ensureClient();
});
