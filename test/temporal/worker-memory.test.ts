/**
 * Issue #14: a worker's memory follows its sticky cache, not the number of open
 * tasks nor the rate they arrive at. Every launcher of worker.ts runs it with
 * WORKER_NODE_FLAGS (temporal/runtime.ts), and those bound the heap of each of
 * the process's isolates, the workflow thread's included (bench:open measures
 * the effect: README "Benchmarks").
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { repoRoot } from '../../scripts/dev.js';
import { WORKER_NODE_FLAGS } from '../../temporal/runtime.js';

const read = (file: string) => readFileSync(join(repoRoot, file), 'utf8');

it('package.json, docker-compose, the cluster, the fault test and bench:open start the worker with WORKER_NODE_FLAGS', () => {
  const worker = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts['worker']!;
  expect(worker.split(' ')).toEqual(expect.arrayContaining([...WORKER_NODE_FLAGS]));
  const compose = read('docker-compose.yml');
  const command = /\n {2}worker:\n(?:.*\n)*? {4}command: (\[.*\])/.exec(compose)?.[1];
  expect(command && (JSON.parse(command) as string[])).toEqual(['node', ...WORKER_NODE_FLAGS, 'dist/worker.js']);
  for (const file of ['scripts/cluster.ts', 'scripts/faults.ts', 'bench/common.ts']) expect(read(file)).toContain('...WORKER_NODE_FLAGS');
});

it('the flags bound the heap of the main thread and of a worker thread (where the SDK runs workflows)', () => {
  const probe = `
    const { Worker } = require('node:worker_threads');
    const v8 = require('node:v8');
    const mib = () => Math.round(v8.getHeapStatistics().heap_size_limit / 2 ** 20);
    const main = mib();
    new Worker("const v8 = require('node:v8'); require('node:worker_threads').parentPort.postMessage(Math.round(v8.getHeapStatistics().heap_size_limit / 2 ** 20))", { eval: true })
      .once('message', (thread) => { console.log(JSON.stringify({ main, thread })); process.exit(0); });`;
  const run = (flags: readonly string[]) => JSON.parse(execFileSync(process.execPath, [...flags, '-e', probe], { encoding: 'utf8' })) as { main: number; thread: number };
  const bounded = run(WORKER_NODE_FLAGS);
  const old = Number(/--max-old-space-size=(\d+)/.exec(WORKER_NODE_FLAGS.join(' '))![1]);
  for (const limit of [bounded.main, bounded.thread]) {
    expect(limit).toBeGreaterThanOrEqual(old);
    expect(limit).toBeLessThan(old + 128); // the old space plus the young generation
  }
  // control: without them this machine's default is far larger
  const unbounded = run([]);
  expect(unbounded.main).toBeGreaterThan(bounded.main + 256);
});
