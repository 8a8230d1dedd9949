/**
 * storm — duel while 30 % of the clients drop their connection at random
 * moments and resume (BENCHMARKS.md). Every move a client saw acknowledged
 * must be applied exactly once (its discs on the board match its acknowledged
 * moves: `move_not_applied_once` otherwise), no request may be dropped or left
 * unanswered, and the report counts the drops and how each resume went
 * (`resumed_replay`, `resumed_snapshot`, `resumed_fresh`) beside the SDK's
 * own delivery counters (messages missed past a gap would be `seq_gaps`).
 */
import type { DriverOptions, Scenario, ScenarioDriver } from '../harness/scenario';
import { DuelDriver } from './duel';

export const scenario: Scenario = {
  name: 'storm',
  description: 'duel while 30 % of the clients drop and resume at random moments',
  defaults: { clients: 1000, durationS: 20, thinkMs: 100 },
  quickClients: 200,
  driverModule: __filename,
};

/** 30 % of the clients, each dropping about every 4 s. */
const STORM = { dropShare: 0.3, dropsPerSecond: 0.25 } as const;

export function createDriver(options: DriverOptions): ScenarioDriver {
  return new DuelDriver(options, STORM);
}
