/**
 * Issue #14: a worker's memory follows its sticky cache, not the number of open
 * tasks nor the rate they arrive at. Every launcher of worker.ts runs it with
 * WORKER_NODE_FLAGS (temporal/runtime.ts), and those bound the heap of each of
 * the process's isolates, the workflow thread's included (bench:open measures
 * the effect: README "Benchmarks").
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { repoRoot } from '../../scripts/dev.js';
import { WORKER_NODE_FLAGS, checkCacheFitsHeap } from '../../temporal/runtime.js';

const read = (file: string) => readFileSync(join(repoRoot, file), 'utf8');

it('package.json, docker-compose and every process spawned with worker.ts (cluster, fault test, bench:open, tests) carry WORKER_NODE_FLAGS', () => {
  const worker = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts['worker']!;
  expect(worker.split(' ')).toEqual(expect.arrayContaining([...WORKER_NODE_FLAGS]));
  const compose = read('docker-compose.yml');
  const command = /\n {2}worker:\n(?:.*\n)*? {4}command: (\[.*\])/.exec(compose)?.[1];
  expect(command && (JSON.parse(command) as string[])).toEqual(['node', ...WORKER_NODE_FLAGS, 'dist/worker.js']);
  // every argument list that names the worker's entry (worker.ts, or bench:open's compiled workerJs) starts with the flags
  const spawns: string[] = [];
  const files = execFileSync('git', ['ls-files', 'scripts', 'bench', 'test', 'api', 'temporal', 'ops'], { cwd: repoRoot, encoding: 'utf8' }).split('\n');
  for (const file of files.filter((f) => f.endsWith('.ts') && f !== 'test/temporal/worker-memory.test.ts')) {
    for (const [i, line] of read(file).split('\n').entries()) {
      if (/\[[^\]]*('worker\.ts'|join\([^)]*'worker\.ts'\)|\bworkerJs\b)[^\]]*\]/.test(line)) spawns.push(`${file}:${i + 1}: ${line.trim()}`);
    }
  }
  expect(spawns.length).toBeGreaterThanOrEqual(4); // cluster, fault test, bench:open, the operations test
  for (const spawn of spawns) expect(spawn).toContain('[...WORKER_NODE_FLAGS');
});

it('a cache the heap cannot hold is refused at start, with what to change', () => {
  expect(() => checkCacheFitsHeap(500, 304)).not.toThrow(); // the defaults: 500 cached, 256 MB old space (+ the young generation)
  expect(() => checkCacheFitsHeap(2_000, 304)).toThrow(/2000 cached workflows need about 564 MiB .* 304 MiB: lower STARMAP_MAX_CACHED_WORKFLOWS or raise node's --max-old-space-size/);
  expect(() => checkCacheFitsHeap(2_000, 4_096)).not.toThrow();
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
  // control: without them the default is larger (V8 sizes it from the machine's memory: ~2 GiB and up from 8 GiB)
  if (totalmem() >= 8 * 2 ** 30) expect(run([]).main).toBeGreaterThan(bounded.main + 256);
});
