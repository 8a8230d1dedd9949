/**
 * Renders infra/nginx/playhouse.conf.template into an nginx.conf: the load
 * balancer in front of the gateways (sticky sessions, WebSocket, /metrics and
 * /admin/ kept internal). Also a CLI:
 *
 *   npx tsx infra/nginx/render.ts --listen 8080 --gateway 10.0.1.10:8080 \
 *     --gateway 10.0.1.11:8080 --work-dir /var/lib/playhouse-nginx \
 *     --internal-network 10.0.0.0/8 > nginx.conf
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { installationPath } from '../installation';

export interface NginxConfigOptions {
  /** Port nginx listens on. */
  readonly listenPort: number;
  /** Address to listen on; all interfaces when absent (tests use 127.0.0.1). */
  readonly listenAddress?: string;
  /** Gateways as `host:port` (hostnames are resolved once, when nginx starts). */
  readonly gateways: readonly string[];
  /** Absolute directory for the pid file, temp files and (unless `logToStdio`) logs; nginx's `-p` prefix. */
  readonly workDir: string;
  /** Addresses or CIDR networks allowed to reach /metrics and /admin/; loopback only when absent. */
  readonly internalNetwork?: string | readonly string[];
  /** Log to stderr/stdout (containers) instead of files in workDir. */
  readonly logToStdio?: boolean;
  /** nginx worker processes; `auto` (one per CPU) when absent. */
  readonly workerProcesses?: number | 'auto';
  /** TLS on the listen port: the certificate chain (PEM, leaf first) and its private key, both absolute paths. */
  readonly tls?: { readonly certificate: string; readonly certificateKey: string };
}

export const TEMPLATE_PATH = installationPath('infra', 'nginx', 'playhouse.conf.template');

/** Loopback only: Prometheus is expected to scrape the gateways directly. */
const DEFAULT_INTERNAL = ['127.0.0.1', '::1'] as const;

/** A gateway: host name, IPv4 or [IPv6], then a port. */
const GATEWAY = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):\d{1,5}$/;
/** An IPv4/IPv6 address, optionally with a prefix length (what `allow` takes). */
const NETWORK = /^[0-9A-Fa-f:.]+(?:\/\d{1,3})?$/;
const LISTEN_ADDRESS = /^(?:[0-9.]+|\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)$/;
/** Paths go into the config unquoted: no spaces, quotes, `;`, `{`, `}`, `$` or `#`. */
const SAFE_PATH = /^\/[A-Za-z0-9_.\/@+-]*$/;

export function renderNginxConfig(options: NginxConfigOptions, template: string = readFileSync(TEMPLATE_PATH, 'utf8')): string {
  const problems: string[] = [];
  const { listenPort, gateways, logToStdio = false, workerProcesses = 'auto' } = options;
  const workDir = options.workDir.replace(/(.)\/+$/, '$1');
  const networks = options.internalNetwork === undefined ? DEFAULT_INTERNAL : typeof options.internalNetwork === 'string' ? [options.internalNetwork] : options.internalNetwork;

  if (!Number.isInteger(listenPort) || listenPort < 1 || listenPort > 65535) problems.push(`listenPort ${listenPort}: must be an integer 1-65535`);
  if (options.listenAddress !== undefined && !LISTEN_ADDRESS.test(options.listenAddress)) problems.push(`listenAddress ${JSON.stringify(options.listenAddress)}: not an address`);
  if (gateways.length === 0) problems.push('gateways: at least one is needed');
  for (const gateway of gateways) if (!GATEWAY.test(gateway)) problems.push(`gateway ${JSON.stringify(gateway)}: must be host:port`);
  if (!SAFE_PATH.test(workDir)) problems.push(`workDir ${JSON.stringify(workDir)}: must be an absolute path of letters, digits and _ . / @ + -`);
  if (networks.length === 0) problems.push('internalNetwork: give at least one network (or leave it out for loopback only)');
  for (const network of networks) if (!NETWORK.test(network)) problems.push(`internalNetwork ${JSON.stringify(network)}: must be an address or CIDR network`);
  if (workerProcesses !== 'auto' && (!Number.isInteger(workerProcesses) || workerProcesses < 1)) problems.push(`workerProcesses ${workerProcesses}: must be a positive integer or auto`);
  for (const [field, file] of Object.entries(options.tls ?? {})) if (!SAFE_PATH.test(file)) problems.push(`tls.${field} ${JSON.stringify(file)}: must be an absolute path of letters, digits and _ . / @ + -`);
  if (problems.length > 0) throw new Error(`cannot render the nginx config:\n  ${problems.join('\n  ')}`);

  const values: Readonly<Record<string, string>> = {
    WORKER_PROCESSES: String(workerProcesses),
    WORK_DIR: workDir,
    ERROR_LOG: logToStdio ? 'stderr' : `${workDir}/error.log`,
    ACCESS_LOG: logToStdio ? '/dev/stdout' : `${workDir}/access.log`,
    LISTEN: `${options.listenAddress === undefined ? String(listenPort) : `${options.listenAddress}:${listenPort}`}${options.tls ? ' ssl' : ''}`,
    TLS: options.tls ? tlsLines(options.tls) : NO_TLS,
    UPSTREAM_SERVERS: gateways.map((gateway) => `        server ${gateway} max_fails=2 fail_timeout=10s;`).join('\n'),
    INTERNAL_ALLOW: networks.map((network) => `            allow ${network};`).join('\n'),
  };
  const rendered = template.replace(/\{\{([A-Z_]+)\}\}/g, (placeholder, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`cannot render the nginx config: unknown placeholder ${placeholder}`);
    return value;
  });
  return rendered;
}

