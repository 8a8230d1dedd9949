/**
 * `npm run worker-node -- --host 10.0.0.5 [--port 6161]`: comedy's node
 * listener, started on each host that runs remote workers. A `worker` process
 * elsewhere (PLAYHOUSE_WORKER_MODE=remote, PLAYHOUSE_REMOTE_HOSTS=10.0.0.5:6161)
 * asks it to start worker processes here.
 *
 * The listener has no authentication: anyone who reaches the port can run
 * code. It therefore binds one private interface and refuses a public or
 * wildcard address unless --allow-public says the port is firewalled.
 */
import { parseArgs } from 'node:util';
import { createComedySystem } from '../actors/kit/comedy';
import { ACTOR_RESOURCES } from '../infra/actor-resources';
import { isPrivateAddress, isWildcard } from '../infra/cluster/private-address';

const USAGE = 'usage: npm run worker-node -- --host PRIVATE_ADDRESS [--port 6161] [--allow-public]';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: 'string' },
      port: { type: 'string', default: '6161' },
      'allow-public': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return console.log(USAGE);
  const host = values.host;
  const port = Number(values.port);
  if (!host) throw new Error(`--host is required: the private address to listen on\n${USAGE}`);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be a TCP port, got ${values.port}`);
  if (!values['allow-public'] && (isWildcard(host) || !(await isPrivateAddress(host)))) {
    throw new Error(
      `refusing to listen on ${host}: comedy's listener runs code for anyone who reaches it. ` +
        'Bind a private interface, or pass --allow-public if the port is firewalled to the cluster.',
    );
  }
  const system = createComedySystem({ resources: ACTOR_RESOURCES });
  const bound = await system.listen(port, host);
  console.log(`PLAYHOUSE_READY role=worker-node listen=${host}:${bound}`);
  const stop = () => void system.destroy().finally(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
