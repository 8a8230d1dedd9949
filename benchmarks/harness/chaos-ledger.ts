/**
 * What the chaos scenario's clients saw, and the verdict drawn from it.
 *
 * Every client writes into the ledger: each move the server acknowledged
 * (room, game, version after it, the board it produced), each room state it
 * received, each move whose fate it cannot know (no answer), each error. The
 * verdict then asks, per fault window:
 *
 * - lost: an acknowledged move missing from a later state of its game (a
 *   newer version whose board lacks the disc), or its game going back to an
 *   earlier game number;
 * - doubled: a player with more discs on the board than moves it had
 *   acknowledged, plus those it never heard back about;
 * - results missing / contradicting: a game both players saw end whose stored
 *   row is missing or names other winners, or whose players were shown
 *   different outcomes;
 * - stuck / recovery: after the fault ended, how long until every client that
 *   was playing before it made progress again (a move acknowledged, or a
 *   state with a new move, game or status).
 */

/** Connect Four's view, as far as the verdict reads it. */
export type Board = ReadonlyArray<ReadonlyArray<number | null>>;

export interface SeenState {
  readonly at: number;
  readonly client: string;
  readonly room: string;
  readonly game: number;
  readonly version: number;
  readonly status: string;
  readonly moveCount: number;
  readonly board: Board;
  /** playerId → seat. */
  readonly seats: Readonly<Record<string, number>>;
  readonly outcome: { readonly winners: readonly string[]; readonly draw: boolean } | null;
}

export interface AckedMove {
  readonly at: number;
  readonly client: string;
  readonly room: string;
  readonly game: number;
  readonly version: number;
  readonly board: Board;
}

/** A stored match result (MariaDB's match_results). */
export interface StoredResult {
  readonly matchId: string;
  readonly winners: readonly string[];
  readonly draw: boolean;
}

export interface Window {
  readonly label: string;
  readonly startedAt: number;
  /** When the fault was over; for the quiet start of the run, its start. */
  readonly endedAt: number;
  /** Faults are judged on stuck clients and recovery; the quiet start only on what it lost. */
  readonly isFault: boolean;
}

export interface WindowVerdict {
  readonly fault: string;
  readonly detail?: string;
  readonly lost: number;
  readonly doubled: number;
  readonly results_missing: number;
  readonly results_contradicting: number;
  readonly stuck: number;
  /** Seconds from the fault's end until every client was playing again; null if some never did in time. */
  readonly recover_s: number | null;
  readonly rooms_lost: number;
  readonly moves_acked: number;
  readonly games_ended: number;
  readonly errors: Readonly<Record<string, number>>;
  /** Stuck clients: seconds after the fault's end they played again (null: not before the next fault). */
  readonly stuck_late_s: ReadonlyArray<{ readonly client: string; readonly after_s: number | null }>;
  /** What was lost or doubled, for a look at the room's log. */
  readonly findings: readonly string[];
}

export class Ledger {
  readonly states: SeenState[] = [];
  readonly acks: AckedMove[] = [];
  /** room#game#client → moves sent whose answer never came (timeout, cut): they may have been applied. */
  readonly unsure = new Map<string, number>();
  readonly errors: Array<{ readonly at: number; readonly client: string; readonly code: string }> = [];
  /** client → times it made progress. */
  readonly progress = new Map<string, number[]>();

  state(state: SeenState): void {
    this.states.push(state);
  }

  ack(move: AckedMove): void {
    this.acks.push(move);
    this.progressed(move.client, move.at);
  }

  unanswered(client: string, room: string, game: number): void {
    const key = `${room}#${game}#${client}`;
    this.unsure.set(key, (this.unsure.get(key) ?? 0) + 1);
  }

  error(client: string, code: string): void {
    this.errors.push({ at: Date.now(), client, code });
  }

  progressed(client: string, at: number): void {
    let times = this.progress.get(client);
    if (!times) this.progress.set(client, (times = []));
    times.push(at);
  }
}

/** A later state of the same game must hold every disc the acknowledged board held. */
function keeps(later: Board, acked: Board): boolean {
  for (let row = 0; row < acked.length; row++) {
    const cells = acked[row]!;
    for (let column = 0; column < cells.length; column++) {
      const disc = cells[column];
      if (disc !== null && later[row]?.[column] !== disc) return false;
    }
  }
  return true;
}

function discsOf(board: Board, seat: number): number {
  return board.reduce((sum, row) => sum + row.filter((cell) => cell === seat).length, 0);
}

/**
 * The verdict per window. A window runs from its start to the next one's;
 * a fault is judged on what happened in it and on whether every client that
 * was playing in the `recoverWithinMs` before it played again within
 * `recoverWithinMs` of its end.
 */
