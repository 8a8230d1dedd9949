/**
 * Match results in this process's memory (tests, quick start without a file).
 */
import { isDeepStrictEqual } from 'node:util';
import { VersionConflictError, type MatchRecordStore, type MatchResult } from '../../../actors/persistence/stores';

export class MemoryMatchRecords implements MatchRecordStore {
  readonly driver = 'memory';
  private readonly results = new Map<string, MatchResult>();

  async saveResults(results: readonly MatchResult[]): Promise<void> {
    // All or nothing, as a transaction would: check every result before saving any.
    for (const result of results) {
      const saved = this.results.get(result.matchId);
      if (saved && !isDeepStrictEqual(saved, result)) throw new VersionConflictError(`match/${result.matchId}`, 0, 1);
    }
    for (const result of results) this.results.set(result.matchId, structuredClone(result));
  }

  async resultsOf(playerId: string, limit: number): Promise<MatchResult[]> {
    return [...this.results.values()]
      .filter((result) => result.players.some((player) => player.playerId === playerId))
      .sort((a, b) => b.endedAt - a.endedAt || (a.matchId < b.matchId ? 1 : -1))
      .slice(0, limit)
      .map((result) => structuredClone(result));
  }

  async result(matchId: string): Promise<MatchResult | undefined> {
    const saved = this.results.get(matchId);
    return saved ? structuredClone(saved) : undefined;
  }

  async count(): Promise<number> {
    return this.results.size;
  }

  async close(): Promise<void> {}
}
