/**
 * `npx tsx benchmarks/sqlite-stores.ts [--seconds N] [--runs N]`: what the
 * embedded SQLite costs per duel move, from the stores alone, in seconds. It
 * replays the writes the duel at 1,000 clients makes each second (450 game
 * ends, ~4,900 moves: 40 commits of 11 match results; 20 batches of 45
 * profile updates, each read then written against its version) into a fresh
 * SQLite file, as fast as the stores answer, and divides the process's CPU
 * (every thread: SQLite on the main one, the log's fsyncs on libuv's pool)
 * by those moves. Best of `runs`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { JsonObject, MatchResult } from '../actors/persistence/stores';
import { SqlDatabase } from '../infra/stores/sql/sql-database';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '10' }, runs: { type: 'string', default: '3' } } });
const SECONDS = Number(values.seconds);
const RUNS = Number(values.runs);

/** The duel at 1,000 clients, think 100 ms, per second. */
const MOVES_PER_SECOND = 4_900;
const RESULT_COMMITS = 40;
const RESULTS_PER_COMMIT = 11;
const PROFILE_BATCHES = 20;
const PROFILES_PER_BATCH = 45;
const PLAYERS = 1_000;

function matchResult(game: number): MatchResult {
  const first = (game * 2) % PLAYERS;
  return {
    matchId: `room-${game % 500}#${game}`,
    roomId: `room-${game % 500}`,
    game: 'connect-four',
    gameNumber: game,
    players: [
      { playerId: `player-${first}`, name: 'Ana', seat: 0 },
      { playerId: `player-${first + 1}`, name: 'Bo', seat: 1 },
    ],
    winners: [`player-${first}`],
    draw: false,
    reason: 'four-in-a-row',
    moves: 11,
    startedAt: 1_700_000_000_000 + game,
    endedAt: 1_700_000_060_000 + game,
  };
}

/** A profile as the persistence actor keeps it: counters and the ids of its last 64 additions. */
function profile(player: number, played: number): JsonObject {
  const recent = Array.from({ length: Math.min(played, 64) }, (_, i) => `addition-${player}-${played - i}`);
  return { playerId: `player-${player}`, name: `Player ${player}`, counters: { played, won: played >> 1, lost: played >> 1 }, recent };
}

async function oneSecond(database: SqlDatabase, second: number): Promise<void> {
  const writes: Array<Promise<unknown>> = [];
  for (let commit = 0; commit < RESULT_COMMITS; commit++) {
    const first = (second * RESULT_COMMITS + commit) * RESULTS_PER_COMMIT;
    writes.push(database.matches.saveResults(Array.from({ length: RESULTS_PER_COMMIT }, (_, i) => matchResult(first + i))));
  }
  for (let batch = 0; batch < PROFILE_BATCHES; batch++) {
    const keys = Array.from({ length: PROFILES_PER_BATCH }, (_, i) => `profile/player-${(batch * PROFILES_PER_BATCH + i + second) % PLAYERS}`);
    writes.push(
      (async () => {
        const stored = await database.snapshots.readMany(keys);
        await database.snapshots.writeBatch(
          keys.map((key) => {
            const expectedVersion = stored.get(key)?.version ?? 0;
            return { key, data: profile(Number(key.split('-')[1]), expectedVersion + 1), expectedVersion };
          }),
        );
      })(),
    );
  }
  await Promise.all(writes);
}

async function run(): Promise<{ usPerMove: number; wallS: number }> {
  const folder = mkdtempSync(join(tmpdir(), 'playhouse-sqlite-bench-'));
  const database = await SqlDatabase.open({ kind: 'sqlite', file: join(folder, 'bench.sqlite') }, { migrate: true });
  try {
    await oneSecond(database, -1); // warm-up
    const cpu = process.cpuUsage();
    const started = performance.now();
    for (let second = 0; second < SECONDS; second++) await oneSecond(database, second);
    const used = process.cpuUsage(cpu);
    return { usPerMove: (used.user + used.system) / (SECONDS * MOVES_PER_SECOND), wallS: (performance.now() - started) / 1000 };
  } finally {
    await database.close();
    rmSync(folder, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(await run());
  const best = runs.reduce((a, b) => (b.usPerMove < a.usPerMove ? b : a));
  process.stdout.write(`SQLite stores, ${SECONDS} s of duel writes at 1,000 clients: best ${best.usPerMove.toFixed(1)} µs of CPU per move (runs: ${runs.map((r) => r.usPerMove.toFixed(1)).join(', ')}); ${best.wallS.toFixed(2)} s to write them\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
