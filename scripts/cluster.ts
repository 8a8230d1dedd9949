/**
 * `npm run cluster -- --gateways 2 --workers 2`: a local cluster on this
 * machine against the local Redis — one `worker` process placing the workers
 * (forked by default), then the gateways on consecutive ports. Prints where
 * each gateway listens; Ctrl-C drains and stops everything.
 *
 * Each process is `scripts/start.ts` with a role, exactly as containers run
 * them (infra/docker/compose.yaml); put nginx in front (infra/nginx/) to give
 * clients one address.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { SERVER_NODE_FLAGS } from './server-node-flags';

const START = path.join(__dirname, 'start.ts');

interface Started {
  readonly name: string;
  readonly child: ChildProcess;
  readonly ready: string;
}

/** V8 profiling flags this launcher was started with (the load tester's --profile) go to every process it starts. */
const PROFILING = process.execArgv.filter((arg) => arg.startsWith('--cpu-prof'));

function start(name: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<Started> {
  const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, ...PROFILING, '--import', 'tsx', START, ...args], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      if (line.startsWith('PLAYHOUSE_READY ')) resolve({ name, child, ready: line.slice('PLAYHOUSE_READY '.length) });
      else console.log(`[${name}] ${line}`);
    });
    child.once('exit', (code, signal) => reject(new Error(`${name} exited (${signal ?? code}) before it was ready`)));
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      gateways: { type: 'string', default: '2' },
      workers: { type: 'string', default: '2' },
      'worker-mode': { type: 'string', default: 'forked' },
      port: { type: 'string', default: '8081' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log('usage: npm run cluster -- [--gateways 2] [--workers 2] [--worker-mode forked|threaded] [--port 8081]\nEnvironment: REDIS_URL, PLAYHOUSE_CLUSTER, PLAYHOUSE_TOKEN_SECRET, LOG_LEVEL');
    return;
  }
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // Every gateway must sign and check tokens with the same secret.
    PLAYHOUSE_TOKEN_SECRET: process.env.PLAYHOUSE_TOKEN_SECRET ?? randomBytes(32).toString('base64url'),
    PLAYHOUSE_CLUSTER: process.env.PLAYHOUSE_CLUSTER ?? `local-${randomBytes(2).toString('hex')}`,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  };
  const processes: Started[] = [];
  const stopAll = async () => {
    // Gateways first (they drain their clients), then the workers.
    for (const group of [processes.filter((p) => p.name !== 'workers'), processes.filter((p) => p.name === 'workers')]) {
      await Promise.all(
        group.map(
          (p) =>
            new Promise<void>((resolve) => {
              if (p.child.exitCode !== null || p.child.signalCode !== null) return resolve();
              p.child.once('exit', () => resolve());
              p.child.kill('SIGTERM');
            }),
        ),
      );
    }
  };
  process.on('SIGINT', () => void stopAll().then(() => process.exit(0)));
  process.on('SIGTERM', () => void stopAll().then(() => process.exit(0)));
  try {
    processes.push(await start('workers', ['--role', 'worker', '--workers', values.workers, '--worker-mode', values['worker-mode']], env));
    const firstPort = Number(values.port);
    for (let i = 0; i < Number(values.gateways); i++) {
      const port = firstPort === 0 ? 0 : firstPort + i;
      processes.push(await start(`gateway-${i + 1}`, ['--role', 'gateway', '--port', String(port)], { ...env, PLAYHOUSE_GATEWAY_ID: `${env.PLAYHOUSE_CLUSTER}-gw${i + 1}` }));
    }
  } catch (error) {
    await stopAll();
    throw error;
  }
  console.log(`\nPlayhouse cluster '${env.PLAYHOUSE_CLUSTER}' is running:`);
  for (const p of processes) console.log(`  ${p.name.padEnd(10)} ${p.ready}`);
  console.log('Ctrl-C drains and stops it.');
  console.log('PLAYHOUSE_READY role=cluster');
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
