/**
 * Entry point of the benchmark ceiling (see ceiling.ts):
 *
 *   npx tsx benchmarks/ceiling/server.ts [--port N] [--host H]
 *
 * Prints one line, `ceiling listening on http://host:port`, which the load
 * tester reads to find it. SIGTERM/SIGINT close it and exit 0.
 */
import { parseArgs } from 'node:util';
import { startCeiling } from './ceiling';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0..65535, got ${values.port}`);
  const ceiling = await startCeiling({ port, host: values.host });
  console.log(`ceiling listening on ${ceiling.url}`);

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    ceiling.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
