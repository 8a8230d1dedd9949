/**
 * Test support: the environment of a real `npm start` child process that
 * needs nothing outside the process (memory stores, no game-file watcher, a
 * free port on loopback) and logs at info, so its log lines can be read.
 */
export function singleServerEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    HOST: '127.0.0.1',
    PORT: '0',
    PLAYHOUSE_ROLE: 'single',
    PLAYHOUSE_SNAPSHOT_STORE: 'memory',
    PLAYHOUSE_RECORD_STORE: 'memory',
    PLAYHOUSE_GAMES_WATCH: 'false',
    LOG_LEVEL: 'info',
    ...extra,
  };
}
