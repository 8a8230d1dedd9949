/**
 * The playground page, in plain DOM. Each test player is a real guest login
 * with its own SDK connection (@playhouse/client), seated through
 * match:find like any client; a move is sent as the chosen player with
 * `room:move`, and what comes back — the accepted version, or the refusal's
 * code, reason and message — is listed on that player's card, beside the view
 * the server pushes to that player.
 *
 * The installed games and their reloads arrive from /playground/events; when
 * the selected game's rules reload, the players start a new match on them
 * (unless unticked: a running match keeps the version it started with).
 *
 * Logins are kept in sessionStorage, so reloading the page or seating again
 * reuses the same test players instead of signing in new guests.
 */
import { guestLogin, PlayhouseClient, PlayhouseError, type RoomDeltaMessage, type RoomStateMessage } from '@playhouse/client';
import type { GameSummary } from './game-summary';
import type { PlaygroundUpdate } from './playground-routes';

interface StoredLogin {
  readonly token: string;
  readonly name: string;
  readonly expiresAt: number;
}

type LogKind = 'accepted' | 'refused' | 'event';

interface Tester {
  readonly name: string;
  readonly client: PlayhouseClient;
  readonly card: TesterCard;
  roomId: string | undefined;
  seat: number | undefined;
  state: RoomStateMessage | undefined;
  lastDelta: RoomDeltaMessage | undefined;
  deltas: number;
}

interface TesterCard {
  readonly root: HTMLElement;
  readonly status: HTMLElement;
  readonly view: HTMLElement;
  readonly delta: HTMLElement;
  readonly log: HTMLOListElement;
}

const LOGINS_KEY = 'playhouse-playground-logins';
/** Entries kept in each player's log. */
const LOG_LIMIT = 200;

const byId = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

class Playground {
  private readonly ui = {
    game: byId<HTMLSelectElement>('game'),
    playerCount: byId<HTMLInputElement>('player-count'),
    seat: byId<HTMLButtonElement>('seat'),
    restartOnReload: byId<HTMLInputElement>('restart-on-reload'),
    rules: byId('rules'),
    loadError: byId('load-error'),
    warnings: byId<HTMLUListElement>('warnings'),
    moveForm: byId<HTMLFormElement>('move-form'),
    mover: byId<HTMLSelectElement>('mover'),
    moveName: byId<HTMLInputElement>('move-name'),
    moveNames: byId<HTMLDataListElement>('move-names'),
    payload: byId<HTMLTextAreaElement>('payload'),
    formError: byId('form-error'),
    notice: byId('notice'),
    players: byId('players'),
  };
  private games: readonly GameSummary[] = [];
  private readonly testers: Tester[] = [];
  /** The game and rules version the seated players' match started with. */
  private match: { readonly game: string; readonly version: string | null } | undefined;
  private seating = false;
  private renderQueued = false;

