/**
 * Match results in SQL (`match_results`, one row per game, and
 * `match_players`, one row per player of it), on MariaDB or SQLite.
 *
 * A save is one transaction: results already stored with the same content are
 * skipped (a retried save makes no second row), a different result under a
 * stored id is a VersionConflictError and nothing of the call is saved.
 * Inserts and look-ups go in chunks of rows: SQLite refuses statements with
 * too many terms ("Expression tree is too large" at 1,000 rows). On SQLite
 * the save runs on statements prepared once, row by row in one transaction
 * (a match result is written at the end of every game); reads, and MariaDB,
 * go through TypeORM.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Database, SqlValue } from 'sql.js';
import { In, type EntityManager } from 'typeorm';
import { VersionConflictError, type MatchRecordStore, type MatchResult } from '../../../actors/persistence/stores';
import type { SqlConnection, SqlDriverName } from './sql-connection';
import { isDuplicateKey } from './sql-errors';
import { SqljsStatements } from './sqljs-statements';
import { MatchPlayerTable, MatchResultTable, type MatchPlayerRow, type MatchResultRow } from './sql-tables';

/** Rows per INSERT and ids per IN (…): well under both databases' statement limits. */
const CHUNK = 100;
/** A save that lost a race to insert the same new id is tried again, and then finds it stored. */
const SAVE_ATTEMPTS = 3;

export class SqlMatchRecords implements MatchRecordStore {
  readonly driver: SqlDriverName;
  /** SQLite: the saves' statements, prepared once (see SqljsStatements); reads and MariaDB go through TypeORM. */
  private readonly sqlite: SqljsStatements | undefined;

  constructor(
    private readonly connection: SqlConnection,
    /** Called on close: the database is shared with the other SQL store. */
    private readonly release: () => Promise<void>,
  ) {
    this.driver = connection.driver;
    this.sqlite = connection.driver === 'sqlite' ? new SqljsStatements() : undefined;
  }

  async saveResults(results: readonly MatchResult[]): Promise<void> {
    const unique = distinct(results);
    if (unique.length === 0) return;
    const sqlite = this.sqlite;
    if (sqlite) return this.connection.sqlite((database) => saveNewSqlite(sqlite, database, unique), true);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.connection.transaction((manager) => saveNew(manager, unique));
      } catch (error) {
        // Another save inserted one of these ids between our look-up and our insert: look again.
        if (attempt >= SAVE_ATTEMPTS || !isDuplicateKey(error instanceof Error ? error.cause : undefined)) throw error;
      }
    }
  }

  async resultsOf(playerId: string, limit: number): Promise<MatchResult[]> {
    // TypeORM reads a limit of 0 as "no limit".
    if (limit <= 0) return [];
    return this.connection.run(async (manager) => {
      const rows: Array<{ matchId: string }> = await manager
        .createQueryBuilder()
        .select('result.match_id', 'matchId')
        .from(MatchResultTable, 'result')
        .innerJoin(MatchPlayerTable.options.name, 'player', 'player.match_id = result.match_id')
        .where('player.player_id = :playerId', { playerId })
        .orderBy('result.ended_at', 'DESC')
        .addOrderBy('result.match_id', 'DESC')
        .limit(limit)
        .getRawMany();
      const found = await load(
        manager,
        rows.map((row) => row.matchId),
      );
      return rows.map((row) => found.get(row.matchId)!);
    });
  }

  async result(matchId: string): Promise<MatchResult | undefined> {
    return this.connection.run(async (manager) => (await load(manager, [matchId])).get(matchId));
  }

  async count(): Promise<number> {
    return this.connection.run((manager) => manager.count(MatchResultTable));
  }

  async close(): Promise<void> {
    await this.release();
  }
}

/** The results without repeats; one id given twice with different content is a conflict. */
function distinct(results: readonly MatchResult[]): MatchResult[] {
  const byId = new Map<string, MatchResult>();
  for (const result of results) {
    const normalised = normalise(result);
    const earlier = byId.get(result.matchId);
    if (earlier && !isDeepStrictEqual(earlier, normalised)) throw new VersionConflictError(`match/${result.matchId}`, 0, 1);
    byId.set(result.matchId, normalised);
  }
  return [...byId.values()];
}

/** Inside the transaction: refuses changed results, inserts the new ones. */
async function saveNew(manager: EntityManager, results: readonly MatchResult[]): Promise<void> {
  const stored = await load(
    manager,
    results.map((result) => result.matchId),
  );
  const fresh: MatchResult[] = [];
  for (const result of results) {
    const saved = stored.get(result.matchId);
    if (!saved) fresh.push(result);
    else if (!isDeepStrictEqual(saved, result)) throw new VersionConflictError(`match/${result.matchId}`, 0, 1);
  }
  for (const chunk of chunks(fresh.map(toResultRow))) {
    await manager.createQueryBuilder().insert().into(MatchResultTable).values(chunk).updateEntity(false).execute();
  }
  for (const chunk of chunks(fresh.flatMap(toPlayerRows))) {
    await manager.createQueryBuilder().insert().into(MatchPlayerTable).values(chunk).updateEntity(false).execute();
  }
}

