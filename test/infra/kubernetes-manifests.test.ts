/**
 * The Kubernetes manifests (infra/kubernetes, no cluster runs here) say what
 * the code does: the example overlay renders (as `kubectl kustomize` would)
 * into objects that each pass the Kubernetes schemas (kubernetes-models);
 * every environment variable is one infra/config.ts reads and each container's
 * environment loads as a configuration of its role; ports, probe paths and
 * Prometheus annotations agree with that configuration and with the code
 * serving them; selectors find the pods they mean; the drain fits in the
 * grace period; the NetworkPolicies let only gateways and workers reach Redis
 * and only workers and the migration reach MariaDB.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Secret, Service } from 'kubernetes-models/v1';
import type { IContainer, IPodTemplateSpec } from 'kubernetes-models/v1';
import type { ILabelSelector } from '@kubernetes-models/apimachinery/apis/meta/v1/LabelSelector';
import { parseAllDocuments } from 'yaml';
import { ENVIRONMENT_VARIABLES, loadConfig, type PlayhouseConfig } from '../../infra/config';
import { renderKustomization, type KubernetesObject } from '../support/kustomize';
import { assertRunsBuild } from '../support/built-command';

const ROOT = path.resolve(__dirname, '../..');
const OVERLAY = path.join(ROOT, 'infra/kubernetes/overlays/example');

/** Each kind the manifests use, with the schema it must pass. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
  'networking.k8s.io/v1/Ingress': Ingress,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
};

const objects = renderKustomization(OVERLAY);

function all<T>(kind: string): Array<KubernetesObject & T> {
  return objects.filter((object) => object.kind === kind) as Array<KubernetesObject & T>;
}
function one<T>(kind: string, name: string): KubernetesObject & T {
  const found = all<T>(kind).filter((object) => object.metadata.name === name);
  assert.equal(found.length, 1, `one ${kind} ${name}`);
  return found[0]!;
}

interface Workload {
  readonly spec: { readonly replicas?: number; readonly selector?: ILabelSelector; readonly template: IPodTemplateSpec };
}
const workloads = () => [...all<Workload>('Deployment'), ...all<Workload>('Job')];
const podSpec = (workload: Workload) => workload.spec.template.spec!;
const podLabels = (workload: Workload) => workload.spec.template.metadata?.labels ?? {};
const container = (workload: Workload) => {
  const containers = podSpec(workload).containers;
  assert.equal(containers.length, 1, 'one container per pod');
  return containers[0]!;
};
const gateway = () => one<Workload>('Deployment', 'playhouse-gateway');
const worker = () => one<Workload>('Deployment', 'playhouse-worker');
const migrate = () => one<Workload>('Job', 'playhouse-migrate');

/** What Kubernetes' label selectors select (matchLabels and matchExpressions' In / NotIn / Exists / DoesNotExist). */
function selects(selector: ILabelSelector, labels: Record<string, string>): boolean {
  const matchLabels = Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
  const matchExpressions = (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
    if (operator === 'In') return labels[key] !== undefined && values.includes(labels[key]!);
    if (operator === 'NotIn') return labels[key] === undefined || !values.includes(labels[key]!);
    if (operator === 'Exists') return labels[key] !== undefined;
    if (operator === 'DoesNotExist') return labels[key] === undefined;
    throw new Error(`unknown selector operator ${operator}`);
  });
  return matchLabels && matchExpressions;
}
const selectedWorkloads = (selector: ILabelSelector) => workloads().filter((workload) => selects(selector, podLabels(workload))).map((workload) => workload.metadata.name).sort();

