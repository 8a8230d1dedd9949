/**
 * Away sessions' resume state in this process's memory (tests, a single
 * process without Redis). Entries expire when their grace period ends, as the
 * Redis driver's keys do (PX): a load after `graceEndsAt` finds nothing.
 */
import { savedSessionExpiresAt, type SavedSession, type SessionStateStore } from '../../../actors/ports';

export class MemorySessionStore implements SessionStateStore {
  private readonly sessions = new Map<string, { readonly state: SavedSession; readonly expiresAt: number }>();
  private lastSweep = 0;

  async save(state: SavedSession): Promise<void> {
    this.dropExpired();
    // A copy: the caller may go on changing what it saved.
    this.sessions.set(state.playerId, { state: structuredClone(state), expiresAt: savedSessionExpiresAt(state, Date.now()) });
  }

  async load(playerId: string): Promise<SavedSession | undefined> {
    const saved = this.sessions.get(playerId);
    if (!saved) return undefined;
    if (saved.expiresAt <= Date.now()) {
      this.sessions.delete(playerId);
      return undefined;
    }
    return structuredClone(saved.state);
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
    for (const [playerId, saved] of this.sessions) if (saved.expiresAt <= now) this.sessions.delete(playerId);
  }
}
