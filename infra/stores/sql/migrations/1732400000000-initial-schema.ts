/**
 * First schema of the SQL stores: snapshots, match_results, match_players
 * (with an index on player_id for a player's history). Written with TypeORM's
 * `Table` API so the same migration runs on MariaDB and SQLite; the only
 * per-database choices are below, each with its reason.
 */
import { Table, TableIndex, type MigrationInterface, type QueryRunner, type TableColumnOptions } from 'typeorm';

const ID_LENGTH = '191';

export class InitialSchema1732400000000 implements MigrationInterface {
  // Named explicitly: TypeORM records migrations by name, and a bundler may rename classes.
  readonly name = 'InitialSchema1732400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const mariadb = queryRunner.connection.options.type === 'mariadb';
    // MariaDB: utf8mb4 for every text (names carry emoji), and a binary, no-pad collation for
    // identifiers so 'Room/A' and 'room/a ' are different keys, as in every other driver.
    const id = (name: string, primary = false): TableColumnOptions => ({
      name,
      type: 'varchar',
      length: ID_LENGTH,
      isPrimary: primary,
      ...(mariadb ? { charset: 'utf8mb4', collation: 'utf8mb4_nopad_bin' } : {}),
    });
    const text = (name: string, type: 'varchar' | 'text' | 'longtext', length?: string): TableColumnOptions => ({
      name,
      type,
      ...(length ? { length } : {}),
      ...(mariadb ? { charset: 'utf8mb4', collation: 'utf8mb4_bin' } : {}),
    });
    const int = (name: string, type: 'int' | 'bigint' = 'int'): TableColumnOptions => ({ name, type });

    await queryRunner.createTable(
      new Table({
        name: 'snapshots',
        columns: [
          id('key', true),
          int('version'),
          // MariaDB's TEXT stops at 64 KB; room snapshots can be larger. SQLite's TEXT has no such limit.
          text('data', mariadb ? 'longtext' : 'text'),
          int('updated_at', 'bigint'),
        ],
      }),
      true,
    );
    await queryRunner.createTable(
      new Table({
        name: 'match_results',
        columns: [
          id('match_id', true),
          id('room_id'),
          id('game'),
          int('game_number'),
          text('winners', 'text'),
          { name: 'draw', type: 'boolean' },
          text('reason', 'varchar', '255'),
          int('moves'),
          int('started_at', 'bigint'),
          int('ended_at', 'bigint'),
        ],
      }),
      true,
    );
    await queryRunner.createTable(
      new Table({
        name: 'match_players',
        columns: [id('match_id', true), id('player_id', true), text('name', 'varchar', '255'), int('seat'), int('position')],
      }),
      true,
    );
    await queryRunner.createIndex('match_players', new TableIndex({ name: 'match_players_player_id', columnNames: ['player_id'] }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('match_players', true);
    await queryRunner.dropTable('match_results', true);
    await queryRunner.dropTable('snapshots', true);
  }
}