/** A Secret's values, whether written as stringData or as base64 data. */
function secretValues(name: string): Record<string, string> {
  const secret = one<{ stringData?: Record<string, string>; data?: Record<string, string> }>('Secret', name);
  return { ...Object.fromEntries(Object.entries(secret.data ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')])), ...(secret.stringData ?? {}) };
}
const configMapValues = (name: string) => one<{ data?: Record<string, string> }>('ConfigMap', name).data ?? {};

const dockerfile = readFileSync(path.join(ROOT, 'infra/docker/Dockerfile'), 'utf8');
/** The image's own ENV lines (NODE_ENV=production, ...), which every container starts from. */
const imageEnv: Record<string, string> = Object.fromEntries([...dockerfile.matchAll(/^\s*(?:ENV\s+)?([A-Z_]+)=(\S+?)\s*\\?$/gm)].map((m) => [m[1]!, m[2]!]));

/** The environment a container gets: envFrom (ConfigMaps, Secrets), then env (a fieldRef as the pod's name would be). */
function environmentOf(spec: IContainer): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const source of spec.envFrom ?? []) {
    if (source.configMapRef) Object.assign(environment, configMapValues(source.configMapRef.name!));
    if (source.secretRef) Object.assign(environment, secretValues(source.secretRef.name!));
  }
  for (const variable of spec.env ?? []) {
    if (variable.value !== undefined) environment[variable.name] = variable.value;
    else if (variable.valueFrom?.fieldRef?.fieldPath === 'metadata.name') environment[variable.name] = 'playhouse-gateway-7c9f8d-x2x4z';
    else if (variable.valueFrom?.secretKeyRef) {
      const value = secretValues(variable.valueFrom.secretKeyRef.name!)[variable.valueFrom.secretKeyRef.key];
      assert.ok(value !== undefined, `${variable.name}: the Secret has ${variable.valueFrom.secretKeyRef.key}`);
      environment[variable.name] = value;
    } else assert.fail(`${variable.name}: a value this test does not know how to read`);
  }
  return environment;
}
const configOf = (workload: Workload): PlayhouseConfig => loadConfig({}, { ...imageEnv, ...environmentOf(container(workload)) });

/** The container port a probe or Service names (by name or number). */
function containerPort(workload: KubernetesObject & Workload, port: number | string | undefined): number {
  const ports = container(workload).ports ?? [];
  const found = typeof port === 'number' ? ports.find((p) => p.containerPort === port) : ports.find((p) => p.name === port);
  assert.ok(found, `${workload.metadata.name} has port ${String(port)}`);
  return found.containerPort;
}

test('the example overlay renders, and every object passes the Kubernetes schemas', () => {
  assert.deepEqual(
    objects.map((object) => `${object.kind}/${object.metadata.name}`).sort(),
    [
      'ConfigMap/playhouse-config',
      'Deployment/playhouse-gateway',
      'Deployment/playhouse-worker',
      'Ingress/playhouse',
      'Job/playhouse-migrate',
      'NetworkPolicy/playhouse-gateway',
      'NetworkPolicy/playhouse-mariadb',
      'NetworkPolicy/playhouse-redis',
      'NetworkPolicy/playhouse-worker',
      'PodDisruptionBudget/playhouse-gateway',
      'PodDisruptionBudget/playhouse-worker',
      'Secret/playhouse-secrets',
      'Service/playhouse-gateway',
      'Service/playhouse-worker-metrics',
      'ServiceMonitor/playhouse-gateway',
      'ServiceMonitor/playhouse-worker',
    ],
  );
  for (const object of objects) {
    const Model = MODELS[`${object.apiVersion}/${object.kind}`];
    assert.ok(Model, `${object.apiVersion} ${object.kind} is a kind this test validates`);
    assert.doesNotThrow(() => new Model(object as never).validate(), `${object.kind}/${object.metadata.name}`);
    assert.equal(object.metadata.namespace, 'playhouse', `${object.kind}/${object.metadata.name}: the overlay's namespace`);
  }
  for (const workload of workloads()) assert.equal(container(workload).image, 'registry.example.com/studio/playhouse:1.0.0', `${workload.metadata.name}: the overlay's image`);
});

test('the schemas catch a broken manifest (a port that is not a number)', () => {
  const broken = structuredClone(gateway()) as unknown as { spec: { template: { spec: { containers: Array<{ ports: Array<{ containerPort: unknown }> }> } } } };
  broken.spec.template.spec.containers[0]!.ports[0]!.containerPort = 'http';
  assert.throws(() => new Deployment(broken as never).validate(), /containerPort must be integer/);
});

test('every environment variable is one infra/config.ts reads, and each container\'s loads as a configuration of its role', () => {
  const known = new Set(ENVIRONMENT_VARIABLES);
  const named = (workload: Workload) => Object.keys(environmentOf(container(workload)));
  for (const workload of workloads()) {
    for (const name of named(workload)) assert.ok(known.has(name), `${workload.metadata.name}: ${name} is not read by infra/config.ts`);
  }
  for (const name of [...Object.keys(configMapValues('playhouse-config')), ...Object.keys(secretValues('playhouse-secrets'))]) assert.ok(known.has(name), `${name} is not read by infra/config.ts`);

  assert.equal(configOf(gateway()).role, 'gateway');
  assert.equal(configOf(worker()).role, 'worker');
  assert.equal(configOf(worker()).cluster.workerMode, 'forked');
  assert.equal(configOf(gateway()).auth.secret, configOf(worker()).auth.secret, 'one token secret');
  assert.equal(configOf(gateway()).cluster.redisUrl, configOf(worker()).cluster.redisUrl, 'one Redis');
  assert.equal(configOf(gateway()).cluster.name, configOf(worker()).cluster.name, 'one cluster name');
  assert.equal(configOf(worker()).persistence.migrateOnBoot, false, 'the Job migrates, not the workers');
  assert.equal(configOf(worker()).persistence.mariadbUrl, configOf(migrate()).persistence.mariadbUrl, 'the Job migrates the database the workers write');
  assert.deepEqual(configOf(gateway()).http.trustedProxies, ['10.244.0.0/16'], 'the overlay trusts its pod network');
});

test('at most one gateway pod watches games/', () => {
  const watchers = configOf(gateway()).games.watch ? (gateway().spec.replicas ?? 1) : 0;
  assert.ok(watchers <= 1, `${watchers} gateway pods watch games/`);
});

test('ports and probes agree with the configuration and with the code that serves them', () => {
  const gatewayPort = configOf(gateway()).port;
  const metricsPort = configOf(worker()).cluster.metricsPort;
  assert.notEqual(metricsPort, 0, 'a fixed metrics port');
  assert.equal(containerPort(gateway(), 'http'), gatewayPort);
  assert.equal(containerPort(worker(), 'metrics'), metricsPort);
  assert.equal(configOf(gateway()).host, '0.0.0.0', 'the kubelet reaches the gateway');
  assert.equal(configOf(worker()).host, '0.0.0.0', 'the kubelet reaches the worker process');

  const served: Record<string, string> = {
    'playhouse-gateway': readFileSync(path.join(ROOT, 'infra/gateway/http-routes.ts'), 'utf8'),
    'playhouse-worker': readFileSync(path.join(ROOT, 'infra/cluster/worker-supervisor.ts'), 'utf8'),
  };
  for (const workload of [gateway(), worker()]) {
    const spec = container(workload);
    const probes = { startupProbe: '/livez', livenessProbe: '/livez', readinessProbe: '/readyz' } as const;
    for (const [probe, expectedPath] of Object.entries(probes)) {
      const httpGet = spec[probe as keyof typeof probes]?.httpGet;
      assert.ok(httpGet, `${workload.metadata.name}: ${probe}`);
      assert.equal(httpGet.path, expectedPath, `${workload.metadata.name}: ${probe}`);
      assert.equal(containerPort(workload, httpGet.port), workload === gateway() ? gatewayPort : metricsPort, `${workload.metadata.name}: ${probe}'s port`);
      assert.match(served[workload.metadata.name]!, new RegExp(`=== '${expectedPath}'`), `${workload.metadata.name} serves ${expectedPath}`);
    }
    const annotations = workload.spec.template.metadata?.annotations ?? {};
    assert.equal(annotations['prometheus.io/scrape'], 'true');
    assert.equal(Number(annotations['prometheus.io/port']), workload === gateway() ? gatewayPort : metricsPort, `${workload.metadata.name}: scraped port`);
    assert.equal(annotations['prometheus.io/path'], '/metrics');
  }
});

test('Services, PodDisruptionBudgets and ServiceMonitors select the pods they are for, on ports those pods have', () => {
  for (const workload of all<Workload>('Deployment')) assert.ok(selects(workload.spec.selector!, podLabels(workload)), `${workload.metadata.name} selects its own pods`);
  const services = all<{ spec: { selector: Record<string, string>; ports: Array<{ name?: string; port: number; targetPort?: string | number }> } }>('Service');
  const expected: Record<string, string> = { 'playhouse-gateway': 'playhouse-gateway', 'playhouse-worker-metrics': 'playhouse-worker' };
  for (const service of services) {
    assert.deepEqual(selectedWorkloads({ matchLabels: service.spec.selector }), [expected[service.metadata.name]], `Service ${service.metadata.name}`);
    const target = one<Workload>('Deployment', expected[service.metadata.name]!);
    for (const port of service.spec.ports) assert.equal(containerPort(target, port.targetPort ?? port.port), port.port, `Service ${service.metadata.name} port ${port.name}`);
  }
  for (const budget of all<{ spec: { selector: ILabelSelector; maxUnavailable?: number } }>('PodDisruptionBudget')) {
    assert.deepEqual(selectedWorkloads(budget.spec.selector), [budget.metadata.name], `PodDisruptionBudget ${budget.metadata.name}`);
  }
  assert.deepEqual(all('PodDisruptionBudget').map((budget) => budget.metadata.name).sort(), ['playhouse-gateway', 'playhouse-worker'], 'one budget per long-running role');
  for (const monitor of all<{ spec: { selector: ILabelSelector; endpoints: Array<{ port: string; path: string }> } }>('ServiceMonitor')) {
    const scraped = services.filter((service) => selects(monitor.spec.selector, service.metadata.labels ?? {}));
    assert.equal(scraped.length, 1, `ServiceMonitor ${monitor.metadata.name} finds one Service`);
    for (const endpoint of monitor.spec.endpoints) {
      assert.ok(scraped[0]!.spec.ports.some((port) => port.name === endpoint.port), `ServiceMonitor ${monitor.metadata.name}: port ${endpoint.port}`);
      assert.equal(endpoint.path, '/metrics');
    }
  }
});

test('graceful shutdown: node gets SIGTERM directly, and the grace period outlasts the drain', () => {
  const imageCommand = JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)![1]!) as string[];
  assert.equal(imageCommand[0], 'node', 'the image\'s CMD runs node itself');
  for (const workload of workloads()) {
    const command = container(workload).command ?? imageCommand;
    assert.equal(command[0], 'node', `${workload.metadata.name} runs node directly (npm and npx would not pass SIGTERM on)`);
    assertRunsBuild(command, workload.metadata.name!);
  }
  const drainSeconds = (workload: Workload) => configOf(workload).cluster.drainTimeoutMs / 1000;
  assert.ok(podSpec(gateway()).terminationGracePeriodSeconds! > drainSeconds(gateway()), 'a gateway drains before it is killed');
  // A worker process may take the drain twice over (infra/DEPLOYMENT.md, "Health checks").
  assert.ok(podSpec(worker()).terminationGracePeriodSeconds! > 2 * drainSeconds(worker()), 'a worker process drains before it is killed');
  assert.equal(podSpec(worker()).shareProcessNamespace, true, 'exited forked workers are reaped');
});

