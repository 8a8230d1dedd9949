/**
 * A real-time room ticks with a fixed step, the game's tick interval, never
 * the measured delta: a replay of its inputs gives the same game. A timer that
 * fires late catches up by whole ticks. Driven by a manual clock, so every
 * tick is counted exactly and nothing waits.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import type { GatewayMessage } from '../../actors/messages';
import { roomRef } from '../../actors/room/room-protocol';
import type { SessionMessage } from '../../actors/session/session-protocol';
import { ActorHost } from '../../actors/worker/actor-host';
import { GAMES_DIR, HotGameCatalog } from '../../infra/game-catalog';
import { PlayhouseMetrics } from '../../infra/metrics';
import { ManualClock } from '../support/manual-clock';
import { QUIET_LOG } from '../support/quiet-log';

const SETTINGS = { mailboxCapacity: 64, askTimeoutMs: 5000 };

/** The ticker fixture in a games/ directory of its own, beside the real rules API. */
function tickerGames(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'playhouse-ticks-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  cpSync(path.join(GAMES_DIR, 'api.ts'), path.join(root, 'games', 'api.ts'));
  cpSync(path.join(__dirname, 'fixtures', 'ticker'), path.join(root, 'games', 'ticker'), { recursive: true });
  return path.join(root, 'games');
}

interface TickerView {
  readonly ticks: number;
  readonly elapsedMs: number;
}

/** A room of the ticker game on a manual clock, with one seated player whose pushes are caught. */
async function tickerRoom(): Promise<{ clock: ManualClock; latest(): TickerView }> {
  const clock = new ManualClock();
  const games = new HotGameCatalog(tickerGames(), QUIET_LOG);
  const host = new ActorHost({ log: QUIET_LOG, metrics: new PlayhouseMetrics(), games, clock }, { session: SETTINGS, room: SETTINGS, lobby: SETTINGS });
  let view: TickerView | undefined;
  // The player's session is an endpoint here: what the room pushes to it lands in `view`.
  host.bindEndpoint('session:p1', (message) => {
    const push = message as Extract<SessionMessage, { type: 'push' }> | GatewayMessage;
    if (push.type !== 'push') return;
    const payload = push.payload as { view?: TickerView; delta?: TickerView };
    view = payload.view ?? payload.delta ?? view;
  });
  const room = roomRef('ticker.1');
  const spawned = await host.spawnHere({ kind: 'room', address: room, params: { roomId: 'ticker.1', game: 'ticker', seed: 1 } });
  assert.ok(spawned.ok, 'the room started');
  const joined = await host.ask({ to: room, message: { type: 'join', playerId: 'p1', name: 'One' } });
  assert.ok((joined as { ok: boolean }).ok, 'the player sat down');
  after(() => host.shutdown());
  return {
    clock,
    latest() {
      assert.ok(view, 'the room pushed its state');
      return view;
    },
  };
}

test('a real-time room advances its game by whole ticks of the tick interval, whatever the timer measured', async () => {
  const { clock, latest } = await tickerRoom();
  await clock.advance(1000);
  // tickHz 10: a step of 100 ms, ten ticks in a second, each of exactly 100 ms.
  assert.deepEqual(latest(), { ticks: 10, elapsedMs: 1000 });
  await clock.advance(250);
  assert.deepEqual(latest(), { ticks: 12, elapsedMs: 1200 }, 'half a step is not a tick');
  await clock.advance(50);
  assert.deepEqual(latest(), { ticks: 13, elapsedMs: 1300 }, 'the half step completes at the next timer');
});

test('a timer that fires late catches up by whole ticks, at most a second of them', async () => {
  const { clock, latest } = await tickerRoom();
  await clock.advance(300);
  assert.deepEqual(latest(), { ticks: 3, elapsedMs: 300 });
  // The event loop was blocked for 450 ms: the interval fires once, late, and the room catches up.
  clock.jump(450);
  await clock.advance(0);
  assert.deepEqual(latest(), { ticks: 7, elapsedMs: 700 }, 'four whole ticks caught up; the 50 ms left wait for the next');
  await clock.advance(100);
  assert.deepEqual(latest(), { ticks: 8, elapsedMs: 800 });
  // Blocked for five seconds: a second of ticks is caught up, the rest of the time is skipped.
  clock.jump(5000);
  await clock.advance(0);
  assert.deepEqual(latest(), { ticks: 18, elapsedMs: 1800 });
});
