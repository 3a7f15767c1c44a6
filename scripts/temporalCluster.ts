/**
 * Starmap's Temporal cluster as processes on one machine: what `npm run cluster`
 * (scripts/cluster.ts) and the fault test's `--cluster` mode (scripts/faults.ts)
 * both start. Everything a process needs comes from the project's files:
 *   - temporal-server and temporal-sql-tool, built by scripts/tools.sh (cached)
 *   - deploy/temporal/starmap.yaml, the one server configuration (a template the
 *     server renders itself), and deploy/temporal/dynamicconfig.yaml
 *   - deploy/temporal/certs.sh (mTLS certificates), deploy/temporal/setup-schema.sh
 *     (both stores on PostgreSQL, re-runnable)
 * docker-compose.yml runs the same files in containers.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import { temporalConnectionOptions } from '../temporal/config.js';
import { repoRoot } from './dev.js';

/** The four services, each its own process; history first so shards are owned when the frontend opens. */
export const TEMPORAL_SERVICES = ['history', 'matching', 'frontend', 'worker'] as const;
export type TemporalService = (typeof TEMPORAL_SERVICES)[number];

/** Who connects to the frontend, each with a client certificate of its own (certs.sh). */
export type ClientRole = 'api' | 'worker' | 'ui';

export interface ClusterTools {
  server: string;
  sqlTool: string;
  /** …/schema/postgresql/v12 of the server module */
  schemaDir: string;
}

const tool = (target: string): string =>
  execFileSync('bash', [join(repoRoot, 'scripts/tools.sh'), target], { stdio: ['ignore', 'pipe', 'inherit'] }).toString().trim();

/** Builds (first run; minutes, with a heartbeat on stderr) or finds the server and its SQL tool. */
export function ensureClusterTools(): ClusterTools {
  const paths = Object.fromEntries(
    tool('cluster')
      .split('\n')
      .map((line) => line.split('=') as [string, string]),
  );
  const server = paths['temporal-server'];
  const sqlTool = paths['temporal-sql-tool'];
  if (!server || !sqlTool) throw new Error('scripts/tools.sh cluster did not print the temporal-server and temporal-sql-tool paths');
  return { server, sqlTool, schemaDir: tool('schema') };
}

export const ensureUiServer = (): string => tool('ui-server');

export interface PgLogin {
  host: string;
  port: number;
  user: string;
  password: string;
}

export function pgLogin(url: string): PgLogin {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || 5432), user: decodeURIComponent(u.username), password: decodeURIComponent(u.password) };
}

/** The template's database variables (deploy/temporal/starmap.yaml, setup-schema.sh). */
const dbEnv = (db: PgLogin): Record<string, string> => ({
  TEMPORAL_DB_HOST: db.host,
  TEMPORAL_DB_PORT: String(db.port),
  TEMPORAL_DB_USER: db.user,
  TEMPORAL_DB_PASSWORD: db.password,
});