test('every container has CPU and memory requests within its limits', () => {
  const quantity = (value: string | number): number => {
    const text = String(value);
    const units: Record<string, number> = { m: 1e-3, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30 };
    const unit = /[A-Za-z]+$/.exec(text)?.[0];
    return parseFloat(text) * (unit ? units[unit]! : 1);
  };
  for (const workload of workloads()) {
    const { requests = {}, limits = {} } = container(workload).resources ?? {};
    for (const resource of ['cpu', 'memory']) {
      assert.ok(requests[resource] !== undefined && limits[resource] !== undefined, `${workload.metadata.name}: ${resource} request and limit`);
      assert.ok(quantity(requests[resource]!) <= quantity(limits[resource]!), `${workload.metadata.name}: ${resource} request within its limit`);
    }
  }
});

test('the Ingress routes only the public paths, sticks polling clients to a gateway by cookie, and outlasts the heartbeat', () => {
  const ingress = one<{ spec: { rules: Array<{ http: { paths: Array<{ path: string; pathType: string; backend: { service: { name: string; port: { name?: string; number?: number } } } }> } }> } }>('Ingress', 'playhouse');
  const paths = ingress.spec.rules.flatMap((rule) => rule.http.paths);
  assert.deepEqual(paths.map((p) => `${p.pathType} ${p.path}`).sort(), ['Exact /socket.io/', 'Exact /v1/auth/guest'], 'no /metrics, /admin/ or probes from outside');
  const service = one<{ spec: { ports: Array<{ name?: string; port: number }> } }>('Service', 'playhouse-gateway');
  for (const p of paths) {
    assert.equal(p.backend.service.name, 'playhouse-gateway');
    assert.ok(service.spec.ports.some((port) => port.name === p.backend.service.port.name || port.port === p.backend.service.port.number), `the Service has port ${JSON.stringify(p.backend.service.port)}`);
  }
  const annotations = ingress.metadata.annotations ?? {};
  assert.equal(annotations['nginx.ingress.kubernetes.io/affinity'], 'cookie');
  const { heartbeat, limits } = configOf(gateway());
  const silentSeconds = (heartbeat.pingIntervalMs + heartbeat.pingTimeoutMs) / 1000;
  for (const timeout of ['proxy-read-timeout', 'proxy-send-timeout']) {
    assert.ok(Number(annotations[`nginx.ingress.kubernetes.io/${timeout}`]) > silentSeconds, `${timeout} outlasts a healthy connection's longest silence (${silentSeconds} s)`);
  }
  assert.equal(annotations['nginx.ingress.kubernetes.io/proxy-body-size'], `${limits.maxFrameBytes / 1024}k`);
});

