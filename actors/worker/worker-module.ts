import path from 'node:path';
import { comedyModule } from '../kit/comedy';

/** How comedy places a worker actor (worker-actor.ts, or its compiled .js in a build): its module, by comedy name. */
export const WORKER_ACTOR_MODULE = comedyModule(path.join(__dirname, 'worker-actor'));