/** Runs a helper script of deploy/temporal; its output goes to stderr; rejects with its output's tail. */
function runScript(script: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', [join(repoRoot, script), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-4000);
      process.stderr.write(chunk);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${script} failed (code ${code}): ${output.trim().slice(-1500)}`))));
  });
}

/** CA, server and client certificates into `tlsDir` (kept when present). */
export const makeCertificates = (tlsDir: string): Promise<void> => runScript('deploy/temporal/certs.sh', [tlsDir], process.env);

/** Both stores (temporal, temporal_visibility) created and at the module's latest schema version. */
export const setupTemporalSchema = (tools: ClusterTools, db: PgLogin): Promise<void> =>
  runScript('deploy/temporal/setup-schema.sh', [], { ...process.env, ...dbEnv(db), TEMPORAL_SQL_TOOL: tools.sqlTool, TEMPORAL_SCHEMA_DIR: tools.schemaDir });

/**
 * A free port below 32768. Temporal keeps each service's membership port in a
 * SMALLINT column (cluster_membership.rpc_port), so the OS's ephemeral ports
 * (32768 and up on Linux) are refused there; its other ports come from here too,
 * and away from the ephemeral range no outgoing connection can take them. Tried
 * on the unspecified address: free there, it is free on every loopback address
 * the internal services move between (LoopbackAddresses).
 */
export async function freeLowPort(taken: Set<number> = new Set()): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (taken.has(port)) continue;
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.unref();
      server.once('error', () => resolve(false));
      server.listen(port, '0.0.0.0', () => server.close(() => resolve(true)));
    });
    if (free) {
      taken.add(port);
      return port;
    }
  }
  throw new Error('no free port between 20000 and 32000');
}

export interface ClusterPlan {
  /** The frontend: the only address clients use. */
  address: string;
  tlsDir: string;
  ports: Record<TemporalService, number>;
  /** Ringpop's ports (the worker service has no gRPC server: it listens on this one only). */
  membershipPorts: Record<TemporalService, number>;
  /** Arguments of temporal-server for one service. */
  serverArgs(service: TemporalService): string[];
  /**
   * The template's variables for a new process of one service: call it once per
   * start, right before spawning. For an internal service (history, matching,
   * worker) each call takes a fresh loopback address (LoopbackAddresses), and
   * `ip(service)` answers it from then on.
   */
  startEnv(service: TemporalService): NodeJS.ProcessEnv;
  /** The address the service's latest process listens on and announces (the frontend's is fixed). */
  ip(service: TemporalService): string;
  /** Whether restarts get fresh addresses (false where only 127.0.0.1 can be bound: LoopbackAddresses). */
  freshAddresses: boolean;
  /** TEMPORAL_ADDRESS and TEMPORAL_TLS_* for a client process (temporal/config.ts reads them). */
  clientEnv(role: ClientRole): Record<string, string>;
  /** Opens a client connection with a role's certificate. */
  connect(role: ClientRole, connectTimeoutMs?: number): Promise<Connection>;
}

/** The name the frontend's certificate carries (certs.sh); clients reach it at 127.0.0.1. */
export const FRONTEND_SERVER_NAME = 'temporal-frontend';

/** The frontend's address: fixed, because Starmap's APIs and workers and the worker service connect to it. */
const FRONTEND_IP = '127.0.0.1';

/**
 * The one place that hands out the internal services' addresses: every start of a
 * history, matching or worker process gets the next loopback address, 127.0.0.2,
 * 127.0.0.3, ... 127.0.0.254, then 127.0.0.2 again (its ports stay the same).
 *
 * Why: a service restarted where an orchestrator restarts it comes back on a new
 * address (a Kubernetes replacement pod gets a new IP); ringpop announces it and
 * the other services dial it at once. Restarted on the same ip:port instead, the
 * stock v1.29.1 server's frontend and history keep their connection to the old
 * process's address and only redial it after gRPC's reconnect backoff (up to 10 s,
 * a constant in the server), and the frontend's polls to matching wait for their
 * fixed retry schedule on top: after a kill -9 of matching the service came back
 * 12.5-13.1 s after matching did, with a fresh address 3.1-4.3 s (README "Proof").
 *
 * Linux routes all of 127.0.0.0/8 to the loopback interface, so these addresses
 * need no setup. Where only 127.0.0.1 can be bound (macOS without `ifconfig lo0
 * alias`), every start uses 127.0.0.1 and the same-address figures apply.
 */
class LoopbackAddresses {
  private last = 1;

  constructor(readonly fresh: boolean) {}

  next(): string {
    if (!this.fresh) return FRONTEND_IP;
    this.last = this.last >= 254 ? 2 : this.last + 1;
    return `127.0.0.${this.last}`;
  }
}

/** Whether an address other than 127.0.0.1 on the loopback can be bound here. */
const loopbackRangeBindable = (): Promise<boolean> =>
  new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(0, '127.0.0.2', () => server.close(() => resolve(true)));
  });

export async function planCluster(options: { tlsDir: string; db: PgLogin; logLevel?: string; metrics?: boolean }): Promise<ClusterPlan> {
  const { tlsDir, db } = options;
  const taken = new Set<number>();
  const free = () => freeLowPort(taken);
  const ports = { history: await free(), matching: await free(), frontend: await free(), worker: await free() };
  const membership = { history: await free(), matching: await free(), frontend: await free(), worker: await free() };
  const metrics = options.metrics ? { history: await free(), matching: await free(), frontend: await free(), worker: await free() } : null;
  const address = `${FRONTEND_IP}:${ports.frontend}`;
  const addresses = new LoopbackAddresses(await loopbackRangeBindable());
  const current: Record<TemporalService, string> = { history: FRONTEND_IP, matching: FRONTEND_IP, frontend: FRONTEND_IP, worker: FRONTEND_IP };
  const shared: Record<string, string> = {
    ...dbEnv(db),
    TEMPORAL_LOG_LEVEL: options.logLevel ?? 'warn',
    TEMPORAL_TLS_DIR: tlsDir,
    TEMPORAL_TLS_SERVER_NAME: FRONTEND_SERVER_NAME,
    TEMPORAL_FRONTEND_ADDRESS: address,
    TEMPORAL_DYNAMIC_CONFIG: join(repoRoot, 'deploy/temporal/dynamicconfig.yaml'),
  };
  for (const service of TEMPORAL_SERVICES) {
    shared[`TEMPORAL_${service.toUpperCase()}_PORT`] = String(ports[service]);
    shared[`TEMPORAL_${service.toUpperCase()}_MEMBERSHIP_PORT`] = String(membership[service]);
  }
  const clientEnv = (role: ClientRole): Record<string, string> => ({
    TEMPORAL_ADDRESS: address,
    TEMPORAL_TLS_CA: join(tlsDir, 'ca.pem'),
    TEMPORAL_TLS_CERT: join(tlsDir, `${role}.pem`),
    TEMPORAL_TLS_KEY: join(tlsDir, `${role}-key.pem`),
    TEMPORAL_TLS_SERVER_NAME: FRONTEND_SERVER_NAME,
  });
  return {
    address,
    tlsDir,
    ports,
    membershipPorts: membership,
    // --allow-no-auth: the frontend admits any client whose certificate this cluster's CA signed
    // (mTLS is the gate; no per-namespace authorizer is configured, README "Scaling out")
    serverArgs: (service) => ['--root', repoRoot, '--config', 'deploy/temporal', '--env', 'starmap', '--allow-no-auth', 'start', '--service', service],
    startEnv: (service) => {
      if (service !== 'frontend') current[service] = addresses.next();
      const ip = current[service];
      return { ...process.env, ...shared, TEMPORAL_BIND_ON_IP: ip, TEMPORAL_BROADCAST_ADDRESS: ip, ...(metrics ? { TEMPORAL_METRICS_ADDRESS: `127.0.0.1:${metrics[service]}` } : {}) };
    },
    ip: (service) => current[service],
    freshAddresses: addresses.fresh,
    clientEnv,
    connect: (role, connectTimeoutMs = 5_000) => Connection.connect({ ...temporalConnectionOptions(clientEnv(role)), connectTimeout: connectTimeoutMs }),
  };
}

/**
 * A service is up when its gRPC port accepts a connection on its current address (the
 * worker service, which serves no gRPC: its membership port); the frontend when it
 * answers a call over mTLS.
 */
export async function serviceReady(plan: ClusterPlan, service: TemporalService): Promise<boolean> {
  if (service === 'frontend') {
    const connection = await plan.connect('api', 1_000);
    try {
      await connection.workflowService.getSystemInfo({});
      return true;
    } finally {
      await connection.close();
    }
  }
  return new Promise((resolve) => {
    const socket = createConnection({ host: plan.ip(service), port: service === 'worker' ? plan.membershipPorts.worker : plan.ports[service] });
    socket.setTimeout(1_000);
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
  });
}

/**
 * Registers `namespace` when the cluster does not know it yet (a cluster starts
 * with none of its own; the dev server makes `default` itself). Histories of
 * closed workflows are kept 7 days (Starmap's own records are in its database).
 * Returns whether it was registered now.
 */
export async function ensureNamespace(connection: Connection, namespace: string): Promise<boolean> {
  try {
    await connection.workflowService.describeNamespace({ namespace });
    return false;
  } catch (err) {
    if (!/not found/i.test(String(err))) throw err;
  }
  try {
    await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('7 days') });
  } catch (err) {
    if (!/already (exists|registered)/i.test(String(err))) throw err;
  }
  // every service's namespace cache refreshes within 2 s (system.namespaceCacheRefreshInterval)
  for (let i = 0; i < 50; i++) {
    const known = await connection.workflowService.describeNamespace({ namespace }).then(
      () => true,
      () => false,
    );
    if (known) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  await new Promise((r) => setTimeout(r, 3_000));
  return true;
}

export interface RefusalCheck {
  what: string;
  refused: boolean;
  detail: string;
}

/**
 * The frontend's mTLS, tried from outside: a plain connection, TLS without a client
 * certificate, and a certificate from another CA must all be refused; the API's
 * own certificate must be accepted. `rogueDir` holds certs.sh output of another CA.
 */
export async function checkMutualTls(plan: ClusterPlan, rogueDir: string): Promise<RefusalCheck[]> {
  const ca = readFileSync(join(plan.tlsDir, 'ca.pem'));
  const attempt = async (what: string, options: Parameters<typeof Connection.connect>[0]): Promise<RefusalCheck> => {
    let connection: Connection | undefined;
    try {
      connection = await Connection.connect({ ...options, connectTimeout: 3_000 });
      await connection.workflowService.getSystemInfo({});
      return { what, refused: false, detail: 'getSystemInfo answered' };
    } catch (err) {
      return { what, refused: true, detail: String(err).split('\n')[0]!.slice(0, 160) };
    } finally {
      await connection?.close().catch(() => undefined);
    }
  };
  return [
    await attempt('plain gRPC, no TLS', { address: plan.address }),
    await attempt('TLS without a client certificate', { address: plan.address, tls: { serverRootCACertificate: ca, serverNameOverride: FRONTEND_SERVER_NAME } }),
    await attempt("a client certificate from another CA", {
      address: plan.address,
      tls: {
        serverRootCACertificate: ca,
        serverNameOverride: FRONTEND_SERVER_NAME,
        clientCertPair: { crt: readFileSync(join(rogueDir, 'api.pem')), key: readFileSync(join(rogueDir, 'api-key.pem')) },
      },
    }),
    await attempt("the API's client certificate", temporalConnectionOptions(plan.clientEnv('api'))),
  ];
}
