/**
 * Away sessions' resume state in this process's memory (tests, a single
 * process without Redis). Entries expire when their grace period ends, as the
 * Redis driver's keys do (PX): a load after `graceEndsAt` finds nothing.
 */
import type { SavedSession, SessionStateStore } from '../../../actors/ports';

export class MemorySessionStore implements SessionStateStore {
  private readonly sessions = new Map<string, SavedSession>();
  private lastSweep = 0;

  async save(state: SavedSession): Promise<void> {
    this.dropExpired();
    // A copy: the caller may go on changing what it saved.
    this.sessions.set(state.playerId, structuredClone(state));
  }

  async load(playerId: string): Promise<SavedSession | undefined> {
    const saved = this.sessions.get(playerId);
    if (!saved) return undefined;
    if (saved.graceEndsAt <= Date.now()) {
      this.sessions.delete(playerId);
      return undefined;
    }
    return structuredClone(saved);
  }

  async remove(playerId: string): Promise<void> {
    this.sessions.delete(playerId);
  }

  async close(): Promise<void> {
    this.sessions.clear();
  }

  /**
   * Expiry is checked on use rather than by timers (no timer keeps the process alive); entries never
   * loaded again are swept on a save, at most once a second so that saving stays cheap.
   */
  private dropExpired(): void {
    const now = Date.now();
    if (now - this.lastSweep < 1_000) return;
    this.lastSweep = now;
    for (const [playerId, saved] of this.sessions) if (saved.graceEndsAt <= now) this.sessions.delete(playerId);
  }
}
