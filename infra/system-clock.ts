/** The system's clock: Date.now and Node's timers, unref'd (an actor's timer never keeps a process alive). */
import type { Clock, Timer } from '../actors/ports';

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(callback, ms) {
    return setTimeout(callback, ms).unref() as unknown as Timer;
  },
  setInterval(callback, ms) {
    return setInterval(callback, ms).unref() as unknown as Timer;
  },
  clear(timer) {
    // clearTimeout clears intervals too.
    if (timer !== undefined) clearTimeout(timer as unknown as NodeJS.Timeout);
  },
};
