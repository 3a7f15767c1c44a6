/**
 * bench:lifecycle's load driver, in a process of its own (forked by
 * bench/lifecycle.ts, told what to do over the IPC channel): the clients that
 * order tasks and act on them — over HTTP for Starmap, through the Temporal
 * client for the bare variants. Its CPU is reported apart and not counted as
 * any variant's: the benchmark's process holds only the API and the workers.
 */
import { Client, Connection } from '@temporalio/client';
import { lifecyclesOf, runLanes, warmUp, type DriverReply, type DriverRequest, type Lifecycle, type Variant } from './lanes.js';

let lifecycles: Record<Variant, Lifecycle> | undefined;
const counter = { next: 0 };

const reply = (message: DriverReply) => process.send!(message);

async function handle(request: DriverRequest): Promise<DriverReply> {
  if (request.type === 'setup') {
    const connection = await Connection.connect({ address: request.temporalAddress });
    lifecycles = lifecyclesOf(new Client({ connection }), request.starmap, request.run);
    return { type: 'ready' };
  }
  if (!lifecycles) throw new Error('the driver was not set up');
  if (request.type === 'warmup') {
    await warmUp(lifecycles[request.variant], request.count, counter);
    return { type: 'warmed' };
  }
  const before = process.cpuUsage();
  const result = await runLanes(lifecycles[request.variant], request.clients, request.windowMs, counter);
  const cpu = process.cpuUsage(before);
  return { type: 'round', result, cpuMs: (cpu.user + cpu.system) / 1000 };
}

process.on('message', (request: DriverRequest) => {
  handle(request).then(reply, (err: unknown) => reply({ type: 'error', message: err instanceof Error ? err.message : String(err) }));
});
// the benchmark gone (its end, its crash): so is its driver
process.on('disconnect', () => process.exit(0));
// Ctrl-C reaches the whole process group: the benchmark cleans up and disconnects this process
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => {});
