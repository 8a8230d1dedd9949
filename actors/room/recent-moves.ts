/**
 * The moves a room applied lately, by player and action id, with the version
 * each one led to: a move sent again (the device's session died with its
 * worker and the new one does not know the action id; the room was taken up
 * on another worker) is answered with its first result, not refused as made
 * against an old version nor applied twice. Kept in the room's snapshot and
 * rebuilt by replaying its log, so it survives both.
 */

/** Per player, the newest action ids last: plain JSON, as snapshots keep it. */
export type RecentMovesSnapshot = Readonly<Record<string, ReadonlyArray<readonly [actionId: string, version: number]>>>;

/** Action ids remembered per player: more than a device ever has in flight. */
const PER_PLAYER = 16;

export class RecentMoves {
  private readonly byPlayer = new Map<string, Array<readonly [string, number]>>();

  constructor(saved: RecentMovesSnapshot = {}) {
    for (const [playerId, moves] of Object.entries(saved)) this.byPlayer.set(playerId, [...moves]);
  }

  /** The version the move `actionId` of `playerId` led to, if the room applied it lately. */
  versionAfter(playerId: string, actionId: string): number | undefined {
    return this.byPlayer.get(playerId)?.find(([id]) => id === actionId)?.[1];
  }

  remember(playerId: string, actionId: string, version: number): void {
    let moves = this.byPlayer.get(playerId);
    if (!moves) this.byPlayer.set(playerId, (moves = []));
    moves.push([actionId, version]);
    if (moves.length > PER_PLAYER) moves.shift();
  }

  /** A player who left: nothing of theirs can come again. */
  forget(playerId: string): void {
    this.byPlayer.delete(playerId);
  }

  snapshot(): RecentMovesSnapshot {
    return Object.fromEntries(this.byPlayer);
  }
}
