/**
 * The one module that touches the `comedy` actor framework.
 *
 * comedy ships loose typings (`any` messages) and a few traps (each worked
 * around below, where it bites); everything else in actors/ sees only the
 * small typed surface below, so comedy could be replaced behind it.
 */
import { EventEmitter } from 'node:events';
import path from 'node:path';

/** How an actor is placed: in this process, a child process, a worker thread, or a process on another host. */
export type PlacementMode = 'in-memory' | 'forked' | 'threaded' | 'remote';

/** A reference to an actor: messages are plain JSON objects, one per call. */
export interface ActorHandle {
  getId(): string;
  send(topic: string, message: object): Promise<void>;
  sendAndReceive(topic: string, message: object): Promise<unknown>;
  destroy(): Promise<void>;
}

/** What an actor sees of itself inside `initialize`. */
export interface SelfHandle extends ActorHandle {
  getParent(): ActorHandle;
  getCustomParameters(): unknown;
  createChild(modulePath: string, options: ChildOptions): Promise<ActorHandle>;
  getBus(): EventEmitter;
}

export interface ChildOptions {
  mode: PlacementMode;
  customParameters: object;
  /** Respawn a forked or remote child whose process died (~200 ms; state is lost). */
  onCrash?: 'respawn';
  /** Remote mode: the comedy listener to create the actor through. */
  host?: string;
  port?: number;
}

export interface RootHandle {
  createChild(modulePath: string, options: ChildOptions): Promise<ActorHandle>;
  /** An in-memory actor defined by a plain object (only for actors that must live in this process). */
  createLocalChild(definition: object): Promise<ActorHandle>;
}

export interface ComedySystem {
  rootActor(): Promise<RootHandle>;
  /** Accepts remote actor creation on `host:port` (comedy's node listener; no authentication); resolves with the bound port. */
  listen(port: number, host: string): Promise<number>;
  destroy(): Promise<void>;
  getBus(): EventEmitter;
}

/**
 * Destroys an actor and, for a threaded one, ends its worker thread.
 * comedy 2.1.7 leaves a destroyed threaded actor's worker running, which keeps
 * the whole process alive after shutdown.
 */
export async function destroyActor(handle: ActorHandle): Promise<void> {
  // comedy hands out a ClientActorProxy whose `actor` is the ThreadedActorParent holding the Worker.
  const worker = (handle as { actor?: { worker?: { terminate(): Promise<number> } } }).actor?.worker;
  await handle.destroy();
  if (worker) await worker.terminate();
}

/**
 * The behaviour object of an actor that runs in this process, or undefined for
 * a forked, threaded or remote one. comedy's in-memory `send` wraps every
 * message in several promises; the router uses this to hand same-process
 * messages straight to the target's mailbox instead (same semantics: the
 * mailbox still runs them one at a time, asynchronously, in order).
 */
export function localBehaviour<T extends object>(handle: ActorHandle): T | undefined {
  const actor = (handle as { actor?: { getMode?(): string; definition?: unknown } }).actor;
  if (actor?.getMode?.() !== 'in-memory' || typeof actor.definition !== 'object' || actor.definition === null) return undefined;
  return actor.definition as T;
}

interface ComedyInternals {
  sigintHandler?: () => void;
  sigtermHandler?: () => void;
}

/** Takes comedy's SIGINT/SIGTERM handlers (process.exit(0) at once) off this process; its owner drains instead. */
function removeComedySignalHandlers(internals: ComedyInternals): void {
  if (internals.sigintHandler) process.removeListener('SIGINT', internals.sigintHandler);
  if (internals.sigtermHandler) process.removeListener('SIGTERM', internals.sigtermHandler);
}

/** The process comedy started for one actor alone (forked, or through a remote listener). */
export interface OwnProcess {
  /** Destroys the process's actor system (the actor's `destroy` hook runs); comedy then exits the process. */
  exit(): Promise<void>;
}

/**
 * For an actor comedy placed in a process of its own (forked or remote):
 * takes comedy's signal handlers off that process, so the caller decides
 * what SIGTERM and SIGINT do there, and gives it a way to end the process.
 * undefined for an actor in the caller's process or in a worker thread, which
 * share the placing process's pid: signals reach that process, not the actor.
 */
export function takeOverOwnProcess(self: SelfHandle): OwnProcess | undefined {
  // In a forked or remote process comedy's system is built with that mode, and the actor is its root.
  const system = (self as unknown as { getSystem?(): ComedyInternals & { options?: { mode?: string }; destroy(): Promise<void> } }).getSystem?.();
  const mode = system?.options?.mode;
  if (!system || (mode !== 'forked' && mode !== 'remote')) return undefined;
  removeComedySignalHandlers(system);
  return { exit: () => system.destroy() };
}

/**
 * Keeps comedy from placing a new process for a forked actor whose process
 * ends from now on: its supervisor is stopping it. comedy respawns a crashed
 * `onCrash: 'respawn'` actor unless it is already being destroyed, and a
 * worker that drains on its own signal (the whole process group signalled
 * at once, as service managers do) ends before its supervisor destroys it.
 */