export function judge(ledger: Ledger, windows: readonly Window[], details: readonly string[], runEndedAt: number, stored: ReadonlyMap<string, StoredResult> | undefined, recoverWithinMs: number): WindowVerdict[] {
  const windowAt = (at: number) => {
    let index = 0;
    for (let i = 0; i < windows.length; i++) if (at >= windows[i]!.startedAt) index = i;
    return index;
  };
  const rows = windows.map(() => ({ findings: [] as string[], lost: 0, doubled: 0, missing: 0, contradicting: 0, roomsLost: 0, acked: 0, ended: 0, errors: {} as Record<string, number> }));

  const byRoom = new Map<string, SeenState[]>();
  for (const state of ledger.states) {
    let list = byRoom.get(state.room);
    if (!list) byRoom.set(state.room, (list = []));
    list.push(state);
  }
  for (const list of byRoom.values()) list.sort((a, b) => a.at - b.at);

  // Lost: the first later state of the room that contradicts the acknowledged board.
  for (const ack of ledger.acks) {
    rows[windowAt(ack.at)]!.acked++;
    const later = byRoom.get(ack.room) ?? [];
    const against = later.find(
      (state) => (state.game === ack.game && state.version > ack.version && !keeps(state.board, ack.board)) || (state.game < ack.game && state.at > ack.at),
    );
    if (against) {
      const row = rows[windowAt(against.at)]!;
      row.lost++;
      row.findings.push(`lost: ${ack.client} acked ${ack.room}#${ack.game} v${ack.version}; ${against.client} saw #${against.game} v${against.version} without it`);
    }
  }

  // Doubled: more discs of a seat than its player's acknowledged and unanswered moves in that game.
  const ackedIn = new Map<string, number>();
  for (const ack of ledger.acks) ackedIn.set(`${ack.room}#${ack.game}#${ack.client}`, (ackedIn.get(`${ack.room}#${ack.game}#${ack.client}`) ?? 0) + 1);
  const flagged = new Set<string>();
  for (const state of ledger.states) {
    for (const [player, seat] of Object.entries(state.seats)) {
      const key = `${state.room}#${state.game}#${player}`;
      if (flagged.has(key)) continue;
      const excess = discsOf(state.board, seat) - (ackedIn.get(key) ?? 0) - (ledger.unsure.get(key) ?? 0);
      if (excess > 0) {
        flagged.add(key);
        const row = rows[windowAt(state.at)]!;
        row.doubled += excess;
        row.findings.push(`doubled: ${player} has ${discsOf(state.board, seat)} discs in ${key.split('#').slice(0, 2).join('#')} v${state.version} (seen by ${state.client}), acked ${ackedIn.get(key) ?? 0}, unanswered ${ledger.unsure.get(key) ?? 0}`);
      }
    }
  }

  // Results: what each player saw at each game's end, against each other and the stored row.
  const ends = new Map<string, Map<string, SeenState>>();
  for (const state of ledger.states) {
    if (state.status !== 'over' || !state.outcome) continue;
    const key = `${state.room}#${state.game}`;
    let seen = ends.get(key);
    if (!seen) ends.set(key, (seen = new Map()));
    if (!seen.has(state.client)) seen.set(state.client, state);
  }
  const outcomeOf = (winners: readonly string[], draw: boolean) => `${[...winners].sort().join(',')}|${draw}`;
  for (const [matchId, seen] of ends) {
    const views = [...seen.values()];
    const players = Object.keys(views[0]!.seats);
    if (!players.every((player) => seen.has(player))) continue; // both players must have seen it end
    const row = rows[windowAt(Math.max(...views.map((view) => view.at)))]!;
    row.ended++;
    const outcomes = new Set(views.map((view) => outcomeOf(view.outcome!.winners, view.outcome!.draw)));
    const result = stored?.get(matchId);
    if (outcomes.size > 1) row.contradicting++;
    else if (stored && !result) row.missing++;
    else if (result && !outcomes.has(outcomeOf(result.winners, result.draw))) row.contradicting++;
  }

  for (const error of ledger.errors) {
    const row = rows[windowAt(error.at)]!;
    row.errors[error.code] = (row.errors[error.code] ?? 0) + 1;
    if (error.code === 'room/lost') row.roomsLost++;
  }

  return windows.map((window, i) => {
    const row = rows[i]!;
    let stuck = 0;
    let recoverMs = 0;
    const late: Array<{ client: string; after_s: number | null }> = [];
    if (window.isFault) {
      const until = windows[i + 1]?.startedAt ?? runEndedAt;
      for (const [client, times] of ledger.progress) {
        const wasPlaying = times.some((at) => at < window.startedAt && at >= window.startedAt - recoverWithinMs);
        if (!wasPlaying) continue;
        const again = times.find((at) => at >= window.endedAt && at < until);
        if (again === undefined || again - window.endedAt > recoverWithinMs) {
          stuck++;
          late.push({ client, after_s: again === undefined ? null : Math.round((again - window.endedAt) / 100) / 10 });
        }
        else recoverMs = Math.max(recoverMs, again - window.endedAt);
      }
    }
    return {
      fault: window.label,
      ...(details[i] ? { detail: details[i] } : {}),
      lost: row.lost,
      doubled: row.doubled,
      results_missing: row.missing,
      results_contradicting: row.contradicting,
      stuck,
      recover_s: !window.isFault ? 0 : stuck > 0 ? null : Math.round(recoverMs / 100) / 10,
      rooms_lost: row.roomsLost,
      moves_acked: row.acked,
      games_ended: row.ended,
      errors: row.errors,
      stuck_late_s: late,
      findings: row.findings,
    };
  });
}

/** Whether a window's verdict meets the targets. */
export function meetsTargets(verdict: WindowVerdict): boolean {
  return verdict.lost === 0 && verdict.doubled === 0 && verdict.results_missing === 0 && verdict.results_contradicting === 0 && verdict.stuck === 0 && verdict.rooms_lost === 0 && verdict.recover_s !== null;
}

export function formatVerdicts(verdicts: readonly WindowVerdict[]): string {
  const header = ['fault', 'lost', 'doubled', 'results missing/contradicting', 'stuck', 'recover s', 'rooms lost', 'moves acked', 'games ended', 'verdict'];
  const lines = verdicts.map((v) => [
    v.fault,
    String(v.lost),
    String(v.doubled),
    `${v.results_missing}/${v.results_contradicting}`,
    String(v.stuck),
    v.recover_s === null ? 'never' : v.recover_s.toFixed(1),
    String(v.rooms_lost),
    String(v.moves_acked),
    String(v.games_ended),
    meetsTargets(v) ? 'ok' : 'FAIL',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((line) => line[i]!.length)));
  const format = (cells: readonly string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  return [format(header), ...lines.map(format)].join('\n');
}
