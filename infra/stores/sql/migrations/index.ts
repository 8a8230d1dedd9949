/**
 * Every migration of the SQL stores, oldest first. Listed as classes, not as a
 * glob of file paths: globs find .js files, and under tsx there are none.
 */
import type { MigrationInterface } from 'typeorm';
import { InitialSchema1732400000000 } from './1732400000000-initial-schema';

export const SQL_MIGRATIONS: ReadonlyArray<new () => MigrationInterface> = [InitialSchema1732400000000];
