/**
 * The mistakes a newcomer makes when starting Playhouse — a second server on
 * the same data, a port taken, a flag mistyped, a bad environment variable —
 * each told in one line: what happened and what to set. A stack trace is for
 * a bug; these are not bugs, so they get none.
 */
import { ConfigError } from '../infra/config';

/** Where to read more, at the end of a configuration problem. */
const SETTINGS_HELP = 'every setting is in README.md, "Configuration"';

/** How the operator started us, to name it in advice. */
export interface Command {
  /** As typed: `npm start`. */
  readonly name: string;
  /** Its options, without dashes. */
  readonly options: readonly string[];
}

/** One line for an operator's mistake, or undefined for anything else (a bug, to be printed whole). */
export function explainStartupError(error: unknown, command: Command): string | undefined {
  if (error instanceof ConfigError) return `${error.message} (${SETTINGS_HELP})`;
  if (!(error instanceof Error)) return undefined;
  const code = (error as NodeJS.ErrnoException).code;
  // node:util parseArgs: an unknown option, a missing value, a stray argument.
  if (code?.startsWith('ERR_PARSE_ARGS_')) {
    const options = command.options.map((option) => `--${option}`).join(', ');
    return `${firstSentence(error.message)}: ${command.name} takes ${options} (\`${command.name} -- --help\` says more)`;
  }
  // The store's own error (infra/stores/sql/sqlite-file.ts); matched by name, as the class may come from another copy of the module.
  if (error.name === 'SqliteFileInUseError') {
    const { file, ownerPid } = error as Error & { file?: string; ownerPid?: number };
    const owner = ownerPid ? `process ${ownerPid}` : 'another process';
    return `the SQLite file ${file} is in use by ${owner} (another ${command.name} on the same data?): stop that process, or give this one its own file with PLAYHOUSE_SQLITE_FILE=<path>`;
  }
  const listen = error as NodeJS.ErrnoException & { address?: string; port?: number };
  if (listen.syscall === 'listen' || listen.syscall === 'bind') {
    const where = `${listen.address ?? ''}:${listen.port ?? ''}`;
    if (code === 'EADDRINUSE') return `port ${listen.port} is already in use (${where}; another ${command.name}, or another program): stop it, or choose another port with PORT=<port> (0 picks a free one)`;
    if (code === 'EACCES') return `port ${listen.port} needs privileges this process does not have: choose a port above 1023 with PORT=<port>`;
    if (code === 'EADDRNOTAVAIL') return `${listen.address} is not an address of this machine: set HOST to one of its addresses (0.0.0.0 listens on all)`;
  }
  return undefined;
}

/** Node's parseArgs messages go on with advice about positional arguments that rarely applies. */
function firstSentence(message: string): string {
  const end = message.indexOf('. ');
  return end < 0 ? message.replace(/\.$/, '') : message.slice(0, end);
}
