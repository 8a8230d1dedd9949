/**
 * `npm start`: one Playhouse process with embedded defaults (no services
 * needed). Prints where to open the demo. SIGINT/SIGTERM stop it cleanly.
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../infra/config';
import { startPlayhouse } from '../infra/playhouse-server';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', short: 'p' },
      host: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log('usage: npm start -- [--port N] [--host ADDRESS]\nEnvironment: PORT, HOST, LOG_LEVEL, PLAYHOUSE_TOKEN_SECRET, ... (see README "Configuration")');
    return;
  }
  const config = loadConfig({
    ...(values.port !== undefined ? { port: Number(values.port) } : {}),
    ...(values.host !== undefined ? { host: values.host } : {}),
  });
  process.env.LOG_LEVEL = config.log.level;
  const server = await startPlayhouse(config);
  console.log(`\nPlayhouse is running.\n  Demo (open in two browser tabs): ${server.url}/\n  Health: ${server.url}/healthz   Metrics: ${server.url}/metrics\n`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: shutting down`);
    server.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
