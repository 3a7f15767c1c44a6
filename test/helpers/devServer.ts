/** A real Temporal dev server (the CLI scripts/tools.sh ensures) for tests of what only it does: its metrics, workflow reset. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { Connection } from '@temporalio/client';
import { freePort } from '../../db/embedded.js';
import { toolPath } from './tools.js';
import { until } from './poll.js';

export interface DevServer {
  address: string;
  connection: Connection;
  metricsUrl: string;
  stop(): Promise<void>;
}

/** Starts a dev server with `extra` arguments after the ports, its own SQLite file and the log level; resolves once it answers. */
export async function startDevServer(extra: string[]): Promise<DevServer> {
  const dir = mkdtempSync(join(tmpdir(), 'starmap-devserver-'));
  const [port, metricsPort] = [await freePort(), await freePort()];
  const child = spawn(toolPath('temporal'), ['server', 'start-dev', '--headless', '--ip', '127.0.0.1', '--port', String(port), '--metrics-port', String(metricsPort), '--db-filename', join(dir, 't.sqlite'), '--log-level', 'error', ...extra], { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const address = `127.0.0.1:${port}`;
  const connection = await until(
    () => Connection.connect({ address, connectTimeout: 1000 }).then(async (c) => (await c.workflowService.getSystemInfo({}), c)).catch(() => undefined),
    (c) => c !== undefined,
    240,
    250,
  );
  if (!connection) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`the dev server on ${address} did not answer`);
  }
  return {
    address,
    connection,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    async stop() {
      await connection.close();
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
