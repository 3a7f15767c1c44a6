/** Where Starmap's workers listen and its clients connect; environment first, dev defaults second. */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { TLSConfig } from '@temporalio/client';

export const TASK_QUEUE = 'starmap-tasks';

export const temporalNamespace = (): string => process.env['TEMPORAL_NAMESPACE'] ?? 'default';

/**
 * The identity a Starmap client gives Temporal (the SDK's default, pid@host, with what it is in front):
 * the Temporal UI shows who started a workflow or sent a message, apart from the workers' pid@host.
 */
export const clientIdentity = (role: 'api' | 'worker' | 'npm-start'): string => `starmap-${role} ${process.pid}@${hostname()}`;

/**
 * TLS to the Temporal frontend, from files named in the environment (PEM):
 *   TEMPORAL_TLS_CA           the CA that signed the frontend's certificate
 *   TEMPORAL_TLS_CERT         this process's client certificate (mTLS) ...
 *   TEMPORAL_TLS_KEY          ... and its key; both or neither
 *   TEMPORAL_TLS_SERVER_NAME  the name the frontend's certificate carries, when the
 *                             address does not (e.g. 127.0.0.1 vs temporal-frontend)
 * None set: a plain connection (the dev server). The same options serve the
 * client's Connection and the worker's NativeConnection.
 */
export function temporalTls(env: NodeJS.ProcessEnv = process.env): TLSConfig | undefined {
  const ca = env['TEMPORAL_TLS_CA'];
  const cert = env['TEMPORAL_TLS_CERT'];
  const key = env['TEMPORAL_TLS_KEY'];
  const serverName = env['TEMPORAL_TLS_SERVER_NAME'];
  if (!ca && !cert && !key && !serverName) return undefined;
  if (Boolean(cert) !== Boolean(key)) throw new Error('TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together: set both or neither');
  const read = (name: string, path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new Error(`${name} (${path}) cannot be read: ${(err as Error).message}`);
    }
  };
  return {
    ...(serverName ? { serverNameOverride: serverName } : {}),
    ...(ca ? { serverRootCACertificate: read('TEMPORAL_TLS_CA', ca) } : {}),
    ...(cert && key ? { clientCertPair: { crt: read('TEMPORAL_TLS_CERT', cert), key: read('TEMPORAL_TLS_KEY', key) } } : {}),
  };
}

/** Address and TLS of the frontend, for `Connection.connect` and `NativeConnection.connect` alike. */
export function temporalConnectionOptions(env: NodeJS.ProcessEnv = process.env): { address: string; tls?: TLSConfig } {
  const tls = temporalTls(env);
  return { address: env['TEMPORAL_ADDRESS'] ?? '127.0.0.1:7233', ...(tls ? { tls } : {}) };
}
