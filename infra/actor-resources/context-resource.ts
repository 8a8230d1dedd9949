/**
 * comedy resource: the process context (logger, metrics, games, clock),
 * injected into workers as 'Context'.
 *
 * In a process comedy started for a worker (forked, remote) or in a worker
 * thread, nothing of ours ran before: the context is built here, once per
 * actor system, from the environment the process inherited (LOG_LEVEL,
 * LOG_FORMAT, PLAYHOUSE_GAMES_DIR). A process that built its own context (a
 * single process's entry script) hands it over with `givenContext` instead.
 */
import { RESOURCE } from '../../actors/ports';
import { loadConfig } from '../config';
import { createProcessContext, type ProcessContext } from '../process-context';

export default class ContextResource {
  private readonly context = createProcessContext(loadConfig({}, process.env));

  static getName(): string {
    return RESOURCE.context;
  }

  getResource(): ProcessContext {
    return this.context;
  }
}

/** The resource for actors in this process: the context its entry script built. */
export function givenContext(context: ProcessContext): new () => { getResource(): ProcessContext } {
  return class GivenContextResource {
    static getName(): string {
      return RESOURCE.context;
    }

    getResource(): ProcessContext {
      return context;
    }
  };
}