  start(): void {
    this.ui.seat.addEventListener('click', () => void this.seatPlayers());
    this.ui.game.addEventListener('change', () => this.gameChosen());
    this.ui.moveName.addEventListener('input', () => this.fillExamplePayload());
    this.ui.moveForm.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.sendMove();
    });
    const events = new EventSource('/playground/events');
    events.onmessage = (message: MessageEvent<string>) => this.catalogUpdated(JSON.parse(message.data) as PlaygroundUpdate);
  }

  // ---- Games and their reloads ------------------------------------------------

  private catalogUpdated(update: PlaygroundUpdate): void {
    const first = this.games.length === 0;
    this.games = update.games;
    this.renderGameChoice();
    if (first) this.gameChosen();
    else this.renderRules();
    const change = update.change;
    if (!change || change.game !== this.match?.game) return;
    if (change.type === 'loaded') {
      this.ui.notice.textContent = `${change.game}: rules version ${change.version} loaded`;
      if (this.ui.restartOnReload.checked && this.testers.some((tester) => tester.roomId)) {
        for (const tester of this.testers) this.log(tester, 'event', `rules reloaded (version ${change.version}): new match`);
        void this.seatPlayers();
      }
    }
  }

  private selectedGame(): GameSummary | undefined {
    return this.games.find((game) => game.name === this.ui.game.value);
  }

  private renderGameChoice(): void {
    const chosen = this.ui.game.value;
    const names = this.games.map((game) => game.name);
    if (Array.from(this.ui.game.options, (option) => option.value).join() !== names.join()) {
      this.ui.game.replaceChildren(...names.map((name) => new Option(name, name)));
      if (names.includes(chosen)) this.ui.game.value = chosen;
    }
    this.ui.seat.disabled = this.seating || !this.selectedGame()?.version;
  }

  /** A game picked: its seats, its moves and an example payload. */
  private gameChosen(): void {
    const game = this.selectedGame();
    if (game) {
      this.ui.playerCount.min = String(Math.max(1, game.minPlayers));
      this.ui.playerCount.max = String(Math.max(1, game.maxPlayers));
      this.ui.playerCount.value = String(Math.max(1, game.startsWith));
      this.ui.moveNames.replaceChildren(...game.moves.map((move) => new Option(move.name)));
      this.ui.moveName.value = game.moves[0]?.name ?? '';
      this.fillExamplePayload();
    }
    this.renderRules();
  }

  private fillExamplePayload(): void {
    const move = this.selectedGame()?.moves.find((candidate) => candidate.name === this.ui.moveName.value.trim());
    if (move) this.ui.payload.value = JSON.stringify(move.example);
  }

  private renderRules(): void {
    const game = this.selectedGame();
    this.ui.seat.disabled = this.seating || !game?.version;
    if (!game) return;
    const kind = game.realtime ? 'real-time' : 'turn-based';
    const running = this.match?.game === game.name && this.match.version !== game.version ? ` · this match runs version ${this.match.version}` : '';
    this.ui.rules.textContent = game.version
      ? `${game.name} · rules version ${game.version} · tunables ${game.tunablesVersion} · ${game.minPlayers}–${game.maxPlayers} players, ${kind}, starts with ${game.startsWith}${running}`
      : `${game.name} · no version loads yet`;
    this.ui.rules.dataset.version = game.version ?? '';
    const error = game.error;
    this.ui.loadError.hidden = !error;
    this.ui.loadError.textContent = error
      ? `${error.file}${error.line === null ? '' : `:${error.line}${error.column === null ? '' : `:${error.column}`}`}: ${error.phase}: ${error.message}` +
        (game.version ? ` (version ${game.version} keeps serving)` : '')
      : '';
    this.ui.warnings.hidden = game.warnings.length === 0;
    this.ui.warnings.replaceChildren(...game.warnings.map((warning) => listItem(`${warning.file}:${warning.line}:${warning.column}: ${warning.message}`)));
  }

  // ---- Seating -------------------------------------------------------------------

  /** Seats the chosen number of test players in a new match of the chosen game (leaving any match they are in). */
  private async seatPlayers(): Promise<void> {
    const game = this.selectedGame();
    if (!game || this.seating) return;
    this.seating = true;
    this.ui.seat.disabled = true;
    const wanted = clamp(Number(this.ui.playerCount.value) || game.startsWith, Math.max(1, game.minPlayers), Math.max(1, game.maxPlayers));
    this.ui.playerCount.value = String(wanted);
    this.ui.notice.textContent = `Seating ${wanted} players in ${game.name}…`;
    try {
      for (const tester of this.testers) await this.leaveRoom(tester);
      for (const extra of this.testers.splice(wanted)) {
        extra.client.close();
        extra.card.root.remove();
      }
      while (this.testers.length < wanted) this.testers.push(await this.newTester(this.testers.length));
      this.match = { game: game.name, version: game.version };
      for (const tester of this.testers) {
        const found = await tester.client.findMatch(game.name);
        tester.roomId = found.roomId;
        tester.seat = found.seat;
        // the room's first state may have arrived before the answer to match:find
        tester.state = tester.client.state(found.roomId);
        this.log(tester, 'event', `seated in ${found.roomId}, seat ${found.seat}`);
      }
      const rooms = new Set(this.testers.map((tester) => tester.roomId));
      this.ui.notice.textContent =
        rooms.size === 1
          ? `${wanted} players seated in ${[...rooms][0]} on rules version ${game.version}`
          : `The players were seated in ${rooms.size} rooms: another client was already waiting for ${game.name}`;
    } catch (error) {
      this.ui.notice.textContent = `Seating failed: ${describeError(error)}`;
    } finally {
      this.seating = false;
      this.renderMovers();
      this.renderRules();
      this.scheduleRender();
    }
  }

  private async leaveRoom(tester: Tester): Promise<void> {
    const roomId = tester.roomId;
    tester.roomId = undefined;
    tester.seat = undefined;
    tester.state = undefined;
    tester.lastDelta = undefined;
    tester.deltas = 0;
    if (roomId) await tester.client.leave(roomId).catch((error: unknown) => this.log(tester, 'event', `leaving ${roomId}: ${describeError(error)}`));
  }

  private async newTester(index: number): Promise<Tester> {
    const login = await this.login(index);
    const client = await PlayhouseClient.connect({ url: location.origin, token: login.token });
    const tester: Tester = { name: login.name, client, card: this.newCard(index, login.name, client.playerId), roomId: undefined, seat: undefined, state: undefined, lastDelta: undefined, deltas: 0 };
    const names = (playerId: string) => this.testers.find((candidate) => candidate.client.playerId === playerId)?.name ?? playerId;
    client.on('state', (state) => {
      if (state.roomId !== tester.roomId) return;
      tester.state = state;
      this.scheduleRender();
    });
    client.on('delta', (delta) => {
      if (delta.roomId !== tester.roomId) return;
      tester.lastDelta = delta;
      tester.deltas++;
      this.scheduleRender();
    });
    client.on('over', (over) => {
      if (over.roomId !== tester.roomId) return;
      const { winners, draw, reason } = over.outcome;
      this.log(tester, 'event', `game over: ${draw ? 'draw' : `won by ${winners.map(names).join(', ') || 'nobody'}`} (${reason})`);
    });
    client.on('player', (change) => change.roomId === tester.roomId && this.log(tester, 'event', `${names(change.playerId)} ${change.change}`));
    client.on('error', (error) => this.log(tester, 'refused', `${error.code}${error.reason ? ` (${error.reason})` : ''}: ${error.message}`, error.code));
    client.on('closed', (error) => this.log(tester, 'event', `session closed: ${error.code}: ${error.message}`));
    client.on('connection', () => this.scheduleRender());
    return tester;
  }

  /** The index-th test player's login: the stored one while it is valid, else a new guest. */
  private async login(index: number): Promise<StoredLogin> {
    const stored = readLogins();
    const kept = stored[index];
    if (kept && kept.expiresAt > Date.now() + 60_000) return kept;
    const { token, name, expiresAt } = await guestLogin(location.origin, `Tester ${index + 1}`);
    stored[index] = { token, name, expiresAt };
    sessionStorage.setItem(LOGINS_KEY, JSON.stringify(stored));
    return stored[index]!;
  }

  // ---- Moves ---------------------------------------------------------------------

  private async sendMove(): Promise<void> {
    const tester = this.testers[Number(this.ui.mover.value)];
    const move = this.ui.moveName.value.trim();
    const text = this.ui.payload.value.trim();
    this.ui.formError.hidden = true;
    let payload: unknown;
    try {
      payload = text === '' ? {} : JSON.parse(text);
    } catch (error) {
      return this.formError(`The payload is not JSON (${describeError(error)}); nothing was sent.`);
    }
    if (!tester?.roomId) return this.formError('Seat the players first.');
    const sent = `${move} ${JSON.stringify(payload)}`;
    try {
      const accepted = await tester.client.move(tester.roomId, move, payload);
      this.log(tester, 'accepted', `${sent} → accepted, version ${accepted.version}`);
    } catch (error) {
      if (!(error instanceof PlayhouseError)) throw error;
      this.log(tester, 'refused', `${sent} → ${error.code}${error.reason ? ` (${error.reason})` : ''}: ${error.message.replace(`${error.code}: `, '')}`, error.code);
    }
  }

  private formError(message: string): void {
    this.ui.formError.textContent = message;
    this.ui.formError.hidden = false;
  }

  private renderMovers(): void {
    const chosen = this.ui.mover.value;
    this.ui.mover.replaceChildren(...this.testers.map((tester, index) => new Option(tester.name, String(index))));
    if (Number(chosen) < this.testers.length) this.ui.mover.value = chosen;
    this.ui.moveForm.hidden = this.testers.length === 0;
  }

  // ---- Players' cards ----------------------------------------------------------

  private newCard(index: number, name: string, playerId: string): TesterCard {
    const root = document.createElement('article');
    root.className = 'player';
    root.dataset.testid = 'player';
    root.dataset.player = String(index + 1);
    const title = document.createElement('h2');
    title.textContent = name;
    const id = document.createElement('small');
    id.textContent = ` · ${playerId}`;
    title.append(id);
    const status = element('p', 'status', 'player-status');
    const view = element('pre', 'view', 'view');
    const delta = element('pre', 'delta', 'delta');
    delta.hidden = true;
    const log = element('ol', 'log', 'log') as HTMLOListElement;
    root.append(title, status, view, delta, log);
    this.ui.players.append(root);
    return { root, status, view, delta, log };
  }

  private log(tester: Tester, kind: LogKind, text: string, code?: string): void {
    const item = listItem(text);
    item.className = kind;
    if (code) item.dataset.code = code;
    tester.card.log.prepend(item);
    while (tester.card.log.children.length > LOG_LIMIT) tester.card.log.lastElementChild?.remove();
  }

  /** Real-time games push a delta per tick: draw at most once per frame. */
  private scheduleRender(): void {
    if (this.renderQueued) return;
    this.renderQueued = true;
    requestAnimationFrame(() => {
      this.renderQueued = false;
      for (const tester of this.testers) this.renderCard(tester);
    });
  }

  private renderCard(tester: Tester): void {
    const { card, state } = tester;
    const connection = tester.client.connectionState;
    const where = tester.roomId ? `seat ${tester.seat}` : 'not seated';
    const room = state ? ` · ${state.status} · game ${state.gameNumber} · version ${state.version}` : '';
    card.status.textContent = `${where}${room} · ${connection}`;
    card.root.dataset.status = state?.status ?? 'none';
    card.view.textContent = state ? JSON.stringify(state.view, null, 2) : '';
    card.delta.hidden = tester.lastDelta === undefined;
    card.delta.textContent = tester.lastDelta ? `last delta (${tester.deltas} since the view above, version ${tester.lastDelta.version}): ${JSON.stringify(tester.lastDelta.delta)}` : '';
  }
}

function readLogins(): (StoredLogin | null)[] {
  try {
    const stored: unknown = JSON.parse(sessionStorage.getItem(LOGINS_KEY) ?? '[]');
    return Array.isArray(stored) ? (stored as (StoredLogin | null)[]) : [];
  } catch {
    return [];
  }
}

function element(tag: string, className: string, testId: string): HTMLElement {
  const node = document.createElement(tag);
  node.className = className;
  node.dataset.testid = testId;
  return node;
}

function listItem(text: string): HTMLLIElement {
  const item = document.createElement('li');
  item.textContent = text;
  return item;
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(Math.max(Math.round(value), min), max);
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

new Playground().start();
