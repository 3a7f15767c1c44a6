/**
 * temporal/config.ts: how the API and the workers reach the Temporal frontend.
 * The refusal of a client without a certificate is proven on a running cluster by
 * scripts/faults.ts --cluster (the cluster smoke test of scripts/test.sh).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { temporalConnectionOptions, temporalTls } from '../../temporal/config.js';

const dir = mkdtempSync(join(tmpdir(), 'starmap-tls-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const ca = file('ca.pem', 'CA');
const cert = file('worker.pem', 'CERT');
const key = file('worker-key.pem', 'KEY');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Temporal connection options', () => {
  it('no TEMPORAL_TLS_* setting: a plain connection to TEMPORAL_ADDRESS (the dev server)', () => {
    expect(temporalTls({})).toBeUndefined();
    expect(temporalConnectionOptions({ TEMPORAL_ADDRESS: '10.0.0.5:7233' })).toEqual({ address: '10.0.0.5:7233' });
    expect(temporalConnectionOptions({})).toEqual({ address: '127.0.0.1:7233' });
  });

  it('CA, client certificate and key are read from their files; the server name overrides the address', () => {
    const options = temporalConnectionOptions({ TEMPORAL_ADDRESS: '127.0.0.1:21000', TEMPORAL_TLS_CA: ca, TEMPORAL_TLS_CERT: cert, TEMPORAL_TLS_KEY: key, TEMPORAL_TLS_SERVER_NAME: 'temporal-frontend' });
    expect(options.address).toBe('127.0.0.1:21000');
    expect(options.tls?.serverNameOverride).toBe('temporal-frontend');
    expect(Buffer.from(options.tls!.serverRootCACertificate!).toString()).toBe('CA');
    expect(Buffer.from(options.tls!.clientCertPair!.crt).toString()).toBe('CERT');
    expect(Buffer.from(options.tls!.clientCertPair!.key).toString()).toBe('KEY');
  });

  it('TLS with the CA only (no client certificate) is a valid setting: the frontend decides', () => {
    const tls = temporalTls({ TEMPORAL_TLS_CA: ca });
    expect(tls?.clientCertPair).toBeUndefined();
    expect(tls?.serverRootCACertificate).toBeDefined();
  });

  it('a certificate without its key (or the reverse) and an unreadable file are refused by name', () => {
    expect(() => temporalTls({ TEMPORAL_TLS_CERT: cert })).toThrow(/TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together/);
    expect(() => temporalTls({ TEMPORAL_TLS_KEY: key })).toThrow(/go together/);
    expect(() => temporalTls({ TEMPORAL_TLS_CA: join(dir, 'missing.pem') })).toThrow(/TEMPORAL_TLS_CA \(.*missing\.pem\) cannot be read/);
  });
});