export function stopRespawning(handle: ActorHandle): void {
  const actor = (handle as { actor?: { additionalOptions?: { onCrash?: string } } }).actor;
  if (actor?.additionalOptions) delete actor.additionalOptions.onCrash;
}

/**
 * comedy's name for the module at `file` (an absolute path, with or without
 * its extension), for `createChild` and `resources`. comedy reads a name
 * starting with `//` as an absolute path and `/name` as relative to the
 * folder it guesses is the application's (the one above node_modules), which
 * holds the sources, not the build. Naming modules by where they are makes a
 * build run its compiled `.js` modules (in its own process and in every
 * process and thread comedy starts) while a source run under tsx loads the
 * `.ts` ones. A remote host therefore has the installation at the same path
 * (an image run everywhere), as `additionalRequires` below already needs.
 */
export function comedyModule(file: string): string {
  if (!path.isAbsolute(file)) throw new Error(`comedy module paths are absolute here, got ${file}`);
  return `/${file}`;
}

/** A comedy resource: its comedyModule() name, or a class whose instances `getResource()` (for actors in this process only). */
export type ResourceDefinition = string | (new (...dependencies: never[]) => { getResource(): unknown });

export interface SystemOptions {
  /**
   * comedy resources to offer actors: comedyModule() names, which every process comedy starts loads for
   * itself, or resource classes, for actors in this process only.
   */
  readonly resources: readonly ResourceDefinition[];
  /** comedy's own log level; its lines are plain text and its warnings are shutdown noise, so errors only by default. */
  readonly logLevel?: 'Silent' | 'Error' | 'Warn' | 'Info' | 'Debug';
}

/**
 * comedy 2.1.7 gives every actor a logger that subscribes a bound listener to
 * the shared logger configuration and never unsubscribes it, so each actor
 * ever created stays reachable: ~360 bytes per session that came and went,
 * forever. We never change comedy's log configuration at run time (it only
 * does so when watching a config file), so the configuration simply stops
 * keeping 'configChange' listeners. Applied when this module loads — in this
 * process, and (through comedy's `additionalRequires`) in every forked or
 * threaded actor process.
 */
function stopLoggerListenerLeak(): void {
  const { Logger } = require('comedy/lib/utils/logger.js') as {
    Logger: { fromConfigurationObject(config: object, category: string, print: boolean): { getConfiguration(): object } };
  };
  const configuration = Object.getPrototypeOf(Logger.fromConfigurationObject({}, 'Default', false).getConfiguration()) as EventEmitter & { __playhousePatched?: true };
  if (configuration.__playhousePatched) return;
  configuration.__playhousePatched = true;
  configuration.on = function on(this: EventEmitter, event: string | symbol, listener: (...args: unknown[]) => void) {
    return event === 'configChange' ? this : EventEmitter.prototype.on.call(this, event, listener);
  } as EventEmitter['on'];
  silenceConfigurationBanner(configuration.constructor as unknown as LoggerConfigurationClass);
}

interface LoggerConfigurationClass {
  fromObject(configuration: object, log?: unknown): object;
}

/**
 * comedy prints its logger configuration ("Logger configuration: {...}", a
 * multi-line banner outside any log format) whenever an actor system starts,
 * in every process it forks: it is built without the logger it prints with.
 */
function silenceConfigurationBanner(LoggerConfiguration: LoggerConfigurationClass): void {
  const fromObject = LoggerConfiguration.fromObject.bind(LoggerConfiguration);
  LoggerConfiguration.fromObject = (configuration) => fromObject(configuration);
}
stopLoggerListenerLeak();

export function createComedySystem(options: SystemOptions): ComedySystem {
  // comedy is CommonJS without usable types; this is the only require of it.
  const comedy = require('comedy') as (options: object) => ComedySystem;
  const system = comedy({
    // A programmatic config stops comedy from polling actors.json every few seconds.
    config: {},
    resources: [...options.resources],
    loggerConfig: { categories: { Default: options.logLevel ?? 'Error' } },
    // Loaded first in every actor process comedy starts, so the patches above apply there too.
    additionalRequires: [__filename],
  });
  // comedy answers SIGINT/SIGTERM with process.exit(0); shutdown is ours to drain gracefully.
  removeComedySignalHandlers(system as unknown as ComedyInternals);
  return {
    async rootActor() {
      const root = (await system.rootActor()) as unknown as RawRoot;
      return {
        createChild: (modulePath, childOptions) => root.createChild(modulePath, childOptions),
        createLocalChild: (definition) => root.createChild(definition, { mode: 'in-memory' }),
      };
    },
    async listen(port, host) {
      await system.listen(port, host);
      // comedy keeps its net.Server on the system; port 0 means "any free port", so report the real one.
      const server = (system as unknown as { server?: { address(): { port: number } | string | null } }).server;
      const address = server?.address();
      return typeof address === 'object' && address ? address.port : port;
    },
    destroy: () => system.destroy(),
    getBus: () => system.getBus(),
  };
}

interface RawRoot {
  createChild(definition: string | object, options: object): Promise<ActorHandle>;
}
