/**
 * `npm run bench:client -- [--lifecycles N] [--rounds N]`: what the Temporal
 * client costs the process that calls it, on grpc-js (`Connection`, from
 * @temporalio/client) against the Rust core (`NativeConnection`, from
 * @temporalio/worker), as the API makes its calls: bench:lifecycle's bare
 * lifecycle (bench/lanes.ts: 1 start, 6 Updates, 1 Signal, then Queries until
 * it shows)
 * run N times one after another through each, in alternating rounds, on the
 * project's dev server. This process's CPU per lifecycle and per call is
 * printed with the wall time; the bare worker runs in this process for both, so
 * the difference is the client's. (Session 10 moved the API, the worker and
 * `npm start` to the Rust core's connection on this measurement.)
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { bundlerOptions } from '../temporal/bundle.js';
import { positiveInt } from './args.js';
import { fmt, onCleanup, runBenchmark, startServers } from './common.js';
import { BARE_QUEUE, bareLifecycle } from './lanes.js';

const { values: args } = parseArgs({ options: { lifecycles: { type: 'string', default: '200' }, rounds: { type: 'string', default: '3' } } });
const LIFECYCLES = positiveInt('lifecycles', args.lifecycles);
const ROUNDS = positiveInt('rounds', args.rounds);
/** Calls per lifecycle at least: the start, 6 Updates, the Signal, one Query (more while the Signal is not yet applied). */
const CALLS = 9;
const say = (line: string) => console.error(`[bench:client] ${line}`);

/** bench:lifecycle's bare lifecycle (bench/lanes.ts), untimed, one after another. */
const lifecycle = (temporal: Client, n: number): Promise<void> => bareLifecycle(temporal, false, 'client')(0, n, () => {}, () => {});

runBenchmark('bench:client', async () => {
  const servers = await startServers('bench-client', say);
  const workerConnection = await NativeConnection.connect({ address: servers.temporalAddress });
  onCleanup("the worker's connection", () => workerConnection.close());
  const noop = () => {};
  const workflowBundle = await bundleWorkflowCode({
    workflowsPath: fileURLToPath(new URL('./workflows/bare.ts', import.meta.url)),
    ...bundlerOptions,
    logger: { trace: noop, debug: noop, info: noop, warn: (m: string) => say(m), error: (m: string) => say(m), log: noop },
  });
  const worker = await Worker.create({ connection: workerConnection, namespace: 'default', taskQueue: BARE_QUEUE, workflowBundle });
  const running = worker.run();
  onCleanup('the bare worker', async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running.catch(() => undefined);
  });

  const kinds = {
    'grpc-js (Connection)': async () => {
      const connection = await Connection.connect({ address: servers.temporalAddress });
      return { client: new Client({ connection }), close: () => connection.close() };
    },
    'Rust core (NativeConnection)': async () => {
      const connection = await NativeConnection.connect({ address: servers.temporalAddress });
      return { client: new Client({ connection }), close: () => connection.close() };
    },
  } as const;
  const results = new Map<string, Array<{ cpuMs: number; wallMs: number }>>();
  let n = 0;
  for (let round = 1; round <= ROUNDS; round++) {
    // the kind that goes first alternates
    const order = round % 2 ? Object.entries(kinds) : Object.entries(kinds).reverse();
    for (const [kind, open] of order) {
      const { client, close } = await open();
      for (let i = 0; i < 10; i++) await lifecycle(client, n++);
      const cpu = process.cpuUsage();
      const started = performance.now();
      for (let i = 0; i < LIFECYCLES; i++) await lifecycle(client, n++);
      const used = process.cpuUsage(cpu);
      const wallMs = (performance.now() - started) / LIFECYCLES;
      const cpuMs = (used.user + used.system) / 1000 / LIFECYCLES;
      await close();
      results.set(kind, [...(results.get(kind) ?? []), { cpuMs, wallMs }]);
      say(`round ${round}, ${kind}: ${fmt(LIFECYCLES)} lifecycles, ${cpuMs.toFixed(1)} ms CPU and ${wallMs.toFixed(1)} ms wall each`);
    }
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  console.log(`\nthis process's CPU per lifecycle (${CALLS} calls or a few more; the in-process bare worker's share included, the same for both), mean of ${ROUNDS} rounds:`);
  const rows = [...results].map(([kind, rs]) => ({ kind, cpu: mean(rs.map((r) => r.cpuMs)), wall: mean(rs.map((r) => r.wallMs)) }));
  for (const row of rows) console.log(`  ${row.kind.padEnd(30)} ${row.cpu.toFixed(1).padStart(6)} ms CPU  ${row.wall.toFixed(1).padStart(6)} ms wall`);
  const [grpc, native] = rows;
  const saved = grpc!.cpu - native!.cpu;
  return `client: grpc-js − native = ${saved.toFixed(1)} ms CPU per lifecycle, ≤ ${(saved / CALLS).toFixed(2)} ms per call; wall ${(grpc!.wall - native!.wall).toFixed(1)} ms per lifecycle`;
});
