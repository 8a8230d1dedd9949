/**
 * Children that would outlive the test process (a server in its own process
 * group, a database): `guard` registers how to kill one, and whatever is still
 * registered is killed when the process exits or is interrupted (then the
 * process dies of the same signal, as without the handler). `unguard` once the
 * child is gone.
 */
const killers = new Set<() => void>();
const KILL_ON: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function killAll(): void {
  for (const kill of killers) kill();
  killers.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  killAll();
  unguardProcess();
  process.kill(process.pid, signal);
}

function unguardProcess(): void {
  process.removeListener('exit', killAll);
  for (const signal of KILL_ON) process.removeListener(signal, onSignal);
}

export function guard(kill: () => void): void {
  if (killers.size === 0) {
    process.on('exit', killAll);
    for (const signal of KILL_ON) process.on(signal, onSignal);
  }
  killers.add(kill);
}

export function unguard(kill: () => void): void {
  killers.delete(kill);
  if (killers.size === 0) unguardProcess();
}
