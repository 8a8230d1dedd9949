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
import { In, type EntityManager } from 'typeorm';
import { VersionConflictError, type MatchRecordStore, type MatchResult } from '../../../actors/persistence/stores';
import type { SqlConnection, SqlDriverName } from './sql-connection';
import { isDuplicateKey } from './sql-errors';
import type { SqliteStatements } from './sqlite-statements';
import { MatchPlayerTable, MatchResultTable, type MatchPlayerRow, type MatchResultRow } from './sql-tables';

/** Rows per INSERT and ids per IN (…): well under both databases' statement limits. */
const CHUNK = 100;
/** A save that lost a race to insert the same new id is tried again, and then finds it stored. */
const SAVE_ATTEMPTS = 3;

export class SqlMatchRecords implements MatchRecordStore {
  readonly driver: SqlDriverName;

  constructor(
    private readonly connection: SqlConnection,
    /** Called on close: the database is shared with the other SQL store. */
    private readonly release: () => Promise<void>,
  ) {
    this.driver = connection.driver;
  }

  async saveResults(results: readonly MatchResult[]): Promise<void> {
    const unique = distinct(results);
    if (unique.length === 0) return;
    if (this.driver === 'sqlite') return this.connection.sqlite((statements) => saveNew(sqliteRows(statements), unique), true);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.connection.transaction((manager) => saveNew(typeormRows(manager), unique));
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

/** What a save needs of the database: the stored results among some ids, and inserting new ones. */
interface MatchRows {
  load(matchIds: readonly string[]): Promise<Map<string, MatchResult>>;
  insert(results: readonly MatchResult[]): Promise<void>;
}

/** Inside the transaction: refuses changed results, inserts the new ones. */
async function saveNew(access: MatchRows, results: readonly MatchResult[]): Promise<void> {
  const stored = await access.load(results.map((result) => result.matchId));
  const fresh: MatchResult[] = [];
  for (const result of results) {
    const saved = stored.get(result.matchId);
    if (!saved) fresh.push(result);
    else if (!isDeepStrictEqual(saved, result)) throw new VersionConflictError(`match/${result.matchId}`, 0, 1);
  }
  await access.insert(fresh);
}

/** MariaDB: TypeORM, rows in chunks. */
function typeormRows(manager: EntityManager): MatchRows {
  return {
    load: (matchIds) => load(manager, matchIds),
    async insert(results) {
      for (const chunk of chunks(results.map(toResultRow))) {
        await manager.createQueryBuilder().insert().into(MatchResultTable).values(chunk).updateEntity(false).execute();
      }
      for (const chunk of chunks(results.flatMap(toPlayerRows))) {
        await manager.createQueryBuilder().insert().into(MatchPlayerTable).values(chunk).updateEntity(false).execute();
      }
    },
  };
}

/** SQLite: statements prepared once, row by row; columns aliased to the row types' names. */
const SQLITE = {
  result:
    'SELECT "match_id" AS matchId, "room_id" AS roomId, "game", "game_number" AS gameNumber, "winners", "draw", "reason", "moves", "started_at" AS startedAt, "ended_at" AS endedAt FROM "match_results" WHERE "match_id" = ?',
  players: 'SELECT "match_id" AS matchId, "player_id" AS playerId, "name", "seat", "position" FROM "match_players" WHERE "match_id" = ? ORDER BY "position"',
  insertResult:
    'INSERT INTO "match_results" ("match_id", "room_id", "game", "game_number", "winners", "draw", "reason", "moves", "started_at", "ended_at") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  insertPlayer: 'INSERT INTO "match_players" ("match_id", "player_id", "name", "seat", "position") VALUES (?, ?, ?, ?, ?)',
} as const;

function sqliteRows(statements: SqliteStatements): MatchRows {
  return {
    async load(matchIds) {
      const found = new Map<string, MatchResult>();
      for (const matchId of matchIds) {
        const [row] = statements.rows<MatchResultRow>(SQLITE.result, [matchId]);
        if (row) found.set(matchId, fromRows(row, statements.rows<MatchPlayerRow>(SQLITE.players, [matchId])));
      }
      return found;
    },
    async insert(results) {
      for (const result of results) {
        const row = toResultRow(result);
        statements.run(SQLITE.insertResult, [row.matchId, row.roomId, row.game, row.gameNumber, row.winners, row.draw ? 1 : 0, row.reason, row.moves, row.startedAt, row.endedAt]);
        for (const player of toPlayerRows(result)) statements.run(SQLITE.insertPlayer, [player.matchId, player.playerId, player.name, player.seat, player.position]);
      }
    },
  };
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