const NO_TLS = `        # No TLS here: render with --tls-certificate and --tls-certificate-key (DEPLOYMENT.md),
        # or terminate TLS in front and set set_real_ip_from so $remote_addr is the client.`;

/** TLS 1.2 and 1.3 only, with a session cache shared by the workers (resumed handshakes skip the key exchange). */
function tlsLines(tls: NonNullable<NginxConfigOptions['tls']>): string {
  return [
    `ssl_certificate     ${tls.certificate};`,
    `ssl_certificate_key ${tls.certificateKey};`,
    'ssl_protocols       TLSv1.2 TLSv1.3;',
    'ssl_session_cache   shared:playhouse_tls:10m;',
    'ssl_session_timeout 1d;',
    'ssl_session_tickets off;',
  ]
    .map((line) => `        ${line}`)
    .join('\n');
}

function main(): void {
  const { values } = parseArgs({
    options: {
      listen: { type: 'string' },
      'listen-address': { type: 'string' },
      gateway: { type: 'string', multiple: true },
      'work-dir': { type: 'string' },
      'internal-network': { type: 'string', multiple: true },
      'log-to-stdio': { type: 'boolean' },
      'worker-processes': { type: 'string' },
      'tls-certificate': { type: 'string' },
      'tls-certificate-key': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || values.listen === undefined || values.gateway === undefined || values['work-dir'] === undefined) {
    console.error(
      'usage: tsx infra/nginx/render.ts --listen PORT --gateway HOST:PORT [--gateway HOST:PORT ...] --work-dir DIR\n' +
        '         [--listen-address ADDR] [--internal-network CIDR ...] [--log-to-stdio] [--worker-processes N|auto]\n' +
        '         [--tls-certificate FULLCHAIN.pem --tls-certificate-key KEY.pem]\n' +
        'Prints the nginx config; run it with: nginx -e stderr -p DIR/ -c CONFIG -g "daemon off;"',
    );
    process.exit(values.help ? 0 : 2);
  }
  const workers = values['worker-processes'];
  const certificate = values['tls-certificate'];
  const certificateKey = values['tls-certificate-key'];
  if ((certificate === undefined) !== (certificateKey === undefined)) throw new Error('TLS needs both --tls-certificate and --tls-certificate-key');
  process.stdout.write(
    renderNginxConfig({
      listenPort: Number(values.listen),
      gateways: values.gateway,
      workDir: values['work-dir'],
      ...(values['listen-address'] !== undefined ? { listenAddress: values['listen-address'] } : {}),
      ...(values['internal-network'] !== undefined ? { internalNetwork: values['internal-network'] } : {}),
      ...(values['log-to-stdio'] ? { logToStdio: true } : {}),
      ...(workers !== undefined ? { workerProcesses: workers === 'auto' ? 'auto' : Number(workers) } : {}),
      ...(certificate !== undefined && certificateKey !== undefined ? { tls: { certificate, certificateKey } } : {}),
    }),
  );
}

if (require.main === module) {
  try {
    main();
  } catch (error: unknown) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
}
