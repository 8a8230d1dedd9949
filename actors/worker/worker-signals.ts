/**
 * SIGTERM (or SIGINT) to a worker's own process drains that worker, as
 * SIGTERM to the whole worker process drains all of them: it stops taking
 * new work, lets running games finish, sends the remaining players to log in
 * again (`server/shutting-down`), leaves the cluster, flushes and closes its
 * stores — then the process ends. Its supervisor places a fresh incarnation
 * in the slot (`onCrash: 'respawn'`). SIGKILL stays the crash.
 *
 * Only a forked or remote worker has a process of its own. A threaded or
 * in-process worker shares the placing process's pid; that process's own
 * handler (scripts/start.ts) drains all its workers.
 */
import { takeOverOwnProcess, type SelfHandle } from '../kit/comedy';
import type { ActorLog } from '../ports';

export interface DrainingWorker {
  /** The worker's drain (see WorkerActor.drain). */
  drain(): Promise<unknown>;
  readonly drainTimeoutMs: number;
  readonly log: ActorLog;
}

/**
 * How long the process waits for its drain before it ends anyway: games may
 * take the drain timeout, the mailboxes as long again, and the stores' flush
 * as long again; the rest is for leaving the cluster.
 */
function giveUpAfterMs(drainTimeoutMs: number): number {
  return drainTimeoutMs * 3 + 5000;
}

export function drainOnSignals(self: SelfHandle, worker: DrainingWorker): void {
  const ownProcess = takeOverOwnProcess(self);
  if (!ownProcess) return;
  let draining = false;
  const onSignal = (signal: NodeJS.Signals) => {
    // A second signal changes nothing: the drain is bounded, and SIGKILL is there for the impatient.
    if (draining) return;
    draining = true;
    worker.log.warn({ signal, pid: process.pid }, 'worker process signalled: draining this worker');
    const afterMs = giveUpAfterMs(worker.drainTimeoutMs);
    const giveUp = setTimeout(() => {
      worker.log.error({ pid: process.pid, afterMs }, 'worker drain did not finish: exiting anyway');
      void ownProcess.exit();
    }, afterMs);
    giveUp.unref();
    worker.drain().then(
      (stats) => worker.log.info({ pid: process.pid, stats }, 'worker drained: exiting'),
      (error: unknown) => worker.log.error({ pid: process.pid, err: String(error) }, 'worker drain failed: exiting'),
    ).finally(() => void ownProcess.exit());
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
