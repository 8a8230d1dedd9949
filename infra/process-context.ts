/**
 * One process's context: its logger, its metrics registry, its games
 * catalogue and its clock, built once by the process's entry script (or, in a
 * process comedy started for a worker, by the context resource) and handed
 * down to everything that needs them. Nothing of it lives in a module.
 */
import path from 'node:path';
import type { ProcessPorts } from '../actors/ports';
import type { PlayhouseConfig } from './config';
import { GAMES_DIR, HotGameCatalog } from './game-catalog';
import { configuredLogger } from './logger';
import { PlayhouseMetrics } from './metrics';
import { systemClock } from './system-clock';
import type { Logger } from 'pino';

export interface ProcessContext extends ProcessPorts {
  readonly log: Logger;
  readonly metrics: PlayhouseMetrics;
  readonly games: HotGameCatalog;
}

/** The context of a process configured by `config` (its log settings and games directory). */
export function createProcessContext(config: Pick<PlayhouseConfig, 'log' | 'games'>, clock: ProcessPorts['clock'] = systemClock): ProcessContext {
  const log = configuredLogger(config.log);
  return { log, metrics: new PlayhouseMetrics(), games: new HotGameCatalog(path.resolve(config.games.directory ?? GAMES_DIR), log), clock };
}