test('NetworkPolicies: gateways take players and Prometheus, workers only Prometheus; Redis and MariaDB only their clients', () => {
  const policies = all<{ spec: { podSelector: ILabelSelector; policyTypes: string[]; ingress: Array<{ from: Array<{ podSelector?: ILabelSelector; namespaceSelector?: ILabelSelector }>; ports?: Array<{ port: number }> }> } }>('NetworkPolicy');
  const policy = (name: string) => policies.find((candidate) => candidate.metadata.name === name)!;
  const portsOf = (name: string) => [...new Set(policy(name).spec.ingress.flatMap((rule) => (rule.ports ?? []).map((p) => p.port)))];
  for (const candidate of policies) assert.deepEqual(candidate.spec.policyTypes, ['Ingress']);

  assert.deepEqual(selectedWorkloads(policy('playhouse-gateway').spec.podSelector), ['playhouse-gateway']);
  assert.deepEqual(portsOf('playhouse-gateway'), [configOf(gateway()).port]);
  assert.deepEqual(selectedWorkloads(policy('playhouse-worker').spec.podSelector), ['playhouse-worker']);
  assert.deepEqual(portsOf('playhouse-worker'), [configOf(worker()).cluster.metricsPort], 'a worker pod takes only scrapes');

  // Who reaches the store, among our pods: exactly the roles whose configuration points at it.
  const clientsOf = (name: string) => [...new Set(policy(name).spec.ingress.flatMap((rule) => rule.from.flatMap((peer) => (peer.podSelector ? selectedWorkloads(peer.podSelector) : []))))].sort();
  assert.deepEqual(clientsOf('playhouse-redis'), ['playhouse-gateway', 'playhouse-worker']);
  assert.deepEqual(clientsOf('playhouse-mariadb'), ['playhouse-migrate', 'playhouse-worker']);
  const redisPort = Number(new URL(configOf(worker()).cluster.redisUrl).port || 6379);
  const mariadbPort = Number(new URL(configOf(worker()).persistence.mariadbUrl).port || 3306);
  assert.deepEqual(portsOf('playhouse-redis'), [redisPort]);
  assert.deepEqual(portsOf('playhouse-mariadb'), [mariadbPort]);
  for (const store of ['playhouse-redis', 'playhouse-mariadb']) {
    for (const rule of policy(store).spec.ingress) for (const peer of rule.from) assert.equal(peer.namespaceSelector, undefined, `${store}: no other namespace`);
  }
});

const kubectl = (() => {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

test('this renderer and kubectl kustomize agree', { skip: kubectl ? false : 'kubectl is not installed' }, () => {
  const rendered = parseAllDocuments(execFileSync('kubectl', ['kustomize', OVERLAY], { encoding: 'utf8' })).map((document) => document.toJS() as KubernetesObject);
  const key = (object: KubernetesObject) => `${object.kind}/${object.metadata.name}`;
  const byKey = (list: KubernetesObject[]) => Object.fromEntries(list.map((object) => [key(object), object]));
  assert.deepEqual(byKey(objects), byKey(rendered));
});
