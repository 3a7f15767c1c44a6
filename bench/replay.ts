/**
 * `npm run bench:replay -- [--history FILE] [--count N]`: the workflow code's
 * own CPU, without a server, a database or a network: a saved history
 * (default: an engine-4 task from order to payout) replayed N times on a replay
 * worker, three rounds. Stable where bench:lifecycle is noisy, so it measures
 * changes to the workflow thread (the workflow's code, the SDK and its patches,
 * patches/README.md): CPU per history, user and system (the watchdog threads of
 * the calls into the workflow context are system time).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { bundleWorkflows } from '../temporal/bundle.js';
import { positiveInt } from './args.js';

const { values: args } = parseArgs({
  options: { history: { type: 'string', default: 'test/fixtures/histories/v8-engine-4-payout.json' }, count: { type: 'string', default: '300' } },
});
const file = args.history;
const count = positiveInt('count', args.count);
const history: unknown = JSON.parse(readFileSync(file, 'utf8'));
const name = file.split('/').pop();
const histories = (n: number, tag: string) => Array.from({ length: n }, (_, i) => ({ workflowId: `replay-${tag}-${i}`, history }));
Runtime.install({ logger: new DefaultLogger('WARN') }); // the replay workers' start and stop lines, 4 per round, left out

async function replay(n: number, tag: string): Promise<void> {
  for await (const result of Worker.runReplayHistories({ workflowBundle: bundle }, histories(n, tag))) {
    if (result.error) throw result.error;
  }
}

console.log(`[replay] bundling the workflows, then ${count} replays of ${name} per round (a warm-up round of 30 first)`);
const bundle = await bundleWorkflows();
await replay(30, 'warm');
const perHistory: number[] = [];
for (let round = 1; round <= 3; round++) {
  const cpu = process.cpuUsage();
  const started = performance.now();
  await replay(count, `r${round}`);
  const used = process.cpuUsage(cpu);
  const ms = (used.user + used.system) / 1000 / count;
  perHistory.push(ms);
  console.log(`[replay] round ${round}: ${ms.toFixed(2)} ms CPU per history (user ${(used.user / 1000 / count).toFixed(2)}, system ${(used.system / 1000 / count).toFixed(2)}), wall ${((performance.now() - started) / count).toFixed(2)} ms`);
}
const median = [...perHistory].sort((a, b) => a - b)[1]!;
console.log(`replay: history=${name} cpu_ms_per_history=${median.toFixed(2)} (median of 3 rounds)`);
