/**
 * `npm start`: one Playhouse process. By default the `single` role — gateway
 * and every actor in this process, embedded defaults, no services needed —
 * and prints where to open the demo. In a cluster the same command starts a
 * `gateway` or a `worker` process (`--role`, or PLAYHOUSE_ROLE).
 * SIGINT/SIGTERM stop it gracefully (a cluster process drains first).
 */
import { parseArgs } from 'node:util';
import { loadConfig, type ConfigInput, type PlayhouseConfig } from '../infra/config';
import { startWorkers } from '../infra/cluster/worker-supervisor';
import { logFormat } from '../infra/logger';
import { createProcessContext, type ProcessContext } from '../infra/process-context';
import { startPlayhouse } from '../infra/playhouse-server';
import { explainStartupError } from './startup-errors';

const USAGE = `usage: npm start -- [--role single|gateway|worker] [--port N] [--host ADDRESS] [--workers N] [--worker-mode forked|threaded|in-memory|remote]
Environment: PORT, HOST, PLAYHOUSE_ROLE, REDIS_URL, PLAYHOUSE_WORKERS, PLAYHOUSE_WORKER_MODE, LOG_LEVEL, LOG_FORMAT, PLAYHOUSE_TOKEN_SECRET, ... (see README "Configuration")`;

const OPTIONS = {
  role: { type: 'string' },
  port: { type: 'string', short: 'p' },
  host: { type: 'string' },
  workers: { type: 'string' },
  'worker-mode': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: OPTIONS });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const flags: ConfigInput = {
    ...(values.role !== undefined ? { role: values.role as ConfigInput['role'] } : {}),
    ...(values.port !== undefined ? { port: numberFlag(values.port) } : {}),
    ...(values.host !== undefined ? { host: values.host } : {}),
    cluster: {
      ...(values.workers !== undefined ? { workers: numberFlag(values.workers) } : {}),
      ...(values['worker-mode'] !== undefined ? { workerMode: values['worker-mode'] as NonNullable<ConfigInput['cluster']>['workerMode'] } : {}),
    },
  };
  // Flags win over the environment: a launcher that passes --port means it, whatever PORT it inherited.
  const config = loadConfig({}, process.env, flags);
  // The processes and threads this one starts log the same way.
  process.env.LOG_LEVEL = config.log.level;
  process.env.LOG_FORMAT = logFormat(config.log.format);
  const context = createProcessContext(config);
  const stop = config.role === 'worker' ? await startWorkerRole(config, context) : await startGatewayRole(config, context);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    context.log.info({ signal, role: config.role }, 'shutting down');
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

/** A number flag as a number; anything else as typed, so the configuration's check quotes it (`--port abc: must be a number`). */
function numberFlag(raw: string): number {
  return (/^\d+$/.test(raw) ? Number(raw) : raw) as number;
}

async function startGatewayRole(config: PlayhouseConfig, context: ProcessContext): Promise<() => Promise<void>> {
  const server = await startPlayhouse(config, context);
  if (config.role === 'single') {
    const demo = config.http.demoPage ? `Demo (open in two browser tabs): ${server.url}/` : 'Demo page: off (PLAYHOUSE_DEMO_PAGE=true turns it on)';
    console.log(`\nPlayhouse is running.\n  ${demo}\n  Health: ${server.url}/healthz   Metrics: ${server.url}/metrics\n`);
  }
  // A line a launcher (scripts/cluster.ts, tests) can wait for.
  console.log(`PLAYHOUSE_READY role=${config.role} url=${server.url}`);
  return () => server.stop();
}

async function startWorkerRole(config: PlayhouseConfig, context: ProcessContext): Promise<() => Promise<void>> {
  const workers = await startWorkers(config, context.log);
  console.log(`PLAYHOUSE_READY role=worker workers=${workers.slots.join(',')} metrics=${workers.metricsUrl}`);
  return () => workers.stop();
}

main().catch((error: unknown) => {
  // An operator's mistake in one line; anything else is a bug, printed whole.
  console.error(explainStartupError(error, { name: 'npm start', options: Object.keys(OPTIONS) }) ?? error);
  process.exit(1);
});
