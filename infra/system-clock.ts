/** The system's clock: Date.now and Node's timers, unref'd unless asked (an actor's timer does not keep a process alive). */
import type { Clock, Timer } from '../actors/ports';

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(callback, ms, options) {
    const timer = setTimeout(callback, ms);
    if (!options?.keepAlive) timer.unref();
    return timer as unknown as Timer;
  },
  setInterval(callback, ms, options) {
    const timer = setInterval(callback, ms);
    if (!options?.keepAlive) timer.unref();
    return timer as unknown as Timer;
  },
  clear(timer) {
    // clearTimeout clears intervals too.
    if (timer !== undefined) clearTimeout(timer as unknown as NodeJS.Timeout);
  },
};
