/**
 * The three SQL tables of the stores, as TypeORM `EntitySchema`s (not
 * decorators: tsx emits no decorator metadata). Every column has an explicit
 * type that both MariaDB and SQLite accept; the migrations in ./migrations
 * create the tables (no `synchronize`), these schemas only map rows.
 *
 * Times are bigint epoch milliseconds: exact round-trips, no time zones.
 * MariaDB hands bigints back as strings (TypeORM turns on `bigNumberStrings`),
 * hence the transformer.
 */
import { EntitySchema, type ValueTransformer } from 'typeorm';

/** Longest indexed text column: 191 utf8mb4 characters fit MariaDB's oldest index limit (767 bytes). */
export const ID_LENGTH = 191;

const epochMs: ValueTransformer = {
  to: (value: number | undefined) => value,
  from: (value: string | number | null) => (value === null ? null : Number(value)),
};

/** A document of the snapshot store; `data` is the JSON text. */
export interface SnapshotRow {
  key: string;
  version: number;
  data: string;
  updatedAt: number;
}

export const SnapshotTable = new EntitySchema<SnapshotRow>({
  name: 'SnapshotRow',
  tableName: 'snapshots',
  columns: {
    key: { type: 'varchar', length: ID_LENGTH, primary: true, name: 'key' },
    version: { type: 'int', name: 'version' },
    // 'text' maps the column for both databases; the migration makes it LONGTEXT on MariaDB (TEXT stops at 64 KB).
    data: { type: 'text', name: 'data' },
    updatedAt: { type: 'bigint', name: 'updated_at', transformer: epochMs },
  },
});

/** One match result, players apart (match_players). */
export interface MatchResultRow {
  matchId: string;
  roomId: string;
  game: string;
  gameNumber: number;
  /** JSON array of player ids. */
  winners: string;
  draw: boolean;
  reason: string;
  moves: number;
  startedAt: number;
  endedAt: number;
}

export const MatchResultTable = new EntitySchema<MatchResultRow>({
  name: 'MatchResultRow',
  tableName: 'match_results',
  columns: {
    matchId: { type: 'varchar', length: ID_LENGTH, primary: true, name: 'match_id' },
    roomId: { type: 'varchar', length: ID_LENGTH, name: 'room_id' },
    game: { type: 'varchar', length: ID_LENGTH, name: 'game' },
    gameNumber: { type: 'int', name: 'game_number' },
    winners: { type: 'text', name: 'winners' },
    draw: { type: 'boolean', name: 'draw' },
    reason: { type: 'varchar', length: 255, name: 'reason' },
    moves: { type: 'int', name: 'moves' },
    startedAt: { type: 'bigint', name: 'started_at', transformer: epochMs },
    endedAt: { type: 'bigint', name: 'ended_at', transformer: epochMs },
  },
});

/** One player of a match result; `position` keeps the players' order for an exact round-trip. */
export interface MatchPlayerRow {
  matchId: string;
  playerId: string;
  name: string;
  seat: number;
  position: number;
}

export const MatchPlayerTable = new EntitySchema<MatchPlayerRow>({
  name: 'MatchPlayerRow',
  tableName: 'match_players',
  columns: {
    matchId: { type: 'varchar', length: ID_LENGTH, primary: true, name: 'match_id' },
    playerId: { type: 'varchar', length: ID_LENGTH, primary: true, name: 'player_id' },
    name: { type: 'varchar', length: 255, name: 'name' },
    seat: { type: 'int', name: 'seat' },
    position: { type: 'int', name: 'position' },
  },
  indices: [{ name: 'match_players_player_id', columns: ['playerId'] }],
});

export const SQL_TABLES = [SnapshotTable, MatchResultTable, MatchPlayerTable];