/** The SQLite save's statements: the same rules as saveNew, on prepared statements (one transaction). */
const SQLITE = {
  result: 'SELECT "match_id", "room_id", "game", "game_number", "winners", "draw", "reason", "moves", "started_at", "ended_at" FROM "match_results" WHERE "match_id" = ?',
  players: 'SELECT "player_id", "name", "seat" FROM "match_players" WHERE "match_id" = ? ORDER BY "position"',
  insertResult:
    'INSERT INTO "match_results" ("match_id", "room_id", "game", "game_number", "winners", "draw", "reason", "moves", "started_at", "ended_at") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  insertPlayer: 'INSERT INTO "match_players" ("match_id", "player_id", "name", "seat", "position") VALUES (?, ?, ?, ?, ?)',
} as const;

/** Inside the transaction: a stored result must be the same (else VersionConflictError: all rolled back); new ones are inserted. */
function saveNewSqlite(statements: SqljsStatements, database: Database, results: readonly MatchResult[]): void {
  for (const result of results) {
    const [stored] = statements.rows(database, SQLITE.result, [result.matchId]);
    if (stored) {
      const players = statements.rows(database, SQLITE.players, [result.matchId]);
      if (!isDeepStrictEqual(fromSqliteRows(stored, players), result)) throw new VersionConflictError(`match/${result.matchId}`, 0, 1);
      continue;
    }
    const row = toResultRow(result);
    statements.run(database, SQLITE.insertResult, [row.matchId, row.roomId, row.game, row.gameNumber, row.winners, row.draw ? 1 : 0, row.reason, row.moves, row.startedAt, row.endedAt]);
    for (const player of toPlayerRows(result)) statements.run(database, SQLITE.insertPlayer, [player.matchId, player.playerId, player.name, player.seat, player.position]);
  }
}

/** A stored result from SQLite's columns (in SQLITE.result's and SQLITE.players' order). */
function fromSqliteRows(result: SqlValue[], players: readonly SqlValue[][]): MatchResult {
  const [matchId, roomId, game, gameNumber, winners, draw, reason, moves, startedAt, endedAt] = result;
  return normalise({
    matchId: String(matchId),
    roomId: String(roomId),
    game: String(game),
    gameNumber: Number(gameNumber),
    players: players.map(([playerId, name, seat]) => ({ playerId: String(playerId), name: String(name), seat: Number(seat) })),
    winners: JSON.parse(String(winners)) as string[],
    draw: Boolean(draw),
    reason: String(reason),
    moves: Number(moves),
    startedAt: Number(startedAt),
    endedAt: Number(endedAt),
  });
}

/** The stored results among `matchIds`, by id. */
async function load(manager: EntityManager, matchIds: readonly string[]): Promise<Map<string, MatchResult>> {
  const found = new Map<string, MatchResult>();
  for (const ids of chunks(matchIds)) {
    const [results, players] = [
      await manager.find(MatchResultTable, { where: { matchId: In(ids) } }),
      await manager.find(MatchPlayerTable, { where: { matchId: In(ids) }, order: { matchId: 'ASC', position: 'ASC' } }),
    ];
    const playersOf = new Map<string, MatchPlayerRow[]>();
    for (const player of players) {
      const list = playersOf.get(player.matchId);
      if (list) list.push(player);
      else playersOf.set(player.matchId, [player]);
    }
    for (const row of results) found.set(row.matchId, fromRows(row, playersOf.get(row.matchId) ?? []));
  }
  return found;
}

/** Exactly the fields of a MatchResult, in a fixed order: what is stored and compared. */
function normalise(result: MatchResult): MatchResult {
  return {
    matchId: result.matchId,
    roomId: result.roomId,
    game: result.game,
    gameNumber: result.gameNumber,
    players: result.players.map((player) => ({ playerId: player.playerId, name: player.name, seat: player.seat })),
    winners: [...result.winners],
    draw: result.draw,
    reason: result.reason,
    moves: result.moves,
    startedAt: result.startedAt,
    endedAt: result.endedAt,
  };
}

function toResultRow(result: MatchResult): MatchResultRow {
  return {
    matchId: result.matchId,
    roomId: result.roomId,
    game: result.game,
    gameNumber: result.gameNumber,
    winners: JSON.stringify(result.winners),
    draw: result.draw,
    reason: result.reason,
    moves: result.moves,
    startedAt: result.startedAt,
    endedAt: result.endedAt,
  };
}

function toPlayerRows(result: MatchResult): MatchPlayerRow[] {
  return result.players.map((player, position) => ({ matchId: result.matchId, playerId: player.playerId, name: player.name, seat: player.seat, position }));
}

function fromRows(row: MatchResultRow, players: readonly MatchPlayerRow[]): MatchResult {
  return normalise({
    ...row,
    players: players.map((player) => ({ playerId: player.playerId, name: player.name, seat: player.seat })),
    winners: JSON.parse(row.winners) as string[],
    draw: Boolean(row.draw),
  });
}

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}
